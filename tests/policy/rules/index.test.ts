// The guardrails as a set (policies/rules/index.ts): named and described, quiet on the shipped
// stacks, and each with a test file beside this one whose broken variants make it fire.
import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { type RecordedProgram } from "local-cloud";
import { checkRecordedStack, rules } from "../../../policies/rules";
import { guardrailPrograms } from "../support";

let dev: RecordedProgram;
let prod: RecordedProgram;

// Root-level, so it runs before every suite of the run (why: guardrailPrograms in ../support).
before("record the programs the guardrail tests need", async function () {
    this.timeout(180_000);
    ({ dev, prod } = await guardrailPrograms());
});

/**
 * The describe titles in the other test files of this folder, read from their text: a rule's
 * suite is named after the rule, and this must hold when this file runs on its own too.
 */
function suiteTitlesBesideThisFile(): string[] {
    const files = fs
        .readdirSync(__dirname)
        .filter((file) => file.endsWith(".test.ts") && file !== path.basename(__filename));
    return files.flatMap((file) =>
        [...fs.readFileSync(path.join(__dirname, file), "utf8").matchAll(/\bdescribe\("([^"]+)"/g)].map((m) => m[1]!),
    );
}

describe("guardrail rules (policies/rules)", () => {
    it("have unique names and say what they check", () => {
        expect(new Set(rules.map((r) => r.name)).size).to.equal(rules.length);
        for (const rule of rules) {
            expect(rule.description, rule.name).to.have.length.greaterThan(20);
            expect(["mandatory", "advisory"]).to.include(rule.enforcementLevel);
        }
    });

    it("find nothing in the dev stack as shipped, nor in prod once someone is paged", () => {
        expect(checkRecordedStack(dev)).to.deep.equal([]);
        expect(checkRecordedStack(prod)).to.deep.equal([]);
    });

    // The broken variants are in the files beside this one, one per file of policies/rules.
    it("every rule has a broken variant above that makes it fire", () => {
        const titles = suiteTitlesBesideThisFile();
        for (const rule of rules) {
            expect(titles, rule.name).to.include(rule.name);
        }
    });
});
