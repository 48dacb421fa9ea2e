// The local cloud: runs the Pulumi program for a stack under mocks, provisions local equivalents of
// what it recorded (tables in dynalite, API keys and usage plans, the REST API, one worker pool per
// Lambda function) and serves the API over HTTP. scripts/start.ts, the tests and the benchmark all
// start it through `startLocalCloud`.
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import type { StorageFaults } from "./appendLog";
import { startDynamo, ensureTables, LOCAL_CREDENTIALS, type LocalDynamo } from "./dynamo";
import { describeError, Gateway, LIMITS, type GatewayAnswer } from "./gateway";
import { FunctionPool, writeRuntimeFile, type PoolStats } from "./lambdaPool";
import { cloudModel, type CloudModel, type FunctionModel } from "./model";
import type { IncomingRequest } from "./proxyEvent";
import { archiveEntries, recordProgram, type RecordedProgram } from "./recordProgram";
import { TYPES } from "./resourceTypes";
import { readStackFiles } from "./stackFiles";
import { defaultStateDir, KeyStore, LocalCloudError, writeJsonFile } from "./stateDir";
import { lockStateDir } from "./stateLock";
import { quotaOffsetWarnings, UsageLimiter } from "./usage";

export { LocalCloudError } from "./stateDir";

export interface RequestLog {
    method: string;
    path: string;
    status: number;
    latencyMs: number;
    /** The API key's logical name (the consumer), when the method required a key. */
    consumer?: string;
    requestId: string;
    /** The gateway response type when the gateway answered by itself. */
    refusal?: string;
}

export interface LocalCloudOptions {
    stack: string;
    /** 8080 by default; 0 picks a free port. */
    port?: number;
    host?: string;
    /** Where data and keys live; `.local/<stack>` by default. */
    stateDir?: string;
    /** Replace the stack file (tests define their own stacks); see RecordOptions. */
    stackConfig?: Record<string, unknown>;
    /** Override single config keys; see RecordOptions. */
    config?: Record<string, unknown>;
    projectDir?: string;
    /** Instances per function before requests wait for a free one (Lambda would scale further). */
    maxInstancesPerFunction?: number;
    /** API Gateway's integration timeout; 29 s unless a test needs it shorter. */
    integrationTimeoutMs?: number;
    /** Clock for throttle and quota (tests move time instead of waiting). */
    now?: () => number;
    onRequest?: (entry: RequestLog) => void;
    /** Every line a function logs, prefixed with the function's logical name. */
    onFunctionLog?: (line: string) => void;
    /** Storage faults to inject (tests of full disks and I/O errors); none by default. */
    faults?: StorageFaults;
    /** Notices worth showing a user (undecryptable config, kept tables, repairs after a crash, ...). */
    onWarning?: (message: string) => void;
}

export interface LocalCloud {
    stack: string;
    /** http://127.0.0.1:{port} */
    url: string;
    port: number;
    /** Stage name -> `http://127.0.0.1:{port}/{stage}/`. */
    stageUrls: Record<string, string>;
    /** The first stage's URL (the program's usual single stage). */
    stageUrl: string;
    stateDir: string;
    dynamoEndpoint: string;
    program: RecordedProgram;
    model: CloudModel;
    /** The program's outputs, as `pulumi stack output` would show them after a local `up`. */
    outputs: Record<string, unknown>;
    secretOutputs: string[];
    /** API key logical name (consumer) -> value. */
    apiKeys: Record<string, string>;
    /** Routes as "METHOD /stage/path" with whether they need a key. */
    routes: { method: string; path: string; apiKeyRequired: boolean; integration: string }[];
    functionStats(): Record<string, PoolStats>;
    /** The pool of one function, by logical name (benchmarks measure cold starts through it). */
    functionPool(logicalName: string): FunctionPool | undefined;
    /** Forgets throttle buckets and quota counters. */
    resetUsage(): void;
    close(): Promise<void>;
}

const DEFAULT_PORT = 8080;
const DEFAULT_MAX_INSTANCES = 10;

function isInside(child: string, parent: string): boolean {
    const relative = path.relative(parent, child);
    return relative !== "" && !relative.startsWith("..") && !path.isAbsolute(relative);
}

function findNodeModules(from: string, projectDir: string): string {
    for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
        const candidate = path.join(dir, "node_modules");
        if (fs.existsSync(path.join(candidate, "@aws-sdk", "client-dynamodb"))) {
            return candidate;
        }
        if (path.dirname(dir) === dir) {
            return path.join(projectDir, "node_modules");
        }
    }
}

async function listen(server: http.Server, port: number, host: string): Promise<number> {
    await new Promise<void>((resolve, reject) => {
        const onError = (err: NodeJS.ErrnoException) => {
            server.off("listening", onListening);
            reject(err.code === "EADDRINUSE"
                ? new LocalCloudError(`Port ${port} on ${host} is already in use (is another local cloud running?). Pass --port <n> to use another one.`)
                : err.code === "EACCES"
                    ? new LocalCloudError(`Not allowed to listen on port ${port} on ${host}; pick a port above 1023 with --port <n>.`)
                    : err);
        };
        const onListening = () => {
            server.off("error", onError);
            resolve();
        };
        server.once("error", onError);
        server.once("listening", onListening);
        server.listen(port, host);
    });
    return (server.address() as AddressInfo).port;
}

/**
 * Reads a request body up to the gateway's limit; past it, the rest is drained and dropped. Never
 * rejects: a client that goes away before the end of its request gives `{ closed: true }`.
 */
function readBody(req: http.IncomingMessage): Promise<{ body: Buffer; tooLarge: boolean } | { closed: true }> {
    return new Promise((resolve) => {
        if (req.destroyed) {
            // Gone while the server was still starting: its body was dropped with the socket.
            resolve({ closed: true });
            return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        let tooLarge = Number(req.headers["content-length"] ?? 0) > LIMITS.gatewayRequestBytes;
        req.on("data", (chunk: Buffer) => {
            size += chunk.length;
            if (size > LIMITS.gatewayRequestBytes) {
                tooLarge = true;
            }
            if (!tooLarge) {
                chunks.push(chunk);
            }
        });
        // The first of these settles the promise; "close" after "end" changes nothing.
        req.on("end", () => resolve({ body: tooLarge ? Buffer.alloc(0) : Buffer.concat(chunks), tooLarge }));
        req.on("error", () => resolve({ closed: true }));
        req.on("close", () => resolve({ closed: true }));
    });
}

/** Writes each function's archive where Node resolves the project's node_modules, and lists its packages. */
async function writeFunctionCode(fn: FunctionModel, functionsDir: string): Promise<{ taskRoot: string; archivePackages: string[] }> {
    const taskRoot = path.join(functionsDir, fn.name);
    fs.rmSync(taskRoot, { recursive: true, force: true });
    fs.mkdirSync(taskRoot, { recursive: true });
    const archivePackages: string[] = [];
    for (const [name, entry] of Object.entries(await archiveEntries(fn.code))) {
        if (entry.text !== undefined) {
            const file = path.join(taskRoot, name);
            fs.mkdirSync(path.dirname(file), { recursive: true });
            fs.writeFileSync(file, entry.text);
        } else if (name.startsWith("node_modules/")) {
            archivePackages.push(name.slice("node_modules/".length));
        }
    }
    return { taskRoot, archivePackages };
}

function lambdaEnvironment(fn: FunctionModel, region: string, dynamoEndpoint: string, taskRoot: string): Record<string, string> {
    return {
        PATH: process.env["PATH"] ?? "/usr/local/bin:/usr/bin:/bin",
        LANG: "en_US.UTF-8",
        TZ: ":UTC",
        ...fn.environment,
        // Set by the Lambda service itself (users cannot override them there either).
        AWS_REGION: region,
        AWS_DEFAULT_REGION: region,
        AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
        AWS_SESSION_TOKEN: "local",
        AWS_LAMBDA_FUNCTION_NAME: fn.name,
        AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memorySize),
        AWS_LAMBDA_LOG_GROUP_NAME: fn.logGroup,
        AWS_LAMBDA_INITIALIZATION_TYPE: "on-demand",
        AWS_EXECUTION_ENV: `AWS_Lambda_${fn.runtime}`,
        LAMBDA_TASK_ROOT: taskRoot,
        _HANDLER: fn.handler,
        // The standard SDK setting that points the unmodified DynamoDB client at the local engine.
        AWS_ENDPOINT_URL_DYNAMODB: dynamoEndpoint,
        // Lambda runs a newer Node than this machine may; the SDK's "upgrade Node" warning would
        // never appear there.
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    };
}

export const undecryptableNotice = (stack: string, key: string) =>
    `${key} is encrypted (secure:) in Pulumi.${stack}.yaml and only the Pulumi CLI can decrypt it; the local cloud runs without it` +
    (/apiKeyValues/.test(key) ? " and uses locally generated key values instead." : ".");

/**
 * Runs the program for a stack as the local cloud sees it: API key values and generated secrets
 * (the cursor key) from the stack folder (generated once; a configured value always wins) and
 * stage URLs on the local server. Saving the generated values is left to the caller, once the rest
 * of the start has worked.
 */
export async function recordLocalProgram(options: Pick<LocalCloudOptions, "stack" | "stackConfig" | "config" | "projectDir"> & { stateDir: string; baseUrl: string }): Promise<{ program: RecordedProgram; keyStore: KeyStore }> {
    const keyStore = new KeyStore(options.stateDir);
    const program = await recordProgram({
        stack: options.stack,
        projectDir: options.projectDir,
        stackConfig: options.stackConfig,
        config: options.config,
        stateOverride: ({ type, name, inputs }) => {
            if (type === TYPES.apiKey && !(typeof inputs["value"] === "string" && inputs["value"] !== "")) {
                return { value: keyStore.valueFor(name) };
            }
            if (type === TYPES.randomBytes) {
                // A generated secret (the cursor key): made once per state folder and kept, as
                // the random provider keeps it in a stack's state.
                const hex = keyStore.secretFor(name, Number(inputs["length"] ?? 32));
                return { hex, base64: Buffer.from(hex, "hex").toString("base64") };
            }
            if (type === TYPES.stage) {
                return { invokeUrl: `${options.baseUrl}/${inputs["stageName"]}` };
            }
            return undefined;
        },
    });
    return { program, keyStore };
}

export async function startLocalCloud(options: LocalCloudOptions): Promise<LocalCloud> {
    const projectDir = path.resolve(options.projectDir ?? process.cwd());
    const stack = options.stack;
    const stateDir = path.resolve(options.stateDir ?? defaultStateDir(stack, projectDir));
    const host = options.host ?? "127.0.0.1";
    const now = options.now ?? Date.now;
    const warn = options.onWarning ?? (() => undefined);
    const functionLog = options.onFunctionLog ?? (() => undefined);

    // Cheap checks first, before anything is written: the stack file, then the port.
    if (!options.stackConfig) {
        readStackFiles(projectDir, stack);
    }
    let gateway: Gateway | undefined;
    let failed: unknown;
    let markReady: () => void = () => undefined;
    const ready = new Promise<void>((resolve) => {
        markReady = resolve;
    });
    const server = http.createServer((req, res) => {
        const started = process.hrtime.bigint();
        const method = (req.method ?? "GET").toUpperCase();
        const url = req.url ?? "/";
        const q = url.indexOf("?");
        const requestPath = q < 0 ? url : url.slice(0, q);
        const log = (line: string) => {
            try {
                functionLog(`[gateway] ${line}`);
            } catch {
                // A failing log sink must not take the server down.
            }
        };
        // The client may go away at any moment: while its body arrives, or while the function runs.
        let clientGone = false;
        res.on("close", () => {
            clientGone ||= !res.writableFinished;
        });
        let logged = false;
        const logRequest = (answer: GatewayAnswer) => {
            if (!logged) {
                logged = true;
                options.onRequest?.({
                    method, path: requestPath, status: answer.status, latencyMs: Number(process.hrtime.bigint() - started) / 1e6,
                    consumer: answer.consumer, requestId: answer.requestId, refusal: answer.refusal,
                });
            }
        };
        const send = (answer: GatewayAnswer) => {
            for (const name of res.getHeaderNames()) {
                res.removeHeader(name);
            }
            for (const [name, values] of Object.entries(answer.headers)) {
                // One comma-joined line per header (Set-Cookie keeps one line per value).
                res.setHeader(name, name.toLowerCase() === "set-cookie" ? values : values.join(","));
            }
            res.statusCode = answer.status;
            res.end(method === "HEAD" ? undefined : answer.body);
        };
        /**
         * Sends the gateway's generic 500 for a fault (the API's DEFAULT_5XX headers, CORS among them)
         * and returns it; when Node refuses even those headers, the same 500 without them.
         */
        const sendFault = (err: unknown, requestId?: string): GatewayAnswer => {
            const answer = gateway!.internalError({ method, path: requestPath, rawHeaders: req.rawHeaders }, err, requestId);
            try {
                send(answer);
                return answer;
            } catch (again) {
                log(`${method} ${requestPath}: the API's DEFAULT_5XX headers cannot be sent (${describeError(again)}); sent the 500 without them`);
                const bare: GatewayAnswer = {
                    ...answer,
                    headers: { "Content-Type": ["application/json"], "x-amzn-ErrorType": ["InternalServerErrorException"], "x-amzn-RequestId": [answer.requestId] },
                    body: Buffer.from("{\"message\": \"Internal server error\"}"),
                };
                send(bare);
                return bare;
            }
        };
        void (async () => {
            await ready;
            if (!gateway) {
                res.writeHead(503, { "Content-Type": "application/json" }).end(JSON.stringify({ message: `local cloud failed to start: ${String(failed)}` }));
                return;
            }
            const read = await readBody(req);
            if ("closed" in read) {
                // The gateway never saw this request: no answer, no request-log line, and nothing
                // charged to a key's throttle or quota (the API key is read only once the whole
                // request is in, as API Gateway does not bill requests it never received).
                log(`client closed the connection: ${method} ${requestPath} (before the end of the request; not counted)`);
                return;
            }
            const request: IncomingRequest & { tooLarge: boolean } = {
                method,
                path: requestPath,
                rawQuery: q < 0 ? "" : url.slice(q + 1),
                rawHeaders: req.rawHeaders,
                body: read.body,
                sourceIp: (req.socket.remoteAddress ?? "127.0.0.1").replace(/^::ffff:/, ""),
                localPort: req.socket.localPort ?? 0,
                tooLarge: read.tooLarge,
            };
            // Never rejects: the gateway answers its own faults with the API's generic 500.
            let answer = await gateway.handle(request);
            if (clientGone) {
                // Read in full and handled (and counted, as on AWS, where the function runs on too),
                // but there is nobody left to answer: one line, and the request log keeps the status.
                log(`client closed the connection: ${method} ${requestPath} (before the answer; ${answer.status} not sent, request ${answer.requestId})`);
                logRequest(answer);
                return;
            }
            try {
                send(answer);
            } catch (err) {
                // Node refused the answer (a header it cannot send): the generic 500 instead, same request id.
                answer = sendFault(err, answer.requestId);
            }
            logRequest(answer);
        })().catch((err) => {
            // Last resort (an answer Node refused twice, a throwing request-log callback): one line,
            // the generic 500 with the API's headers when nothing was sent yet, never a crash.
            if (!gateway || res.headersSent || clientGone) {
                log(`${method} ${requestPath}: request failed: ${describeError(err)}`);
                if (!res.writableEnded) {
                    res.destroy();
                }
                return;
            }
            try {
                logRequest(sendFault(err));
            } catch (again) {
                log(`${method} ${requestPath}: request failed: ${describeError(again)}`);
                if (!res.writableEnded) {
                    res.destroy();
                }
            }
        });
    });
    const port = await listen(server, options.port ?? DEFAULT_PORT, host);
    const displayHost = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host;
    const baseUrl = `http://${displayHost}:${port}`;

    // Undone in reverse order after the server stops taking requests.
    const cleanup: (() => Promise<void>)[] = [];
    const runCleanup = async () => {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        for (const step of cleanup.reverse()) {
            await step().catch(() => undefined);
        }
    };

    try {
        // Before reading keys.json: two starts on one folder must not both generate keys.
        const createdStateDir = !fs.existsSync(stateDir);
        const unlock = lockStateDir(stateDir, `${baseUrl}/`, warn);
        cleanup.push(async () => {
            unlock();
            if (createdStateDir && gateway === undefined && fs.readdirSync(stateDir).length === 0) {
                // A first start that failed leaves no empty folder behind.
                fs.rmdirSync(stateDir);
            }
        });
        const { program, keyStore } = await recordLocalProgram({ ...options, projectDir, stateDir, baseUrl });
        program.undecryptable.forEach((key) => warn(undecryptableNotice(stack, key)));
        const model = cloudModel(program);

        const dynamo: LocalDynamo = await startDynamo(stateDir, model.region, options.faults);
        cleanup.push(() => dynamo.close());
        dynamo.report.forEach(warn);
        const tables = await ensureTables(dynamo.client, model.tables);
        tables.warnings.forEach(warn);
        keyStore.save();

        // Admitted requests are written ahead to usage.log (local/usage.ts), so kill -9 forgets none.
        const limiter = UsageLimiter.open(stateDir, { now, warn, faults: options.faults });
        cleanup.push(async () => limiter.close());
        quotaOffsetWarnings(model.usagePlans).forEach(warn);

        // Derived from the program on every start: code of functions the program no longer has goes.
        const functionsDir = path.join(stateDir, "functions");
        fs.rmSync(functionsDir, { recursive: true, force: true });
        fs.mkdirSync(functionsDir, { recursive: true });
        // The serialized code requires the runtime's SDK and the archive's packages by name: make
        // the project's node_modules reachable from wherever the state folder is.
        const nodeModules = findNodeModules(projectDir, projectDir);
        if (!isInside(functionsDir, path.dirname(nodeModules))) {
            const link = path.join(functionsDir, "node_modules");
            fs.rmSync(link, { force: true, recursive: true });
            fs.symlinkSync(nodeModules, link, "dir");
        }
        const runtimeFile = writeRuntimeFile(functionsDir);
        const pools = new Map<string, FunctionPool>();
        const poolsByName = new Map<string, FunctionPool>();
        for (const fn of model.functions) {
            const { taskRoot, archivePackages } = await writeFunctionCode(fn, functionsDir);
            const pool = new FunctionPool({
                fn,
                taskRoot,
                archivePackages,
                env: lambdaEnvironment(fn, model.region, dynamo.endpoint, taskRoot),
                runtimeFile,
                maxInstances: options.maxInstancesPerFunction ?? DEFAULT_MAX_INSTANCES,
                log: (line) => functionLog(`[${fn.logicalName}] ${line}`),
            });
            pools.set(fn.arn, pool);
            poolsByName.set(fn.logicalName, pool);
        }
        cleanup.push(async () => {
            await Promise.all([...pools.values()].map((p) => p.close()));
        });

        // Lets `npm run outputs` show the URL of the last start.
        writeJsonFile(path.join(stateDir, "server.json"), { url: baseUrl });

        gateway = new Gateway({
            model,
            pools,
            limiter,
            integrationTimeoutMs: options.integrationTimeoutMs ?? LIMITS.integrationTimeoutMs,
            now,
            log: (line) => functionLog(`[gateway] ${line}`),
        });
        markReady();

        const stageUrls = Object.fromEntries(model.restApis.flatMap((api) => api.stages.map((s) => [s.name, `${baseUrl}/${s.name}/`])));
        const routes = model.restApis.flatMap((api) => api.stages.flatMap((s) => api.operations.map((op) => ({
            method: op.method,
            path: `/${s.name}${op.resourcePath === "/" ? "/" : op.resourcePath}`,
            apiKeyRequired: op.apiKeyRequired,
            integration: String(op.integration?.type ?? "none").toLowerCase() === "aws_proxy"
                ? model.functions.find((f) => String(op.integration.uri).includes(`/functions/${f.arn}/`))?.logicalName ?? "lambda"
                : String(op.integration?.type ?? "none").toLowerCase(),
        }))));
        let closing: Promise<void> | undefined;
        return {
            stack,
            url: baseUrl,
            port,
            stageUrls,
            stageUrl: Object.values(stageUrls)[0] ?? `${baseUrl}/`,
            stateDir,
            dynamoEndpoint: dynamo.endpoint,
            program,
            model,
            outputs: program.outputs,
            secretOutputs: program.secretOutputs,
            apiKeys: Object.fromEntries(model.apiKeys.map((k) => [k.logicalName, k.value])),
            routes,
            functionStats: () => Object.fromEntries([...poolsByName].map(([name, pool]) => [name, pool.stats()])),
            functionPool: (name) => poolsByName.get(name),
            resetUsage: () => limiter.reset(),
            close: () => (closing ??= runCleanup()),
        };
    } catch (err) {
        failed = err;
        markReady();
        await runCleanup();
        throw err;
    }
}
