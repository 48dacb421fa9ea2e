// Every usage plan caps both the request rate (throttle) and the volume per period (quota): a
// plan without them lets one leaked key run up the Lambda and DynamoDB bill without limit.
import { describe, TYPES, type ResourceRule } from "./types";

const positive = (value: unknown) => typeof value === "number" && value > 0;

export const usagePlanLimits: ResourceRule = {
    kind: "resource",
    name: "usage-plan-throttle-and-quota",
    description:
        "Every API Gateway usage plan sets throttleSettings (rate and burst) and quotaSettings (limit and period).",
    enforcementLevel: "mandatory",
    resourceTypes: [TYPES.usagePlan],
    check(resource) {
        const violations: string[] = [];
        const throttle = resource.props["throttleSettings"];
        if (!throttle || !positive(throttle.rateLimit) || !positive(throttle.burstLimit)) {
            violations.push(
                `${describe(resource)} has no throttle (got ${JSON.stringify(throttle ?? null)}): set \`throttleSettings: { rateLimit, burstLimit }\` (posts-api:plans.<plan>.throttle).`,
            );
        }
        const quota = resource.props["quotaSettings"];
        if (!quota || !positive(quota.limit) || typeof quota.period !== "string") {
            violations.push(
                `${describe(resource)} has no quota (got ${JSON.stringify(quota ?? null)}): set \`quotaSettings: { limit, period }\` (posts-api:plans.<plan>.quota).`,
            );
        }
        return violations;
    },
};
