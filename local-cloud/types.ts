// The local cloud's public types: what `startLocalCloud` takes and gives back, and the shapes its
// callbacks receive. Kept apart from the wiring (localCloud.ts) so the modules it wires (the services,
// startup/, console/) name these types without importing the module that imports them: no import cycle.
import type { AccountSettings } from "./account";
import type { StorageFaults } from "./state/appendLog";
import type { CapacitySnapshot } from "./dynamodb/dynamoCapacity";
import type { FunctionPool, PoolStats } from "./lambda/lambdaPool";
import type { CloudModel } from "./program/model";
import type { RecordedProgram } from "./program/recordProgram";
import type { ProgramConfigOptions } from "./program/stackFiles";

export interface RequestLog {
    method: string;
    path: string;
    status: number;
    latencyMs: number;
    /** The API key's logical name (the consumer), when the method required a key. */
    consumer?: string;
    requestId: string;
    /**
     * The gateway response type when the gateway answered by itself; for a control-plane call that
     * failed, the exception's name (`NotFoundException`, ...).
     */
    refusal?: string;
    /**
     * The stage's access-log line for this request (also appended to access.log), when the stage has access logging.
     */
    accessLog?: string;
    /** Set for a call to the control plane (`controlPlaneUrl`): the operation, e.g. `GetUsage`. */
    operation?: string;
    /** The Lambda invocation's request id (its log lines' prefix), when a function was invoked. */
    functionRequestId?: string;
    /**
     * The stage cache's verdict for a method it caches (stageCache.ts): `hit`, `miss`, or `refresh`
     * (an authorized `Cache-Control: max-age=0`); the console shows a column when set.
     */
    cache?: string;
    /** The Lambda version that answered (a number, or `$LATEST`), when a function was invoked. */
    functionVersion?: string;
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
    /**
     * Live reload: watch the program's sources and config files and reload on a change (see
     * startup/watch.ts for which files). `npm start` turns it on unless `--no-watch`; off by default.
     */
    watch?: boolean;
    /** The outcome of every reload, from the watcher or `reload()`. */
    onReload?: (report: ReloadReport) => void;
    /**
     * The console in the browser (console/console.ts), at `http://127.0.0.1:<port>/_local/` unless
     * `path` moves it; `false` turns it off. On by default.
     */
    console?: false | { path?: string };
    /**
     * The console's API reference document for a stage (the program's own OpenAPI document); without
     * it, or when it gives `undefined`, the recorded RestApi's OpenAPI body.
     */
    openApiDocument?: OpenApiDocumentSource;
    /**
     * The AWS account played: what GetAccount and Lambda's GetAccountSettings answer (account.ts);
     * DEFAULT_ACCOUNT unless set, e.g. ACCOUNT_PROFILES.new.
     */
    account?: AccountSettings;
    /**
     * Throttle a DynamoDB partition (one partition key value of a table or index) past this fraction
     * of DynamoDB's per-partition limits (3,000 read and 1,000 write units a second; 0.01: 30 and
     * 10), with DynamoDB's error (dynamoCapacity.ts). Unset: units are counted, nothing throttled.
     */
    throttlePartitions?: number;
}

export interface LocalCloud {
    stack: string;
    /** http://127.0.0.1:{port} */
    url: string;
    port: number;
    /**
     * The API Gateway control plane (GetUsage, GetUsagePlans, GetApiKeys, ...; controlPlane.ts):
     * `http://127.0.0.1:{port}/.aws/apigateway`, the `endpoint` of an `APIGatewayClient`.
     */
    controlPlaneUrl: string;
    /** The console in the browser, `http://127.0.0.1:{port}/_local/`; unset when turned off. */
    consoleUrl?: string;
    /** Stage name -> `http://127.0.0.1:{port}/{stage}/`. */
    stageUrls: Record<string, string>;
    /** The first stage's URL (the program's usual single stage). */
    stageUrl: string;
    stateDir: string;
    dynamoEndpoint: string;
    /** The recording being served (a reload replaces it, and the fields below derived from it). */
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
    /** DynamoDB units consumed so far per table, index and partition, and the throttle in force (dynamoCapacity.ts). */
    capacity(): CapacitySnapshot;
    /** The pool of one function, by logical name (benchmarks measure cold starts through it). */
    functionPool(logicalName: string): FunctionPool | undefined;
    /** Forgets throttle buckets and quota counters. */
    resetUsage(): void;
    /** Empties a stage's cache (every stage's without a name), as API Gateway's FlushStageCache does. */
    flushStageCache(stage?: string): void;
    /**
     * Records the program again and serves the new version (what the watcher does on a change);
     * tables, keys and usage counts stay. Never rejects: a failure is in the report, and the last
     * good version keeps serving.
     */
    reload(): Promise<ReloadReport>;
    close(): Promise<void>;
}

/** The outcome of a reload (startup/reload.ts), from the watcher or `reload()`. */
export interface ReloadReport {
    ok: boolean;
    /** From the first file event (or the `reload()` call) to the new version serving, or to the failure. */
    ms: number;
    /** The changed files that started it, relative to the project folder (none for a `reload()` call). */
    files: string[];
    /** What changed, one phrase each ("2 functions changed: getPost, listPosts"); empty when nothing did. */
    changes: string[];
    /** Why the new version was not taken (the last good one keeps serving). */
    error?: unknown;
}

/** A stage as the reference's document source gets it. */
export interface ConsoleStage {
    /** The stage name, e.g. `dev`. */
    name: string;
    /** `http://127.0.0.1:<port>/<stage>/`. */
    url: string;
    /** The REST API's id and logical name. */
    apiId: string;
    api: string;
    region: string;
    port: number;
}

/**
 * The API reference's document for a stage: the program's own OpenAPI document, when it has a better
 * one than the body API Gateway is given (descriptions, schemas, examples). `undefined` (or an error)
 * falls back to the recorded RestApi's OpenAPI body. Called once per stage and program version: page
 * loads in between share its answer, and a reload (a new version) asks again.
 */
export type OpenApiDocumentSource = (stage: ConsoleStage) => object | undefined | Promise<object | undefined>;

/** Where the console answers and its API reference's document (console/consolePath.ts checks the path). */
export interface ConsoleSettings {
    path: string;
    openApiDocument?: OpenApiDocumentSource;
}

/**
 * The start's options with every default filled in (startup/settings.ts `resolveSettings`): what the
 * services are given. Here rather than in startup/ so that a service names it without reaching up
 * into the start.
 */
export interface Settings {
    stack: string;
    projectDir: string;
    stateDir: string;
    host: string;
    port: number;
    /** What the program's config is read from (stackFiles.ts `readProgramConfig`). */
    program: ProgramConfigOptions;
    now: () => number;
    warn: (message: string) => void;
    /** Every line a function (or the gateway) logs, prefixed with who logged it. */
    functionLog: (line: string) => void;
    onRequest?: (entry: RequestLog) => void;
    maxInstancesPerFunction: number;
    integrationTimeoutMs: number;
    faults?: StorageFaults;
    /** DynamoDB's per-partition limits scaled by this to throttle at (dynamoCapacity.ts); unset: count only. */
    throttlePartitions?: number;
    watch: boolean;
    onReload: (report: ReloadReport) => void;
    /** The console in the browser (console/console.ts); unset when turned off. */
    console?: ConsoleSettings;
}
