// On production stacks every table keeps point-in-time backups and refuses deletion.
//
// A table is held to this when it is tagged `environment: production` (data/postsTable.ts sets it
// from posts-api:production) OR its stack is listed in `productionStacks` (read from the URN). The
// stack list is the bypass-proof half: turning `production` off on the prod stack drops the tag
// too, but not the stack's name.
import { describe, stackOfUrn, TYPES, type ResourceRule, type RuleConfig, type RuleResource } from "./types";

export const PRODUCTION_TAG = { key: "environment", value: "production" } as const;
export const DEFAULT_PRODUCTION_STACKS = ["prod"];

function productionReason(resource: RuleResource, config: RuleConfig): string | undefined {
    const tags = (resource.props["tags"] ?? {}) as Record<string, unknown>;
    if (tags[PRODUCTION_TAG.key] === PRODUCTION_TAG.value) {
        return `tagged ${PRODUCTION_TAG.key}=${PRODUCTION_TAG.value}`;
    }
    const configured = config["productionStacks"];
    const stacks = Array.isArray(configured) ? configured.map(String) : DEFAULT_PRODUCTION_STACKS;
    const stack = stackOfUrn(resource.urn);
    return stacks.includes(stack) ? `on production stack "${stack}"` : undefined;
}

export const productionTableProtection: ResourceRule = {
    kind: "resource",
    name: "production-table-backups-and-deletion-protection",
    description: "On production stacks, every DynamoDB table has point-in-time recovery and deletion protection.",
    enforcementLevel: "mandatory",
    resourceTypes: [TYPES.table],
    configSchema: {
        properties: {
            productionStacks: { type: "array", items: { type: "string" }, default: DEFAULT_PRODUCTION_STACKS },
        },
    },
    check(resource, config) {
        const why = productionReason(resource, config);
        if (why === undefined) {
            return [];
        }
        const violations: string[] = [];
        if (resource.props["pointInTimeRecovery"]?.enabled !== true) {
            violations.push(`${describe(resource)} is ${why} but has no point-in-time recovery: set \`pointInTimeRecovery: { enabled: true }\` (posts-api:production: true).`);
        }
        if (resource.props["deletionProtectionEnabled"] !== true) {
            violations.push(`${describe(resource)} is ${why} but can be deleted: set \`deletionProtectionEnabled: true\` (posts-api:production: true).`);
        }
        return violations;
    },
};
