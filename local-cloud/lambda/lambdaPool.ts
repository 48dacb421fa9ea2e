// One pool of instances per Lambda function. An instance is a worker thread running
// local/lambdaRuntime.ts with the function's environment; it serves one invocation at a time and
// stays warm afterwards. Concurrent invocations get more instances (up to `maxInstances`, then
// they wait for one to free up). A timed-out or crashed instance is thrown away, as Lambda does,
// and the next invocation starts a fresh one (a cold start).
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as readline from "node:readline";
import { Worker } from "node:worker_threads";
import type { InvokeMessage, RuntimeData, RuntimeMessage } from "./lambdaRuntime";
import type { FunctionModel } from "../program/model";
import { writeFileWhole } from "../state/stateDir";

export type InvokeOutcome =
    | { kind: "result"; payload: string }
    | { kind: "error"; errorType: string; errorMessage: string }
    | { kind: "timeout" };

export interface PoolOptions {
    fn: FunctionModel;
    /** Folder with the function's `__index.js`. */
    taskRoot: string;
    archivePackages: string[];
    /** The full environment of the instance (the function's variables plus the runtime's). */
    env: Record<string, string>;
    /** The transpiled runtime (local/lambdaRuntime.ts) as a file. */
    runtimeFile: string;
    maxInstances: number;
    /** Receives every line the function logs, already prefixed. */
    log: (line: string) => void;
    /** The version this code is (`context.functionVersion`, the log stream's `[version]`); `$LATEST` by default. */
    version?: string;
}

interface Instance {
    worker: Worker;
    id: string;
    /** Fixed for the instance's life, as Lambda's log stream is (its date is the instance's start). */
    logStreamName: string;
    ready: Promise<{ ok: true } | { ok: false; errorType: string; errorMessage: string }>;
    busy: boolean;
    dead: boolean;
    invocations: number;
    pending?: { id: number; resolve: (outcome: InvokeOutcome) => void };
}

export interface PoolStats {
    instances: number;
    busy: number;
    coldStarts: number;
    invocations: number;
    /** Most instances busy at the same time since the pool started. */
    peakConcurrency: number;
}

let invocationCounter = 0;

export class FunctionPool {
    private readonly instances: Instance[] = [];
    private readonly waiting: ((instance: Instance) => void)[] = [];
    private closed = false;
    private readonly counters = { coldStarts: 0, invocations: 0, peakConcurrency: 0 };

    constructor(private readonly options: PoolOptions) {}

    get name(): string {
        return this.options.fn.name;
    }

    /** Where the function's code is and the environment its instances get (to run it without a pool). */
    get deployment(): { fn: FunctionModel; taskRoot: string; env: Record<string, string> } {
        return { fn: this.options.fn, taskRoot: this.options.taskRoot, env: this.options.env };
    }

    stats(): PoolStats {
        const alive = this.instances.filter((i) => !i.dead);
        return { instances: alive.length, busy: alive.filter((i) => i.busy).length, ...this.counters };
    }

    /** The version this pool's code is (`$LATEST` unless published). */
    get version(): string {
        return this.options.version ?? "$LATEST";
    }

    /**
     * Runs one invocation; `fresh` forces a new instance (to measure a cold start). `invokedArn` is
     * the ARN the caller named (an alias's or a version's: `context.invokedFunctionArn`).
     */
    async invoke(
        event: string,
        awsRequestId: string = crypto.randomUUID(),
        fresh = false,
        invokedArn?: string,
    ): Promise<InvokeOutcome> {
        const instance = fresh ? this.spawn(true) : await this.acquire();
        try {
            const ready = await instance.ready;
            if (!ready.ok) {
                return { kind: "error", errorType: ready.errorType, errorMessage: ready.errorMessage };
            }
            return await this.run(instance, event, awsRequestId, invokedArn);
        } finally {
            this.release(instance);
        }
    }

    /**
     * Provisioned concurrency, locally: starts instances until `count` are alive (within
     * `maxInstances`), which initialize now and wait idle, as Lambda keeps provisioned instances
     * initialized before any request (`AWS_LAMBDA_INITIALIZATION_TYPE` is `provisioned-concurrency`
     * in them). Returns how many it started.
     */
    prewarm(count: number): number {
        const target = Math.min(count, this.options.maxInstances);
        let started = 0;
        while (!this.closed && this.instances.filter((i) => !i.dead).length < target) {
            this.spawn(false, { AWS_LAMBDA_INITIALIZATION_TYPE: "provisioned-concurrency" });
            started++;
        }
        return started;
    }

    async close(): Promise<void> {
        this.closed = true;
        await Promise.all(this.instances.map((i) => this.kill(i)));
    }

    private acquire(): Promise<Instance> {
        const idle = this.instances.find((i) => !i.busy && !i.dead);
        if (idle) {
            idle.busy = true;
            this.notePeak();
            return Promise.resolve(idle);
        }
        if (this.instances.filter((i) => !i.dead).length < this.options.maxInstances) {
            return Promise.resolve(this.spawn(true));
        }
        return new Promise((resolve) => this.waiting.push(resolve));
    }

    private release(instance: Instance) {
        instance.busy = false;
        if (instance.dead) {
            const index = this.instances.indexOf(instance);
            if (index >= 0) {
                this.instances.splice(index, 1);
            }
            // Its place is free: a waiting invocation gets a new instance.
            const next = this.waiting.shift();
            if (next && !this.closed) {
                next(this.spawn(true));
            }
            return;
        }
        const next = this.waiting.shift();
        if (next) {
            instance.busy = true;
            next(instance);
        }
    }

    private notePeak() {
        this.counters.peakConcurrency = Math.max(
            this.counters.peakConcurrency,
            this.instances.filter((i) => i.busy && !i.dead).length,
        );
    }

    private spawn(busy: boolean, env: Record<string, string> = {}): Instance {
        const { fn } = this.options;
        const id = crypto.randomBytes(16).toString("hex");
        const streamName = logStreamName(id, this.version);
        const workerData: RuntimeData = {
            kind: "lambda-runtime",
            taskRoot: this.options.taskRoot,
            handler: fn.handler,
            archivePackages: this.options.archivePackages,
        };
        const worker = new Worker(this.options.runtimeFile, {
            workerData,
            env: { ...this.options.env, ...env, AWS_LAMBDA_LOG_STREAM_NAME: streamName },
            stdout: true,
            stderr: true,
            // Roughly the function's memory setting: a function that needs more fails here too.
            resourceLimits: { maxOldGenerationSizeMb: Math.max(fn.memorySize, 128) },
        });
        const instance: Instance = {
            worker,
            id,
            logStreamName: streamName,
            busy,
            dead: false,
            invocations: 0,
            ready: Promise.resolve({ ok: true }),
        };
        this.counters.coldStarts++;
        this.instances.push(instance);
        this.notePeak();
        for (const stream of [worker.stdout, worker.stderr]) {
            readline.createInterface({ input: stream }).on("line", (line) => this.options.log(line));
        }
        instance.ready = new Promise((resolve) => {
            const onMessage = (message: RuntimeMessage) => {
                if (message.type === "ready") {
                    worker.off("message", onMessage);
                    resolve({ ok: true });
                } else if (message.type === "initError") {
                    worker.off("message", onMessage);
                    instance.dead = true;
                    void worker.terminate();
                    resolve({ ok: false, errorType: message.errorType, errorMessage: message.errorMessage });
                }
            };
            worker.on("message", onMessage);
            worker.once("exit", () =>
                resolve({ ok: false, errorType: "Runtime.ExitError", errorMessage: "the instance exited during init" }),
            );
        });
        worker.on("message", (message: RuntimeMessage) => {
            const pending = instance.pending;
            if ((message.type === "result" || message.type === "error") && pending && pending.id === message.id) {
                instance.pending = undefined;
                pending.resolve(
                    message.type === "result"
                        ? { kind: "result", payload: message.payload }
                        : { kind: "error", errorType: message.errorType, errorMessage: message.errorMessage },
                );
            }
        });
        const die = (errorType: string, errorMessage: string) => {
            instance.dead = true;
            const pending = instance.pending;
            instance.pending = undefined;
            pending?.resolve({ kind: "error", errorType, errorMessage });
            if (!instance.busy) {
                // An idle instance that crashed (a stray timer's exception): forget it.
                const index = this.instances.indexOf(instance);
                if (index >= 0) {
                    this.instances.splice(index, 1);
                }
            }
        };
        worker.on("error", (err) => {
            this.options.log(`${new Date().toISOString()}\tundefined\tERROR\tUncaught ${err.name}: ${err.message}`);
            die(
                err.name === "Error" && /memory/i.test(err.message) ? "Runtime.OutOfMemory" : "Runtime.ExitError",
                err.message,
            );
        });
        worker.on("exit", (code) => die("Runtime.ExitError", `RequestId: instance exited with code ${code}`));
        return instance;
    }

    private run(
        instance: Instance,
        event: string,
        awsRequestId: string,
        invokedArn = this.options.fn.arn,
    ): Promise<InvokeOutcome> {
        const { fn } = this.options;
        const timeoutMs = fn.timeoutSeconds * 1000;
        const message: InvokeMessage = {
            type: "invoke",
            id: ++invocationCounter,
            event,
            context: {
                awsRequestId,
                deadlineMs: Date.now() + timeoutMs,
                functionName: fn.name,
                functionVersion: this.version,
                invokedFunctionArn: invokedArn,
                memoryLimitInMB: String(fn.memorySize),
                logGroupName: fn.logGroup,
                logStreamName: instance.logStreamName,
            },
        };
        this.counters.invocations++;
        instance.invocations++;
        return new Promise<InvokeOutcome>((resolve) => {
            const timer = setTimeout(() => {
                if (instance.pending?.id === message.id) {
                    instance.pending = undefined;
                    // Lambda stops the instance on timeout; the next call gets a fresh one.
                    this.options.log(
                        `${new Date().toISOString()} ${awsRequestId} Task timed out after ${fn.timeoutSeconds.toFixed(2)} seconds`,
                    );
                    void this.kill(instance);
                    resolve({ kind: "timeout" });
                }
            }, timeoutMs);
            instance.pending = {
                id: message.id,
                resolve: (outcome) => {
                    clearTimeout(timer);
                    resolve(outcome);
                },
            };
            instance.worker.postMessage(message);
        });
    }

    private async kill(instance: Instance) {
        instance.dead = true;
        await instance.worker.terminate();
    }
}

const logStreamName = (instanceId: string, version: string) =>
    `${new Date().toISOString().slice(0, 10).replace(/-/g, "/")}/[${version}]${instanceId}`;

/**
 * Writes local/lambdaRuntime.ts as JavaScript next to the functions, so workers start from plain
 * JavaScript (no TypeScript loader in every instance). Uses the compiled file when there is one.
 */
export function writeRuntimeFile(dir: string): string {
    const compiled = path.join(__dirname, "lambdaRuntime.js");
    let code: string;
    if (fs.existsSync(compiled)) {
        code = fs.readFileSync(compiled, "utf8");
    } else {
        const ts = require("typescript") as typeof import("typescript");
        code = ts.transpileModule(fs.readFileSync(path.join(__dirname, "lambdaRuntime.ts"), "utf8"), {
            compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
        }).outputText;
    }
    const file = path.join(dir, "lambdaRuntime.js");
    writeFileWhole(file, code);
    return file;
}
