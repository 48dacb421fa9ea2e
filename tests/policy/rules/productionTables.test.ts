// The production-table-backups-and-deletion-protection guardrail (policies/rules/productionTables.ts)
// over the program recorded under mocks: it fires, with a message that says what to fix, on a
// deliberately broken variant.
import { expect } from "chai";
import { type RecordedProgram } from "local-cloud";
import { checkRecordedStack } from "../../../policies/rules";
import { one, TYPES } from "../../support/program";
import { copy, guardrailPrograms, only } from "../support";

let dev: RecordedProgram;
let prod: RecordedProgram;
let prodDowngraded: RecordedProgram;

// Root-level, so it runs before every suite of the run (why: guardrailPrograms in ../support).
before("record the programs the guardrail tests need", async function () {
    this.timeout(180_000);
    ({ dev, prod, prodDowngraded } = await guardrailPrograms());
});

describe("guardrail rules (policies/rules)", () => {
    describe("production-table-backups-and-deletion-protection", () => {
        it("fires for a production table without point-in-time recovery or deletion protection", () => {
            const broken = copy(prod);
            const table = one(broken, TYPES.table);
            table.inputs["pointInTimeRecovery"] = { enabled: false };
            table.inputs["deletionProtectionEnabled"] = false;
            expect(only("production-table-backups-and-deletion-protection", checkRecordedStack(broken))).to.deep.equal([
                'Table "posts" is tagged environment=production but has no point-in-time recovery: set `pointInTimeRecovery: { enabled: true }` (posts-api:production: true).',
                'Table "posts" is tagged environment=production but can be deleted: set `deletionProtectionEnabled: true` (posts-api:production: true).',
            ]);
        });

        it("holds the prod stack to it even when posts-api:production is turned off", () => {
            const downgraded = prodDowngraded;
            expect(one(downgraded, TYPES.table).inputs["tags"].environment).to.equal("development");
            const messages = only("production-table-backups-and-deletion-protection", checkRecordedStack(downgraded));
            expect(messages).to.have.length(2);
            expect(messages[0]).to.match(/is on production stack "prod" but has no point-in-time recovery/);
        });

        it("leaves development tables alone unless tagged production", () => {
            expect(one(dev, TYPES.table).inputs["pointInTimeRecovery"]).to.deep.equal({ enabled: false });
            const tagged = copy(dev);
            one(tagged, TYPES.table).inputs["tags"].environment = "production";
            expect(only("production-table-backups-and-deletion-protection", checkRecordedStack(tagged))).to.have.length(
                2,
            );
            expect(
                checkRecordedStack(dev, {
                    "production-table-backups-and-deletion-protection": { productionStacks: ["dev"] },
                }),
            ).to.have.length(2);
        });
    });
});
