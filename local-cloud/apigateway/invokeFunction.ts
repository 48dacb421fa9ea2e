// Step 12, the invocation, raced against the integration timeout (29 s on AWS).
import * as crypto from "node:crypto";
import { required, type GatewayDeps, type InvocationContext, type StepResult } from "./context";

export async function invokeFunction(
    ctx: InvocationContext,
    deps: Pick<GatewayDeps, "integrationTimeoutMs">,
): Promise<StepResult> {
    const target = required(ctx.target, "the function");
    const event = required(ctx.event, "the event");
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<"gateway-timeout">((resolve) => {
        timer = setTimeout(() => resolve("gateway-timeout"), deps.integrationTimeoutMs);
    });
    const awsRequestId = crypto.randomUUID();
    // Known before the call: a fault during it still links the answer to the function's log.
    ctx.functionRequestId = awsRequestId;
    ctx.functionVersion = target.version;
    ctx.invokedAt = process.hrtime.bigint();
    try {
        ctx.outcome = await Promise.race([target.pool.invoke(event, awsRequestId, false, target.invokedArn), timeout]);
    } finally {
        // Also when the invocation throws: a pending 29 s timer would hold the process open.
        clearTimeout(timer);
    }
    return undefined;
}
