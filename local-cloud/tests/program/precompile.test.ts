// program/precompile.ts: while a new recorder thread loads, the serving thread compiles the
// program's files (relative imports reachable from the entry, breadth first) through the
// registered ts-node service, so the compile cache holds them when the recording needs them.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "chai";
import { precompileProgram } from "../../program/precompile";

/* eslint-disable @typescript-eslint/no-explicit-any */

describe("program/precompile.ts", () => {
    const service = (process as any)[Symbol.for("ts-node.register.instance")];
    let dir: string;
    let compiled: string[];
    let compile: (code: string, fileName: string) => string;

    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "precompile-"));
        compiled = [];
        compile = service.compile;
        service.compile = (code: string, fileName: string) => {
            compiled.push(path.relative(dir, fileName));
            return compile.call(service, code, fileName);
        };
    });
    afterEach(() => {
        service.compile = compile;
        fs.rmSync(dir, { recursive: true, force: true });
    });

    function write(files: Record<string, string>): void {
        for (const [name, text] of Object.entries(files)) {
            fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
            fs.writeFileSync(path.join(dir, name), text);
        }
    }

    it("compiles every file the entry reaches by relative imports, breadth first, each once", async () => {
        write({
            "index.ts":
                'import { a } from "./api/a";\nimport * as lib from "./lib";\nimport "zod";\nexport const x = a + lib.b;\n',
            "api/a.ts": 'import { b } from "../lib";\nexport const a = b;\n',
            "lib/index.ts": 'export { c as b } from "./c";\n',
            "lib/c.ts": "export const c = 1;\n",
            "unused.ts": "export const never = 1;\n",
            "node_modules/pkg/index.ts": "export const p = 1;\n",
        });
        const count = await precompileProgram(path.join(dir, "index.ts"), () => false);
        expect(compiled).to.deep.equal([
            "index.ts",
            path.join("api", "a.ts"),
            path.join("lib", "index.ts"),
            path.join("lib", "c.ts"),
        ]);
        expect(count).to.equal(4);
    });

    it("compiles nothing where nothing would be kept: the compile cache off, no transpiler, a type-checking or no ts-node", async () => {
        write({ "index.ts": "export const x = 1;\n" });
        const entry = path.join(dir, "index.ts");
        const previous = process.env["LOCAL_CLOUD_COMPILE_CACHE"];
        process.env["LOCAL_CLOUD_COMPILE_CACHE"] = "off";
        try {
            expect(await precompileProgram(entry, () => false)).to.equal(0);
        } finally {
            if (previous === undefined) delete process.env["LOCAL_CLOUD_COMPILE_CACHE"];
            else process.env["LOCAL_CLOUD_COMPILE_CACHE"] = previous;
        }
        const options = service.options;
        try {
            service.options = { ...options, transpiler: undefined };
            expect(await precompileProgram(entry, () => false), "no transpiler").to.equal(0);
            service.options = { ...options, transpileOnly: false };
            expect(await precompileProgram(entry, () => false), "type-checking").to.equal(0);
        } finally {
            service.options = options;
        }
        const symbol = Symbol.for("ts-node.register.instance");
        (process as any)[symbol] = undefined;
        try {
            expect(await precompileProgram(entry, () => false), "no ts-node").to.equal(0);
        } finally {
            (process as any)[symbol] = service;
        }
        expect(compiled).to.deep.equal([]);
    });

    it("goes on past a file that does not compile or is missing, and stops when told", async () => {
        write({
            "index.ts": 'import "./broken";\nimport "./missing";\nimport "./fine";\n',
            "broken.ts": "export const = ;\n",
            "fine.ts": "export const fine = 1;\n",
        });
        const count = await precompileProgram(path.join(dir, "index.ts"), () => false);
        expect(compiled).to.deep.equal(["index.ts", "broken.ts", "fine.ts"]);
        expect(count, "the broken file is not counted").to.equal(2);

        compiled = [];
        let turns = 0;
        await precompileProgram(path.join(dir, "index.ts"), () => turns++ > 0);
        expect(compiled, "stopped after the first file").to.deep.equal(["index.ts"]);
    });
});
