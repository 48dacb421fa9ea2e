// Decisions are one record per file, `docs/decisions/NNNN-slug.md`, each number used once and each
// record listed in the index by topic (docs/decisions/README.md), so a new record is found and
// takes the next number instead of a name of its own.
import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { PROJECT_DIR } from "../../scripts/project";

const DIR = path.join(PROJECT_DIR, "docs", "decisions");
const RECORD = /^(\d{4})-[a-z0-9]+(?:-[a-z0-9]+)*\.md$/;

describe("docs/decisions: one record per numbered file, all in the index", () => {
    const files = fs.readdirSync(DIR).filter((name) => name !== "README.md");

    it("names every record NNNN-slug.md, each number once", () => {
        expect(
            files.filter((name) => !RECORD.test(name)),
            "records without a number",
        ).to.deep.equal([]);
        const numbers = files.map((name) => RECORD.exec(name)![1]!);
        expect(
            numbers.filter((n, i) => numbers.indexOf(n) !== i),
            "numbers used twice",
        ).to.deep.equal([]);
    });

    it("lists every record in the index, and nothing else", () => {
        const index = fs.readFileSync(path.join(DIR, "README.md"), "utf8");
        const listed = [...index.matchAll(/\]\(([^)#]+)\)/g)].map((m) => m[1]!);
        expect([...listed].sort()).to.deep.equal([...files].sort());
    });

    it("has no single file of decisions left beside the folder", () => {
        expect(fs.existsSync(path.join(PROJECT_DIR, "docs", "decisions.md"))).to.equal(false);
    });
});
