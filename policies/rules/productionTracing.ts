// On production stacks a slow or failing request can be followed through API Gateway and the
// function it called: X-Ray active tracing on every stage and every Lambda function
// (posts-api:tracing, api/postsApi.ts and api/routeFunction.ts).
//
// A stack rule, so a stack is production by production.ts's whole notion (its name, or a table
// tagged production), which a rule reading one stage or function at a time could not see.
import { notProductionReason, PRODUCTION_STACKS_SETTING, stackProductionReason } from "./production";
import { describe, TYPES, type NotApplicable, type StackRule, type StackView, type StackViolation } from "./types";

const FIX = "set posts-api:tracing: true on this stack";

export const productionTracing: StackRule = {
    kind: "stack",
    name: "production-xray-tracing",
    description:
        "On production stacks, every API Gateway stage has X-Ray tracing on (xrayTracingEnabled) and every Lambda function traces actively (tracingConfig.mode Active).",
    // Advisory: without traces an incident takes longer to explain, but nothing is exposed or lost.
    enforcementLevel: "advisory",
    configSchema: { properties: { ...PRODUCTION_STACKS_SETTING } },
    check(stack: StackView, config): StackViolation[] | NotApplicable {
        const why = stackProductionReason(stack, config);
        if (why === undefined) {
            return { notApplicable: notProductionReason(stack, config) };
        }
        const violations: StackViolation[] = [];
        for (const stage of stack.resources.filter((r) => r.type === TYPES.stage)) {
            if (stage.props["xrayTracingEnabled"] !== true) {
                violations.push({
                    urn: stage.urn,
                    message: `${why}, but ${describe(stage)} does not trace requests with X-Ray (xrayTracingEnabled ${JSON.stringify(stage.props["xrayTracingEnabled"] ?? null)}): ${FIX} (the stage's \`xrayTracingEnabled: true\`).`,
                });
            }
        }
        for (const fn of stack.resources.filter((r) => r.type === TYPES.function)) {
            const mode = fn.props["tracingConfig"]?.mode;
            if (mode !== "Active") {
                violations.push({
                    urn: fn.urn,
                    message: `${why}, but ${describe(fn)} does not trace actively (tracingConfig.mode ${JSON.stringify(mode ?? null)}): ${FIX} (the function's \`tracingConfig: { mode: "Active" }\`).`,
                });
            }
        }
        return violations;
    },
};
