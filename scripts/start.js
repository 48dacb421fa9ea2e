// `npm start`'s entry (the options are scripts/start.ts's). Plain JavaScript, so that on a start
// that must record the recorder thread starts before TypeScript and the emulator load here
// (local-cloud/program/earlyRecorder.js), then ts-node as `ts-node --transpile-only` would register
// it, with the compile cache's transpiler (the program compiled by TypeScript, the emulator by swc).
"use strict";
const path = require("node:path");
const { parseArgs } = require("node:util");
const { raiseTierUpThreshold } = require("local-cloud/tierUp");

// First, before anything loads: a start runs its code once (local-cloud/startup/tierUp.js).
raiseTierUpThreshold();
const { startRecorderEarly } = require("local-cloud/earlyRecorder");
const { tsNodeOptions } = require("local-cloud/tsNode");

const PROJECT_DIR = path.join(__dirname, "..");
const TS_NODE = tsNodeOptions(PROJECT_DIR);

// The options that decide whether to start the recorder thread now, read loosely (scripts/start.ts
// parses them all, strictly, and reports mistakes); the defaults are start.ts's.
const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
        stack: { type: "string" },
        "state-dir": { type: "string" },
        "no-watch": { type: "boolean" },
        help: { type: "boolean" },
    },
    strict: false,
    allowPositionals: true,
});
// Without watching, the start records on this thread; asked for help, it records nothing.
if (values["no-watch"] !== true && values.help !== true) {
    const stack = typeof values.stack === "string" ? values.stack : "dev";
    const stateDir = path.resolve(
        typeof values["state-dir"] === "string" ? values["state-dir"] : path.join(".local", stack),
    );
    startRecorderEarly({ projectDir: PROJECT_DIR, tsNode: TS_NODE, stack, stateDir });
}
require("ts-node").register(TS_NODE);
require("./start.ts");
