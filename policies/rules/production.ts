// Which stacks are production: one notion, shared by every rule that holds production to more.
//
// A resource is on production when it is tagged `environment: production` (data/postsTable.ts sets
// the tag on the table from posts-api:production) OR its stack (read from its URN) is listed in
// the rule's `productionStacks` setting, default `["prod"]`. The stack list is the bypass-proof
// half: turning `production` off on the prod stack drops the tag too, but not the stack's name.
// Stack rules see every resource, so a stack is production when its name is listed or any of its
// tables carries the tag; resource rules see one resource, so they ask that resource.
import { stackOfUrn, TYPES, type RuleConfig, type RuleConfigSchema, type RuleResource, type StackView } from "./types";

export const PRODUCTION_TAG = { key: "environment", value: "production" } as const;
export const DEFAULT_PRODUCTION_STACKS = ["prod"];

/**
 * The `productionStacks` setting, for each production rule's `configSchema`. CrossGuard hands a
 * policy only its own settings, so every production rule takes it: list the same stacks for each
 * of them in the `--policy-pack-config` file (config.example.json does).
 */
export const PRODUCTION_STACKS_SETTING: RuleConfigSchema["properties"] = {
    productionStacks: { type: "array", items: { type: "string" }, default: DEFAULT_PRODUCTION_STACKS },
};

export function productionStacks(config: RuleConfig): string[] {
    const configured = config["productionStacks"];
    return Array.isArray(configured) ? configured.map(String) : DEFAULT_PRODUCTION_STACKS;
}

const taggedProduction = (resource: RuleResource) =>
    ((resource.props["tags"] ?? {}) as Record<string, unknown>)[PRODUCTION_TAG.key] === PRODUCTION_TAG.value;

/** Why one resource is held to production rules (its tag, or its stack), or undefined. */
export function resourceProductionReason(resource: RuleResource, config: RuleConfig): string | undefined {
    if (taggedProduction(resource)) {
        return `tagged ${PRODUCTION_TAG.key}=${PRODUCTION_TAG.value}`;
    }
    const stack = stackOfUrn(resource.urn);
    return productionStacks(config).includes(stack) ? `on production stack "${stack}"` : undefined;
}

/** The stack's name, from its resources' URNs ("" when it has none). */
export function stackNameOf(stack: StackView): string {
    return stack.resources.map((r) => stackOfUrn(r.urn)).find((name) => name !== "") ?? "";
}

/**
 * Why a whole stack is held to production rules (its name is listed, or a table of it is tagged
 * production), or undefined.
 */
export function stackProductionReason(stack: StackView, config: RuleConfig): string | undefined {
    const name = stackNameOf(stack);
    if (productionStacks(config).includes(name)) {
        return `Stack "${name}" is production`;
    }
    const tagged = stack.resources.find((r) => r.type === TYPES.table && taggedProduction(r));
    return tagged === undefined
        ? undefined
        : `Stack "${name}" is production (table "${tagged.name}" is tagged ${PRODUCTION_TAG.key}=${PRODUCTION_TAG.value})`;
}

/** What a production rule says about a stack it does not apply to. */
export function notProductionReason(stack: StackView, config: RuleConfig): string {
    return (
        `Stack "${stackNameOf(stack)}" is not production: not in productionStacks ${JSON.stringify(productionStacks(config))} ` +
        `and no table tagged ${PRODUCTION_TAG.key}=${PRODUCTION_TAG.value}`
    );
}
