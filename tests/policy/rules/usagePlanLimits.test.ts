// The usage-plan-throttle-and-quota guardrail (policies/rules/usagePlanLimits.ts) over the program
// recorded under mocks: it fires, with a message that says what to fix, on a deliberately broken
// variant.
import { expect } from "chai";
import { type RecordedProgram } from "local-cloud";
import { checkRecordedStack } from "../../../policies/rules";
import { one, TYPES } from "../../support/program";
import { copy, guardrailPrograms, only } from "../support";

let prod: RecordedProgram;

// Root-level, so it runs before every suite of the run (why: guardrailPrograms in ../support).
before("record the programs the guardrail tests need", async function () {
    this.timeout(180_000);
    ({ prod } = await guardrailPrograms());
});

describe("guardrail rules (policies/rules)", () => {
    describe("usage-plan-throttle-and-quota", () => {
        it("fires for a plan without quota and a plan without throttle", () => {
            const broken = copy(prod);
            delete one(broken, TYPES.usagePlan, "standard").inputs["quotaSettings"];
            delete one(broken, TYPES.usagePlan, "partner").inputs["throttleSettings"];
            expect(only("usage-plan-throttle-and-quota", checkRecordedStack(broken))).to.have.members([
                'UsagePlan "standard" has no quota (got null): set `quotaSettings: { limit, period }` (posts-api:plans.<plan>.quota).',
                'UsagePlan "partner" has no throttle (got null): set `throttleSettings: { rateLimit, burstLimit }` (posts-api:plans.<plan>.throttle).',
            ]);
        });
    });
});
