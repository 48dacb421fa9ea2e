// A ts-node transpiler (ts-node's `transpiler` option, as tsNode.js names it for `npm start`, the
// tests and `npm run outputs`; the npm scripts pass it with `--transpiler`) that compiles each file
// with the compiler it needs and keeps the output on disk between runs.
//
// Two compilers, chosen by file:
// - the program's files (everything outside this package: index.ts, api/, data/, ...) with
//   TypeScript, exactly as ts-node's own transpile-only mode does (its `createTsTranspileModule`,
//   same arguments), because Pulumi serializes closures from that output and the local cloud must
//   run the code `pulumi up` would ship (tests/golden/functions holds it byte for byte);
// - this package's own files (the emulator) with swc: nothing of them is ever serialized, and swc
//   transpiles its ~10k lines in under 0.1 s where TypeScript takes over a second (decision 0027).
//   (ts-node itself still loads TypeScript to read tsconfig.json.) swc's CommonJS exports are
//   getters that cannot be redefined: a test cannot stub an emulator module's export in place.
//
// The output of a transpile-only compile depends only on the file's text and name, the compiler
// options and the compiler, so that is the cache key. Files with diagnostics (syntax errors) are
// never cached, so ts-node reports them as it would.
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
const { threadId } = require("node:worker_threads");
const { compileCacheDir, compileSeedDir } = require("./cacheDirs");

const MAX_AGE_MS = 30 * 24 * 3600 * 1000;
let swept = false;

/** @param {string} text */
const sha256 = (text) => crypto.createHash("sha256").update(text).digest("hex");

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
 * A kept compile: its output and source map, if the file is whole (its checksum holds).
 * @param {string} file
 */
function readEntry(file) {
    try {
        const entry = JSON.parse(fs.readFileSync(file, "utf8"));
        if (
            typeof entry.outputText === "string" &&
            typeof entry.sourceMapText === "string" &&
            entry.sum === sha256(`${entry.outputText}\0${entry.sourceMapText}`)
        ) {
            return { outputText: entry.outputText, sourceMapText: entry.sourceMapText, diagnostics: [] };
        }
    } catch {
        // Missing or damaged.
    }
    return undefined;
}

/** @typedef {{ outputText: string; sourceMapText?: string; diagnostics?: unknown[] }} Output */
/** @typedef {(code: string, fileName: string) => Output} Compile */

/** This package's folder: its files are the emulator's, compiled by swc. */
const PACKAGE_DIR = fs.realpathSync(path.resolve(__dirname, ".."));

/** @param {string} fileName */
function isEmulatorFile(fileName) {
    const relative = path.relative(PACKAGE_DIR, fileName);
    return (
        relative !== "" &&
        !relative.startsWith("..") &&
        !path.isAbsolute(relative) &&
        !relative.split(path.sep).includes("node_modules")
    );
}

/**
 * swc's TypeScript transform, in this process (a native module, no child process), with the options
 * that change emitted behaviour taken from the project's tsconfig: ES2022 class fields, CommonJS
 * with `esModuleInterop`'s default-import semantics. A syntax error is thrown as ts-node throws one.
 * @param {{ useDefineForClassFields?: boolean }} compilerOptions
 * @param {string} moduleKind
 */
function swcCompiler(compilerOptions, moduleKind) {
    /** @type {typeof import("@swc/core") | undefined} */
    let swc;
    const options = {
        jsc: {
            parser: { syntax: "typescript" },
            target: "es2022",
            transform: { useDefineForClassFields: compilerOptions.useDefineForClassFields ?? true },
        },
        module: moduleKind === "module" ? { type: "es6" } : { type: "commonjs", importInterop: "swc" },
        sourceMaps: true,
        isModule: true,
        swcrc: false,
        configFile: false,
    };
    const version = require("@swc/core/package.json").version;
    return {
        settings: JSON.stringify(["swc", version, options]),
        /** @type {Compile} */
        compile(code, fileName) {
            swc ??= require("@swc/core");
            try {
                const result = swc.transformSync(code, { ...options, filename: fileName });
                return { outputText: result.code, sourceMapText: result.map, diagnostics: [] };
            } catch (err) {
                throw new SyntaxError(`${fileName}: ${err instanceof Error ? err.message : String(err)}`);
            }
        },
    };
}

/**
 * ts-node's transpiler factory.
 * @param {{ service: { config: { options: object }; options: { compiler?: string; transformers?: unknown }; projectLocalResolveHelper: (specifier: string, fallbackToTsNodeRelative: boolean) => string }; nodeModuleEmitKind?: string }} createOptions
 */
exports.create = function create(createOptions) {
    const { service, nodeModuleEmitKind } = createOptions;
    const compilerOptions = service.config.options;
    const tsNodeDir = path.dirname(require.resolve("ts-node/package.json"));
    const tsNodeVersion = require(path.join(tsNodeDir, "package.json")).version;
    const typescriptPath = service.projectLocalResolveHelper(service.options.compiler || "typescript", true);
    const typescriptVersion = require(path.join(path.dirname(typescriptPath), "..", "package.json")).version;
    const moduleKind = nodeModuleEmitKind === "nodeesm" ? "module" : "commonjs";
    /** @type {((code: string, options: { fileName: string }, kind: string) => Output) | undefined} */
    let compileTs;
    const typescript = {
        settings: JSON.stringify([typescriptVersion, tsNodeVersion, moduleKind, compilerOptions]),
        /** @type {Compile} */
        compile(code, fileName) {
            compileTs ??= require(path.join(tsNodeDir, "dist", "ts-transpile-module.js")).createTsTranspileModule(
                require(typescriptPath),
                {
                    compilerOptions,
                    reportDiagnostics: true,
                    transformers: service.options.transformers,
                },
            );
            return compileTs(code, { fileName }, moduleKind);
        },
    };
    const emulator = swcCompiler(compilerOptions, moduleKind);
    const compilerFor = (/** @type {string} */ fileName) => (isEmulatorFile(fileName) ? emulator : typescript);
    const dir = compileCacheDir();
    if (dir === undefined) {
        return {
            transpile: (/** @type {string} */ code, /** @type {{ fileName: string }} */ { fileName }) =>
                compilerFor(fileName).compile(code, fileName),
        };
    }
    const seed = compileSeedDir();
    return {
        transpile(/** @type {string} */ code, /** @type {{ fileName: string }} */ { fileName }) {
            const compiler = compilerFor(fileName);
            const name = `${sha256(`${compiler.settings}\0${fileName}\0${code}`)}.json`;
            const file = path.join(dir, name);
            // Not there yet, or damaged: from the install's compiled files, else compiled and
            // written again below.
            const kept = readEntry(file) ?? (seed === undefined ? undefined : readEntry(path.join(seed, name)));
            if (kept !== undefined) {
                return kept;
            }
            const result = compiler.compile(code, fileName);
            if ((result.diagnostics ?? []).length === 0 && typeof result.sourceMapText === "string") {
                try {
                    fs.mkdirSync(dir, { recursive: true });
                    const temporary = `${file}.${process.pid}.${threadId}.${crypto.randomBytes(4).toString("hex")}.tmp`;
                    fs.writeFileSync(
                        temporary,
                        JSON.stringify({
                            sum: sha256(`${result.outputText}\0${result.sourceMapText}`),
                            outputText: result.outputText,
                            sourceMapText: result.sourceMapText,
                        }),
                    );
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
