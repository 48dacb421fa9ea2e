// Step 8, the stage cache, for a method it caches: after the key, throttle and quota checks, so a
// cached answer is counted like any other (stageCache.ts), and before an alias picks a version, so
// cached answers do not move its canary's rotation.
import { nameMap } from "./proxyEvent";
import { asksToInvalidate, CACHE_CONTROL_IGNORED, cacheKey, methodCache } from "./stageCache";
import { required, type GatewayDeps, type InvocationContext, type StepResult } from "./context";
import { refuse } from "./refusals";

export function stageCacheRead(ctx: InvocationContext, deps: Pick<GatewayDeps, "caches">): StepResult {
    const { api, stage } = required(ctx.deployed, "the stage");
    const operation = required(ctx.operation, "the route");
    const settings = deps.caches ? methodCache(stage, operation) : undefined;
    const store = settings ? deps.caches!.get(api.id, stage.name) : undefined;
    if (!store || !settings) {
        return undefined;
    }
    const headers = required(ctx.headers, "the headers");
    const key = cacheKey(operation, {
        rawQuery: ctx.request.rawQuery,
        headers,
        pathParameters: required(ctx.match, "the route").pathParameters,
    });
    let refresh = false;
    let warn = false;
    if (asksToInvalidate(headers.get("cache-control"))) {
        // No caller holds execute-api:InvalidateCache locally (no IAM), so when it is
        // required the caller is unauthorized.
        if (!settings.requireAuthorization) {
            refresh = true;
        } else if (settings.unauthorizedStrategy === "FAIL_WITH_403") {
            return refuse("ACCESS_DENIED");
        } else {
            warn = settings.unauthorizedStrategy === "SUCCEED_WITH_RESPONSE_HEADER";
        }
    }
    const hit = refresh ? undefined : store.get(key, settings.ttlSeconds);
    if (hit) {
        const answerHeaders = Object.assign(nameMap<string[]>(), structuredClone(hit.headers));
        if (warn) {
            answerHeaders[CACHE_CONTROL_IGNORED.name] = [CACHE_CONTROL_IGNORED.value];
        }
        return {
            answer: {
                status: hit.status,
                headers: answerHeaders,
                body: Buffer.from(hit.body),
                consumer: ctx.consumer,
                cache: "hit",
            },
        };
    }
    ctx.cache = { store, settings, key, verdict: refresh ? "refresh" : "miss", warn };
    return undefined;
}
