// A golden copy of every function's serialized `__index.js` (tests/golden/functions/). What Pulumi
// serializes is the code AWS runs: a refactor, a formatter or a new dependency can change it without
// any test of behaviour noticing (a larger archive, a captured value, a slower cold start). Any
// change here is deliberate: rewrite the copies with `UPDATE_GOLDEN=1 npx mocha
// tests/program/serialized-golden.test.ts` and say in the commit why the serialized text changed.
import * as fs from "node:fs";
import * as path from "node:path";
import { expect } from "chai";
import { stackProgram } from "../support/program";
import { serializedFunctions } from "../support/lambdas";

const GOLDEN_DIR = path.join(__dirname, "..", "golden", "functions");
const UPDATE = process.env["UPDATE_GOLDEN"] === "1";

/** The first line where two texts differ, for a message a reader can act on. */
function firstDifference(expected: string, actual: string): string {
    const want = expected.split("\n");
    const got = actual.split("\n");
    const line = want.findIndex((text, index) => text !== got[index]);
    const at = line === -1 ? want.length : line;
    return `line ${at + 1}:\n  golden:     ${want[at] ?? "(end)"}\n  serialized: ${got[at] ?? "(end)"}`;
}

describe("serialized Lambda code: the golden copy", () => {
    it("every function's __index.js is the committed copy, byte for byte (UPDATE_GOLDEN=1 rewrites it)", async () => {
        const functions = await serializedFunctions(await stackProgram("dev"));
        if (UPDATE) {
            fs.rmSync(GOLDEN_DIR, { recursive: true, force: true });
            fs.mkdirSync(GOLDEN_DIR, { recursive: true });
            for (const fn of functions) fs.writeFileSync(path.join(GOLDEN_DIR, `${fn.name}.js`), fn.source);
        }
        const golden = fs.readdirSync(GOLDEN_DIR).map((file) => path.basename(file, ".js"));
        expect(functions.map((fn) => fn.name)).to.have.members(golden);
        for (const fn of functions) {
            const expected = fs.readFileSync(path.join(GOLDEN_DIR, `${fn.name}.js`), "utf8");
            if (expected !== fn.source)
                expect.fail(`${fn.name}: the serialized code changed at ${firstDifference(expected, fn.source)}`);
        }
    });
});
