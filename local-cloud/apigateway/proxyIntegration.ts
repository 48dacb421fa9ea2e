// Step 7, the integration type: past MOCK, the local cloud runs only Lambda proxy integrations.
import { required, type InvocationContext, type StepResult } from "./context";
import { refuse } from "./refusals";

export function proxyIntegration(ctx: InvocationContext): StepResult {
    const integration = ctx.integration ?? {};
    if (String(integration.type ?? "").toLowerCase() === "aws_proxy") {
        return undefined;
    }
    const resourcePath = required(ctx.match, "the route").resource.path;
    return refuse("API_CONFIGURATION_ERROR", {
        log: `${ctx.request.method} ${resourcePath}: integration type "${integration.type}" is not supported by the local cloud`,
    });
}
