// The program cache (programCache.ts): a start with nothing changed gets the last recording back,
// equal to a fresh one, and any change to what a recording depends on (a source file, a new file
// beside one, the config, a lockfile, the server's URL, the state folder's keys) records again. A
// damaged entry is ignored and rewritten, a failed recording stores nothing. A stand-in recorder
// (it loads a module of the test's own and asks the KeyStore for a key, as a program's recording
// does) keeps these fast; the last test records the real program.
import { expect } from "chai";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { archiveEntries, cloudModel, type RecordedProgram } from "../..";
import {
    cachedRecording,
    programCacheDir,
    recordOrReuseLocalProgram,
    recordOrReuseProgram,
} from "../../program/programCache";
import { readProgramConfig, type ProgramConfig } from "../../program/stackFiles";
import type { LocalProgramInput } from "../../program/program";
import { KeyStore } from "../../state/stateDir";

/** A project folder with a module the stand-in recording loads, and a lockfile. */
function fixture(): { dir: string; module: string; config: ProgramConfig } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "program-cache-"));
    fs.mkdirSync(path.join(dir, "src"));
    const module = path.join(dir, "src", "greeting.js");
    fs.writeFileSync(module, "module.exports = 'hello';\n");
    fs.writeFileSync(path.join(dir, "package-lock.json"), '{"lockfileVersion": 3}\n');
    const config: ProgramConfig = {
        projectDir: dir,
        project: "fixture",
        stack: "dev",
        region: "us-east-1",
        config: { "fixture:size": "1", "aws:region": "us-east-1" },
        undecryptable: [],
        files: [],
    };
    return { dir, module, config };
}

/** A recorder that loads `module` (fresh each run, as recordProgram reloads the program) and counts its runs. */
function standIn(module: string) {
    const runs = { count: 0 };
    const record = async (input: LocalProgramInput): Promise<RecordedProgram> => {
        runs.count++;
        delete require.cache[module];
        const greeting = require(module) as string;
        const key = input.keys.valueFor("consumer");
        return {
            stack: input.config.stack,
            region: input.config.region,
            resources: [
                {
                    urn: "urn:pulumi:dev::fixture::aws:lambda/function:Function::fn",
                    type: "aws:lambda/function:Function",
                    name: "fn",
                    parent: "",
                    custom: true,
                    protect: false,
                    additionalSecretOutputs: [],
                    id: "fn-1",
                    inputs: {
                        code: new pulumi.asset.AssetArchive({
                            "__index.js": new pulumi.asset.StringAsset(
                                `exports.handler = () => ${JSON.stringify(greeting)}; exports.url = "${input.baseUrl}";`,
                            ),
                            "node_modules/zod": new pulumi.asset.FileArchive("node_modules/zod"),
                        }),
                        optional: undefined,
                    },
                    state: { arn: "arn:fn", url: `${input.baseUrl}/dev` },
                },
            ],
            outputs: { greeting, key, list: [1, "two", null, undefined] },
            secretOutputs: ["key"],
            undecryptable: [],
        };
    };
    return { runs, record };
}

/** A program with its archives read out (promises resolved), for deep comparisons. */
async function plain(program: RecordedProgram): Promise<unknown> {
    const resources = [];
    const read = async (values: Record<string, unknown>) =>
        values["code"] === undefined ? values : { ...values, code: await archiveEntries(values["code"]) };
    for (const r of program.resources) {
        resources.push({ ...r, inputs: await read(r.inputs), state: await read(r.state) });
    }
    return { ...program, resources };
}

describe("program cache", function () {
    const made: string[] = [];
    const previous = process.env["LOCAL_CLOUD_PROGRAM_CACHE"];
    let cacheDir: string;

    beforeEach(() => {
        cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), "program-cache-entries-"));
        made.push(cacheDir);
        process.env["LOCAL_CLOUD_PROGRAM_CACHE"] = cacheDir;
    });

    after(() => {
        if (previous === undefined) {
            delete process.env["LOCAL_CLOUD_PROGRAM_CACHE"];
        } else {
            process.env["LOCAL_CLOUD_PROGRAM_CACHE"] = previous;
        }
        made.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true }));
    });

    const setup = () => {
        const f = fixture();
        made.push(f.dir);
        const stateDir = path.join(f.dir, ".local", "dev");
        const input = (over: Partial<LocalProgramInput> = {}): LocalProgramInput => ({
            config: f.config,
            keys: new KeyStore(stateDir),
            baseUrl: "http://127.0.0.1:8080",
            ...over,
        });
        return { ...f, stateDir, input, ...standIn(f.module) };
    };

    it("gives a start with nothing changed the last recording, equal to a fresh one, archives and undefined values included", async () => {
        const { input, record, runs } = setup();
        const keys = input().keys;
        const first = await cachedRecording({ ...input(), keys }, record);
        keys.save();
        const second = await cachedRecording(input(), record);
        expect(runs.count).to.equal(1);
        expect(await plain(second)).to.deep.equal(await plain(first));
        expect(second.resources[0]!.inputs).to.have.property("optional", undefined);
        expect(pulumi.asset.AssetArchive.isInstance(second.resources[0]!.inputs["code"])).to.equal(true);
        expect(fs.readdirSync(cacheDir)).to.have.length(1);
    });

    it("records again when a source file, a file beside one, the config or a lockfile changes; not for another URL", async () => {
        const { dir, module, config, input, record, runs } = setup();
        const start = async (over: Partial<LocalProgramInput> = {}) => {
            const keys = input().keys;
            await cachedRecording({ ...input(over), keys }, record);
            keys.save();
        };
        await start();
        await start();
        expect(runs.count, "unchanged").to.equal(1);

        fs.writeFileSync(module, "module.exports = 'hi';\n");
        await start();
        expect(runs.count, "source edited").to.equal(2);
        expect((await cachedRecording(input(), record)).outputs["greeting"]).to.equal("hi");
        expect(runs.count).to.equal(2);

        fs.writeFileSync(path.join(dir, "src", "greeting.ts"), "export default 'shadow';\n");
        await start();
        expect(runs.count, "a new code file beside a source").to.equal(3);
        fs.writeFileSync(path.join(dir, "src", "notes.md"), "not code\n");
        await start();
        expect(runs.count, "a file that is not code").to.equal(3);

        await start({ config: { ...config, config: { ...config.config, "fixture:size": "2" } } });
        expect(runs.count, "config").to.equal(4);
        fs.writeFileSync(path.join(dir, "package-lock.json"), '{"lockfileVersion": 3, "packages": {}}\n');
        await start();
        expect(runs.count, "lockfile").to.equal(5);
        // Another port (another state folder with the same keys too) is served from the cache, with its own URL.
        await start({ baseUrl: "http://127.0.0.1:9090" });
        expect(runs.count, "URL").to.equal(5);
        const elsewhere = await cachedRecording(input({ baseUrl: "http://127.0.0.1:9191" }), record);
        expect(runs.count, "another URL again").to.equal(5);
        expect(elsewhere.resources[0]!.state["url"]).to.equal("http://127.0.0.1:9191/dev");
        const code = await archiveEntries(elsewhere.resources[0]!.inputs["code"]);
        expect(code["__index.js"]!.text, "code that captured the URL").to.include(
            'exports.url = "http://127.0.0.1:9191";',
        );
    });

    it("replays the keys a recording read: another state folder (other keys) records again", async () => {
        const { dir, input, record, runs } = setup();
        const keys = input().keys;
        const first = await cachedRecording({ ...input(), keys }, record);
        keys.save();
        const other = new KeyStore(path.join(dir, ".local", "other"));
        const second = await cachedRecording(input({ keys: other }), record);
        expect(runs.count).to.equal(2);
        expect(second.outputs["key"]).to.not.equal(first.outputs["key"]);
        expect(second.outputs["key"]).to.equal(other.valueFor("consumer"));
    });

    for (const [damage, spoil] of [
        ["a flipped byte", (text: string) => text.replace("hello", "hellp")],
        ["a cut-short file", (text: string) => text.slice(0, Math.floor(text.length / 2))],
        ["a wrong header", (text: string) => `{"format":"something else"}\n${text.slice(text.indexOf("\n") + 1)}`],
        ["garbage", () => "\u0000\u0001 not json"],
        ["an empty file", () => ""],
    ] as const) {
        it(`ignores an entry with ${damage} and writes it again`, async () => {
            const { input, record, runs } = setup();
            const keys = input().keys;
            await cachedRecording({ ...input(), keys }, record);
            keys.save();
            const [name] = fs.readdirSync(cacheDir);
            const file = path.join(cacheDir, name!);
            const good = fs.readFileSync(file, "utf8");
            fs.writeFileSync(file, spoil(good));
            const program = await cachedRecording(input(), record);
            expect(runs.count).to.equal(2);
            expect(program.outputs["greeting"]).to.equal("hello");
            await cachedRecording(input(), record);
            expect(runs.count, "rewritten, then used").to.equal(2);
        });
    }

    it("stores nothing when the recording fails, and passes its error on", async () => {
        const { input } = setup();
        const failing = async (): Promise<RecordedProgram> => {
            throw Object.assign(new Error("lambdaTimeout must be at most 29 seconds"), { name: "ConfigError" });
        };
        let error: Error | undefined;
        await cachedRecording(input(), failing).catch((err) => (error = err));
        expect(error?.name).to.equal("ConfigError");
        expect(fs.readdirSync(cacheDir)).to.deep.equal([]);
    });

    it("records every time with LOCAL_CLOUD_PROGRAM_CACHE=off", async () => {
        const { dir, input, record, runs } = setup();
        process.env["LOCAL_CLOUD_PROGRAM_CACHE"] = "off";
        expect(programCacheDir(dir)).to.equal(undefined);
        const keys = input().keys;
        await cachedRecording({ ...input(), keys }, record);
        keys.save();
        await cachedRecording(input(), record);
        expect(runs.count).to.equal(2);
    });

    it("keeps the real program's recording whole: a cached start gets the same resources, archives and model", async function () {
        this.timeout(300_000);
        const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "program-cache-state-"));
        made.push(stateDir);
        // The program the tests run in (the working folder, as testing.ts assumes): the package never imports it.
        const config = readProgramConfig({ projectDir: process.cwd(), stack: "dev" });
        const keys = new KeyStore(stateDir);
        const fresh = await recordOrReuseLocalProgram({ config, keys, baseUrl: "http://127.0.0.1:8080" });
        keys.save();
        const entries = fs.readdirSync(cacheDir);
        expect(entries).to.have.length(1);
        // What earlyRecorder.js reads of it (the header line): whose stack, and whether it asked for keys.
        const header = JSON.parse(fs.readFileSync(path.join(cacheDir, entries[0]!), "utf8").split("\n")[0]!);
        expect({ stack: header.stack, askedKeys: header.askedKeys }).to.deep.equal({ stack: "dev", askedKeys: true });
        const cached = await recordOrReuseLocalProgram({
            config,
            keys: new KeyStore(stateDir),
            baseUrl: "http://127.0.0.1:8080",
        });
        expect(fs.readdirSync(cacheDir)).to.deep.equal(entries);
        expect(cached).to.not.equal(fresh);
        expect(await plain(cached)).to.deep.equal(await plain(fresh));
        expect(JSON.stringify({ ...cloudModel(cached), functions: undefined })).to.equal(
            JSON.stringify({ ...cloudModel(fresh), functions: undefined }),
        );
        const digest = (p: RecordedProgram) =>
            crypto
                .createHash("sha256")
                .update(JSON.stringify(p.resources.map((r) => r.urn)))
                .digest("hex");
        expect(digest(cached)).to.equal(digest(fresh));
    });

    it("keeps plain mock recordings apart (a test run's processes record each config once): same config, same recording; another config or a stateOverride records", async function () {
        this.timeout(300_000);
        const options = { projectDir: process.cwd(), stack: "dev" };
        const mocks = path.join(cacheDir, "mocks");
        const fresh = await recordOrReuseProgram(options);
        const entries = fs.readdirSync(mocks);
        expect(entries, "one entry, beside (not among) the local cloud's").to.have.length(1);
        const cached = await recordOrReuseProgram(options);
        expect(fs.readdirSync(mocks)).to.deep.equal(entries);
        expect(cached).to.not.equal(fresh);
        expect(await plain(cached)).to.deep.equal(await plain(fresh));

        const longer = await recordOrReuseProgram({ ...options, config: { "posts-api:lambdaTimeout": 20 } });
        expect(fs.readdirSync(mocks)).to.have.length(2);
        const timeouts = (p: RecordedProgram) =>
            p.resources.filter((r) => r.type === "aws:lambda/function:Function").map((r) => r.inputs["timeout"]);
        expect(new Set(timeouts(longer))).to.deep.equal(new Set([20]));
        expect(timeouts(fresh)).to.not.include(20);

        const overridden = await recordOrReuseProgram({
            ...options,
            stateOverride: ({ type }) => (type === "aws:dynamodb/table:Table" ? { arn: "arn:overridden" } : undefined),
        });
        expect(fs.readdirSync(mocks), "a function is not data: nothing kept").to.have.length(2);
        expect(overridden.resources.find((r) => r.type === "aws:dynamodb/table:Table")?.state["arn"]).to.equal(
            "arn:overridden",
        );
    });
});
