// The guardrails, as plain rules: the CrossGuard pack (policies/guardrails) adapts them, and the
// tests (tests/policies.test.ts) run them over the program recorded under mocks.
import { apiKeyRequired } from "./apiKeyRequired";
import { apiKeyOutputsSecret } from "./apiKeyOutputs";
import { noWildcardIamActions } from "./iamWildcards";
import { lambdaRuntime, lambdaTimeout } from "./lambda";
import { logGroupRetention } from "./logRetention";
import { noBroadManagedPolicies } from "./managedPolicies";
import { productionAlarms } from "./productionAlarms";
import { productionTableProtection } from "./productionTables";
import { productionTracing } from "./productionTracing";
import { stageAccessLog } from "./stageAccessLog";
import { usagePlanLimits } from "./usagePlanLimits";
import type { Finding, Rule, RuleConfig, RuleResource } from "./types";

export * from "./types";

export const rules: readonly Rule[] = [
    apiKeyRequired,
    noBroadManagedPolicies,
    noWildcardIamActions,
    lambdaTimeout,
    lambdaRuntime,
    logGroupRetention,
    stageAccessLog,
    productionTableProtection,
    productionAlarms,
    productionTracing,
    usagePlanLimits,
    apiKeyOutputsSecret,
];

/** A program as local/recordProgram.ts records it (structurally, so this module imports no Pulumi). */
export interface RecordedStack {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    resources: { urn: string; type: string; name: string; inputs: Record<string, any>; state: Record<string, any> }[];
    outputs: Record<string, unknown>;
    secretOutputs: readonly string[];
}

/**
 * Runs every rule the way CrossGuard would: resource rules over each resource's inputs, stack
 * rules over the resources' outputs (state) and the stack outputs. `config` is keyed by rule
 * name, like a `--policy-pack-config` file.
 */
export function checkRecordedStack(
    stack: RecordedStack,
    config: Record<string, RuleConfig> = {},
    selected: readonly Rule[] = rules,
): Finding[] {
    const findings: Finding[] = [];
    const view = (props: "inputs" | "state"): RuleResource[] =>
        stack.resources.map((r) => ({ urn: r.urn, type: r.type, name: r.name, props: r[props] }));
    for (const rule of selected) {
        const ruleConfig = config[rule.name] ?? {};
        if (rule.kind === "resource") {
            for (const resource of view("inputs").filter((r) => rule.resourceTypes.includes(r.type))) {
                for (const message of rule.check(resource, ruleConfig)) {
                    findings.push({
                        rule: rule.name,
                        enforcementLevel: rule.enforcementLevel,
                        urn: resource.urn,
                        message,
                    });
                }
            }
        } else {
            const result = rule.check(
                { resources: view("state"), outputs: stack.outputs, secretOutputs: stack.secretOutputs },
                ruleConfig,
            );
            for (const violation of "notApplicable" in result ? [] : result) {
                findings.push({
                    rule: rule.name,
                    enforcementLevel: rule.enforcementLevel,
                    urn: violation.urn,
                    message: violation.message,
                });
            }
        }
    }
    return findings;
}
