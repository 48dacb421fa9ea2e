// The local API Gateway (REST, v1): one request through the checks of shared/docs/apigateway.md in
// their order (stage, route, API key, throttle, quota, size), then the integration (Lambda proxy or
// MOCK), with the API's own gateway responses for every refusal; a stage with a cache cluster
// answers its cached methods from it (stageCache.ts), after the key, throttle and quota checks.
import * as crypto from "node:crypto";
import type { AccessFacts, PendingAccessLog } from "./accessLog";
import type { FunctionTarget } from "./aliases";
import { MOCK_ACCOUNT } from "./recordProgram";
import { defaultBody, GATEWAY_DEFAULTS, gatewayResponse, mappedHeaders, renderTemplate, type GatewayResponseType, type TemplateContext } from "./gatewayResponses";
import type { FunctionPool } from "./lambdaPool";
import type { ApiKeyModel, CloudModel, Operation, RestApiModel, StageModel, UsagePlanModel } from "./model";
import { buildProxyEvent, has, isBinary, mapProxyResult, nameMap, newExtendedRequestId, newTraceId, type IncomingRequest } from "./proxyEvent";
import { integrationFunctionArn } from "./lambdaArn";
import { describeMissingPermission, permissionFor } from "./permissions";
import { parseHeaders } from "./requestHeaders";
import { asksToInvalidate, CACHE_CONTROL_IGNORED, cacheKey, methodCache, type StageCaches } from "./stageCache";
import { methodKey, type UsageLimiter } from "./usage";

/* eslint-disable @typescript-eslint/no-explicit-any */

export const LIMITS = {
    /** API Gateway's request payload limit. */
    gatewayRequestBytes: 10 * 1024 * 1024,
    /** Lambda's synchronous invocation payload limits (6 MB; the response may be 100 bytes more). */
    lambdaRequestBytes: 6 * 1024 * 1024,
    lambdaResponseBytes: 6 * 1024 * 1024 + 100,
    /** API Gateway's default (and maximum) integration timeout. */
    integrationTimeoutMs: 29_000,
} as const;

export interface GatewayAnswer {
    status: number;
    headers: Record<string, string[]>;
    body: Buffer;
    requestId: string;
    /** Logical name of the API key that called, when the method required one and it was valid. */
    consumer?: string;
    /** Why the gateway answered by itself (a gateway response type), for logs. */
    refusal?: string;
    /** Set when the stage has access logging: the server renders the line once the answer is sent. */
    accessLog?: PendingAccessLog;
    /**
     * The Lambda invocation's request id (the function's `context.awsRequestId`, which prefixes its
     * log lines), once a function was invoked: the console links a 5xx to the function's log with it,
     * access logging or not.
     */
    functionRequestId?: string;
    /**
     * The stage cache's verdict for a cached method (stageCache.ts): `hit`, `miss`, or `refresh` (an
     * authorized `Cache-Control: max-age=0`, which locally needs `requireAuthorizationForCacheControl: false`).
     */
    cache?: string;
    /** The Lambda version that answered (a number, or `$LATEST`), once a function was invoked. */
    functionVersion?: string;
}

export interface GatewayOptions {
    model: CloudModel;
    /** Function ARN -> its pool. */
    pools: Map<string, FunctionPool>;
    /**
     * The code for an integration's function ARN, maybe qualified by an alias or a version
     * (aliases.ts `FunctionRouter`); without it, `pools` by the ARN without its qualifier.
     */
    resolveFunction?: (functionArn: string) => FunctionTarget | { error: string } | undefined;
    /** The stages' cache clusters (stageCache.ts); without it nothing is cached. */
    caches?: StageCaches;
    limiter: UsageLimiter;
    integrationTimeoutMs: number;
    now: () => number;
    log: (line: string) => void;
}

interface Resource {
    api: RestApiModel;
    path: string;
    id: string;
    /** Per segment: literal text, `{name}` or `{name+}`. */
    segments: { kind: "literal" | "param" | "greedy"; text: string }[];
    operations: Map<string, Operation>;
}

interface Match {
    resource: Resource;
    pathParameters: Record<string, string> | null;
}

function compileResources(api: RestApiModel): Resource[] {
    const byPath = new Map<string, Resource>();
    for (const op of api.operations) {
        let resource = byPath.get(op.resourcePath);
        if (!resource) {
            resource = {
                api,
                path: op.resourcePath,
                // Stable per resource path, like the ids API Gateway gives its resources.
                id: crypto.createHash("sha1").update(`${api.id}${op.resourcePath}`).digest("hex").slice(0, 6),
                segments: op.resourcePath.split("/").filter((s) => s !== "").map((text) => {
                    const param = /^\{(.+?)(\+)?\}$/.exec(text);
                    return param ? { kind: param[2] ? "greedy" as const : "param" as const, text: param[1]! } : { kind: "literal" as const, text };
                }),
                operations: new Map(),
            };
            byPath.set(op.resourcePath, resource);
        }
        resource.operations.set(op.method, op);
    }
    return [...byPath.values()];
}

/** Lexicographic: the first segment where two resources differ decides (0 literal, 1 param, 2 greedy). */
function compareRanks(a: number[], b: number[]): number {
    for (let k = 0; k < Math.min(a.length, b.length); k++) {
        if (a[k] !== b[k]) {
            return a[k]! - b[k]!;
        }
    }
    return a.length - b.length;
}

/** Matches path segments: literal beats `{param}` beats `{proxy+}`, segment by segment from the left. */
function matchResource(resources: Resource[], segments: string[]): Match | undefined {
    let best: { match: Match; rank: number[] } | undefined;
    for (const resource of resources) {
        const params = nameMap<string>();
        const rank: number[] = [];
        let ok = true;
        let i = 0;
        for (const [index, segment] of resource.segments.entries()) {
            if (segment.kind === "greedy") {
                if (index !== resource.segments.length - 1 || i >= segments.length) {
                    ok = false;
                    break;
                }
                params[segment.text] = segments.slice(i).join("/");
                rank.push(2);
                i = segments.length;
                break;
            }
            const value = segments[i];
            if (value === undefined || (segment.kind === "literal" && value !== segment.text)) {
                ok = false;
                break;
            }
            if (segment.kind === "param") {
                params[segment.text] = value;
            }
            rank.push(segment.kind === "literal" ? 0 : 1);
            i++;
        }
        if (!ok || i !== segments.length) {
            continue;
        }
        const better = !best || compareRanks(rank, best.rank) < 0;
        if (better) {
            best = { match: { resource, pathParameters: Object.keys(params).length ? params : null }, rank };
        }
    }
    return best?.match;
}

/** How far a request got, for the answer to a fault of the local cloud itself (`handle`). */
interface Progress {
    consumer?: string;
    access?: AccessFacts;
    functionRequestId?: string;
    functionVersion?: string;
}

interface RequestIds {
    requestId: string;
    extendedRequestId: string;
    traceId: string;
    now: Date;
}

function newIds(nowMs: number): RequestIds {
    const now = new Date(nowMs);
    return { requestId: crypto.randomUUID(), extendedRequestId: newExtendedRequestId(), traceId: newTraceId(now), now };
}

/** What a request's access-log line needs before the route is known (accessLog.ts). */
function accessFacts(ids: RequestIds, api: RestApiModel, stage: StageModel, request: Pick<IncomingRequest, "method" | "path" | "sourceIp">, header: (name: string) => string | undefined): AccessFacts {
    return {
        requestId: ids.requestId, extendedRequestId: ids.extendedRequestId, traceId: ids.traceId, time: ids.now.getTime(),
        accountId: MOCK_ACCOUNT, apiId: api.id, stage: stage.name, deploymentId: stage.deploymentId,
        httpMethod: request.method, path: request.path, sourceIp: request.sourceIp,
        userAgent: header("user-agent"), domainName: header("host"),
    };
}

/** Adds the ids every answer carries; header maps stay prototype-free. */
function withIds(partial: Omit<GatewayAnswer, "requestId">, ids: RequestIds): GatewayAnswer {
    const headers = Object.assign(nameMap<string[]>(), partial.headers);
    headers["x-amzn-RequestId"] = [ids.requestId];
    headers["x-amz-apigw-id"] = [ids.extendedRequestId];
    headers["X-Amzn-Trace-Id"] = [ids.traceId];
    return { ...partial, headers, requestId: ids.requestId };
}

/** One line: the error and where it was thrown (its first stack frame), never the whole stack. */
export function describeError(err: unknown): string {
    if (!(err instanceof Error)) {
        return String(err).split("\n")[0]!;
    }
    const frame = err.stack?.split("\n").find((line) => /^\s+at /.test(line))?.trim();
    return `${err.name}: ${err.message.split("\n")[0]}${frame ? ` (${frame})` : ""}`;
}

const FORBIDDEN_NO_STAGE: Pick<GatewayAnswer, "status" | "headers" | "body"> = {
    status: 403,
    headers: { "Content-Type": ["application/json"], "x-amzn-ErrorType": ["ForbiddenException"] },
    body: Buffer.from(defaultBody(403, "Forbidden")),
};

export class Gateway {
    private readonly stages = new Map<string, { api: RestApiModel; stage: RestApiModel["stages"][number]; resources: Resource[] }>();
    private readonly keysByValue = new Map<string, ApiKeyModel>();

    /** The model this gateway serves (the control plane answers from the same one). */
    get model(): CloudModel {
        return this.options.model;
    }

    constructor(private readonly options: GatewayOptions) {
        for (const api of options.model.restApis) {
            const resources = compileResources(api);
            for (const stage of api.stages) {
                this.stages.set(stage.name, { api, stage, resources });
            }
        }
        for (const key of options.model.apiKeys) {
            this.keysByValue.set(key.value, key);
        }
    }

    /**
     * One request, start to answer. Never rejects: a fault of the local cloud itself becomes the
     * generic 500 of `internalError`, with the API's gateway-response headers (CORS) and a request id.
     * A fault after the throttle and quota checks leaves the request counted, as AWS counts every
     * request it admitted whatever its outcome.
     */
    async handle(request: IncomingRequest & { tooLarge?: boolean }): Promise<GatewayAnswer> {
        const ids = newIds(this.options.now());
        const progress: Progress = {};
        try {
            const answer = await this.route(request, ids, progress);
            return progress.functionRequestId === undefined ? answer : { ...answer, functionRequestId: progress.functionRequestId, functionVersion: progress.functionVersion };
        } catch (err) {
            return { ...this.internalError(request, err, ids, progress.access), consumer: progress.consumer, functionRequestId: progress.functionRequestId, functionVersion: progress.functionVersion };
        }
    }

    /**
     * API Gateway's answer to an unexpected internal error: 500 `{"message": "Internal server error"}`
     * through the API's DEFAULT_5XX gateway response (so with its CORS headers), with a request id;
     * the detail goes to the log once, on one line, and never to the client. `request` may be partial:
     * the server uses this too when it fails outside the gateway (e.g. writing the answer).
     */
    internalError(request: Pick<IncomingRequest, "method" | "path"> & Partial<IncomingRequest>, err: unknown, ids: RequestIds | string = newIds(this.options.now()), access?: AccessFacts): GatewayAnswer {
        const known = typeof ids === "string" ? { ...newIds(this.options.now()), requestId: ids } : ids;
        const log = (line: string) => {
            try {
                this.options.log(line);
            } catch {
                // A failing log sink must not turn an answer into no answer.
            }
        };
        log(`${request.method} ${request.path}: internal error, answered 500 (request ${known.requestId}): ${describeError(err)}`);
        const fallback: Omit<GatewayAnswer, "requestId"> = {
            status: 500,
            headers: { "Content-Type": ["application/json"], "x-amzn-ErrorType": ["InternalServerErrorException"] },
            body: Buffer.from(defaultBody(500, "Internal server error")),
            refusal: "internal error",
        };
        let partial = fallback;
        try {
            const segments = request.path.split("/").filter((s) => s !== "");
            const deployed = segments[0] === undefined ? undefined : this.stages.get(segments[0]);
            if (deployed) {
                const parsed = request.headers ?? parseHeaders(request.rawHeaders ?? []);
                const headers = parsed.single;
                const header = parsed.get;
                const ctx: TemplateContext = {
                    context: {
                        requestId: known.requestId, extendedRequestId: known.extendedRequestId, stage: deployed.stage.name, apiId: deployed.api.id,
                        httpMethod: request.method, path: request.path, accountId: MOCK_ACCOUNT, domainName: header("host"),
                        identity: { sourceIp: request.sourceIp, userAgent: header("user-agent") },
                    },
                    request: { headers, query: nameMap(), path: nameMap() },
                };
                if (deployed.stage.accessLog) {
                    // What the request had reached (route, key, integration) when known, else what the server knows.
                    const facts = access ?? accessFacts(known, deployed.api, deployed.stage, { method: request.method, path: request.path, sourceIp: request.sourceIp ?? "127.0.0.1" }, header);
                    fallback.accessLog = { format: deployed.stage.accessLog.format, facts: { ...facts, error: { message: "Internal server error", responseType: "DEFAULT_5XX" } } };
                }
                const rendered = gatewayResponse("DEFAULT_5XX", deployed.api.gatewayResponses, ctx, { status: 500, message: "Internal server error" });
                const renderedHeaders = nameMap<string[]>();
                renderedHeaders["x-amzn-ErrorType"] = [rendered.errorType];
                for (const [name, value] of Object.entries(rendered.headers)) {
                    renderedHeaders[name] = [value];
                }
                partial = { ...fallback, status: rendered.status, headers: renderedHeaders, body: Buffer.from(rendered.body) };
            }
        } catch (renderError) {
            // The API's own gateway response could not be rendered: AWS's default, without its headers.
            log(`${request.method} ${request.path}: DEFAULT_5XX gateway response failed, sent AWS's default: ${describeError(renderError)}`);
        }
        return withIds(partial, known);
    }

    private async route(request: IncomingRequest & { tooLarge?: boolean }, ids: RequestIds, progress: Progress): Promise<GatewayAnswer> {
        const { requestId, extendedRequestId, traceId } = ids;
        const now = ids.now;
        /** The stage's access-log line, its facts filled in as the request goes (only for a stage that logs). */
        let accessLog: PendingAccessLog | undefined;
        const answer = (partial: Omit<GatewayAnswer, "requestId">): GatewayAnswer => withIds(accessLog ? { ...partial, accessLog } : partial, ids);

        // 1. Stage: the first path segment.
        const segments = request.path.split("/").filter((s) => s !== "");
        const stageName = segments[0];
        const deployed = stageName === undefined ? undefined : this.stages.get(stageName);
        if (!deployed) {
            return answer({ ...FORBIDDEN_NO_STAGE, headers: { ...FORBIDDEN_NO_STAGE.headers }, refusal: "no such stage" });
        }
        const { api, stage, resources } = deployed;
        const pathInStage = request.path.slice(request.path.indexOf(stageName!) + stageName!.length) || "/";
        const parsed = request.headers ?? parseHeaders(request.rawHeaders);
        const headerMap = parsed.single;
        const header = parsed.get;
        if (stage.accessLog) {
            accessLog = { format: stage.accessLog.format, facts: accessFacts(ids, api, stage, { ...request, path: `/${stage.name}${pathInStage}` }, header) };
            progress.access = accessLog.facts;
        }
        const access = accessLog?.facts;
        const templateContext = (resourcePath?: string, pathParameters?: Record<string, string> | null): TemplateContext => ({
            context: {
                requestId, extendedRequestId, stage: stage.name, apiId: api.id, httpMethod: request.method, resourcePath,
                path: `/${stage.name}${pathInStage}`, accountId: MOCK_ACCOUNT, domainName: header("host"),
                identity: { sourceIp: request.sourceIp, userAgent: header("user-agent") },
            },
            request: {
                headers: headerMap,
                // Parsed when a template reads it: the answers of most requests never do.
                get query() {
                    return Object.assign(nameMap<string>(), Object.fromEntries(new URLSearchParams(request.rawQuery)));
                },
                path: pathParameters ?? nameMap(),
            },
        });
        const refuse = (type: GatewayResponseType, ctx: TemplateContext, extra: Partial<GatewayAnswer> = {}): GatewayAnswer => {
            if (access) {
                access.error = { message: GATEWAY_DEFAULTS[type].message, responseType: type };
            }
            const rendered = gatewayResponse(type, api.gatewayResponses, ctx);
            const headers = nameMap<string[]>();
            headers["x-amzn-ErrorType"] = [rendered.errorType];
            for (const [name, value] of Object.entries(rendered.headers)) {
                headers[name] = [value];
            }
            return answer({ status: rendered.status, headers, body: Buffer.from(rendered.body), refusal: type, ...extra });
        };

        if (request.tooLarge) {
            return refuse("REQUEST_TOO_LARGE", templateContext());
        }

        // 2. Route: the resource first, then the method (an explicit method beats ANY).
        const match = matchResource(resources, segments.slice(1));
        const operation = match?.resource.operations.get(request.method) ?? match?.resource.operations.get("ANY");
        if (!match || !operation) {
            return refuse("MISSING_AUTHENTICATION_TOKEN", templateContext());
        }
        const ctx = templateContext(match.resource.path, match.pathParameters);
        if (access) {
            access.resourcePath = match.resource.path;
            access.resourceId = match.resource.id;
        }

        // 3. API key: exists, enabled, in a usage plan bound to this API and stage.
        let key: ApiKeyModel | undefined;
        if (operation.apiKeyRequired) {
            const value = header("x-api-key");
            key = value === undefined ? undefined : this.keysByValue.get(value);
            const plan = key?.enabled ? this.planFor(key, api, stage.name) : undefined;
            if (!key || !plan) {
                return refuse("INVALID_API_KEY", ctx);
            }
            progress.consumer = key.logicalName;
            if (access) {
                // The key is known from here on, refused by its plan's limits or not (as on AWS).
                access.apiKey = key.value;
                access.apiKeyId = key.id;
            }
            // 4. Throttle, then quota, for the key's plan.
            const verdict = this.options.limiter.admit(plan, key.logicalName, stage.name, methodKey(match.resource.path, request.method));
            if (verdict !== "OK") {
                return refuse(verdict, ctx, { consumer: key.logicalName });
            }
        }
        const consumer = key?.logicalName;

        // 5. Integration.
        const integration = operation.integration ?? {};
        const type = String(integration.type ?? "").toLowerCase();
        if (type === "mock") {
            // As on AWS: a request whose type is binary for this API (awsx declares `*/*`) reaches
            // a MOCK as raw bytes, its request template is skipped and the gateway answers 500,
            // unless the integration converts the request to text.
            const contentType = header("content-type");
            if (isBinary(contentType, api.binaryMediaTypes) && integration.contentHandling !== "CONVERT_TO_TEXT") {
                this.options.log(`${request.method} ${match.resource.path}: MOCK integration cannot transform a binary request (set contentHandling: CONVERT_TO_TEXT)`);
                return refuse("API_CONFIGURATION_ERROR", ctx, { consumer });
            }
            return answer({ ...this.mock(integration, ctx, request, contentType), consumer });
        }
        if (type !== "aws_proxy") {
            this.options.log(`${request.method} ${match.resource.path}: integration type "${integration.type}" is not supported by the local cloud`);
            return refuse("API_CONFIGURATION_ERROR", ctx, { consumer });
        }

        // 6. The stage cache, for a method it caches: after the key, throttle and quota checks, so a
        // cached answer is counted like any other (stageCache.ts), and before an alias picks a
        // version, so cached answers do not move its canary's rotation.
        const cacheSettings = this.options.caches ? methodCache(stage, operation) : undefined;
        const cache = cacheSettings ? this.options.caches!.get(api.id, stage.name) : undefined;
        let cached: { key: string; verdict: "miss" | "refresh"; warn: boolean } | undefined;
        if (cache && cacheSettings) {
            const key = cacheKey(operation, { rawQuery: request.rawQuery, headers: parsed, pathParameters: match.pathParameters });
            let refresh = false;
            let warn = false;
            if (asksToInvalidate(header("cache-control"))) {
                // No caller holds execute-api:InvalidateCache locally (no IAM), so when it is
                // required the caller is unauthorized.
                if (!cacheSettings.requireAuthorization) {
                    refresh = true;
                } else if (cacheSettings.unauthorizedStrategy === "FAIL_WITH_403") {
                    return refuse("ACCESS_DENIED", ctx, { consumer });
                } else {
                    warn = cacheSettings.unauthorizedStrategy === "SUCCEED_WITH_RESPONSE_HEADER";
                }
            }
            const hit = refresh ? undefined : cache.get(key, cacheSettings.ttlSeconds);
            if (hit) {
                const headers = Object.assign(nameMap<string[]>(), structuredClone(hit.headers));
                if (warn) {
                    headers[CACHE_CONTROL_IGNORED.name] = [CACHE_CONTROL_IGNORED.value];
                }
                return answer({ status: hit.status, headers, body: Buffer.from(hit.body), consumer, cache: "hit" });
            }
            cached = { key, verdict: refresh ? "refresh" : "miss", warn };
        }
        const cacheNote = cached ? { cache: cached.verdict } : {};

        // 7. The function: the one the URI names, at the version its qualifier (an alias) picks.
        const functionArn = integrationFunctionArn(integration.uri);
        const target = functionArn === undefined ? undefined : this.functionTarget(functionArn);
        if (!target || "error" in target) {
            this.options.log(`${request.method} ${match.resource.path}: ${target ? target.error : "no local function"} for integration ${integration.uri}`);
            return refuse("API_CONFIGURATION_ERROR", ctx, { consumer, ...cacheNote });
        }
        const { pool } = target;

        // 8. Lambda's resource policy: may API Gateway invoke this function, at this qualifier, from
        // this API, stage, method and path? Checked here, after the cache: a cached answer invokes nothing.
        const permissions = this.options.model.permissions;
        if (permissions !== undefined && functionArn !== undefined) {
            const source = { region: this.options.model.region, account: MOCK_ACCOUNT, apiId: api.id, stage: stage.name, method: request.method, path: pathInStage, resourcePath: match.resource.path };
            if (permissionFor(permissions, functionArn, source) === undefined) {
                const detail = describeMissingPermission(permissions, functionArn, source);
                this.options.log(`${request.method} ${match.resource.path}: ${detail}`);
                return refuse("API_CONFIGURATION_ERROR", ctx, { consumer, ...cacheNote });
            }
        }

        const event = JSON.stringify(buildProxyEvent({ ...request, path: pathInStage, headers: parsed }, {
            apiId: api.id,
            stage: stage.name,
            deploymentId: stage.deploymentId,
            stageVariables: stage.variables && Object.keys(stage.variables).length ? stage.variables : null,
            resourcePath: match.resource.path,
            resourceId: match.resource.id,
            pathParameters: match.pathParameters,
            binaryMediaTypes: api.binaryMediaTypes,
            apiKey: key ? { value: key.value, id: key.id } : undefined,
            accountId: MOCK_ACCOUNT,
            requestId,
            extendedRequestId,
            traceId,
            now,
        }));
        if (Buffer.byteLength(event) > LIMITS.lambdaRequestBytes) {
            // Lambda refuses the invocation (RequestEntityTooLargeException).
            return refuse("REQUEST_TOO_LARGE", ctx, { consumer });
        }

        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<"gateway-timeout">((resolve) => {
            timer = setTimeout(() => resolve("gateway-timeout"), this.options.integrationTimeoutMs);
        });
        let outcome: Awaited<ReturnType<FunctionPool["invoke"]>> | "gateway-timeout";
        const awsRequestId = crypto.randomUUID();
        progress.functionRequestId = awsRequestId;
        progress.functionVersion = target.version;
        const invoked = process.hrtime.bigint();
        const noteIntegration = (facts: Omit<NonNullable<AccessFacts["integration"]>, "latencyMs" | "requestId">) => {
            if (access) {
                access.integration = { latencyMs: Number(process.hrtime.bigint() - invoked) / 1e6, requestId: awsRequestId, ...facts };
            }
        };
        try {
            outcome = await Promise.race([pool.invoke(event, awsRequestId, false, target.invokedArn), timeout]);
        } finally {
            // Also when the invocation throws: a pending 29 s timer would hold the process open.
            clearTimeout(timer);
        }
        if (outcome === "gateway-timeout") {
            noteIntegration({ error: "Execution failed due to a timeout error" });
            return refuse("INTEGRATION_TIMEOUT", ctx, { consumer, ...cacheNote });
        }
        if (outcome.kind !== "result") {
            // A thrown error, a crash or the function's own timeout: Lambda reports a function error.
            const detail = outcome.kind === "timeout" ? "function timed out" : `${outcome.errorType}: ${outcome.errorMessage}`;
            noteIntegration({ integrationStatus: 200, error: `Lambda execution failed with status 200 due to customer function error: ${detail}` });
            return refuse("DEFAULT_5XX", ctx, { consumer, ...cacheNote });
        }
        if (Buffer.byteLength(outcome.payload) > LIMITS.lambdaResponseBytes) {
            this.options.log(`${pool.name}: response payload over Lambda's 6 MB limit`);
            noteIntegration({ integrationStatus: 200, error: "Response payload size exceeded maximum allowed payload size" });
            return refuse("DEFAULT_5XX", ctx, { consumer, ...cacheNote });
        }
        const mapped = mapProxyResult(outcome.payload);
        if ("malformed" in mapped) {
            this.options.log(`${pool.name}: Malformed Lambda proxy response: ${mapped.malformed}`);
            noteIntegration({ integrationStatus: 200, error: "Malformed Lambda proxy response" });
            return refuse("DEFAULT_5XX", ctx, { consumer, ...cacheNote });
        }
        noteIntegration({ integrationStatus: 200, status: mapped.status });
        if (cache && cached) {
            // Only 2XX answers up to 1 MB are kept (StageCache.put); a write to the data never evicts one.
            cache.put(cached.key, mapped, cacheSettings!.ttlSeconds);
        }
        const headers = cached?.warn ? Object.assign(nameMap<string[]>(), mapped.headers, { [CACHE_CONTROL_IGNORED.name]: [CACHE_CONTROL_IGNORED.value] }) : mapped.headers;
        return answer({ status: mapped.status, headers, body: mapped.body, consumer, ...cacheNote });
    }

    /** The pool (and version) for an integration's function ARN, maybe qualified. */
    private functionTarget(functionArn: string): FunctionTarget | { error: string } | undefined {
        if (this.options.resolveFunction) {
            return this.options.resolveFunction(functionArn);
        }
        const pool = this.options.pools.get(functionArn) ?? this.options.pools.get(functionArn.replace(/:[^:]+$/, ""));
        return pool ? { pool, version: pool.version, invokedArn: functionArn } : undefined;
    }

    private planFor(key: ApiKeyModel, api: RestApiModel, stage: string): UsagePlanModel | undefined {
        return this.options.model.usagePlans.find((plan) => plan.keyIds.includes(key.id) && plan.apiStages.some((s) => s.apiId === api.id && s.stage === stage));
    }

    /** A MOCK integration: the request template picks the status, the integration response maps headers and body. */
    private mock(integration: any, ctx: TemplateContext, request: IncomingRequest, requestContentType: string | undefined): Omit<GatewayAnswer, "requestId"> {
        const contentType = (requestContentType ?? "application/json").split(";")[0]!.trim();
        const templates: Record<string, string> = integration.requestTemplates ?? {};
        // The Content-Type is the client's: only the integration's own templates count.
        const template = has(templates, contentType) ? templates[contentType] : has(templates, "application/json") ? templates["application/json"] : undefined;
        let statusCode = "200";
        try {
            const rendered = template === undefined ? request.body.toString("utf8") : renderTemplate(template, ctx);
            const parsed = JSON.parse(rendered);
            if (parsed && parsed.statusCode !== undefined) {
                statusCode = String(parsed.statusCode);
            }
        } catch {
            // No status in the template: API Gateway's MOCK then answers 200... when a response matches.
        }
        const responses: Record<string, any> = integration.responses ?? {};
        const selected = Object.entries(responses).find(([pattern]) => pattern !== "default" && new RegExp(`^(?:${pattern})$`).test(statusCode))?.[1]
            ?? (has(responses, "default") ? responses["default"] : undefined);
        const status = Number(selected?.statusCode ?? statusCode);
        const headers = nameMap<string[]>();
        headers["Content-Type"] = ["application/json"];
        for (const [name, value] of Object.entries(mappedHeaders(selected?.responseParameters, "method.response", ctx))) {
            headers[name] = [value];
        }
        const responseTemplates: Record<string, string> = selected?.responseTemplates ?? {};
        const bodyTemplate = has(responseTemplates, "application/json") ? responseTemplates["application/json"] : Object.values(responseTemplates)[0];
        return { status, headers, body: Buffer.from(bodyTemplate === undefined ? "" : renderTemplate(bodyTemplate, ctx)) };
    }
}
