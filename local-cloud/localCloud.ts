// The local cloud: runs the Pulumi program for a stack under mocks, provisions local equivalents of
// what it recorded (tables in dynalite, API keys and usage plans, the REST API, one worker pool per
// Lambda function) and serves the API over HTTP. scripts/start.ts, the tests and the benchmark all
// start it through `startLocalCloud`, which is the list of steps below; each step is a module of the
// service it reproduces (apigateway/, lambda/, dynamodb/, program/, state/, server/, console/; the
// settings and live reload in startup/) that takes what the steps before it produced and hands its
// result on.
import { FunctionRouter } from "./lambda/aliases";
import { LocalConsole } from "./console/console";
import { checkConsolePath } from "./console/consolePath";
import { CONTROL_PLANE_PATH, ControlPlane } from "./apigateway/controlPlane";
import { Gateway } from "./apigateway/gateway";
import { cloudModel, type CloudModel } from "./program/model";
import { MOCK_ACCOUNT, type RecordedProgram } from "./program/recordProgram";
import { readProgramConfig } from "./program/stackFiles";
import { Functions } from "./lambda/functions";
import { recorderThread } from "./program/recorder";
import { cachedOnly, mayBeCached, recordOrReuseLocalProgram } from "./program/programCache";
import { undecryptableNotice, type LocalProgramInput } from "./program/program";
import { describeChanges, Reloader } from "./startup/reload";
import { LocalServer } from "./server/server";
import { resolveSettings, type Settings } from "./startup/settings";
import { openState, openStore, provisionTables, type StateFolder, type Store } from "./state/state";
import { StageCaches, stageCacheWarnings } from "./apigateway/stageCache";
import { permissionWarnings } from "./lambda/permissions";
import { watchSources, type SourceWatcher } from "./startup/watch";
import type { LocalCloud, LocalCloudOptions } from "./types";
import { quotaOffsetWarnings } from "./apigateway/usage";

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
    if (settings.watch && !mayBeCached(config)) {
        // This start records on the recorder thread: its loading overlaps the rest of the start.
        recorderThread().warmUp();
    }
    const server = await LocalServer.bind(settings);
    const parts = new Teardown();
    let version: Version | undefined;
    try {
        const state = parts.add(openState(settings, `${server.baseUrl}/`));
        const input = { config, keys: state.keys, baseUrl: server.baseUrl, versions: state.versions };
        // A watched start that must record does it on the recorder thread its reloads use
        // (program/recorder.ts): that thread is then ready, and this one never loads Pulumi.
        const program = settings.watch
            ? (cachedOnly(input) ?? (await recordStart(input)))
            : await recordOrReuseLocalProgram(input);
        const store = parts.add(await openStore(settings, program.region));
        const controlPlane = new ControlPlane({
            usage: store.usage,
            now: settings.now,
            log: (line) => settings.functionLog(`[control plane] ${line}`),
            account: options.account,
        });
        const foundation: Foundation = {
            settings,
            state,
            store,
            controlPlane,
            caches: new StageCaches(settings.now),
            warn: once(settings.warn),
        };
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

/**
 * The start's recording on the recorder thread, held for the cloud's reloads (released by its close, or here if the
 * recording fails).
 */
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
async function deploy(
    program: RecordedProgram,
    foundation: Foundation,
    previous?: Version,
): Promise<{ version: Version; changes: string[]; retire: () => Promise<void> }> {
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
        : {
              next: await Functions.start(settings, model, store.dynamo.endpoint, state.versions),
              changes: undefined,
              retire: async () => undefined,
          };
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
        changes:
            previous && update.changes ? describeChanges(previous.model, model, update.changes, createdTables) : [],
        retire: update.retire,
    };
}

/** The handle of a started cloud, with its reloads (watched or called) and its shutdown. */
function running(
    foundation: Foundation,
    server: LocalServer,
    parts: Teardown,
    first: Version,
    configFiles: string[],
): LocalCloud {
    const { settings, state, store } = foundation;
    let current = first;
    /** Old versions' functions, stopped once their last request is answered (or at close). */
    const retiring = new Set<() => Promise<void>>();

    // Reloads record on the recorder thread (program/recorder.ts): requests are served meanwhile.
    const recorder = recorderThread();
    recorder.hold();
    const reloader = new Reloader(
        settings.projectDir,
        async () => {
            const config = readProgramConfig(settings.program);
            const program = await recorder.record({
                config,
                keys: state.keys,
                baseUrl: server.baseUrl,
                versions: state.versions,
            });
            const next = await deploy(program, foundation, current);
            current = next.version;
            saveServer(state, server, program);
            retiring.add(next.retire);
            void server
                .swap(next.version.gateway)
                .then(() => {
                    retiring.delete(next.retire);
                    return next.retire();
                })
                .catch((err) => settings.warn(`stopping the replaced functions failed: ${String(err)}`));
            return next.changes;
        },
        settings.onReload,
    );

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
    const stageUrls = () =>
        Object.fromEntries(
            current.model.restApis.flatMap((api) => api.stages.map((s) => [s.name, `${server.baseUrl}/${s.name}/`])),
        );
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
        functionStats: () =>
            Object.fromEntries([...current.functions.byName].map(([name, pool]) => [name, pool.stats()])),
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
    const outputs = Object.fromEntries(
        Object.entries(program.outputs).filter(([name]) => !program.secretOutputs.includes(name)),
    );
    state.saveServer({ url: server.baseUrl, controlPlane: `${server.baseUrl}${CONTROL_PLANE_PATH}`, outputs });
}

function routesOf(model: CloudModel): LocalCloud["routes"] {
    return model.restApis.flatMap((api) =>
        api.stages.flatMap((s) =>
            api.operations.map((op) => ({
                method: op.method,
                path: `/${s.name}${op.resourcePath === "/" ? "/" : op.resourcePath}`,
                apiKeyRequired: op.apiKeyRequired,
                integration:
                    String(op.integration?.type ?? "none").toLowerCase() === "aws_proxy"
                        ? // The function's ARN, alone or qualified by an alias or version (`…:live`).
                          (model.functions.find((f) =>
                              [`/functions/${f.arn}/`, `/functions/${f.arn}:`].some((at) =>
                                  String(op.integration.uri).includes(at),
                              ),
                          )?.logicalName ?? "lambda")
                        : String(op.integration?.type ?? "none").toLowerCase(),
            })),
        ),
    );
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
            await Promise.resolve()
                .then(() => part.close())
                .catch(() => undefined);
        }
    }
}
