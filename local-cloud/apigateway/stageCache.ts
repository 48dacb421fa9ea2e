// API Gateway's stage cache (REST APIs), as AWS's guide describes it ("Cache settings for REST APIs"):
// a stage with `cacheClusterEnabled` answers a method whose settings have `cachingEnabled` from the
// cache, for `cacheTtlInSeconds` (300 by default, 0 = off), without calling the integration. The key
// is the method and resource plus the values of the integration's `cacheKeyParameters` and nothing
// else: without `method.request.path.id`, every id shares one entry, as on AWS. Only a Lambda
// integration's 2XX answers of at most 1 MB are kept; OPTIONS and MOCK integrations never are.
//
// `Cache-Control: max-age=0` asks to bypass and refresh the entry. With
// `requireAuthorizationForCacheControl` (AWS's default) only a caller with the IAM permission
// `execute-api:InvalidateCache` may (a signed request); the local cloud has no IAM, so no caller is
// ever authorized (API-key callers never are on AWS either) and `unauthorizedCacheControlHeaderStrategy`
// applies: `FAIL_WITH_403`, `SUCCEED_WITH_RESPONSE_HEADER` (AWS's default: the header is ignored and
// the answer says so in a header, `CACHE_CONTROL_IGNORED`) or `SUCCEED_WITHOUT_RESPONSE_HEADER`.
//
// Each question AWS leaves open is decided once here (see docs/internals.md, "Decisions where AWS is unsure").
import type { CloudModel, MethodSettingsModel, Operation, StageModel } from "../program/model";
import { parseQuery } from "./proxyEvent";
import type { RequestHeaders } from "./requestHeaders";

/** API Gateway's limit on a cached answer's size. */
export const MAX_CACHED_BYTES = 1_048_576;
/** The TTL when a method's settings set none, and the most AWS accepts. */
export const DEFAULT_TTL_SECONDS = 300;
export const MAX_TTL_SECONDS = 3600;
/**
 * What an unauthorized `Cache-Control: max-age=0` gets with SUCCEED_WITH_RESPONSE_HEADER. AWS's
 * documentation says only that a warning goes in a response header ("Ignore cache control header;
 * add a warning in response header"); locally it is HTTP's own `Warning` header (RFC 7234, code 199,
 * a miscellaneous warning), not confirmed against AWS.
 */
export const CACHE_CONTROL_IGNORED = {
    name: "Warning",
    value: '199 - "Cache-Control: max-age=0 ignored: the caller is not authorized to invalidate the cache (execute-api:InvalidateCache)"',
};
/**
 * Locally each stage's entries take at most this many bytes (the cluster's size when smaller): the
 * cluster is memory on another machine on AWS, here it is this process's. The oldest entries go
 * first; caching is best effort on AWS too.
 */
const LOCAL_MAX_BYTES = 256 * 1024 * 1024;

export type UnauthorizedStrategy = "FAIL_WITH_403" | "SUCCEED_WITH_RESPONSE_HEADER" | "SUCCEED_WITHOUT_RESPONSE_HEADER";

/** How a cached method behaves on a stage. */
export interface MethodCache {
    ttlSeconds: number;
    requireAuthorization: boolean;
    unauthorizedStrategy: UnauthorizedStrategy;
}

/**
 * A method's key in the stage's method settings, as API Gateway stores them: the resource path with
 * each `/` written `~1` (a JSON Pointer), a `/`, the method: `~1posts~1{id}/GET`, `~1/GET` for the root.
 */
export const methodSettingsKey = (resourcePath: string, method: string) =>
    `${resourcePath.replaceAll("/", "~1")}/${method}`;

/** Whether a stage's settings make a method's answers cacheable; and how. Undefined: not cached. */
export function methodCache(
    stage: StageModel,
    operation: Pick<Operation, "method" | "resourcePath" | "integration">,
): MethodCache | undefined {
    if (
        !stage.cacheCluster ||
        operation.method === "OPTIONS" ||
        String(operation.integration?.type ?? "").toLowerCase() !== "aws_proxy"
    ) {
        return undefined;
    }
    const all = stage.methodSettings ?? {};
    const own = all[methodSettingsKey(operation.resourcePath, operation.method)];
    // A method's own settings replace the stage-wide ones (`*/*`), which cache GET methods only
    // ("only GET methods have caching enabled by default"; others by their own settings).
    const settings: MethodSettingsModel | undefined = own ?? (operation.method === "GET" ? all["*/*"] : undefined);
    if (!settings?.cachingEnabled) {
        return undefined;
    }
    const ttlSeconds = Math.min(settings.cacheTtlInSeconds ?? DEFAULT_TTL_SECONDS, MAX_TTL_SECONDS);
    if (!(ttlSeconds > 0)) {
        return undefined;
    }
    const strategy = settings.unauthorizedCacheControlHeaderStrategy;
    return {
        ttlSeconds,
        requireAuthorization: settings.requireAuthorizationForCacheControl ?? true,
        unauthorizedStrategy:
            strategy === "FAIL_WITH_403" || strategy === "SUCCEED_WITHOUT_RESPONSE_HEADER"
                ? strategy
                : "SUCCEED_WITH_RESPONSE_HEADER",
    };
}

/** Whether the request asks to bypass and refresh the cache (`Cache-Control: max-age=0`). */
export const asksToInvalidate = (cacheControl: string | undefined) =>
    cacheControl !== undefined &&
    cacheControl.split(",").some((directive) => /^\s*max-age\s*=\s*"?0+"?\s*$/i.test(directive));

/** What a request is cached under: method, resource, and the cache key parameters' values (only those). */
export function cacheKey(
    operation: Pick<Operation, "method" | "resourcePath" | "integration">,
    request: { rawQuery: string; headers: RequestHeaders; pathParameters: Record<string, string> | null },
): string {
    const names: unknown[] = Array.isArray(operation.integration?.cacheKeyParameters)
        ? operation.integration.cacheKeyParameters
        : [];
    let query: ReturnType<typeof parseQuery> | undefined;
    const values = names
        .filter((n): n is string => typeof n === "string")
        .map((name) => {
            const [, location, param] = /^method\.request\.([a-z]+)\.(.+)$/.exec(name) ?? [];
            let value: string | string[] | undefined;
            switch (location) {
                case "path":
                    value = request.pathParameters?.[param!];
                    break;
                case "querystring":
                    value = (query ??= parseQuery(request.rawQuery)).single?.[param!];
                    break;
                case "multivaluequerystring":
                    value = (query ??= parseQuery(request.rawQuery)).multi?.[param!];
                    break;
                case "header":
                    value = request.headers.get(param!);
                    break;
                case "multivalueheader":
                    value = request.headers.values(param!);
                    break;
            }
            return [name, value ?? null];
        });
    return JSON.stringify([operation.method, operation.resourcePath, values]);
}

export interface CachedAnswer {
    status: number;
    headers: Record<string, string[]>;
    body: Buffer;
}

interface Entry extends CachedAnswer {
    /** When it was kept, and when the TTL of that moment ran out. */
    stored: number;
    expires: number;
    bytes: number;
}

/** One stage's cache cluster: entries by key, each until its TTL is up. */
export class StageCache {
    private readonly entries = new Map<string, Entry>();
    private bytes = 0;
    private readonly maxBytes: number;

    constructor(
        readonly sizeGb: string,
        private readonly now: () => number,
    ) {
        const gb = Number(sizeGb);
        this.maxBytes = Math.min(LOCAL_MAX_BYTES, Number.isFinite(gb) && gb > 0 ? gb * 1024 ** 3 : LOCAL_MAX_BYTES);
    }

    get size(): number {
        return this.entries.size;
    }

    /**
     * The entry under `key` while it is fresh. `ttlSeconds` is the method's TTL now: a TTL lowered
     * since the entry was kept (a reload, a new deployment) shortens it too; a raised one never
     * revives or extends it. AWS does not document which; this is the choice that never serves an
     * answer older than the TTL in force (docs/internals.md, "Decisions where AWS is unsure").
     */
    get(key: string, ttlSeconds?: number): CachedAnswer | undefined {
        const entry = this.entries.get(key);
        const now = this.now();
        if (entry && (entry.expires <= now || (ttlSeconds !== undefined && entry.stored + ttlSeconds * 1000 <= now))) {
            this.remove(key, entry);
            return undefined;
        }
        return entry;
    }

    /** Keeps a 2XX answer of at most 1 MB for `ttlSeconds`; says whether it did. */
    put(key: string, answer: CachedAnswer, ttlSeconds: number): boolean {
        if (answer.status < 200 || answer.status > 299 || answer.body.length > MAX_CACHED_BYTES) {
            return false;
        }
        const old = this.entries.get(key);
        if (old) {
            this.remove(key, old);
        }
        const bytes = answer.body.length + JSON.stringify(answer.headers).length + key.length;
        const now = this.now();
        const entry: Entry = {
            status: answer.status,
            headers: structuredClone(answer.headers),
            body: Buffer.from(answer.body),
            stored: now,
            expires: now + ttlSeconds * 1000,
            bytes,
        };
        this.entries.set(key, entry);
        this.bytes += bytes;
        // Oldest first (a Map keeps insertion order): entries past their TTL, which nothing would
        // read again (a cursor is seldom asked twice), then whatever is over the size.
        for (const [oldest, e] of this.entries) {
            if (e.expires > now && this.bytes <= this.maxBytes) {
                break;
            }
            if (e.expires <= now || this.bytes > this.maxBytes) {
                this.remove(oldest, e);
            }
        }
        return true;
    }

    clear(): void {
        this.entries.clear();
        this.bytes = 0;
    }

    private remove(key: string, entry: Entry): void {
        this.entries.delete(key);
        this.bytes -= entry.bytes;
    }
}

/**
 * The caches of every stage with a cache cluster, for the cloud's whole life: a reload keeps a
 * stage's entries (a new deployment of the program does not flush it), but a cluster enabled,
 * resized (AWS recreates it) or disabled starts empty or goes.
 */
export class StageCaches {
    private readonly byStage = new Map<string, StageCache>();

    constructor(private readonly now: () => number) {}

    sync(model: CloudModel): void {
        const wanted = new Map<string, string>(
            model.restApis.flatMap((api) =>
                api.stages
                    .filter((s) => s.cacheCluster)
                    .map((s) => [`${api.id}/${s.name}`, s.cacheCluster!.sizeGb] as const),
            ),
        );
        for (const [stage, cache] of this.byStage) {
            if (wanted.get(stage) !== cache.sizeGb) {
                this.byStage.delete(stage);
            }
        }
        for (const [stage, sizeGb] of wanted) {
            if (!this.byStage.has(stage)) {
                this.byStage.set(stage, new StageCache(sizeGb, this.now));
            }
        }
    }

    get(apiId: string, stage: string): StageCache | undefined {
        return this.byStage.get(`${apiId}/${stage}`);
    }

    /** Empties one stage's cache (every stage's without a name): API Gateway's FlushStageCache. */
    flush(stage?: string): void {
        for (const [name, cache] of this.byStage) {
            if (stage === undefined || name.endsWith(`/${stage}`)) {
                cache.clear();
            }
        }
    }
}

/**
 * What the program's cache settings do that it may not mean: method settings under a key no method
 * has (a path with plain `/`: AWS accepts them and applies them to nothing), caching turned on for a
 * stage without a cache cluster, and cache key parameters the method does not declare.
 */
export function stageCacheWarnings(model: CloudModel): string[] {
    const warnings: string[] = [];
    for (const api of model.restApis) {
        const keys = new Set(api.operations.map((op) => methodSettingsKey(op.resourcePath, op.method)));
        for (const stage of api.stages) {
            for (const [methodPath, settings] of Object.entries(stage.methodSettings ?? {})) {
                if (methodPath !== "*/*" && !keys.has(methodPath)) {
                    const likely = api.operations.find(
                        (op) =>
                            methodSettingsKey(op.resourcePath, op.method) ===
                            `~1${methodPath
                                .replace(/^\/+/, "")
                                .replaceAll("/", "~1")
                                .replace(/~1([A-Z]+|\*)$/, "/$1")}`,
                    );
                    warnings.push(
                        `REST API ${api.logicalName}, stage ${stage.name}: method settings "${methodPath}" name no method, so they change nothing (as on AWS)${likely ? `; API Gateway keys ${likely.method} ${likely.resourcePath} as "${methodSettingsKey(likely.resourcePath, likely.method)}"` : ""}`,
                    );
                } else if (settings.cachingEnabled && !stage.cacheCluster) {
                    warnings.push(
                        `REST API ${api.logicalName}, stage ${stage.name}: "${methodPath}" turns caching on, but the stage has no cache cluster (cacheClusterEnabled): nothing is cached`,
                    );
                }
            }
        }
        for (const op of api.operations) {
            const declared = new Set(op.requestParameters ?? []);
            const keyParameters: unknown[] = Array.isArray(op.integration?.cacheKeyParameters)
                ? op.integration.cacheKeyParameters
                : [];
            for (const name of keyParameters) {
                if (
                    typeof name === "string" &&
                    !declared.has(
                        name.replace(/^method\.request\.multivalue(querystring|header)\./, "method.request.$1."),
                    )
                ) {
                    warnings.push(
                        `REST API ${api.logicalName}: ${op.method} ${op.resourcePath} keys its cache on ${name}, which the method does not declare in its parameters; API Gateway keys only on declared request parameters`,
                    );
                }
            }
        }
    }
    return warnings;
}
