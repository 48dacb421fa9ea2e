// The CrossGuard adapter (policies/guardrails/policies.ts): every rule wired as a policy, reporting
// exactly what the rule finds over the program recorded under mocks, with the pack's settings.
import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { type RecordedProgram, type RecordedResource } from "local-cloud";
import { checkRecordedStack, rules, type RuleConfig } from "../../../policies/rules";
import { CROSSGUARD_CANNOT_SEE_SECRETS } from "../../../policies/rules/apiKeyOutputs";
import { guardrailPolicies } from "../../../policies/guardrails/policies";
import { one, TYPES } from "../../support/program";
import { copy, guardrailPrograms, PACK_DIR, ROUTES, setProp, withoutAlarms } from "../support";

/* eslint-disable @typescript-eslint/no-explicit-any */

let dev: RecordedProgram;
let prod: RecordedProgram;

// Root-level, so it runs before every suite of the run (why: guardrailPrograms in ../support).
before("record the programs the guardrail tests need", async function () {
    this.timeout(180_000);
    ({ dev, prod } = await guardrailPrograms());
});

describe("CrossGuard adapter (policies/guardrails/policies.ts)", () => {
    /** What CrossGuard hands validateResource, with notApplicable throwing as it does there. */
    function resourceArgs(resource: RecordedResource, config: RuleConfig = {}) {
        return {
            type: resource.type,
            urn: resource.urn,
            name: resource.name,
            props: resource.inputs,
            getConfig: () => config,
            notApplicable: (reason?: string) => {
                throw Object.assign(new Error(reason), { notApplicable: true });
            },
        } as any;
    }

    function runResourcePolicies(program: RecordedProgram): { policy: string; message: string }[] {
        const reported: { policy: string; message: string }[] = [];
        for (const policy of guardrailPolicies) {
            if (!("validateResource" in policy)) {
                continue;
            }
            for (const resource of program.resources) {
                try {
                    (policy.validateResource as any)(resourceArgs(resource), (message: string) =>
                        reported.push({ policy: policy.name, message }),
                    );
                } catch (err: any) {
                    if (!err.notApplicable) {
                        throw err;
                    }
                }
            }
        }
        return reported;
    }

    it("wires every rule, with its name, description, level and config schema", () => {
        expect(guardrailPolicies.map((p) => p.name)).to.deep.equal(rules.map((r) => r.name));
        for (const [i, rule] of rules.entries()) {
            const policy = guardrailPolicies[i]!;
            expect(policy.description).to.equal(rule.description);
            expect(policy.enforcementLevel).to.equal(rule.enforcementLevel);
            expect(policy.configSchema).to.deep.equal(rule.configSchema);
            expect(
                rule.kind === "resource" ? "validateResource" in policy : "validateStack" in policy,
                rule.name,
            ).to.equal(true);
        }
    });

    it("reports nothing for the shipped stacks and exactly the rules' messages for a broken one", () => {
        expect(runResourcePolicies(dev)).to.deep.equal([]);
        expect(runResourcePolicies(prod)).to.deep.equal([]);
        const broken = copy(prod);
        one(broken, TYPES.function, "getPost").inputs["timeout"] = 60;
        delete one(broken, TYPES.usagePlan, "partner").inputs["quotaSettings"];
        const expected = checkRecordedStack(broken).map((f) => ({ policy: f.rule, message: f.message }));
        expect(expected).to.have.length(2);
        expect(runResourcePolicies(broken)).to.have.deep.members(expected);
    });

    /** What CrossGuard hands validateStack: every resource with its outputs; notApplicable throws. */
    function runStackPolicies(program: RecordedProgram, config: Record<string, RuleConfig> = {}) {
        const reported: { policy: string; message: string; urn: string | undefined }[] = [];
        const notApplicable: string[] = [];
        for (const policy of guardrailPolicies) {
            if (!("validateStack" in policy)) {
                continue;
            }
            const args = {
                resources: program.resources.map((r) => ({ urn: r.urn, type: r.type, name: r.name, props: r.state })),
                getConfig: () => config[policy.name] ?? {},
                notApplicable: (reason?: string) => {
                    throw Object.assign(new Error(reason), { notApplicable: true });
                },
            };
            try {
                (policy.validateStack as any)(args, (message: string, urn?: string) =>
                    reported.push({ policy: policy.name, message, urn }),
                );
            } catch (err: any) {
                if (!err.notApplicable) {
                    throw err;
                }
                notApplicable.push(policy.name);
            }
        }
        return { reported, notApplicable };
    }

    it("runs the stack rules over the resources' outputs: nothing for the shipped stacks, the rules' findings for a broken one", () => {
        const production = ["production-error-alarms", "production-xray-tracing"];
        const devRun = runStackPolicies(dev);
        expect(devRun.reported).to.deep.equal([]);
        expect(devRun.notApplicable).to.have.members(["api-key-values-not-plain-outputs", ...production]);
        const prodRun = runStackPolicies(prod);
        expect(prodRun.reported).to.deep.equal([]);
        expect(prodRun.notApplicable).to.deep.equal(["api-key-values-not-plain-outputs"]);

        const broken = withoutAlarms(prod);
        setProp(one(broken, TYPES.function, "getPost"), "tracingConfig", { mode: "PassThrough" });
        const expected = checkRecordedStack(broken).map((f) => ({ policy: f.rule, message: f.message, urn: f.urn }));
        expect(expected.map((f) => f.policy)).to.deep.equal([
            "production-error-alarms",
            "production-error-alarms",
            "production-xray-tracing",
        ]);
        expect(runStackPolicies(broken).reported).to.have.deep.members(expected);
        // Settings reach stack rules too: dev held to production.
        const devAsProduction = Object.fromEntries(production.map((name) => [name, { productionStacks: ["dev"] }]));
        expect(runStackPolicies(dev, devAsProduction).reported.map((r) => r.policy)).to.have.members([
            "production-error-alarms",
            "production-error-alarms",
            ...Array(1 + ROUTES.length).fill("production-xray-tracing"),
        ]);
    });

    it("passes --policy-pack-config settings to the rule", () => {
        const policy = guardrailPolicies.find((p) => p.name === "lambda-timeout-within-gateway-limit") as any;
        const reported: string[] = [];
        policy.validateResource(
            resourceArgs(one(dev, TYPES.function, "getPost"), { maxTimeoutSeconds: 5 }),
            (m: string) => reported.push(m),
        );
        expect(reported).to.have.length(1);
    });

    it("marks the secret-output rule not applicable, saying why and where it is enforced instead", () => {
        const policy = guardrailPolicies.find((p) => p.name === "api-key-values-not-plain-outputs") as any;
        const args = {
            resources: dev.resources.map((r) => ({ urn: r.urn, type: r.type, name: r.name, props: r.state })),
            getConfig: () => ({}),
            notApplicable: (reason: string) => {
                throw new Error(`not applicable: ${reason}`);
            },
        };
        expect(() => policy.validateStack(args, () => undefined)).to.throw(
            `not applicable: ${CROSSGUARD_CANNOT_SEE_SECRETS}`,
        );
    });

    it("has an example config that names only real policies and valid levels", () => {
        const config = JSON.parse(fs.readFileSync(path.join(PACK_DIR, "config.example.json"), "utf8"));
        const levels = ["advisory", "mandatory", "disabled", "remediate"];
        for (const [name, value] of Object.entries<any>(config)) {
            if (name !== "all") {
                expect(
                    guardrailPolicies.map((p) => p.name),
                    name,
                ).to.include(name);
            }
            const level = typeof value === "string" ? value : value.enforcementLevel;
            expect(levels, name).to.include(level);
            const settings =
                typeof value === "string" ? [] : Object.keys(value).filter((k) => k !== "enforcementLevel");
            const schema = guardrailPolicies.find((p) => p.name === name)?.configSchema?.properties ?? {};
            expect(Object.keys(schema), name).to.include.members(settings);
        }
        // One notion of production: CrossGuard hands each policy only its own settings, so every
        // rule that takes productionStacks is given the same list.
        const productionRules = rules
            .filter((r) => r.configSchema?.properties["productionStacks"] !== undefined)
            .map((r) => r.name);
        expect(productionRules).to.have.members([
            "production-table-backups-and-deletion-protection",
            "production-error-alarms",
            "production-xray-tracing",
        ]);
        for (const name of productionRules) {
            expect(config[name]?.productionStacks, name).to.deep.equal(
                config["production-table-backups-and-deletion-protection"].productionStacks,
            );
        }
    });
});
