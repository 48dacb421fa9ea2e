// npm test names its test files by folder globs (package.json `test:parallel`, `test:load`; the Node
// 22 runner its own list): a test file in a folder no glob names would never run, and nothing else
// would say so. Every *.test.ts in the repository is run by npm test exactly once, and by
// `npm run coverage`.
import * as fs from "node:fs";
import * as path from "node:path";
import { expect } from "chai";
import { minimatch } from "minimatch";

const ROOT = path.resolve(__dirname, "..", "..");
const scripts = (
    JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }
).scripts;
/** Only on Node 22 (tests/node22/run.ts runs it, with the serialized-code tests again). */
const NODE22_ONLY = "tests/node22/runtime.test.ts";

/** Every test file, relative to the repository, outside node_modules. */
function testFiles(dir: string): string[] {
    return fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
        const relative = path.posix.join(dir, entry.name);
        if (entry.isDirectory()) return entry.name === "node_modules" ? [] : testFiles(relative);
        return entry.name.endsWith(".test.ts") ? [relative] : [];
    });
}

/** The files a mocha command line selects: its globs and paths, less its `--ignore`s. */
function selected(command: string, files: string[]): string[] {
    const words = command.split(/\s+/).map((word) => word.replace(/^'|'$/g, ""));
    const ignored = words.filter((_, i) => words[i - 1] === "--ignore");
    const patterns = words.filter((word, i) => word.endsWith(".ts") && words[i - 1] !== "--ignore");
    return files.filter((file) => patterns.some((p) => minimatch(file, p)) && !ignored.some((p) => minimatch(file, p)));
}

describe("npm test runs every test file", () => {
    const files = [...testFiles("tests"), ...testFiles("local-cloud/tests")];

    it("finds the test files (the walk itself works)", () => {
        expect(files).to.include("tests/api/route-table.test.ts");
        expect(files).to.include("local-cloud/tests/apigateway/steps.test.ts");
        expect(files.length).to.be.greaterThan(80);
    });

    it("selects each file in exactly one phase: parallel, load, or the Node 22 runner's own", () => {
        const parallel = selected(scripts["test:parallel"]!, files);
        const load = selected(scripts["test:load"]!, files);
        for (const file of files) {
            const phases = [parallel.includes(file), load.includes(file), file === NODE22_ONLY].filter(Boolean);
            expect(phases.length, `${file}: in ${phases.length} phases of npm test`).to.equal(1);
        }
        expect(scripts["test"]).to.include("test:parallel").and.include("test:load").and.include("test:node22");
    });

    it("covers each file in npm run coverage", () => {
        const covered = selected(scripts["coverage"]!, files);
        expect(files.filter((file) => file !== NODE22_ONLY && !covered.includes(file))).to.deep.equal([]);
    });
});
