// The root `prepare` script, run by `npm ci` and `npm install`: two things a first `npm start` would
// otherwise do on its own critical path, done once per install and kept in .local/install:
// - the package tree Pulumi's closure packager reads (local-cloud/program/packageTree.js);
// - every TypeScript file a start compiles (the program from index.ts, the start script, the
//   emulator from local-cloud's index), compiled by the compile cache's own transpiler with
//   `npm start`'s ts-node options, so under the same keys (text, file, compiler and options): a start
//   reads them after its compile cache (local-cloud/program/compileCache.js); a file edited since
//   has another key and is compiled as before.
// Neither can fail an install (package.json runs it with `|| exit 0` for a crash): without them a
// start reads and compiles for itself.
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const PROJECT_DIR = path.join(__dirname, "..");

async function keepPackageTree() {
    const { writePackageTree } = require("local-cloud/packageTree");
    return `the package tree (${await writePackageTree(PROJECT_DIR)} packages)`;
}

async function compileForStart() {
    const { compileSeedDir } = require("local-cloud/cacheDirs");
    const seed = compileSeedDir();
    if (seed === undefined) {
        return "no compiled files (the compile cache is off)";
    }
    // Compiled into a folder of their own, through the compile cache, then put in place whole.
    const building = `${seed}.${process.pid}.tmp`;
    fs.rmSync(building, { recursive: true, force: true });
    process.env["LOCAL_CLOUD_COMPILE_CACHE"] = building;
    process.env["LOCAL_CLOUD_COMPILE_SEED"] = "off";
    require("ts-node").register(require("local-cloud/tsNode").tsNodeOptions(PROJECT_DIR));
    const { precompileProgram } = require("local-cloud/precompile");
    const entries = [
        path.join(PROJECT_DIR, "index.ts"),
        path.join(PROJECT_DIR, "scripts", "start.ts"),
        fs.realpathSync(require.resolve("local-cloud")),
    ];
    try {
        let files = 0;
        for (const entry of entries) {
            files += await precompileProgram(entry, () => false);
        }
        fs.rmSync(seed, { recursive: true, force: true });
        fs.mkdirSync(path.dirname(seed), { recursive: true });
        fs.renameSync(building, seed);
        return `${files} compiled files`;
    } finally {
        fs.rmSync(building, { recursive: true, force: true });
    }
}

async function main() {
    const kept = [];
    for (const step of [keepPackageTree, compileForStart]) {
        try {
            kept.push(await step());
        } catch (err) {
            kept.push(`not ${step.name} (${err instanceof Error ? err.message.split("\n")[0] : String(err)})`);
        }
    }
    console.log(`local-cloud: kept for starts: ${kept.join("; ")}`);
}

// A stray rejection from what was loaded is reported, never the install's failure.
process.on("unhandledRejection", (reason) => console.warn(`local-cloud: ${String(reason).split("\n")[0]}`));
void main();
