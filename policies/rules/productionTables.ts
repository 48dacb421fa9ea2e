// On production stacks every table keeps point-in-time backups and refuses deletion.
//
// Which tables are production is production.ts's one notion: a table tagged
// `environment: production` (data/postsTable.ts sets it from posts-api:production) OR on a stack
// listed in `productionStacks`. The stack list is the bypass-proof half: turning `production` off
// on the prod stack drops the tag too, but not the stack's name.
import { PRODUCTION_STACKS_SETTING, resourceProductionReason } from "./production";
import { describe, TYPES, type ResourceRule } from "./types";

export { DEFAULT_PRODUCTION_STACKS, PRODUCTION_TAG } from "./production";

export const productionTableProtection: ResourceRule = {
    kind: "resource",
    name: "production-table-backups-and-deletion-protection",
    description: "On production stacks, every DynamoDB table has point-in-time recovery and deletion protection.",
    enforcementLevel: "mandatory",
    resourceTypes: [TYPES.table],
    configSchema: { properties: { ...PRODUCTION_STACKS_SETTING } },
    check(resource, config) {
        const why = resourceProductionReason(resource, config);
        if (why === undefined) {
            return [];
        }
        const violations: string[] = [];
        if (resource.props["pointInTimeRecovery"]?.enabled !== true) {
            violations.push(
                `${describe(resource)} is ${why} but has no point-in-time recovery: set \`pointInTimeRecovery: { enabled: true }\` (posts-api:production: true).`,
            );
        }
        if (resource.props["deletionProtectionEnabled"] !== true) {
            violations.push(
                `${describe(resource)} is ${why} but can be deleted: set \`deletionProtectionEnabled: true\` (posts-api:production: true).`,
            );
        }
        return violations;
    },
};
