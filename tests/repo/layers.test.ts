// The data layer stands on its own: data/ imports nothing from api/ (the API depends on the
// store, never the other way round). Every module specifier of every data/*.ts file is read with
// TypeScript's own pre-processor (imports, `import type`, re-exports, require and import()).
import * as fs from "node:fs";
import * as path from "node:path";
import { expect } from "chai";
import * as ts from "typescript";
import { PROJECT_DIR } from "../../scripts/project";

const DATA_DIR = path.join(PROJECT_DIR, "data");
const API_DIR = path.join(PROJECT_DIR, "api");

function sourceFiles(dir: string): string[] {
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
        const full = path.join(dir, entry.name);
        return entry.isDirectory() ? sourceFiles(full) : entry.name.endsWith(".ts") ? [full] : [];
    });
}

/** Every module a file names: `import`, `import type`, `export … from`, require() and import(). */
function specifiers(file: string): string[] {
    const info = ts.preProcessFile(fs.readFileSync(file, "utf8"), true, true);
    return info.importedFiles.map((imported) => imported.fileName);
}

function isInside(dir: string, target: string): boolean {
    const relative = path.relative(dir, target);
    return relative === "" || (!relative.startsWith("..") && !path.isAbsolute(relative));
}

describe("layers", () => {
    it("data/ imports nothing from api/", () => {
        const files = sourceFiles(DATA_DIR);
        expect(files.map((file) => path.basename(file))).to.include.members([
            "postsStore.ts",
            "storeErrors.ts",
            "tableDesign.ts",
        ]);
        const offending: string[] = [];
        let seen = 0;
        for (const file of files) {
            for (const specifier of specifiers(file)) {
                seen++;
                const target = specifier.startsWith(".") ? path.resolve(path.dirname(file), specifier) : specifier;
                if (isInside(API_DIR, target) || /^(?:\.\/)?api\//.test(specifier)) {
                    offending.push(`${path.relative(PROJECT_DIR, file)}: ${specifier}`);
                }
            }
        }
        expect(seen, "the scan read some imports").to.be.greaterThan(3);
        expect(offending).to.deep.equal([]);
    });

    it("the scan would see an api/ import in each form a file can write one", () => {
        const text = [
            'import { a } from "../api/x";',
            'import type { b } from "../api/y";',
            'export { c } from "../api/z";',
            'const d = require("../api/w");',
        ].join("\n");
        const found = ts.preProcessFile(text, true, true).importedFiles.map((imported) => imported.fileName);
        expect(found).to.have.members(["../api/x", "../api/y", "../api/z", "../api/w"]);
    });
});
