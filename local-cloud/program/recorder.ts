// A reload's recording runs on a thread of its own, the recorder thread, never on the thread that
// serves requests. Recording evaluates the whole program under Pulumi mocks and serializes every
// function's closure, and the serving thread also runs the gateway and the embedded DynamoDB
// engine (dynalite), which the functions' own calls go through. Recorded there, a reload kept that
// thread's loop busy for its whole length and held every request in flight until it ended (a GET
// waited 5.1 s during a 6.8 s reload). Here the serving thread only sends the config, answers
// the recording's calls for key values and version numbers (a map lookup each), and decodes the
// result; the swap to the new version stays on the serving thread, one synchronous step.
//
// One recorder thread per process, shared by its clouds (tests start several; recordings take
// turns, as Pulumi's runtime is one per thread). It is started by a watched start that has to
// record (so that thread never loads Pulumi, and the first reload finds it loaded) or else by the
// first reload (a start served from the program cache loads nothing it does not serve with), and
// kept while a cloud is open, holding Pulumi and the program's packages loaded. It never keeps the
// process alive on its own (unref'd while idle); it stops a while after the last cloud closes, and
// a thread that dies (a program that throws from a timer, say) is started again on the next
// recording. It loads TypeScript as this thread does: the same ts-node options (recorderThread.js).
import * as path from "node:path";
import { MessageChannel, SHARE_ENV, Worker } from "node:worker_threads";
import { precompileProgram } from "./precompile";
import { decodeRecording } from "./programCache";
import type { RecordedProgram } from "./recordProgram";
import type { LocalProgramInput } from "./program";
import type { RecorderAnswer, RecorderRequest, StoreAnswer, StoreCall } from "./recorderWorker";

// The thread npm start's plain-JavaScript entry may have started before this module loaded.
const { adoptEarlyRecorder } = require("./earlyRecorder.js") as { adoptEarlyRecorder: () => Worker | undefined };

/** How long the thread stays after the last cloud closes (the next test's cloud reuses it). */
const LINGER_MS = 30_000;

interface Pending {
    resolve: (program: RecordedProgram) => void;
    reject: (err: unknown) => void;
}

class RecorderThread {
    private worker?: Worker;
    private readonly pending = new Map<number, Pending>();
    private nextId = 1;
    private holders = 0;
    private linger?: NodeJS.Timeout;
    /** Whether the current thread has been asked for a recording yet. */
    private asked = false;

    /** A cloud that may reload; `release` when it closes. */
    hold(): void {
        this.holders++;
        clearTimeout(this.linger);
    }

    release(): void {
        this.holders = Math.max(0, this.holders - 1);
        if (this.holders === 0 && this.worker) {
            clearTimeout(this.linger);
            this.linger = setTimeout(() => this.stop(), LINGER_MS).unref();
        }
    }

    /**
     * Gets the thread loading (TypeScript, Pulumi, the recorder) before its first recording is
     * asked for: a start that will record does this first, so the loading overlaps its own.
     */
    warmUp(): void {
        this.thread();
        if (this.holders === 0) {
            clearTimeout(this.linger);
            this.linger = setTimeout(() => this.stop(), LINGER_MS).unref();
        }
    }

    /** The program recorded on the recorder thread; the key values and version numbers are `input`'s. */
    record(input: LocalProgramInput): Promise<RecordedProgram> {
        const id = this.nextId++;
        const { port1, port2 } = new MessageChannel();
        const signal = new SharedArrayBuffer(4);
        const stores = { keys: input.keys, versions: input.versions };
        port1.on("message", (call: StoreCall) => answerStoreCall(stores, call, port1, new Int32Array(signal)));
        const worker = this.thread();
        const first = !this.asked;
        this.asked = true;
        const request: RecorderRequest = {
            id,
            config: input.config,
            baseUrl: input.baseUrl,
            keyMethods: methodsOf(input.keys),
            ...(input.versions ? { versionMethods: methodsOf(input.versions) } : {}),
            port: port2,
            signal,
        };
        return new Promise<RecordedProgram>((resolve, reject) => {
            this.pending.set(id, { resolve, reject });
            // Kept alive while a recording is out; idle, the thread never holds the process.
            worker.ref();
            try {
                worker.postMessage(request, [port2]);
                if (first) {
                    // The thread loads TypeScript and Pulumi first; this thread compiles meanwhile.
                    void precompileProgram(path.join(input.config.projectDir, "index.ts"), () => !this.pending.has(id));
                }
            } catch (err) {
                this.pending.delete(id);
                reject(err);
            }
        }).finally(() => {
            port1.close();
            if (this.pending.size === 0) {
                this.worker?.unref();
            }
        });
    }

    private thread(): Worker {
        if (this.worker) {
            return this.worker;
        }
        const worker =
            adoptEarlyRecorder() ??
            new Worker(path.join(__dirname, "recorderThread.js"), {
                workerData: { tsNode: tsNodeOptions() },
                // Settings read from the environment (LOCAL_CLOUD_PROGRAM_CACHE, PULUMI_*) are the process's, now.
                env: SHARE_ENV,
            });
        worker.unref();
        worker.on("message", (answer: RecorderAnswer) => this.settle(answer));
        const lost = (err: unknown) => {
            if (this.worker === worker) {
                this.worker = undefined;
            }
            for (const [id, pending] of this.pending) {
                this.pending.delete(id);
                pending.reject(err);
            }
        };
        worker.on("error", lost);
        worker.on("exit", (code) => lost(new Error(`the recorder thread stopped (exit code ${code})`)));
        this.worker = worker;
        this.asked = false;
        return worker;
    }

    private settle(answer: RecorderAnswer): void {
        const pending = this.pending.get(answer.id);
        if (!pending) {
            return;
        }
        this.pending.delete(answer.id);
        if (answer.ok) {
            pending.resolve(decodeRecording(answer.program));
        } else {
            // The program's own error, as recording on this thread would have thrown it.
            const error = new Error(answer.error.message);
            error.name = answer.error.name;
            error.stack = answer.error.stack ?? error.stack;
            pending.reject(error);
        }
    }

    private stop(): void {
        const worker = this.worker;
        if (worker && this.holders === 0 && this.pending.size === 0) {
            this.worker = undefined;
            void worker.terminate();
        }
    }
}

/** The functions an object offers (its class's methods): what the recording may call on it. */
function methodsOf(object: object): string[] {
    const methods = new Set<string>();
    for (
        let proto = Object.getPrototypeOf(object);
        proto && proto !== Object.prototype;
        proto = Object.getPrototypeOf(proto)
    ) {
        for (const name of Object.getOwnPropertyNames(proto)) {
            if (name !== "constructor" && typeof (object as Record<string, unknown>)[name] === "function") {
                methods.add(name);
            }
        }
    }
    return [...methods];
}

/** Runs a recording's call on this thread's store and wakes the recorder thread with the answer. */
function answerStoreCall(
    stores: Record<StoreCall["target"], object | undefined>,
    call: StoreCall,
    port: MessageChannel["port1"],
    signal: Int32Array,
): void {
    let answer: StoreAnswer;
    try {
        const store = stores[call.target] as Record<string, (...args: unknown[]) => unknown> | undefined;
        if (!store || !methodsOf(store).includes(call.method)) {
            throw new Error(`no ${call.target}.${call.method} to call`);
        }
        answer = { value: store[call.method]!(...call.args) };
    } catch (err) {
        const error = err instanceof Error ? err : new Error(String(err));
        answer = { error: { name: error.name, message: error.message } };
    }
    port.postMessage(answer);
    Atomics.store(signal, 0, 1);
    Atomics.notify(signal, 0);
}

/**
 * This thread's ts-node options (none when it runs compiled JavaScript), as data: the functions
 * its register hook adds (file readers) are ts-node's defaults in the other thread too.
 */
function tsNodeOptions(): object | undefined {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const service = (process as any)[Symbol.for("ts-node.register.instance")];
    if (!service?.options) {
        return undefined;
    }
    return JSON.parse(
        JSON.stringify({ ...service.options, ...(service.configFilePath ? { project: service.configFilePath } : {}) }),
    ) as object;
}

let shared: RecorderThread | undefined;

/** The process's recorder thread. */
export function recorderThread(): RecorderThread {
    return (shared ??= new RecorderThread());
}

export type { RecorderThread };
