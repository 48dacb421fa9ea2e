// Builds an invocation context by hand, as LocalStack's test_handler_api_key_validation.py does:
// a model, a deployed stage and a request, with no cloud, no server and no function behind them.
import type { DeployedStage, GatewayDeps, InvocationContext } from "../../apigateway/context";
import { compileResources } from "../../apigateway/resources";
import { resolveStage } from "../../apigateway/resolveStage";
import type { ApiKeyModel, CloudModel, Operation, RestApiModel, UsagePlanModel } from "../../program/model";
import type { IncomingRequest } from "../../apigateway/proxyEvent";
import { UsageLimiter } from "../../apigateway/usage";

/* eslint-disable @typescript-eslint/no-explicit-any */

export const op = (method: string, resourcePath: string, more: Partial<Operation> = {}): Operation => ({
    method,
    resourcePath,
    apiKeyRequired: false,
    integration: { type: "AWS_PROXY", uri: "arn:aws:lambda:us-east-1:000000000000:function:f" },
    ...more,
});

export function api(operations: Operation[], more: Partial<RestApiModel> = {}): RestApiModel {
    return {
        logicalName: "api",
        id: "abc123",
        name: "api",
        operations,
        binaryMediaTypes: [],
        gatewayResponses: {},
        apiKeySource: "HEADER",
        stages: [{ name: "stage", deploymentId: "dep1", variables: null }],
        ...more,
    };
}

export const key = (more: Partial<ApiKeyModel> = {}): ApiKeyModel => ({
    logicalName: "partner",
    id: "k1",
    value: "secret-value-1234567890",
    enabled: true,
    ...more,
});

export const plan = (more: Partial<UsagePlanModel> = {}): UsagePlanModel => ({
    logicalName: "plan",
    id: "p1",
    apiStages: [{ apiId: "abc123", stage: "stage", throttles: {} }],
    keyIds: ["k1"],
    ...more,
});

/** The gateway's fixed parts for one API, with an in-memory limiter on a clock the test moves. */
export function deps(
    restApi: RestApiModel,
    more: { keys?: ApiKeyModel[]; plans?: UsagePlanModel[]; now?: () => number; log?: string[] } = {},
): GatewayDeps {
    const model: CloudModel = {
        region: "us-east-1",
        tables: [],
        functions: [],
        restApis: [restApi],
        apiKeys: more.keys ?? [],
        usagePlans: more.plans ?? [],
    };
    const resources = compileResources(restApi);
    const stages = new Map<string, DeployedStage>(
        restApi.stages.map((stage) => [stage.name, { api: restApi, stage, resources }]),
    );
    return {
        model,
        stages,
        keysByValue: new Map((more.keys ?? []).map((k) => [k.value, k])),
        limiter: new UsageLimiter(more.now ?? (() => Date.UTC(2026, 0, 1))),
        functionTarget: () => undefined,
        integrationTimeoutMs: 1000,
        log: (line) => more.log?.push(line),
    };
}

export function request(method: string, path: string, headers: Record<string, string> = {}): IncomingRequest {
    return {
        method,
        path,
        rawQuery: "",
        rawHeaders: Object.entries(headers).flat(),
        body: Buffer.alloc(0),
        sourceIp: "203.0.113.9",
        localPort: 1,
    };
}

export function context(req: IncomingRequest): InvocationContext {
    return {
        request: req,
        ids: {
            requestId: "req-1",
            extendedRequestId: "ext-1",
            traceId: "Root=1-0-0",
            now: new Date(Date.UTC(2026, 0, 1)),
        },
    };
}

/** A context past the stage step (the one most steps start from). */
export function staged(d: GatewayDeps, req: IncomingRequest): InvocationContext {
    const ctx = context(req);
    const result = resolveStage(ctx, d);
    if (result !== undefined) {
        throw new Error(`no stage for ${req.path}: ${JSON.stringify(result)}`);
    }
    return ctx;
}

export const refusalOf = (result: any) => result?.refuse?.type;
