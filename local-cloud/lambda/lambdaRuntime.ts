// The inside of one local Lambda instance: runs in its own worker thread with the function's own
// environment variables, loads the serialized archive once (the init phase), then answers one
// invocation at a time, keeping module state between them like a warm Lambda container.
//
// This file runs in a worker started from plain JavaScript (local/lambdaPool.ts transpiles it), so
// it imports only Node built-ins and nothing else from the project.
import * as path from "node:path";
import * as util from "node:util";
import { parentPort, workerData } from "node:worker_threads";

export interface RuntimeData {
    kind: "lambda-runtime";
    /** Folder holding the archive's `__index.js` (LAMBDA_TASK_ROOT). */
    taskRoot: string;
    /** `file.export`, e.g. `__index.handler`. */
    handler: string;
    /**
     * Packages the archive ships (`node_modules/<name>` folders); the code may require only these, builtins and the
     * runtime's AWS SDK v3.
     */
    archivePackages: string[];
}

export interface InvokeMessage {
    type: "invoke";
    id: number;
    /** The event as JSON text: Lambda hands the handler what JSON.parse makes of the payload. */
    event: string;
    context: {
        awsRequestId: string;
        deadlineMs: number;
        functionName: string;
        functionVersion: string;
        invokedFunctionArn: string;
        memoryLimitInMB: string;
        logGroupName: string;
        logStreamName: string;
    };
}

export type RuntimeMessage =
    | { type: "ready"; initMs: number }
    | { type: "initError"; errorType: string; errorMessage: string }
    | { type: "result"; id: number; payload: string }
    | { type: "error"; id: number; errorType: string; errorMessage: string; stack: string[] };

interface ErrorLike {
    name?: string;
    message?: string;
    stack?: string;
}

const errorFields = (err: unknown) => {
    const e = (err ?? {}) as ErrorLike;
    return {
        errorType: typeof e.name === "string" ? e.name : "Error",
        errorMessage: typeof e.message === "string" ? e.message : String(err),
        stack: typeof e.stack === "string" ? e.stack.split("\n") : [],
    };
};

function main(data: RuntimeData) {
    const port = parentPort!;
    let currentRequestId: string | undefined;

    // The Lambda Node.js runtime prefixes every console line with time, request id and level.
    const write = (level: string, args: unknown[]) => {
        const text = util.format(...args);
        process.stdout.write(`${new Date().toISOString()}\t${currentRequestId ?? "undefined"}\t${level}\t${text}\n`);
    };
    console.log = (...args: unknown[]) => write("INFO", args);
    console.info = (...args: unknown[]) => write("INFO", args);
    console.warn = (...args: unknown[]) => write("WARN", args);
    console.error = (...args: unknown[]) => write("ERROR", args);
    console.debug = (...args: unknown[]) => write("DEBUG", args);
    console.trace = (...args: unknown[]) => write("TRACE", args);

    // On Lambda only the archive's packages and the runtime's AWS SDK v3 exist: refuse anything else
    // the serialized code asks for, so a missing dependency fails here the way it would on AWS.
    // The real module object (not an import namespace copy), so the hook is seen by every require.
    const moduleInternals = require("node:module") as {
        isBuiltin: (name: string) => boolean;
        _resolveFilename: (request: string, parent: { filename?: string } | undefined, ...rest: unknown[]) => string;
    };
    const resolve = moduleInternals._resolveFilename;
    const allowed = new Set(data.archivePackages);
    moduleInternals._resolveFilename = function (request, parent, ...rest) {
        const fromTask = parent?.filename !== undefined && path.dirname(parent.filename) === data.taskRoot;
        if (fromTask && !request.startsWith(".") && !path.isAbsolute(request) && !moduleInternals.isBuiltin(request)) {
            const parts = request.split("/");
            const name = request.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!;
            if (!allowed.has(name) && !name.startsWith("@aws-sdk/")) {
                const error = new Error(
                    `Cannot find module '${request}'\nRequire stack:\n- ${parent.filename}`,
                ) as Error & { code: string };
                error.code = "MODULE_NOT_FOUND";
                throw error;
            }
        }
        return resolve.call(this, request, parent, ...rest);
    };

    const dot = data.handler.lastIndexOf(".");
    const file = path.join(data.taskRoot, data.handler.slice(0, dot));
    const exportName = data.handler.slice(dot + 1);
    let handler: (...args: unknown[]) => unknown;
    const started = Date.now();
    try {
        const loaded = require(file);
        handler = loaded[exportName];
        if (typeof handler !== "function") {
            port.postMessage({
                type: "initError",
                errorType: "Runtime.HandlerNotFound",
                errorMessage: `${data.handler} is undefined or not exported`,
            } satisfies RuntimeMessage);
            return;
        }
    } catch (err) {
        const { errorType, errorMessage } = errorFields(err);
        const type = (err as { code?: string }).code === "MODULE_NOT_FOUND" ? "Runtime.ImportModuleError" : errorType;
        write("ERROR", [`Init error: ${type}: ${errorMessage}`]);
        port.postMessage({ type: "initError", errorType: type, errorMessage } satisfies RuntimeMessage);
        return;
    }
    port.postMessage({ type: "ready", initMs: Date.now() - started } satisfies RuntimeMessage);

    port.on("message", (message: InvokeMessage) => {
        const { id, context: c } = message;
        currentRequestId = c.awsRequestId;
        let settled = false;
        const finish = (outcome: { error: unknown } | { result: unknown }) => {
            if (settled) {
                return;
            }
            settled = true;
            if ("error" in outcome) {
                const fields = errorFields(outcome.error);
                write("ERROR", [`Invoke Error \t${JSON.stringify(fields)}`]);
                port.postMessage({ type: "error", id, ...fields } satisfies RuntimeMessage);
                return;
            }
            let payload: string;
            try {
                // Lambda serializes the answer as JSON; `undefined` arrives as null.
                payload = JSON.stringify(outcome.result) ?? "null";
            } catch (err) {
                finish({ error: err });
                return;
            }
            port.postMessage({ type: "result", id, payload } satisfies RuntimeMessage);
        };
        const context = {
            callbackWaitsForEmptyEventLoop: true,
            functionName: c.functionName,
            functionVersion: c.functionVersion,
            invokedFunctionArn: c.invokedFunctionArn,
            memoryLimitInMB: c.memoryLimitInMB,
            awsRequestId: c.awsRequestId,
            logGroupName: c.logGroupName,
            logStreamName: c.logStreamName,
            getRemainingTimeInMillis: () => Math.max(0, c.deadlineMs - Date.now()),
            done: (error?: unknown, result?: unknown) => finish(error ? { error } : { result }),
            fail: (error: unknown) => finish({ error }),
            succeed: (result: unknown) => finish({ result }),
        };
        const callback = (error?: unknown, result?: unknown) => finish(error ? { error } : { result });
        try {
            const returned = handler(JSON.parse(message.event), context, callback);
            if (returned && typeof (returned as Promise<unknown>).then === "function") {
                (returned as Promise<unknown>).then(
                    (result) => finish({ result }),
                    (error) => finish({ error }),
                );
            } else if (handler.length < 3) {
                // A non-async handler without a callback parameter answers with its return value.
                finish({ result: returned });
            }
        } catch (error) {
            finish({ error });
        }
    });
}

if (parentPort && (workerData as RuntimeData | undefined)?.kind === "lambda-runtime") {
    main(workerData as RuntimeData);
}
