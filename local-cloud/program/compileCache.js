// A ts-node transpiler (`ts-node --transpile-only --transpiler ./local-cloud/program/compileCache.js`, as
// `npm start` runs) that keeps each file's compiled output on disk between runs. Compiling the
// emulator's and the program's TypeScript is most of a start that is served from the program cache
// (programCache.ts); the output of a transpile-only compile depends only on the file's text and
// name, the compiler options and the compiler, so that is the key. A miss compiles exactly as
// ts-node's own transpile-only mode does (its `createTsTranspileModule`, same arguments), so the
// output, and Pulumi's serialized closures made from it, are the same with or without the cache.
// Files with diagnostics (syntax errors) are never cached, so ts-node reports them as it would.
//
// Entries: `.local/cache/compiled/<sha256>.json` under the current folder, or
// LOCAL_CLOUD_COMPILE_CACHE (`off` disables it), each `{ sum, outputText, sourceMapText }` where
// `sum` is a SHA-256 of the two texts: an entry that does not parse or check is compiled again and
// rewritten. Entries written more than 30 days ago are removed (one sweep per process).
// Plain JavaScript: ts-node loads its transpiler before it can compile anything.
"use strict";
const crypto = require("node:crypto");
const fs = require("node:fs");
const path = require("node:path");

const MAX_AGE_MS = 30 * 24 * 3600 * 1000;
let swept = false;

/** @param {string} text */
const sha256 = (text) => crypto.createHash("sha256").update(text).digest("hex");

function cacheDir() {
    const configured = process.env.LOCAL_CLOUD_COMPILE_CACHE;
    if (configured === "off") {
        return undefined;
    }
    return configured ? path.resolve(configured) : path.join(process.cwd(), ".local", "cache", "compiled");
}

/** @param {string} dir */
function sweep(dir) {
    if (swept) {
        return;
    }
    swept = true;
    const cutoff = Date.now() - MAX_AGE_MS;
    for (const name of fs.readdirSync(dir)) {
        const file = path.join(dir, name);
        try {
            if (fs.statSync(file).mtimeMs < cutoff) {
                fs.rmSync(file, { force: true });
            }
        } catch {
            // Gone meanwhile.
        }
    }
}

/**
 * ts-node's transpiler factory.
 * @param {{ service: { config: { options: object }; options: { compiler?: string; transformers?: unknown }; projectLocalResolveHelper: (specifier: string, fallbackToTsNodeRelative: boolean) => string }; nodeModuleEmitKind?: string }} createOptions
 */
exports.create = function create(createOptions) {
    const { service, nodeModuleEmitKind } = createOptions;
    const compilerOptions = service.config.options;
    const ts = require(service.projectLocalResolveHelper(service.options.compiler || "typescript", true));
    const tsNodeDir = path.dirname(require.resolve("ts-node/package.json"));
    const tsNodeVersion = require(path.join(tsNodeDir, "package.json")).version;
    const moduleKind = nodeModuleEmitKind === "nodeesm" ? "module" : "commonjs";
    /** @type {((code: string, options: { fileName: string }, kind: string) => { outputText: string; sourceMapText?: string; diagnostics?: unknown[] }) | undefined} */
    let compile;
    const compileFresh = (/** @type {string} */ code, /** @type {string} */ fileName) => {
        compile ??= require(path.join(tsNodeDir, "dist", "ts-transpile-module.js")).createTsTranspileModule(ts, {
            compilerOptions,
            reportDiagnostics: true,
            transformers: service.options.transformers,
        });
        return compile(code, { fileName }, moduleKind);
    };
    const dir = cacheDir();
    if (dir === undefined) {
        return { transpile: (/** @type {string} */ code, /** @type {{ fileName: string }} */ { fileName }) => compileFresh(code, fileName) };
    }
    const settings = JSON.stringify([ts.version, tsNodeVersion, moduleKind, compilerOptions]);
    return {
        transpile(/** @type {string} */ code, /** @type {{ fileName: string }} */ { fileName }) {
            const file = path.join(dir, `${sha256(`${settings}\0${fileName}\0${code}`)}.json`);
            try {
                const entry = JSON.parse(fs.readFileSync(file, "utf8"));
                if (typeof entry.outputText === "string" && typeof entry.sourceMapText === "string"
                    && entry.sum === sha256(`${entry.outputText}\0${entry.sourceMapText}`)) {
                    return { outputText: entry.outputText, sourceMapText: entry.sourceMapText, diagnostics: [] };
                }
            } catch {
                // Not there yet, or damaged: compiled and written again below.
            }
            const result = compileFresh(code, fileName);
            if ((result.diagnostics ?? []).length === 0 && typeof result.sourceMapText === "string") {
                try {
                    fs.mkdirSync(dir, { recursive: true });
                    const temporary = `${file}.${process.pid}.tmp`;
                    fs.writeFileSync(temporary, JSON.stringify({ sum: sha256(`${result.outputText}\0${result.sourceMapText}`), outputText: result.outputText, sourceMapText: result.sourceMapText }));
                    fs.renameSync(temporary, file);
                    sweep(dir);
                } catch {
                    // A read-only or full disk: compiled every time, as without the cache.
                }
            }
            return result;
        },
    };
};
