// How mocha loads TypeScript (.mocharc.js `require`): ts-node with the options `npm start`
// registers (local-cloud/program/tsNode.js: transpile-only, the compile cache's transpiler). The program's files are
// compiled by TypeScript as `pulumi up` compiles them, so the closures the tests serialize are the
// ones AWS would run; the emulator's files by swc, as `npm start` runs them. Every output is kept
// on disk (.local/cache/compiled), so the parallel test processes compile each file once. The
// processes tests spawn load it too (`node -r ./tests/support/register.js`): every process of a run
// compiles a file the same way, which c8 needs to merge their coverage of it.
// Plain JavaScript: nothing can be compiled before this has run.
"use strict";
const path = require("node:path");
const { tsNodeOptions } = require("local-cloud/tsNode");

require("ts-node").register(tsNodeOptions(path.join(__dirname, "..", "..")));
