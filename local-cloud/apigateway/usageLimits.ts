// Step 5, the key's usage plan: throttle, then quota. One call to the limiter (usage.ts) does both,
// so that a throttled request does not count against the quota and a quota-refused one still used
// a throttle token, as usage.ts documents.
import { methodKey } from "./usage";
import { required, type GatewayDeps, type InvocationContext, type StepResult } from "./context";
import { refuse } from "./refusals";

export function usageLimits(ctx: InvocationContext, deps: Pick<GatewayDeps, "limiter">): StepResult {
    if (!ctx.key || !ctx.plan) {
        // The method requires no key: no plan limits it.
        return undefined;
    }
    const { stage } = required(ctx.deployed, "the stage");
    const match = required(ctx.match, "the route");
    const verdict = deps.limiter.admit(
        ctx.plan,
        ctx.key.logicalName,
        stage.name,
        methodKey(match.resource.path, ctx.request.method),
    );
    return verdict === "OK" ? undefined : refuse(verdict);
}
