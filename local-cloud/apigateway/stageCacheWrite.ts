// Step 14, the answer: kept in the stage cache when the cache step read it, then sent.
import { nameMap } from "./proxyEvent";
import { CACHE_CONTROL_IGNORED } from "./stageCache";
import { required, type InvocationContext, type StepResult } from "./context";

export function stageCacheWrite(ctx: InvocationContext): StepResult {
    const mapped = required(ctx.mapped, "the function's answer");
    const { cache } = ctx;
    if (cache) {
        // Only 2XX answers up to 1 MB are kept (StageCache.put); a write to the data never evicts one.
        cache.store.put(cache.key, mapped, cache.settings.ttlSeconds);
    }
    const headers = cache?.warn
        ? Object.assign(nameMap<string[]>(), mapped.headers, {
              [CACHE_CONTROL_IGNORED.name]: [CACHE_CONTROL_IGNORED.value],
          })
        : mapped.headers;
    return {
        answer: {
            status: mapped.status,
            headers,
            body: mapped.body,
            consumer: ctx.consumer,
            ...(cache ? { cache: cache.verdict } : {}),
        },
    };
}
