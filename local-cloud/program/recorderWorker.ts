// The recorder thread itself (recorder.ts starts it and says why it exists): records the program
// when asked, one recording at a time, through the program cache (programCache.ts) and with the
// workarounds of rerecord.ts, and posts the recording back as data (`encodeRecording`). The key
// values, secrets and version numbers a recording asks for belong to the serving thread (its
// KeyStore and FunctionVersions hold them, and save them once a reload is taken): each call is
// sent there and this thread waits for the answer (Atomics.wait), so the recording code calls them
// as it always did, synchronously.
import { parentPort, receiveMessageOnPort, type MessagePort } from "node:worker_threads";
import type { FunctionVersions } from "../lambda/functionVersions";
import { encodeRecording, recordOrReuseLocalProgram } from "./programCache";
import type { ProgramConfig } from "./stackFiles";
import type { KeyStore } from "../state/stateDir";
import { prepareRerecording } from "./rerecord";

/** What the serving thread asks: a recording. */
export interface RecorderRequest {
    id: number;
    config: ProgramConfig;
    baseUrl: string;
    /**
     * The methods of the serving thread's KeyStore, and of its FunctionVersions when the recording numbers versions.
     */
    keyMethods: string[];
    versionMethods?: string[];
    /** Where this recording's calls to them go and their answers come back. */
    port: MessagePort;
    /** One Int32: set to 1 by the serving thread once an answer is on `port`. */
    signal: SharedArrayBuffer;
}

/** What the recorder thread answers to a `record`. */
export type RecorderAnswer =
    | { id: number; ok: true; program: unknown }
    | { id: number; ok: false; error: { name: string; message: string; stack?: string } };

/** A call from a recording to the serving thread's key store or version numbers, and its answer. */
export interface StoreCall {
    target: "keys" | "versions";
    method: string;
    args: unknown[];
}
export type StoreAnswer = { value: unknown } | { error: { name: string; message: string } };

/** An object whose methods run on the serving thread; each call waits for its answer. */
function remote<T>(target: StoreCall["target"], methods: string[], port: MessagePort, signal: Int32Array): T {
    const object: Record<string, (...args: unknown[]) => unknown> = {};
    for (const method of methods) {
        object[method] = (...args: unknown[]) => {
            Atomics.store(signal, 0, 0);
            port.postMessage({ target, method, args } satisfies StoreCall);
            Atomics.wait(signal, 0, 0);
            const answer = receiveMessageOnPort(port)?.message as StoreAnswer | undefined;
            if (answer === undefined) {
                throw new Error(`the local cloud did not answer ${target}.${method}`);
            }
            if ("error" in answer) {
                throw Object.assign(new Error(answer.error.message), { name: answer.error.name });
            }
            return answer.value;
        };
    }
    return object as T;
}

async function record(request: RecorderRequest): Promise<RecorderAnswer> {
    const signal = new Int32Array(request.signal);
    try {
        const keys = remote<KeyStore>("keys", request.keyMethods, request.port, signal);
        const versions = request.versionMethods
            ? remote<FunctionVersions>("versions", request.versionMethods, request.port, signal)
            : undefined;
        const program = await recordOrReuseLocalProgram({
            config: request.config,
            baseUrl: request.baseUrl,
            keys,
            ...(versions ? { versions } : {}),
        });
        return { id: request.id, ok: true, program: await encodeRecording(program) };
    } catch (err) {
        const error = err instanceof Error ? err : new Error(String(err));
        return {
            id: request.id,
            ok: false,
            error: { name: error.name, message: error.message, ...(error.stack ? { stack: error.stack } : {}) },
        };
    } finally {
        request.port.close();
    }
}

// One recording at a time (the Pulumi runtime is one per thread).
let queue: Promise<unknown> = Promise.resolve();
parentPort!.on("message", (request: RecorderRequest) => {
    queue = queue.then(async () => parentPort!.postMessage(await record(request)));
});

// A promise an abandoned recording (a program that failed) rejects later is nobody's error here:
// without a listener it would end the thread and the next reload would start it again from nothing.
process.on("unhandledRejection", () => undefined);

// The thread exists to record: what every recording loads (Pulumi, the shortcuts of rerecord.ts)
// is loaded now, while the serving thread is still starting, not once the first request comes. A
// failure here is the first recording's to report (it loads the same), never a stuck queue.
queue = queue
    .then(async () => {
        require("@pulumi/pulumi");
        await prepareRerecording();
    })
    .catch(() => undefined);
