// The local cloud: runs the Pulumi program for a stack under mocks, provisions local equivalents of
// what it recorded (tables in dynalite, API keys and usage plans, the REST API, one worker pool per
// Lambda function) and serves the API over HTTP. scripts/start.ts, the tests and the benchmark all
// start it through `startLocalCloud`, which is the list of steps below; each step is a module of
// startup/ that takes what the steps before it produced and hands its result on.
import type { AccountSettings } from "./account";
import { FunctionRouter } from "./aliases";
import type { StorageFaults } from "./appendLog";
import { checkConsolePath, LocalConsole, type OpenApiDocumentSource } from "./console/console";
import { CONTROL_PLANE_PATH, ControlPlane } from "./controlPlane";
import type { CapacitySnapshot } from "./dynamoCapacity";
import { Gateway } from "./gateway";
import type { FunctionPool, PoolStats } from "./lambdaPool";
import { cloudModel, type CloudModel } from "./model";
import { MOCK_ACCOUNT, type RecordedProgram } from "./recordProgram";
import { readProgramConfig } from "./stackFiles";
import { Functions } from "./startup/functions";
import { recorderThread } from "./startup/recorder";
import { cachedOnly, recordLocalProgram } from "./programCache";
import { undecryptableNotice, type LocalProgramInput } from "./startup/program";
import { describeChanges, Reloader, type ReloadReport } from "./startup/reload";
import { LocalServer } from "./startup/server";
import { resolveSettings, type Settings } from "./startup/settings";
import { openState, openStore, provisionTables, type StateFolder, type Store } from "./startup/state";
import { StageCaches, stageCacheWarnings } from "./stageCache";
import { permissionWarnings } from "./permissions";
import { watchSources, type SourceWatcher } from "./startup/watch";
import { quotaOffsetWarnings } from "./usage";

export { LocalCloudError } from "./stateDir";
export { CONTROL_PLANE_PATH } from "./controlPlane";
export { recordLocalProgram, undecryptableNotice } from "./startup/program";
export type { ReloadReport } from "./startup/reload";
export type { ConsoleStage, OpenApiDocumentSource } from "./console/console";

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
    /** The stage's access-log line for this request (also appended to access.log), when the stage has access logging. */
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

/** The part of a running cloud that comes from the program, and that a reload replaces. */
interface Version {
    program: RecordedProgram;
    model: CloudModel;
    functions: Functions;
    gateway: Gateway;
}

/** What a version is built on: the parts that stay for the cloud's whole life. */
interface Foundation {
    settings: Settings;
    state: StateFolder;
    store: Store;
    /** Answers from whichever version serves; notes each version's API keys (their dates). */
    controlPlane: ControlPlane;
    /** The stages' cache clusters: they outlive a reload (stageCache.ts). */
    caches: StageCaches;
    /** The start's warnings, and a reload's that are new. */
    warn: (message: string) => void;
}

export async function startLocalCloud(options: LocalCloudOptions): Promise<LocalCloud> {
    const resolved = resolveSettings(options);
    // The console sees what the caller's sinks see (requests, function logs, warnings, reloads).
    const localConsole = resolved.console ? new LocalConsole(resolved.console, resolved.host, resolved.now) : undefined;
    const settings = localConsole ? localConsole.tap(resolved) : resolved;
    // Cheap checks first, before anything is written: the stack's config, then the port.
    const config = readProgramConfig(settings.program);
    const server = await LocalServer.bind(settings);
    const parts = new Teardown();
    let version: Version | undefined;
    try {
        const state = parts.add(openState(settings, `${server.baseUrl}/`));
        const input = { config, keys: state.keys, baseUrl: server.baseUrl, versions: state.versions };
        // A watched start that must record does it on the recorder thread its reloads use
        // (startup/recorder.ts): that thread is then ready, and this one never loads Pulumi.
        const program = settings.watch ? cachedOnly(input) ?? await recordStart(input) : await recordLocalProgram(input);
        const store = parts.add(await openStore(settings, program.region));
        const controlPlane = new ControlPlane({ usage: store.usage, now: settings.now, log: (line) => settings.functionLog(`[control plane] ${line}`), account: options.account });
        const foundation: Foundation = { settings, state, store, controlPlane, caches: new StageCaches(settings.now), warn: once(settings.warn) };
        version = (await deploy(program, foundation)).version;
        saveServer(state, server, program);
        if (localConsole) {
            parts.add(localConsole);
        }
        server.serve(version.gateway, { controlPlane, accessLog: state.accessLog, console: localConsole });
        const cloud = running(foundation, server, parts, version, config.files);
        // Before any request can reach it: nothing is awaited between `serve` and here.
        localConsole?.attach(cloud);
        return cloud;
    } catch (err) {
        server.fail(err);
        await server.close();
        await version?.functions.close();
        await parts.close();
        throw err;
    }
}

/** The start's recording on the recorder thread, held for the cloud's reloads (released by its close, or here if the recording fails). */
async function recordStart(input: LocalProgramInput): Promise<RecordedProgram> {
    const recorder = recorderThread();
    recorder.hold();
    try {
        return await recorder.record(input);
    } finally {
        recorder.release();
    }
}

/**
 * From a recording to a version ready to serve: its model, the tables it lacks, its keys saved,
 * its functions (on top of the previous version's, for a reload) and a gateway over them.
 */
async function deploy(program: RecordedProgram, foundation: Foundation, previous?: Version): Promise<{ version: Version; changes: string[]; retire: () => Promise<void> }> {
    const { settings, state, store, warn } = foundation;
    program.undecryptable.forEach((key) => warn(undecryptableNotice(program.stack, key)));
    const model = cloudModel(program);
    if (settings.console) {
        // Before anything is provisioned: a stage the console would hide stops the start (or the reload).
        checkConsolePath(settings.console.path, model);
    }
    quotaOffsetWarnings(model.usagePlans).forEach(warn);
    stageCacheWarnings(model).forEach(warn);
    permissionWarnings(model, MOCK_ACCOUNT).forEach(warn);
    const created = await provisionTables(store, model.tables, warn);
    const createdTables = model.tables.filter((t) => created.includes(t.name)).map((t) => t.logicalName);
    // Keys this version replaces are deleted for good, their usage with them (KeyStore.deploy).
    state.keys.deploy(model.apiKeys).forEach((key) => store.usage.forgetKey(key));
    state.keys.save();
    const update = previous
        ? await previous.functions.update(model)
        : { next: await Functions.start(settings, model, store.dynamo.endpoint, state.versions), changes: undefined, retire: async () => undefined };
    // The published versions' numbers, once their code is in the state folder.
    state.versions.save();
    update.next.notices.forEach(warn);
    foundation.caches.sync(model);
    const functions = update.next;
    const router = new FunctionRouter(model, (arn, version) => functions.poolFor(arn, version));
    const gateway = new Gateway({
        model,
        pools: update.next.byArn,
        resolveFunction: (arn) => router.resolve(arn),
        caches: foundation.caches,
        limiter: store.usage,
        integrationTimeoutMs: settings.integrationTimeoutMs,
        now: settings.now,
        log: (line) => settings.functionLog(`[gateway] ${line}`),
    });
    foundation.controlPlane.observe(model);
    return {
        version: { program, model, functions: update.next, gateway },
        changes: previous && update.changes ? describeChanges(previous.model, model, update.changes, createdTables) : [],
        retire: update.retire,
    };
}

/** The handle of a started cloud, with its reloads (watched or called) and its shutdown. */
function running(foundation: Foundation, server: LocalServer, parts: Teardown, first: Version, configFiles: string[]): LocalCloud {
    const { settings, state, store } = foundation;
    let current = first;
    /** Old versions' functions, stopped once their last request is answered (or at close). */
    const retiring = new Set<() => Promise<void>>();

    // Reloads record on the recorder thread (startup/recorder.ts): requests are served meanwhile.
    const recorder = recorderThread();
    recorder.hold();
    const reloader = new Reloader(settings.projectDir, async () => {
        const config = readProgramConfig(settings.program);
        const program = await recorder.record({ config, keys: state.keys, baseUrl: server.baseUrl, versions: state.versions });
        const next = await deploy(program, foundation, current);
        current = next.version;
        saveServer(state, server, program);
        retiring.add(next.retire);
        void server.swap(next.version.gateway).then(() => {
            retiring.delete(next.retire);
            return next.retire();
        }).catch((err) => settings.warn(`stopping the replaced functions failed: ${String(err)}`));
        return next.changes;
    }, settings.onReload);

    const watcher: SourceWatcher | undefined = settings.watch
        ? watchSources({
            root: settings.projectDir,
            files: configFiles,
            // This package's own sources are the emulator, not the program: a reload cannot apply them.
            ignore: [__dirname],
            onChange: (files, since) => void reloader.request(files, since),
        })
        : undefined;

    let closing: Promise<void> | undefined;
    const close = async () => {
        watcher?.close();
        await reloader.close();
        recorder.release();
        await server.close();
        await Promise.all([...retiring].map((retire) => retire()));
        await current.functions.close();
        await parts.close();
    };
    const stageUrls = () => Object.fromEntries(current.model.restApis.flatMap((api) => api.stages.map((s) => [s.name, `${server.baseUrl}/${s.name}/`])));
    return {
        stack: settings.stack,
        url: server.baseUrl,
        port: server.port,
        controlPlaneUrl: `${server.baseUrl}${CONTROL_PLANE_PATH}`,
        ...(settings.console ? { consoleUrl: `${server.baseUrl}${settings.console.path}` } : {}),
        stateDir: settings.stateDir,
        dynamoEndpoint: store.dynamo.endpoint,
        get stageUrls() {
            return stageUrls();
        },
        get stageUrl() {
            return Object.values(stageUrls())[0] ?? `${server.baseUrl}/`;
        },
        get program() {
            return current.program;
        },
        get model() {
            return current.model;
        },
        get outputs() {
            return current.program.outputs;
        },
        get secretOutputs() {
            return current.program.secretOutputs;
        },
        get apiKeys() {
            return Object.fromEntries(current.model.apiKeys.map((k) => [k.logicalName, k.value]));
        },
        get routes() {
            return routesOf(current.model);
        },
        functionStats: () => Object.fromEntries([...current.functions.byName].map(([name, pool]) => [name, pool.stats()])),
        functionPool: (name) => current.functions.byName.get(name),
        resetUsage: () => store.usage.reset(),
        capacity: () => store.dynamo.capacity.snapshot(),
        flushStageCache: (stage) => foundation.caches.flush(stage),
        reload: () => reloader.request(),
        close: () => (closing ??= close()),
    };
}

/**
 * `server.json`: where this cloud serves and the program's outputs without the secret ones (what
 * `pulumi stack output` shows), so a script finds the running cloud of a stack and the ids to ask
 * its control plane about. Rewritten by every reload (the outputs may change).
 */
function saveServer(state: StateFolder, server: LocalServer, program: RecordedProgram): void {
    const outputs = Object.fromEntries(Object.entries(program.outputs).filter(([name]) => !program.secretOutputs.includes(name)));
    state.saveServer({ url: server.baseUrl, controlPlane: `${server.baseUrl}${CONTROL_PLANE_PATH}`, outputs });
}

function routesOf(model: CloudModel): LocalCloud["routes"] {
    return model.restApis.flatMap((api) => api.stages.flatMap((s) => api.operations.map((op) => ({
        method: op.method,
        path: `/${s.name}${op.resourcePath === "/" ? "/" : op.resourcePath}`,
        apiKeyRequired: op.apiKeyRequired,
        integration: String(op.integration?.type ?? "none").toLowerCase() === "aws_proxy"
            // The function's ARN, alone or qualified by an alias or version (`…:live`).
            ? model.functions.find((f) => [`/functions/${f.arn}/`, `/functions/${f.arn}:`].some((at) => String(op.integration.uri).includes(at)))?.logicalName ?? "lambda"
            : String(op.integration?.type ?? "none").toLowerCase(),
    }))));
}

/** A warning sink that says each message once (a reload repeats the start's notices otherwise). */
function once(warn: (message: string) => void): (message: string) => void {
    const said = new Set<string>();
    return (message) => {
        if (!said.has(message)) {
            said.add(message);
            warn(message);
        }
    };
}

/** Parts opened by the start, closed in reverse order (the start's failure, or `close()`). */
class Teardown {
    private readonly parts: { close(): unknown }[] = [];

    add<T extends { close(): unknown }>(part: T): T {
        this.parts.push(part);
        return part;
    }

    async close(): Promise<void> {
        for (const part of this.parts.splice(0).reverse()) {
            await Promise.resolve().then(() => part.close()).catch(() => undefined);
        }
    }
}
