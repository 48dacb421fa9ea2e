// The recorder thread (recorder.ts), started by a plain-JavaScript entry before anything else loads
// (`npm start` runs scripts/start.js): on a start that must record, loading TypeScript and Pulumi
// on that thread then overlaps the serving thread's own start (ts-node, the start script, the
// emulator: about a second) instead of following it. recorder.ts adopts the thread the first time
// it needs one. Only when no entry of the program cache can serve the start (a fresh clone, a
// cleared cache, another stack, a new state folder for a program that asks for keys), decided from
// the entries' header lines alone: a start that may be served from the cache must load nothing it
// does not serve with, and decides for itself once it knows (localCloud.ts `mayBeCached`).
// Plain JavaScript: it runs before ts-node is registered.
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const { SHARE_ENV, Worker } = require("node:worker_threads");
const { programCacheDir } = require("./cacheDirs");

const EARLY = Symbol.for("local-cloud.early-recorder-thread");

/** An entry's header line (programCache.ts writes it first), or undefined. @param {string} file */
function headerOf(file) {
    let fd;
    try {
        fd = fs.openSync(file, "r");
        const buffer = Buffer.alloc(4096);
        const text = buffer.toString("utf8", 0, fs.readSync(fd, buffer, 0, buffer.length, 0));
        return JSON.parse(text.slice(0, text.indexOf("\n")));
    } catch {
        return undefined;
    } finally {
        if (fd !== undefined) {
            fs.closeSync(fd);
        }
    }
}

/**
 * Whether an entry may serve this start: one for its stack whose recording asked for no key
 * values, or whose state folder already holds keys (a new folder's keys are its own, and a
 * recording that asked for keys is not reused with others: decision 0027). An entry whose header
 * does not say (an older one) may serve.
 * @param {string} projectDir @param {string} stack @param {string} stateDir
 */
function mayBeServed(projectDir, stack, stateDir) {
    const dir = programCacheDir(projectDir);
    let names;
    try {
        names = dir === undefined ? [] : fs.readdirSync(dir).filter((name) => name.endsWith(".json"));
    } catch {
        return false;
    }
    const hasKeys = fs.existsSync(path.join(stateDir, "keys.json"));
    return names.some((name) => {
        const header = headerOf(path.join(/** @type {string} */ (dir), name));
        if (header === undefined) {
            return false;
        }
        if (typeof header.stack !== "string" || typeof header.askedKeys !== "boolean") {
            return true;
        }
        return header.stack === stack && (!header.askedKeys || hasKeys);
    });
}

/**
 * Starts the recorder thread now when no entry of the program cache can serve this start.
 * @param {{ projectDir: string; tsNode: object; stack: string; stateDir: string }} options `tsNode`:
 * the options ts-node is registered with next; `stack` and `stateDir`: the start's
 */
function startRecorderEarly({ projectDir, tsNode, stack, stateDir }) {
    if (mayBeServed(projectDir, stack, stateDir)) {
        return;
    }
    const worker = new Worker(path.join(__dirname, "recorderThread.js"), { workerData: { tsNode }, env: SHARE_ENV });
    worker.unref();
    // recorder.ts listens once it adopts the thread; a thread that died before shows as exited then.
    worker.on("error", () => undefined);
    globalThis[EARLY] = worker;
}

/** The thread started early, once, if it is still running. */
function adoptEarlyRecorder() {
    const worker = globalThis[EARLY];
    delete globalThis[EARLY];
    return worker !== undefined && worker.threadId >= 0 ? worker : undefined;
}

module.exports = { startRecorderEarly, adoptEarlyRecorder };
