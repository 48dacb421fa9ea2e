// Figures for the Lambda archives (issue 12, item 5), each beside a baseline from the same run:
// - each function's archive, deflated (what a zip holds), against the same serialized handler with
//   zod packaged beside it (how main shipped before the validator was compiled) and against
//   CallbackFunction's defaults (every `dependencies` package); target <= 150 KiB;
// - each function's cold init: a fresh Node process loads its `__index.js`, which runs the
//   factory (AWS SDK clients built), median of several; beside it the same process loading zod
//   and building the schemas first (what a cold start paid for validation before) and the AWS SDK
//   alone (the floor: requiring the two SDK packages and building the client);
// - the validator's own load: a fresh process loads the serialized compiled validator and
//   validates one body, against one that loads zod, builds the schemas and validates the same
//   body (both serialized by Pulumi from this program); target <= 0.3 of zod's.
// Processes of the variants are interleaved round by round, so a slow moment hits all of them.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import * as zlib from "node:zlib";
import * as pulumi from "@pulumi/pulumi";
import { archiveEntries, recordProgram, TYPES } from "local-cloud";
import { PROJECT_DIR } from "../project";
import { median, verdict } from "./stats";
import { postSchemas } from "../../api/schema";
import { postValidators } from "../../api/validation/postValidators";
import { validate } from "../../api/validation/validate";
import { routeNamed } from "../../api/routes";

const RUNS = Number(process.env["BENCH_INIT_RUNS"] ?? 7);
const TARGETS = { archiveBytes: 150 * 1024, validatorLoadRatio: 0.3 };
/** Written inside the project so `require` finds its node_modules, as the runtime finds the archive's. */
const WORK_DIR = path.join(PROJECT_DIR, ".tmp", "bench-packaging");
const SAMPLE_BODY = { title: "Hello, world", description: "First post", author: "Ada", publicationDate: "2026-11-21" };

interface Size {
    files: number;
    deflated: number;
}

function addFile(size: Size, file: string) {
    size.files += 1;
    size.deflated += zlib.deflateRawSync(fs.readFileSync(file)).length;
}

function addTree(size: Size, dir: string) {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) {
            addTree(size, full);
        } else if (entry.isFile()) {
            addFile(size, full);
        }
    }
}

function addText(size: Size, text: string) {
    size.files += 1;
    size.deflated += zlib.deflateRawSync(Buffer.from(text)).length;
}

const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
const ms = (n: number) => `${n.toFixed(1)} ms`;

// The child: requires each file in order (calling `handler(body)` where the module is a validator
// factory's) and prints the elapsed milliseconds. Node's own start is not counted.
const CHILD = `
const t0 = process.hrtime.bigint();
for (const [file, call] of JSON.parse(process.argv[1])) {
    const loaded = require(file);
    if (call) { loaded.handler(${JSON.stringify(SAMPLE_BODY)}); }
}
process.stdout.write(String(Number(process.hrtime.bigint() - t0) / 1e6));
`;

/** One fresh process: the milliseconds its requires took. */
function timeLoad(files: Array<[string, boolean]>, env: Record<string, string>): number {
    const child = spawnSync(process.execPath, ["-e", CHILD, JSON.stringify(files)], {
        cwd: WORK_DIR,
        env: { ...process.env, ...env },
        encoding: "utf8",
    });
    if (child.status !== 0) {
        throw new Error(`cold-init child failed: ${child.stderr}`);
    }
    return Number(child.stdout);
}

function writeModule(name: string, text: string): string {
    const file = path.join(WORK_DIR, name, "__index.js");
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
    return file;
}

/** A factory serialized as Pulumi serializes a Lambda's, so both validators load as they would on AWS. */
async function serializeValidator(name: string, factory: () => (body: unknown) => boolean): Promise<string> {
    const serialized = await pulumi.runtime.serializeFunction(factory, { isFactoryFunction: true });
    return writeModule(name, serialized.text);
}

export async function run(): Promise<void> {
    fs.rmSync(WORK_DIR, { recursive: true, force: true });
    fs.mkdirSync(WORK_DIR, { recursive: true });
    try {
        await measure();
    } finally {
        fs.rmSync(WORK_DIR, { recursive: true, force: true });
    }
}

async function measure(): Promise<void> {
    const program = await recordProgram({ stack: "dev" });
    const functions = program.resources.filter((r) => r.type === TYPES.function);

    // --- Archives -----------------------------------------------------------------------------
    const zodTree: Size = { files: 0, deflated: 0 };
    addTree(zodTree, path.dirname(require.resolve("zod/package.json")));
    const defaults: Size = { files: 0, deflated: 0 };
    for (const asset of (await pulumi.runtime.computeCodePaths({})).values()) {
        addTree(defaults, path.resolve(PROJECT_DIR, await (asset as unknown as { path: Promise<string> }).path));
    }

    console.log("\n## Lambda archives, deflated (target <= 150 KiB each)");
    console.log(
        "baselines: the same handler with zod packaged (before the compiled validator), and CallbackFunction's defaults",
    );
    console.log(
        "function      files   archive    | with zod: files  deflated  ratio | defaults: deflated  ratio | target",
    );
    // Only the routes with a body loaded zod at run time; the others never did.
    const sources: Array<{ name: string; file: string; timeout: string; validates: boolean }> = [];
    for (const fn of functions) {
        const entries = await archiveEntries(fn.inputs["code"]);
        const ours: Size = { files: 0, deflated: 0 };
        for (const [name, entry] of Object.entries(entries)) {
            if (entry.text !== undefined) {
                addText(ours, entry.text);
            } else {
                addTree(ours, path.resolve(PROJECT_DIR, entry.path ?? name));
            }
        }
        const withZod = { files: ours.files + zodTree.files, deflated: ours.deflated + zodTree.deflated };
        const withDefaults = ours.deflated + defaults.deflated;
        console.log(
            `${fn.name.padEnd(13)} ${String(ours.files).padStart(5)} ${kib(ours.deflated).padStart(10)}   | ` +
                `${String(withZod.files).padStart(15)} ${kib(withZod.deflated).padStart(10)} ${(ours.deflated / withZod.deflated).toFixed(3).padStart(6)} | ` +
                `${kib(withDefaults).padStart(18)} ${(ours.deflated / withDefaults).toFixed(3).padStart(6)} | ${verdict(ours.deflated <= TARGETS.archiveBytes)}`,
        );
        const variables = (fn.inputs["environment"]?.variables ?? {}) as Record<string, unknown>;
        sources.push({
            name: fn.name,
            file: writeModule(fn.name, entries["__index.js"]!.text!),
            timeout: String(variables["FUNCTION_TIMEOUT_SECONDS"] ?? "10"),
            validates: routeNamed(fn.name).docs.body !== undefined,
        });
    }

    // --- The validator's own load ---------------------------------------------------------------
    const zodValidator = await serializeValidator("zod-validator", () => {
        const schemas = postSchemas();
        return (body) => schemas.create.safeParse(body).success;
    });
    const compiledValidator = await serializeValidator("compiled-validator", () => {
        const create = postValidators.create;
        return (body) => validate(create, body).success;
    });
    // Both must accept the sample: a validator that loads fast but does not work proves nothing.
    for (const file of [zodValidator, compiledValidator]) {
        if (require(file).handler(SAMPLE_BODY) !== true) {
            throw new Error(`${path.basename(path.dirname(file))} refuses a valid body`);
        }
    }

    // --- Cold init: fresh processes, variants interleaved ----------------------------------------
    const env = {
        TABLE_NAME: "bench",
        CURSOR_KEY: "bench-cursor-key",
        CORS_ALLOW_ORIGIN: "*",
        AWS_REGION: "us-east-1",
        AWS_ACCESS_KEY_ID: "bench",
        AWS_SECRET_ACCESS_KEY: "bench",
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    };
    const sdkFloor = writeModule(
        "sdk-only",
        [
            'const { DynamoDBClient } = require("@aws-sdk/client-dynamodb");',
            'const { DynamoDBDocument } = require("@aws-sdk/lib-dynamodb");',
            "DynamoDBDocument.from(new DynamoDBClient({}));",
        ].join("\n"),
    );
    const times = {
        handler: new Map<string, number[]>(),
        handlerWithZod: new Map<string, number[]>(),
        sdk: [] as number[],
        zod: [] as number[],
        compiled: [] as number[],
    };
    for (let round = 0; round < RUNS; round++) {
        times.sdk.push(timeLoad([[sdkFloor, false]], env));
        times.zod.push(timeLoad([[zodValidator, true]], env));
        times.compiled.push(timeLoad([[compiledValidator, true]], env));
        for (const source of sources) {
            const fnEnv = { ...env, FUNCTION_TIMEOUT_SECONDS: source.timeout };
            const own = times.handler.get(source.name) ?? [];
            own.push(timeLoad([[source.file, false]], fnEnv));
            times.handler.set(source.name, own);
            if (source.validates) {
                const withZod = times.handlerWithZod.get(source.name) ?? [];
                withZod.push(
                    timeLoad(
                        [
                            [zodValidator, true],
                            [source.file, false],
                        ],
                        fnEnv,
                    ),
                );
                times.handlerWithZod.set(source.name, withZod);
            }
        }
    }

    console.log(`\n## Cold init: a fresh process loads __index.js and runs the factory (median of ${RUNS})`);
    console.log(
        `baselines: for the routes with a body, the same with zod loaded and the schemas built first (before; the others never loaded zod); the AWS SDK alone (${ms(median(times.sdk))}, the floor)`,
    );
    console.log("function        cold init | with zod   ratio | SDK alone  ratio");
    for (const source of sources) {
        const own = median(times.handler.get(source.name)!);
        const sdk = median(times.sdk);
        const zodRuns = times.handlerWithZod.get(source.name);
        const before =
            zodRuns === undefined
                ? "no body"
                : `${ms(median(zodRuns)).padStart(8)} ${(own / median(zodRuns)).toFixed(2).padStart(7)}`;
        console.log(
            `${source.name.padEnd(13)} ${ms(own).padStart(11)} | ${before.padEnd(16)} | ${ms(sdk).padStart(9)} ${(own / sdk).toFixed(2).padStart(6)}`,
        );
    }

    const zodMs = median(times.zod);
    const compiledMs = median(times.compiled);
    console.log(
        `\n## Validator load: load, build and validate one body in a fresh process (median of ${RUNS}; target <= ${TARGETS.validatorLoadRatio} of zod's)`,
    );
    console.log(
        `compiled validator ${ms(compiledMs)} | zod (load, build the schemas) ${ms(zodMs)} | ratio ${(compiledMs / zodMs).toFixed(3)}: ${verdict(compiledMs / zodMs <= TARGETS.validatorLoadRatio)}`,
    );
    warmValidation();
}

/** Per body once warm (no target: the load above is what a cold start pays), on valid and refused bodies alike. */
function warmValidation(): void {
    const schemas = postSchemas();
    const bodies: unknown[] = [
        SAMPLE_BODY,
        { ...SAMPLE_BODY, title: `  ${"é".repeat(150)}  `, description: "x\n".repeat(2000) },
        { title: "", author: 5, publicationDate: "2026-02-30", extra: true },
        { ...SAMPLE_BODY, publicationDate: "2026-11-21T09:30:00.123+01:00" },
    ];
    // One round of 20 000 bodies: microseconds per body.
    const round = (validateOne: (body: unknown) => unknown) => {
        const count = 20_000;
        const started = process.hrtime.bigint();
        for (let i = 0; i < count; i++) {
            validateOne(bodies[i % bodies.length]);
        }
        return Number(process.hrtime.bigint() - started) / 1e3 / count;
    };
    // Interleaved, so a busy moment of the machine hits both; the first round of each warms up.
    const zodRounds: number[] = [];
    const compiledRounds: number[] = [];
    for (let i = 0; i < 5; i++) {
        zodRounds.push(round((body) => schemas.create.safeParse(body)));
        compiledRounds.push(round((body) => validate(postValidators.create, body)));
    }
    const zodUs = median(zodRounds.slice(1));
    const compiledUs = median(compiledRounds.slice(1));
    console.log(
        `warm, per body (4 bodies, valid and refused; median of 4 rounds of 20 000): compiled ${compiledUs.toFixed(2)} µs | zod ${zodUs.toFixed(2)} µs | ratio ${(compiledUs / zodUs).toFixed(2)}`,
    );
}
