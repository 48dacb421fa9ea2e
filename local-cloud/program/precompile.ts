// A new recorder thread spends its first second or so loading TypeScript and Pulumi, and this
// thread, having sent it the first recording, waits. Meanwhile this thread compiles the program's
// files (the relative imports reachable from the entry, outside node_modules) into the compile
// cache, in the order the recording will load them, so that the thread finds most of them compiled
// (0.8 s of a cold start's 4.4 s was the thread compiling them). The same compiler and options
// (ts-node's registered service, the compile cache's transpiler), so the same output as the thread's
// own compile: a file this thread has not reached yet is simply compiled there as before.
// Best effort: a file that cannot be read or compiled is left to the recording, which reports it.
import * as fs from "node:fs";
import * as path from "node:path";

const { compileCacheDir } = require("./cacheDirs.js") as { compileCacheDir: () => string | undefined };

/* eslint-disable @typescript-eslint/no-explicit-any */

/** What compiling needs from the ts-node service registered on this thread. */
interface Compiler {
    compile(code: string, fileName: string): string;
    importsOf(code: string): string[];
}

/**
 * Compiles the program's files, one per turn of the event loop (the recording's calls for key
 * values come to this thread meanwhile), until all are compiled or `stop()` says the recording is
 * over. Does nothing without ts-node or without a compile cache (nothing would be kept).
 */
export async function precompileProgram(entry: string, stop: () => boolean): Promise<number> {
    const compiler = registeredCompiler();
    if (!compiler) {
        return 0;
    }
    let compiled = 0;
    const seen = new Set<string>([entry]);
    const queue = [entry];
    while (queue.length > 0 && !stop()) {
        const file = queue.shift()!;
        const code = readText(file);
        if (code === undefined) {
            continue;
        }
        for (const imported of localImports(compiler, code, file)) {
            if (!seen.has(imported)) {
                seen.add(imported);
                queue.push(imported);
            }
        }
        try {
            compiler.compile(code, file);
            compiled++;
        } catch {
            // A syntax error: the recording reports it.
        }
        await new Promise((resolve) => setImmediate(resolve));
    }
    return compiled;
}

function registeredCompiler(): Compiler | undefined {
    const service = (process as any)[Symbol.for("ts-node.register.instance")];
    if (typeof service?.compile !== "function" || service.options?.transpileOnly !== true) {
        return undefined;
    }
    if (compileCacheDir() === undefined || !String(service.options.transpiler ?? "")) {
        return undefined;
    }
    const ts = service.ts as typeof import("typescript");
    return {
        compile: (code, fileName) => service.compile(code, fileName),
        importsOf: (code) => ts.preProcessFile(code, true, false).importedFiles.map((file) => file.fileName),
    };
}

/** The program files a file imports by relative path (`./x`, `../y/z`), resolved as Node resolves TypeScript. */
function localImports(compiler: Compiler, code: string, file: string): string[] {
    const found: string[] = [];
    for (const specifier of compiler.importsOf(code)) {
        if (!specifier.startsWith("./") && !specifier.startsWith("../")) {
            continue;
        }
        const resolved = resolveTypeScript(path.resolve(path.dirname(file), specifier));
        if (resolved && !resolved.split(path.sep).includes("node_modules")) {
            found.push(resolved);
        }
    }
    return found;
}

function resolveTypeScript(base: string): string | undefined {
    const candidates = base.endsWith(".ts") ? [base] : [`${base}.ts`, path.join(base, "index.ts")];
    return candidates.find((candidate) => {
        try {
            return fs.statSync(candidate).isFile();
        } catch {
            return false;
        }
    });
}

function readText(file: string): string | undefined {
    try {
        return fs.readFileSync(file, "utf8");
    } catch {
        return undefined;
    }
}
