// Step 3, the route: the resource first, then the method (an explicit method beats ANY).
import { required, type InvocationContext, type StepResult } from "./context";
import { refuse } from "./refusals";
import { templateFor } from "./resolveStage";
import { matchResource } from "./resources";

export function matchRoute(ctx: InvocationContext): StepResult {
    const { resources } = required(ctx.deployed, "the stage");
    const { request } = ctx;
    const segments = request.path.split("/").filter((s) => s !== "");
    const match = matchResource(resources, segments.slice(1));
    const operation = match?.resource.operations.get(request.method) ?? match?.resource.operations.get("ANY");
    if (!match || !operation) {
        return refuse("MISSING_AUTHENTICATION_TOKEN");
    }
    ctx.match = match;
    ctx.operation = operation;
    ctx.integration = operation.integration ?? {};
    ctx.template = templateFor(ctx, match.resource.path, match.pathParameters);
    if (ctx.access) {
        ctx.access.resourcePath = match.resource.path;
        ctx.access.resourceId = match.resource.id;
    }
    return undefined;
}
