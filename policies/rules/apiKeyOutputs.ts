// API key values are never plain stack outputs: an output named like an API key, or holding an
// ApiKey's value anywhere inside it, must be a Pulumi secret (else `pulumi stack output` prints
// it and the state file stores it in clear text).
//
// Needs to know which outputs are secret. The program recorded under mocks knows
// (local/recordProgram.ts `secretOutputs`); CrossGuard does not: it decrypts every value before a
// policy sees it (pulumi/pulumi-policy#241), so in the pack this rule reports "not applicable" and
// the test suite (tests/policies.test.ts, part of `npm test`) is where it is enforced.
import { TYPES, type NotApplicable, type StackRule, type StackView, type StackViolation } from "./types";

const KEY_LIKE_NAME = /api[-_]?keys?/i;
// Ids of keys (`apiKeyIds`, for usage reports) are not secrets; the value check below still
// catches a key value put under such a name.
const KEY_ID_NAME = /api[-_]?keys?[-_]?ids?$/i;

export const CROSSGUARD_CANNOT_SEE_SECRETS =
    "CrossGuard decrypts secrets before policies run, so it cannot tell a secret output from a plain one " +
    "(pulumi/pulumi-policy#241); this rule runs in `npm test` over the program recorded under mocks instead.";

/** True when `value` is, or contains (in an array or object), one of `needles`. */
function contains(value: unknown, needles: Set<string>): boolean {
    if (typeof value === "string") {
        return needles.has(value);
    }
    if (Array.isArray(value)) {
        return value.some((v) => contains(v, needles));
    }
    if (value !== null && typeof value === "object") {
        return Object.values(value).some((v) => contains(v, needles));
    }
    return false;
}

export const apiKeyOutputsSecret: StackRule = {
    kind: "stack",
    name: "api-key-values-not-plain-outputs",
    description: "Stack outputs named like an API key, or holding an API key's value, are secrets.",
    enforcementLevel: "mandatory",
    check(stack: StackView): StackViolation[] | NotApplicable {
        if (stack.secretOutputs === undefined) {
            return { notApplicable: CROSSGUARD_CANNOT_SEE_SECRETS };
        }
        const secret = new Set(stack.secretOutputs);
        const keyValues = new Set(
            stack.resources
                .filter(
                    (r) => r.type === TYPES.apiKey && typeof r.props["value"] === "string" && r.props["value"] !== "",
                )
                .map((r) => r.props["value"] as string),
        );
        const violations: StackViolation[] = [];
        for (const [name, value] of Object.entries(stack.outputs)) {
            if (secret.has(name)) {
                continue;
            }
            const why = contains(value, keyValues)
                ? "holds an API key value"
                : KEY_LIKE_NAME.test(name) && !KEY_ID_NAME.test(name)
                  ? "is named like an API key"
                  : undefined;
            if (why !== undefined) {
                violations.push({
                    message: `Stack output "${name}" ${why} but is not a secret: export it as \`pulumi.secret(...)\` (and never \`pulumi.unsecret\` a key value).`,
                });
            }
        }
        return violations;
    },
};
