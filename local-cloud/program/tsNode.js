// The ts-node options every entry of a project running on the local cloud registers with: `npm
// start` (scripts/start.js, which also hands them to the recorder thread it starts early), the
// tests' loader (tests/support/register.js) and `npm run outputs`' fallback. Transpile-only, with
// the compile cache's transpiler (compileCache.js: the program's files by TypeScript, as `pulumi up`
// compiles them; the emulator's by swc). One object, so every process compiles a file the same way.
// Plain JavaScript: it runs before ts-node is registered.
"use strict";
const path = require("node:path");

/** @param {string} projectDir the folder holding the project's tsconfig.json */
function tsNodeOptions(projectDir) {
    return {
        transpileOnly: true,
        transpiler: path.join(__dirname, "compileCache.js"),
        project: path.join(projectDir, "tsconfig.json"),
    };
}

module.exports = { tsNodeOptions };
