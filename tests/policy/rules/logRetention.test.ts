// The log-group-retention guardrail (policies/rules/logRetention.ts) over the program recorded under
// mocks: it fires, with a message that says what to fix, on a deliberately broken variant.
import { expect } from "chai";
import { type RecordedProgram } from "local-cloud";
import { checkRecordedStack } from "../../../policies/rules";
import { one, TYPES } from "../../support/program";
import { copy, guardrailPrograms, only } from "../support";

let dev: RecordedProgram;

// Root-level, so it runs before every suite of the run (why: guardrailPrograms in ../support).
before("record the programs the guardrail tests need", async function () {
    this.timeout(180_000);
    ({ dev } = await guardrailPrograms());
});

describe("guardrail rules (policies/rules)", () => {
    describe("log-group-retention", () => {
        it("fires, as advisory, for a log group without retention or with 0", () => {
            const broken = copy(dev);
            delete one(broken, TYPES.logGroup, "getPost").inputs["retentionInDays"];
            one(broken, TYPES.logGroup, "listPosts").inputs["retentionInDays"] = 0;
            const findings = checkRecordedStack(broken);
            const messages = only("log-group-retention", findings);
            expect(findings.every((f) => f.enforcementLevel === "advisory")).to.equal(true);
            expect(messages).to.have.length(2);
            expect(messages[0]).to.match(/keeps logs forever \(retentionInDays (null|0)\): set `retentionInDays`/);
        });
    });
});
