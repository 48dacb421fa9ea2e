// Step 1, the stage: the path's first segment names it; a stage that logs starts its access-log line.
import type { AccessFacts } from "./accessLog";
import type { TemplateContext } from "./gatewayResponses";
import type { RestApiModel, StageModel } from "../program/model";
import { nameMap, type IncomingRequest } from "./proxyEvent";
import { MOCK_ACCOUNT } from "../program/recordProgram";
import { parseHeaders } from "./requestHeaders";
import { required, type GatewayDeps, type InvocationContext, type RequestIds, type StepResult } from "./context";
import { refuse } from "./refusals";

/** What a request's access-log line needs before the route is known (accessLog.ts). */
export function accessFacts(
    ids: RequestIds,
    api: RestApiModel,
    stage: StageModel,
    request: Pick<IncomingRequest, "method" | "path" | "sourceIp">,
    header: (name: string) => string | undefined,
): AccessFacts {
    return {
        requestId: ids.requestId,
        extendedRequestId: ids.extendedRequestId,
        traceId: ids.traceId,
        time: ids.now.getTime(),
        accountId: MOCK_ACCOUNT,
        apiId: api.id,
        stage: stage.name,
        deploymentId: stage.deploymentId,
        httpMethod: request.method,
        path: request.path,
        sourceIp: request.sourceIp,
        userAgent: header("user-agent"),
        domainName: header("host"),
    };
}

/** What templates read about this request; the resource once the route is known. */
export function templateFor(
    ctx: InvocationContext,
    resourcePath?: string,
    pathParameters?: Record<string, string> | null,
): TemplateContext {
    const { api, stage } = required(ctx.deployed, "the stage");
    const { request, ids } = ctx;
    const headers = required(ctx.headers, "the headers");
    return {
        context: {
            requestId: ids.requestId,
            extendedRequestId: ids.extendedRequestId,
            stage: stage.name,
            apiId: api.id,
            httpMethod: request.method,
            resourcePath,
            path: `/${stage.name}${ctx.pathInStage}`,
            accountId: MOCK_ACCOUNT,
            domainName: headers.get("host"),
            identity: { sourceIp: request.sourceIp, userAgent: headers.get("user-agent") },
        },
        request: {
            headers: headers.single,
            // Parsed when a template reads it: the answers of most requests never do.
            get query() {
                return Object.assign(nameMap<string>(), Object.fromEntries(new URLSearchParams(request.rawQuery)));
            },
            path: pathParameters ?? nameMap(),
        },
    };
}

export function resolveStage(ctx: InvocationContext, deps: Pick<GatewayDeps, "stages">): StepResult {
    const { request } = ctx;
    const stageName = request.path.split("/").find((s) => s !== "");
    const deployed = stageName === undefined ? undefined : deps.stages.get(stageName);
    if (!deployed) {
        return refuse("NO_SUCH_STAGE");
    }
    ctx.deployed = deployed;
    ctx.pathInStage = request.path.slice(request.path.indexOf(stageName!) + stageName!.length) || "/";
    ctx.headers = request.headers ?? parseHeaders(request.rawHeaders);
    const { api, stage } = deployed;
    if (stage.accessLog) {
        ctx.accessLog = {
            format: stage.accessLog.format,
            facts: accessFacts(
                ctx.ids,
                api,
                stage,
                { ...request, path: `/${stage.name}${ctx.pathInStage}` },
                ctx.headers.get,
            ),
        };
        ctx.access = ctx.accessLog.facts;
    }
    ctx.template = templateFor(ctx);
    return undefined;
}
