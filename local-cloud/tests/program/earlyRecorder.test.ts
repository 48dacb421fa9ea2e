// The recorder thread npm start's JavaScript entry starts before TypeScript loads
// (program/earlyRecorder.js): only when the program cache is empty, adopted once; the cache folders'
// rule it shares with programCache.ts and compileCache.js (program/cacheDirs.js).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Worker } from "node:worker_threads";
import { expect } from "chai";
import { programCacheDir } from "../../program/programCache";

const early = require("../../program/earlyRecorder.js") as {
    startRecorderEarly(options: { projectDir: string; tsNode: object; stack: string; stateDir: string }): void;
    adoptEarlyRecorder(): Worker | undefined;
};
const dirs = require("../../program/cacheDirs.js") as { compileCacheDir(): string | undefined };

describe("program/earlyRecorder.js", () => {
    const previous = process.env["LOCAL_CLOUD_PROGRAM_CACHE"];
    let dir: string;

    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "early-recorder-"));
    });
    afterEach(() => {
        if (previous === undefined) delete process.env["LOCAL_CLOUD_PROGRAM_CACHE"];
        else process.env["LOCAL_CLOUD_PROGRAM_CACHE"] = previous;
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("finds each cache in .local/cache, where its variable says, or nowhere when it says off", () => {
        delete process.env["LOCAL_CLOUD_PROGRAM_CACHE"];
        expect(programCacheDir(dir)).to.equal(path.join(dir, ".local", "cache", "programs"));
        process.env["LOCAL_CLOUD_PROGRAM_CACHE"] = "elsewhere";
        expect(programCacheDir(dir)).to.equal(path.resolve("elsewhere"));
        process.env["LOCAL_CLOUD_PROGRAM_CACHE"] = "off";
        expect(programCacheDir(dir)).to.equal(undefined);
        const compile = process.env["LOCAL_CLOUD_COMPILE_CACHE"];
        try {
            delete process.env["LOCAL_CLOUD_COMPILE_CACHE"];
            expect(dirs.compileCacheDir()).to.equal(path.join(process.cwd(), ".local", "cache", "compiled"));
            process.env["LOCAL_CLOUD_COMPILE_CACHE"] = "off";
            expect(dirs.compileCacheDir()).to.equal(undefined);
        } finally {
            if (compile === undefined) delete process.env["LOCAL_CLOUD_COMPILE_CACHE"];
            else process.env["LOCAL_CLOUD_COMPILE_CACHE"] = compile;
        }
    });

    it("starts the thread when the cache is empty, and hands it over once", async () => {
        process.env["LOCAL_CLOUD_PROGRAM_CACHE"] = path.join(dir, "programs");
        early.startRecorderEarly({
            projectDir: dir,
            tsNode: { transpileOnly: true },
            stack: "dev",
            stateDir: path.join(dir, "state"),
        });
        const worker = early.adoptEarlyRecorder();
        expect(worker, "a running thread").to.not.equal(undefined);
        expect(early.adoptEarlyRecorder(), "only once").to.equal(undefined);
        await worker!.terminate();
    });

    it("with the start's stack and state folder: starts the thread unless an entry can serve them (its stack, and keys in the folder if it asked for them)", async () => {
        const programs = path.join(dir, "programs");
        fs.mkdirSync(programs);
        process.env["LOCAL_CLOUD_PROGRAM_CACHE"] = programs;
        const entry = (name: string, header: object) =>
            fs.writeFileSync(path.join(programs, `${name}.json`), `${JSON.stringify(header)}\n{"body": 1}`);
        const stateDir = path.join(dir, "state");
        const started = async (stack: string) => {
            early.startRecorderEarly({ projectDir: dir, tsNode: { transpileOnly: true }, stack, stateDir });
            const worker = early.adoptEarlyRecorder();
            await worker?.terminate();
            return worker !== undefined;
        };
        entry("a", { stack: "dev", askedKeys: true });
        expect(await started("prod"), "no entry for this stack").to.equal(true);
        expect(await started("dev"), "a new state folder, and the entry asked for keys").to.equal(true);
        fs.mkdirSync(stateDir);
        fs.writeFileSync(path.join(stateDir, "keys.json"), "{}\n");
        expect(await started("dev"), "the folder has keys").to.equal(false);
        fs.rmSync(path.join(stateDir, "keys.json"));
        entry("b", { stack: "dev", askedKeys: false });
        expect(await started("dev"), "an entry that asked for no keys").to.equal(false);
        fs.rmSync(path.join(programs, "b.json"));
        entry("c", { format: "local-cloud-program-cache" });
        expect(await started("dev"), "an entry whose header does not say").to.equal(false);
        fs.writeFileSync(path.join(programs, "c.json"), "not json\n");
        expect(await started("dev"), "a damaged entry serves nothing").to.equal(true);
    });

    it("starts nothing when the cache has an entry (the start may be served from it)", () => {
        fs.mkdirSync(path.join(dir, "programs"));
        fs.writeFileSync(path.join(dir, "programs", "entry.json"), "{}\n");
        process.env["LOCAL_CLOUD_PROGRAM_CACHE"] = path.join(dir, "programs");
        early.startRecorderEarly({
            projectDir: dir,
            tsNode: { transpileOnly: true },
            stack: "dev",
            stateDir: path.join(dir, "state"),
        });
        expect(early.adoptEarlyRecorder()).to.equal(undefined);
    });
});
