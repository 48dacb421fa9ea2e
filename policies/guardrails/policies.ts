// The plain rules (policies/rules) as CrossGuard policies. Kept apart from index.ts because
// constructing a PolicyPack starts the analyzer's gRPC server: tests import this file instead.
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { rules, TYPES, type ResourceRule, type Rule, type RuleConfig, type StackRule } from "../rules";

function resourcePolicy(rule: ResourceRule): ResourceValidationPolicy {
    return {
        name: rule.name,
        description: rule.description,
        enforcementLevel: rule.enforcementLevel,
        ...(rule.configSchema ? { configSchema: rule.configSchema } : {}),
        validateResource: (args, reportViolation) => {
            if (!rule.resourceTypes.includes(args.type)) {
                args.notApplicable(`applies to ${rule.resourceTypes.join(", ")}`);
            }
            const resource = { urn: args.urn, type: args.type, name: args.name, props: args.props };
            for (const message of rule.check(resource, args.getConfig<RuleConfig>())) {
                reportViolation(message);
            }
        },
    };
}

function stackPolicy(rule: StackRule): StackValidationPolicy {
    return {
        name: rule.name,
        description: rule.description,
        enforcementLevel: rule.enforcementLevel,
        ...(rule.configSchema ? { configSchema: rule.configSchema } : {}),
        validateStack: (args, reportViolation) => {
            const resources = args.resources.map((r) => ({
                urn: r.urn,
                type: r.type,
                name: r.name,
                props: r.props,
                // By URN: known in a new stack's preview, where the values they carry are not.
                propertyDependencies: Object.fromEntries(
                    Object.entries(r.propertyDependencies ?? {}).map(([key, from]) => [key, from.map((d) => d.urn)]),
                ),
            }));
            // Stack outputs are the outputs of the root `pulumi:pulumi:Stack` resource. CrossGuard
            // hands them over decrypted, so which ones are secret is unknown here.
            const outputs = resources.find((r) => r.type === TYPES.stack)?.props ?? {};
            const result = rule.check({ resources, outputs, secretOutputs: undefined }, args.getConfig<RuleConfig>());
            if ("notApplicable" in result) {
                args.notApplicable(result.notApplicable);
            }
            for (const violation of result as Exclude<typeof result, { notApplicable: string }>) {
                reportViolation(violation.message, violation.urn);
            }
        },
    };
}

export function toPolicy(rule: Rule): ResourceValidationPolicy | StackValidationPolicy {
    return rule.kind === "resource" ? resourcePolicy(rule) : stackPolicy(rule);
}

export const guardrailPolicies: (ResourceValidationPolicy | StackValidationPolicy)[] = rules.map(toPolicy);
