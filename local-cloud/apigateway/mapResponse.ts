// Step 13, the function's outcome: a timeout, a function error or an answer over Lambda's limit is a
// refusal; a result is mapped from its proxy shape. The access log notes the integration either way.
import type { AccessFacts } from "./accessLog";
import { mapProxyResult } from "./proxyEvent";
import { required, type InvocationContext, type StepResult } from "./context";
import { LIMITS } from "./limits";
import { refuse } from "./refusals";

type IntegrationNote = Omit<NonNullable<AccessFacts["integration"]>, "latencyMs" | "requestId">;

function noteIntegration(ctx: InvocationContext, facts: IntegrationNote): void {
    if (ctx.access) {
        ctx.access.integration = {
            latencyMs: Number(process.hrtime.bigint() - required(ctx.invokedAt, "the invocation")) / 1e6,
            requestId: ctx.functionRequestId!,
            ...facts,
        };
    }
}

export function mapResponse(ctx: InvocationContext): StepResult {
    const outcome = required(ctx.outcome, "the invocation");
    if (outcome === "gateway-timeout") {
        noteIntegration(ctx, { error: "Execution failed due to a timeout error" });
        return refuse("INTEGRATION_TIMEOUT");
    }
    if (outcome.kind !== "result") {
        // A thrown error, a crash or the function's own timeout: Lambda reports a function error.
        const detail =
            outcome.kind === "timeout" ? "function timed out" : `${outcome.errorType}: ${outcome.errorMessage}`;
        noteIntegration(ctx, {
            integrationStatus: 200,
            error: `Lambda execution failed with status 200 due to customer function error: ${detail}`,
        });
        return refuse("DEFAULT_5XX");
    }
    const poolName = required(ctx.target, "the function").pool.name;
    if (Buffer.byteLength(outcome.payload) > LIMITS.lambdaResponseBytes) {
        noteIntegration(ctx, {
            integrationStatus: 200,
            error: "Response payload size exceeded maximum allowed payload size",
        });
        return refuse("DEFAULT_5XX", { log: `${poolName}: response payload over Lambda's 6 MB limit` });
    }
    const mapped = mapProxyResult(outcome.payload);
    if ("malformed" in mapped) {
        noteIntegration(ctx, { integrationStatus: 200, error: "Malformed Lambda proxy response" });
        return refuse("DEFAULT_5XX", { log: `${poolName}: Malformed Lambda proxy response: ${mapped.malformed}` });
    }
    noteIntegration(ctx, { integrationStatus: 200, status: mapped.status });
    ctx.mapped = mapped;
    return undefined;
}
