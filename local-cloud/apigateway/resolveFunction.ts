// Step 9, the function: the one the integration's URI names, at the version its qualifier (an alias) picks.
import { integrationFunctionArn } from "../lambda/lambdaArn";
import { required, type GatewayDeps, type InvocationContext, type StepResult } from "./context";
import { refuse } from "./refusals";

export function resolveFunction(ctx: InvocationContext, deps: Pick<GatewayDeps, "functionTarget">): StepResult {
    const integration = ctx.integration ?? {};
    const functionArn = integrationFunctionArn(integration.uri);
    const target = functionArn === undefined ? undefined : deps.functionTarget(functionArn);
    if (!target || "error" in target) {
        const resourcePath = required(ctx.match, "the route").resource.path;
        return refuse("API_CONFIGURATION_ERROR", {
            log: `${ctx.request.method} ${resourcePath}: ${target ? target.error : "no local function"} for integration ${integration.uri}`,
        });
    }
    ctx.functionArn = functionArn;
    ctx.target = target;
    return undefined;
}
