// Step 11, the Lambda proxy event, and Lambda's own limit on it (6 MB: RequestEntityTooLargeException).
import { LIMITS } from "./limits";
import { buildProxyEvent } from "./proxyEvent";
import { MOCK_ACCOUNT } from "../program/recordProgram";
import { required, type InvocationContext, type StepResult } from "./context";
import { refuse } from "./refusals";

export function buildEvent(ctx: InvocationContext): StepResult {
    const { api, stage } = required(ctx.deployed, "the stage");
    const match = required(ctx.match, "the route");
    const { ids, key } = ctx;
    ctx.event = JSON.stringify(
        buildProxyEvent(
            {
                ...ctx.request,
                path: required(ctx.pathInStage, "the stage"),
                headers: required(ctx.headers, "the headers"),
            },
            {
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
                requestId: ids.requestId,
                extendedRequestId: ids.extendedRequestId,
                traceId: ids.traceId,
                now: ids.now,
            },
        ),
    );
    return undefined;
}

export function lambdaRequestLimit(ctx: InvocationContext): StepResult {
    if (Buffer.byteLength(required(ctx.event, "the event")) <= LIMITS.lambdaRequestBytes) {
        return undefined;
    }
    // Lambda refuses the invocation; the answer has never carried the cache's verdict.
    return refuse("REQUEST_TOO_LARGE", { withoutCacheVerdict: true });
}
