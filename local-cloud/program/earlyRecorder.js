// The recorder thread (recorder.ts), started by a plain-JavaScript entry before anything else loads
// (`npm start` runs scripts/start.js): on a start that must record, loading TypeScript and Pulumi
// on that thread then overlaps the serving thread's own start (ts-node, the start script, the
// emulator: about a second) instead of following it. recorder.ts adopts the thread the first time
// it needs one. Only when the program cache holds no entry at all (a fresh clone, a cleared cache):
// a start that may be served from the cache must load nothing it does not serve with, and decides
// for itself once it knows (localCloud.ts `mayBeCached`).
// Plain JavaScript: it runs before ts-node is registered.
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const { SHARE_ENV, Worker } = require("node:worker_threads");
const { programCacheDir } = require("./cacheDirs");

const EARLY = Symbol.for("local-cloud.early-recorder-thread");

function cacheIsEmpty(projectDir) {
    const dir = programCacheDir(projectDir);
    try {
        return dir === undefined || !fs.readdirSync(dir).some((name) => name.endsWith(".json"));
    } catch {
        return true;
    }
}

/**
 * Starts the recorder thread now when the program cache is empty.
 * @param {{ projectDir: string; tsNode: object }} options `tsNode`: the options ts-node is registered with next
 */
function startRecorderEarly({ projectDir, tsNode }) {
    if (!cacheIsEmpty(projectDir)) {
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
