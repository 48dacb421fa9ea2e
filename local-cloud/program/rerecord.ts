// What recording a program again and again in one thread (live reload's recorder thread,
// recorder.ts) needs beyond recording it once. Each piece works around something that is harmless
// in a one-shot `pulumi up` and costly in a thread that records on every save. Every recording
// takes them (recordProgram.ts `recordConfiguredProgram`): `prepareRerecording` installs them once
// per thread, before its first recording (by then Pulumi and arborist load anyway; a start served
// from the program cache records nothing and pays for none), `cheapPulumiStacks` wraps each
// recording, `releaseClosureMirrors` follows it.
//
// - The package tree (time). For every `CallbackFunction`, Pulumi's closure packager
//   (@pulumi/pulumi runtime/closure/codePaths.js) has @npmcli/arborist read the whole node_modules
//   tree (`loadActual`) to find the packages the archive needs. The tree does not change between
//   two functions or two reloads unless packages are installed: `loadActual` hands back the tree
//   kept at install, or read before, while the package files keep their modification times
//   (packageTree.js `packageTreeReader`; the recorder thread does not even load arborist).
// - The program's TypeScript (time). A recording must evaluate the program's modules afresh (they
//   read config and register resources as they load), so ts-node compiles every one again, most of
//   them unchanged. In transpile-only mode (`npm start`'s) a file's output depends on its text
//   alone: when a file's text is what it was at its last compile, that output is reused (ts-node's
//   source-map cache already holds it).
// - Parsing functions (time). For every function it serializes, the closure serializer has
//   TypeScript parse the function's text to find the names it captures
//   (runtime/closure/parseFunction.js `parseFunction`: a pure function of that text, its result
//   only read). The six handlers of a program share most of their code, so each shared function was
//   parsed once per handler, and again on every reload. Results are kept by text (at most
//   PARSED_FUNCTIONS_KEPT; the map starts over past that).
// - The inspector's handles (memory). The closure serializer (runtime/closure/v8.js) looks at each
//   function through an inspector session and never releases the remote objects it gets: every
//   serialized function, and through its scopes that recording's whole module graph, would stay
//   reachable. Its `Runtime.evaluate` calls are put in an object group of ours (other calls inherit
//   the group of the object they are about), released after each recording.
// - The inspector's debugger (time). The serializer's session turns the Debugger domain on only
//   for file positions in its error messages; the session handed to it here does not (see
//   `groupClosureMirrors`).
import * as crypto from "node:crypto";

/* eslint-disable @typescript-eslint/no-explicit-any */

const packageTree = require("./packageTree.js") as {
    packagerFiles: (projectDir: string) => { arborist: string };
    packageTreeReader: () => (folder: string, readReal: () => Promise<unknown>) => Promise<unknown>;
    usePackagerArborist: () => void;
};

const MIRROR_GROUP = "local-cloud-recording";

/** The session the closure serializer talks to, once `groupClosureMirrors` has handed it one. */
let session: any;

let prepared: Promise<void> | undefined;

/** Installs the workarounds (once per process); a piece whose target is missing is skipped. */
export function prepareRerecording(): Promise<void> {
    return (prepared ??= (async () => {
        reusePackageTrees();
        reuseTranspiledModules();
        reuseParsedFunctions();
        await groupClosureMirrors();
    })());
}

/** Lets go of the inspector's handles on the last recording's functions. */
export async function releaseClosureMirrors(): Promise<void> {
    if (session) {
        await new Promise<void>((resolve) =>
            session.post("Runtime.releaseObjectGroup", { objectGroup: MIRROR_GROUP }, () => resolve()),
        );
    }
}

function reusePackageTrees(): void {
    let Arborist: any;
    try {
        const arborist = packageTree.packagerFiles(__dirname).arborist;
        Arborist = require.cache[arborist]?.exports?.Arborist;
    } catch {
        return;
    }
    if (Arborist === undefined) {
        // Pulumi's packager not loaded yet (Pulumi loads lazily): it will get packageTree.js's own
        // Arborist, which reads this way without loading the real one unless it must.
        packageTree.usePackagerArborist();
        return;
    }
    const load = Arborist?.prototype?.loadActual;
    if (typeof load !== "function") {
        return;
    }
    const readTree = packageTree.packageTreeReader();
    Arborist.prototype.loadActual = function (this: { path: string }, options: Record<string, unknown> = {}) {
        if (Object.keys(options).length > 0) {
            // Not the packager's call (it passes none): nothing to reuse.
            return load.call(this, options);
        }
        return readTree(this.path, () => load.call(this, options) as Promise<unknown>);
    };
}

const PARSED_FUNCTIONS_KEPT = 20_000;

function reuseParsedFunctions(): void {
    let parser: { parseFunction?: (text: string) => unknown };
    try {
        parser = require("@pulumi/pulumi/runtime/closure/parseFunction");
    } catch {
        return;
    }
    const parse = parser.parseFunction;
    if (typeof parse !== "function") {
        return;
    }
    const parsed = new Map<string, unknown>();
    parser.parseFunction = (text: string) => {
        let result = parsed.get(text);
        if (result === undefined) {
            result = parse(text);
            if (parsed.size >= PARSED_FUNCTIONS_KEPT) {
                parsed.clear();
            }
            parsed.set(text, result);
        }
        return result;
    };
}

let reusingTranspiles = false;

/** Reuses ts-node's output for files whose text has not changed since their last compile. */
export function reuseTranspiledModules(): void {
    if (reusingTranspiles) {
        return;
    }
    reusingTranspiles = true;
    const service = (process as any)[Symbol.for("ts-node.register.instance")];
    if (!service || typeof service.compile !== "function" || service.options?.transpileOnly !== true) {
        // Not ts-node, or ts-node type-checking (an unchanged file can gain type errors).
        return;
    }
    const compile = service.compile.bind(service) as (code: string, fileName: string, lineOffset?: number) => string;
    /** File -> the text and output of its last compile. */
    const last = new Map<string, { hash: string; lineOffset: number; output: string }>();
    service.compile = (code: string, fileName: string, lineOffset = 0) => {
        const hash = crypto.createHash("sha1").update(code).digest("hex");
        const known = last.get(fileName);
        if (known && known.hash === hash && known.lineOffset === lineOffset) {
            return known.output;
        }
        const output = compile(code, fileName, lineOffset);
        last.set(fileName, { hash, lineOffset, output });
        return output;
    };
}

/** The session with its `Runtime.evaluate` calls in our object group (released after each recording). */
function grouped(inspectorSession: any): any {
    const post = inspectorSession.post.bind(inspectorSession) as (
        method: string,
        params?: unknown,
        cb?: unknown,
    ) => void;
    inspectorSession.post = (method: string, params?: unknown, callback?: unknown) =>
        method === "Runtime.evaluate" && params && typeof params === "object" && !("objectGroup" in params)
            ? post(method, { ...params, objectGroup: MIRROR_GROUP }, callback)
            : post(method, params, callback);
    return inspectorSession;
}

/**
 * Hands the closure serializer an inspector session of ours (runtime/closure/v8Hooks.js
 * `getSessionAsync`, which v8.js asks for on every call), without the Debugger domain. Pulumi's own
 * session turns the debugger on only to hear each script's URL (`Debugger.scriptParsed`) for the
 * file positions in its serialization errors (`pulumi up` opens it before the program loads); the
 * scopes it reads come from the Runtime domain alone. Turning it on cost ~0.3 s of a recording (V8
 * reports and hashes every script, ~1,400 here); the serialized code is the same (the golden copy of
 * every `__index.js`, tests/program/serialized-golden.test.ts). The price: a serialization error
 * would name functions without file positions (decision 0027).
 */
async function groupClosureMirrors(): Promise<void> {
    let hooks: any;
    try {
        hooks = require("@pulumi/pulumi/runtime/closure/v8Hooks");
    } catch {
        return;
    }
    if (typeof hooks?.getSessionAsync !== "function") {
        return;
    }
    const inspector = require("node:inspector") as typeof import("node:inspector");
    const ours = new inspector.Session();
    ours.connect();
    session = grouped(ours);
    hooks.getSessionAsync = async () => ours;
}

/**
 * Pulumi records `new Error().stack` for every promise it makes and every resource it registers
 * (bookkeeping for its leak reports and source positions); under ts-node each of those stacks is
 * source-mapped, a few percent of a recording. While recording, those two are formatted as V8
 * formats a stack; every other stack still goes through the installed formatter.
 */
export async function cheapPulumiStacks<T>(run: () => Promise<T>): Promise<T> {
    const installed = Error.prepareStackTrace;
    if (!installed) {
        return run();
    }
    const bookkeeping = /[\\/]@pulumi[\\/]pulumi[\\/](runtime[\\/]debuggable|resource)\.js$/;
    const plain = (error: Error, frames: NodeJS.CallSite[]) =>
        `${error.name}${error.message ? `: ${error.message}` : ""}${frames.map((frame) => `\n    at ${frame}`).join("")}`;
    const formatter = (error: Error, frames: NodeJS.CallSite[]) =>
        error.message === "" && bookkeeping.test(frames[0]?.getFileName() ?? "")
            ? plain(error, frames)
            : installed(error, frames);
    Error.prepareStackTrace = formatter;
    try {
        return await run();
    } finally {
        if (Error.prepareStackTrace === formatter) {
            Error.prepareStackTrace = installed;
        }
    }
}
