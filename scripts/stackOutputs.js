// `npm run outputs -- [--stack dev] [--json] [--show-secrets] [--state-dir <dir>] [output-name]`:
// the stack's outputs as `pulumi stack output` prints them, for the local cloud.
//
// Two ways to the same answer:
// - the stack's local cloud runs (`npm start`): its outputs come from it, in a tenth of a second.
//   The state folder's server.json holds the non-secret outputs of the version it serves (rewritten
//   by every reload) and its control plane hands out the key values (GetApiKeys with includeValues,
//   loopback callers only); the two secret outputs are built from those as index.ts builds them.
// - otherwise (or when anything above is missing or disagrees): scripts/outputs.ts evaluates the
//   program under mocks, as before, and prints what the next `npm start` serves (6-30 s).
// Plain JavaScript, so the fast way loads no TypeScript compiler (ts-node alone takes 0.7 s);
// tests/cloud/smoke-cli.test.ts checks both ways print the same text for every form.
"use strict";
const fs = require("node:fs");
const http = require("node:http");
const path = require("node:path");
const { parseArgs } = require("node:util");

/** How long the running cloud has to answer before the program is evaluated instead. */
const CONTROL_PLANE_TIMEOUT_MS = 1500;

/**
 * The secret outputs of index.ts, from `apiKeyIds` (consumer -> its live key ids, oldest first,
 * in config order) and the served key values by id: `apiKeys` is each consumer's newest key,
 * `apiKey` the first consumer's.
 */
const SECRET_OUTPUTS = {
    apiKeys: (keyIds, valueOf) =>
        Object.fromEntries(Object.entries(keyIds).map(([consumer, ids]) => [consumer, valueOf(ids[ids.length - 1])])),
    apiKey: (keyIds, valueOf) => valueOf(Object.values(keyIds)[0]?.at(-1)),
};

const USAGE = "usage: npm run outputs -- [--stack <name>] [--json] [--show-secrets] [--state-dir <dir>] [output-name]";

/** The arguments the fast way understands; a mistake goes to outputs.ts, which says what is wrong. */
function parse(argv) {
    try {
        const { values, positionals } = parseArgs({
            args: argv,
            options: {
                stack: { type: "string", default: "dev" },
                json: { type: "boolean", default: false },
                "show-secrets": { type: "boolean", default: false },
                "state-dir": { type: "string" },
                help: { type: "boolean", default: false },
            },
            allowPositionals: true,
            strict: true,
        });
        return positionals.length > 1 ? undefined : { ...values, name: positionals[0] };
    } catch {
        return undefined;
    }
}

function readJson(file) {
    try {
        return JSON.parse(fs.readFileSync(file, "utf8"));
    } catch {
        return undefined;
    }
}

/** GET a control-plane path as JSON; undefined when nothing answers 200 in time. */
function getJson(url) {
    return new Promise((resolve) => {
        const request = http.get(url, { timeout: CONTROL_PLANE_TIMEOUT_MS }, (response) => {
            const chunks = [];
            response.on("data", (chunk) => chunks.push(chunk));
            response.on("end", () => {
                try {
                    resolve(
                        response.statusCode === 200 ? JSON.parse(Buffer.concat(chunks).toString("utf8")) : undefined,
                    );
                } catch {
                    resolve(undefined);
                }
            });
            response.on("error", () => resolve(undefined));
        });
        request.on("timeout", () => request.destroy());
        request.on("error", () => resolve(undefined));
    });
}

/** Every key the running cloud serves, id -> value (GetApiKeys, page by page). */
async function servedKeyValues(controlPlane) {
    const values = new Map();
    let position;
    do {
        const page = await getJson(
            `${controlPlane}/apikeys?includeValues=true&limit=500${position === undefined ? "" : `&position=${position}`}`,
        );
        if (!Array.isArray(page?.item)) {
            return undefined;
        }
        page.item.forEach((key) => values.set(key.id, key.value));
        position = page.position;
    } while (position !== undefined);
    return values;
}

/**
 * The outputs of the local cloud running on `stateDir`, or undefined when none answers there (or
 * its answers do not fit together: then the program is the authority).
 */
async function runningCloudOutputs(stateDir) {
    const server = readJson(path.join(stateDir, "server.json"));
    const outputs = server?.outputs;
    const keyIds = outputs?.apiKeyIds;
    if (
        typeof server?.controlPlane !== "string" ||
        typeof keyIds !== "object" ||
        keyIds === null ||
        Object.keys(keyIds).length === 0
    ) {
        return undefined;
    }
    const served = await servedKeyValues(server.controlPlane);
    // Every key id the outputs name must be served: otherwise another cloud holds that port now.
    if (
        !served ||
        !Object.values(keyIds)
            .flat()
            .every((id) => typeof served.get(id) === "string")
    ) {
        return undefined;
    }
    const valueOf = (id) => served.get(id);
    const secrets = Object.fromEntries(
        Object.entries(SECRET_OUTPUTS).map(([name, build]) => [name, build(keyIds, valueOf)]),
    );
    return { outputs: { ...outputs, ...secrets }, secretOutputs: Object.keys(SECRET_OUTPUTS) };
}

const show = (value) => (typeof value === "string" ? value : JSON.stringify(value));

/**
 * `pulumi stack output` formats (as local-cloud/cli.ts formatOutputs, which the evaluated way
 * prints with): one output's value, JSON, or the table; secrets `[secret]` unless showSecrets.
 * Returns undefined for an output the stack lacks (the evaluated way says so).
 */
function formatOutputs({ outputs, secretOutputs }, options) {
    const visible = (name) => (secretOutputs.includes(name) && !options["show-secrets"] ? "[secret]" : outputs[name]);
    if (options.name !== undefined) {
        if (!Object.hasOwn(outputs, options.name)) {
            return undefined;
        }
        return options.json ? JSON.stringify(visible(options.name), null, 2) : show(visible(options.name));
    }
    const names = Object.keys(outputs).sort();
    if (options.json) {
        return JSON.stringify(Object.fromEntries(names.map((n) => [n, visible(n)])), null, 2);
    }
    const width = Math.max("OUTPUT".length, ...names.map((n) => n.length));
    return [
        `Current stack outputs (${names.length}):`,
        `    ${"OUTPUT".padEnd(width)}  VALUE`,
        ...names.map((n) => `    ${n.padEnd(width)}  ${show(visible(n))}`),
    ].join("\n");
}

/** Today's way: scripts/outputs.ts evaluates the program (it reads the same process.argv). */
function evaluateProgram() {
    require("ts-node").register(require("local-cloud/tsNode").tsNodeOptions(path.join(__dirname, "..")));
    require("./outputs.ts");
}

async function main() {
    const options = parse(process.argv.slice(2));
    if (options?.help) {
        process.stdout.write(`${USAGE}\n`);
        return;
    }
    const stateDir = options && path.resolve(options["state-dir"] ?? path.join(process.cwd(), ".local", options.stack));
    const running =
        options && process.env.LOCAL_CLOUD_OUTPUTS !== "evaluate" ? await runningCloudOutputs(stateDir) : undefined;
    const text = running && formatOutputs(running, options);
    if (text === undefined) {
        evaluateProgram();
        return;
    }
    process.stdout.write(`${text}\n`);
}

module.exports = { formatOutputs, runningCloudOutputs };

if (require.main === module) {
    main();
}
