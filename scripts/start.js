// `npm start`'s entry (the options are scripts/start.ts's). Plain JavaScript, so that on a start
// that must record the recorder thread starts before TypeScript and the emulator load here
// (local-cloud/program/earlyRecorder.js), then ts-node as `ts-node --transpile-only` would register
// it, with the compile cache's transpiler (the program compiled by TypeScript, the emulator by swc).
"use strict";
const path = require("node:path");
const { startRecorderEarly } = require("local-cloud/earlyRecorder");
const { tsNodeOptions } = require("local-cloud/tsNode");

const PROJECT_DIR = path.join(__dirname, "..");
const TS_NODE = tsNodeOptions(PROJECT_DIR);

const args = process.argv.slice(2);
// Without watching, the start records on this thread; asked for help, it records nothing.
if (!args.includes("--no-watch") && !args.includes("--help")) {
    startRecorderEarly({ projectDir: PROJECT_DIR, tsNode: TS_NODE });
}
require("ts-node").register(TS_NODE);
require("./start.ts");
