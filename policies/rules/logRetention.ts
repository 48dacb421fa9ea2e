// Log groups keep logs for a bounded time: CloudWatch's default (and 0) is "never expire", which
// costs money forever and keeps personal data longer than anyone decided to.
import { describe, TYPES, type ResourceRule } from "./types";

export const logGroupRetention: ResourceRule = {
    kind: "resource",
    name: "log-group-retention",
    description: "CloudWatch log groups set retentionInDays (non-zero).",
    // Advisory: unbounded logs cost money and keep data too long, but do not open the API.
    enforcementLevel: "advisory",
    resourceTypes: [TYPES.logGroup],
    check(resource) {
        const days = resource.props["retentionInDays"];
        if (typeof days !== "number" || days <= 0) {
            return [
                `${describe(resource)} keeps logs forever (retentionInDays ${JSON.stringify(days ?? null)}): set \`retentionInDays\` (posts-api:logRetentionDays, e.g. 14).`,
            ];
        }
        return [];
    },
};
