// Where the local cloud keeps its two caches, `.local/cache/programs` and `.local/cache/compiled`,
// each movable or turned off by a variable (`<dir>` or `off`). One rule for the program cache
// (programCache.ts, and earlyRecorder.js before TypeScript loads) and the compile cache
// (compileCache.js). Plain JavaScript: both of those JavaScript users run before ts-node is registered.
"use strict";
const path = require("node:path");

/**
 * The folder a cache uses: the variable's value, else `<baseDir>/.local/cache/<name>`; undefined when `off`.
 * @param {string} variable @param {string} baseDir @param {string} name
 * @returns {string | undefined}
 */
function cacheDir(variable, baseDir, name) {
    const configured = process.env[variable];
    if (configured === "off") {
        return undefined;
    }
    return configured ? path.resolve(configured) : path.join(baseDir, ".local", "cache", name);
}

/** The recorded programs (programCache.ts): LOCAL_CLOUD_PROGRAM_CACHE, else in the project. @param {string} projectDir */
const programCacheDir = (projectDir) => cacheDir("LOCAL_CLOUD_PROGRAM_CACHE", projectDir, "programs");

/** Compiled files (compileCache.js): LOCAL_CLOUD_COMPILE_CACHE, else under the current folder. */
const compileCacheDir = () => cacheDir("LOCAL_CLOUD_COMPILE_CACHE", process.cwd(), "compiled");

/**
 * The files the install compiled (scripts/prepare.js, run by `npm ci`): a start reads them after
 * the compile cache and never writes them. LOCAL_CLOUD_COMPILE_SEED (`off`), else
 * `.local/install/compiled` under the current folder; off with the compile cache.
 */
function compileSeedDir() {
    const configured = process.env["LOCAL_CLOUD_COMPILE_SEED"];
    if (compileCacheDir() === undefined || configured === "off") {
        return undefined;
    }
    return configured ? path.resolve(configured) : path.join(process.cwd(), ".local", "install", "compiled");
}

module.exports = { programCacheDir, compileCacheDir, compileSeedDir };
