// The local API Gateway (REST, v1): one request through API Gateway's checks (docs/internals.md) in
// their order (stage, route, API key, throttle, quota, size), then the integration (Lambda proxy or
// MOCK), with the API's own gateway responses for every refusal; a stage with a cache cluster
// answers its cached methods from it (stageCache.ts), after the key, throttle and quota checks.
import * as crypto from "node:crypto";
import type { AccessFacts } from "./accessLog";
import type { FunctionTarget } from "../lambda/aliases";
import { buildEvent, lambdaRequestLimit } from "./buildEvent";
import { checkPermission } from "./checkPermission";
import type { DeployedStage, GatewayAnswer, GatewayDeps, InvocationContext, RequestIds, Step } from "./context";
import { invokeFunction } from "./invokeFunction";
import { mapResponse } from "./mapResponse";
import { matchRoute } from "./matchRoute";
import { mockIntegration } from "./mockIntegration";
import { proxyIntegration } from "./proxyIntegration";
import { finish, renderRefusal, responseHeaders, withIds } from "./refusals";
import { checkRequestSize } from "./requestSize";
import { resolveFunction } from "./resolveFunction";
import { accessFacts, resolveStage } from "./resolveStage";
import { compileResources } from "./resources";
import { stageCacheRead } from "./stageCacheRead";
import { stageCacheWrite } from "./stageCacheWrite";
import { usageLimits } from "./usageLimits";
import { validateApiKey } from "./validateApiKey";
import { defaultBody, gatewayResponse, type TemplateContext } from "./gatewayResponses";
import type { FunctionPool } from "../lambda/lambdaPool";
import type { ApiKeyModel, CloudModel } from "../program/model";
import { nameMap, newExtendedRequestId, newTraceId, type IncomingRequest } from "./proxyEvent";
import { MOCK_ACCOUNT } from "../program/recordProgram";
import { parseHeaders } from "./requestHeaders";
import type { StageCaches } from "./stageCache";
import type { UsageLimiter } from "./usage";

export { LIMITS } from "./limits";
export type { GatewayAnswer } from "./context";

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

function newIds(nowMs: number): RequestIds {
    const now = new Date(nowMs);
    return { requestId: crypto.randomUUID(), extendedRequestId: newExtendedRequestId(), traceId: newTraceId(now), now };
}

/** One line: the error and where it was thrown (its first stack frame), never the whole stack. */
export function describeError(err: unknown): string {
    if (!(err instanceof Error)) {
        return String(err).split("\n")[0]!;
    }
    const frame = err.stack
        ?.split("\n")
        .find((line) => /^\s+at /.test(line))
        ?.trim();
    return `${err.name}: ${err.message.split("\n")[0]}${frame ? ` (${frame})` : ""}`;
}

/**
 * The request's steps, in the order API Gateway applies them (docs/internals.md; LocalStack's execute_api
 * gateway.py is the model): each reads and adds to the one invocation context, and the first that
 * refuses or answers ends the request.
 */
const STEPS: readonly Step[] = [
    resolveStage,
    checkRequestSize,
    matchRoute,
    validateApiKey,
    usageLimits,
    mockIntegration,
    proxyIntegration,
    stageCacheRead,
    resolveFunction,
    checkPermission,
    buildEvent,
    lambdaRequestLimit,
    invokeFunction,
    mapResponse,
    stageCacheWrite,
];

export class Gateway {
    private readonly stages = new Map<string, DeployedStage>();
    private readonly keysByValue = new Map<string, ApiKeyModel>();
    /** What every step may read (apigateway/context.ts). */
    private readonly deps: GatewayDeps;

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
        this.deps = {
            model: options.model,
            stages: this.stages,
            keysByValue: this.keysByValue,
            limiter: options.limiter,
            caches: options.caches,
            functionTarget: (functionArn) => this.functionTarget(functionArn),
            integrationTimeoutMs: options.integrationTimeoutMs,
            log: options.log,
        };
    }

    /**
     * One request, start to answer. Never rejects: a fault of the local cloud itself becomes the
     * generic 500 of `internalError`, with the API's gateway-response headers (CORS) and a request id.
     * A fault after the throttle and quota checks leaves the request counted, as AWS counts every
     * request it admitted whatever its outcome.
     */
    async handle(request: IncomingRequest & { tooLarge?: boolean }): Promise<GatewayAnswer> {
        const ctx: InvocationContext = { request, ids: newIds(this.options.now()) };
        try {
            const answer = await this.route(ctx);
            return ctx.functionRequestId === undefined
                ? answer
                : { ...answer, functionRequestId: ctx.functionRequestId, functionVersion: ctx.functionVersion };
        } catch (err) {
            // How far the request got (the context) shapes the answer: its access-log facts, who called, which
            // function.
            return {
                ...this.internalError(request, err, ctx.ids, ctx.access),
                consumer: ctx.consumer,
                functionRequestId: ctx.functionRequestId,
                functionVersion: ctx.functionVersion,
            };
        }
    }

    /**
     * API Gateway's answer to an unexpected internal error: 500 `{"message": "Internal server error"}`
     * through the API's DEFAULT_5XX gateway response (so with its CORS headers), with a request id;
     * the detail goes to the log once, on one line, and never to the client. `request` may be partial:
     * the server uses this too when it fails outside the gateway (e.g. writing the answer).
     */
    internalError(
        request: Pick<IncomingRequest, "method" | "path"> & Partial<IncomingRequest>,
        err: unknown,
        ids: RequestIds | string = newIds(this.options.now()),
        access?: AccessFacts,
    ): GatewayAnswer {
        const known = typeof ids === "string" ? { ...newIds(this.options.now()), requestId: ids } : ids;
        const log = (line: string) => {
            try {
                this.options.log(line);
            } catch {
                // A failing log sink must not turn an answer into no answer.
            }
        };
        log(
            `${request.method} ${request.path}: internal error, answered 500 (request ${known.requestId}): ${describeError(err)}`,
        );
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
                        requestId: known.requestId,
                        extendedRequestId: known.extendedRequestId,
                        stage: deployed.stage.name,
                        apiId: deployed.api.id,
                        httpMethod: request.method,
                        path: request.path,
                        accountId: MOCK_ACCOUNT,
                        domainName: header("host"),
                        identity: { sourceIp: request.sourceIp, userAgent: header("user-agent") },
                    },
                    request: { headers, query: nameMap(), path: nameMap() },
                };
                if (deployed.stage.accessLog) {
                    // What the request had reached (route, key, integration) when known, else what the server knows.
                    const facts =
                        access ??
                        accessFacts(
                            known,
                            deployed.api,
                            deployed.stage,
                            { method: request.method, path: request.path, sourceIp: request.sourceIp ?? "127.0.0.1" },
                            header,
                        );
                    fallback.accessLog = {
                        format: deployed.stage.accessLog.format,
                        facts: { ...facts, error: { message: "Internal server error", responseType: "DEFAULT_5XX" } },
                    };
                }
                const rendered = gatewayResponse("DEFAULT_5XX", deployed.api.gatewayResponses, ctx, {
                    status: 500,
                    message: "Internal server error",
                });
                partial = {
                    ...fallback,
                    status: rendered.status,
                    headers: responseHeaders(rendered),
                    body: Buffer.from(rendered.body),
                };
            }
        } catch (renderError) {
            // The API's own gateway response could not be rendered: AWS's default, without its headers.
            log(
                `${request.method} ${request.path}: DEFAULT_5XX gateway response failed, sent AWS's default: ${describeError(renderError)}`,
            );
        }
        return withIds(partial, known);
    }

    /** Runs the steps over the request's context until one refuses or answers. */
    private async route(ctx: InvocationContext): Promise<GatewayAnswer> {
        for (const step of STEPS) {
            const result = await step(ctx, this.deps);
            if (result !== undefined) {
                return "refuse" in result ? renderRefusal(ctx, result.refuse, this.deps) : finish(ctx, result.answer);
            }
        }
        throw new Error("no gateway step answered");
    }

    /** The pool (and version) for an integration's function ARN, maybe qualified. */
    private functionTarget(functionArn: string): FunctionTarget | { error: string } | undefined {
        if (this.options.resolveFunction) {
            return this.options.resolveFunction(functionArn);
        }
        const pool = this.options.pools.get(functionArn) ?? this.options.pools.get(functionArn.replace(/:[^:]+$/, ""));
        return pool ? { pool, version: pool.version, invokedArn: functionArn } : undefined;
    }
}
