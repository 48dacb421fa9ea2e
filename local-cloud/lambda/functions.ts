// The "start functions" step: each recorded Lambda function's archive written to the state folder
// and one worker pool per function (lambdaPool.ts). A reload calls `update` with the new model:
// a function whose code and settings are unchanged keeps its pool (and its warm instances), a
// changed or new one gets a new pool in a folder of its own, so an old instance that still starts
// (a queued request of the old version) never loads the new code.
//
// A published function (`publish: true`) writes its code to `functions/<name>/<version>/` (with
// `function.json`, its settings), and that folder stays across restarts and reloads: it is the
// version's code, which an alias pinned to it (or sharing requests with it) runs later. An
// unpublished function's folder is `<name>/<fingerprint>/`, rewritten on every start.
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { LOCAL_CREDENTIALS } from "../dynamodb/dynamo";
import { FunctionPool, writeRuntimeFile } from "./lambdaPool";
import type { FunctionVersions } from "./functionVersions";
import type { CloudModel, FunctionModel } from "../program/model";
import { archiveEntries } from "../program/recordProgram";
import { integrationFunctionArn, splitFunctionArn } from "./lambdaArn";
import type { Settings } from "../types";

type FunctionSettings = Pick<Settings, "stateDir" | "projectDir" | "maxInstancesPerFunction" | "functionLog">;

interface Deployment {
    /** The function without its recorded archive (which would keep its whole recording reachable). */
    fn: FunctionModel;
    /** Hash of the archive and every setting the instances see. */
    fingerprint: string;
    taskRoot: string;
    pool: FunctionPool;
    /** A published version's folder: kept when the pool goes (it is that version's code). */
    published: boolean;
}

/** What a published version's folder holds besides its code: `function.json`. */
interface SavedVersion {
    fn: FunctionModel;
    archivePackages: string[];
}

type Context = { functionsDir: string; runtimeFile: string; region: string; dynamoEndpoint: string };

const isPublished = (fn: FunctionModel) => fn.version !== undefined && fn.version !== "$LATEST";
const versionKey = (arn: string, version: string) => `${arn}:${version}`;

export interface FunctionChanges {
    /** Logical names. */
    added: string[];
    changed: string[];
    removed: string[];
}

export class Functions {
    /** Function ARN -> pool, as the gateway finds them from an integration's URI. */
    readonly byArn = new Map<string, FunctionPool>();
    /** Logical name -> pool. */
    readonly byName = new Map<string, FunctionPool>();
    /**
     * Notices about versions the model names (aliases, qualified URIs, provisioned concurrency)
     * whose code the state folder does not have: the current code serves them instead.
     */
    readonly notices: string[] = [];

    private constructor(
        private readonly settings: FunctionSettings,
        private readonly context: Context,
        /** Function ARN -> its deployment. */
        private readonly deployments: Map<string, Deployment>,
        /** `<function ARN>:<version>` -> an older published version's deployment, for the versions the model names. */
        private readonly versions: Map<string, Deployment>,
        notices: string[],
    ) {
        for (const d of deployments.values()) {
            this.byArn.set(d.fn.arn, d.pool);
            this.byName.set(d.fn.logicalName, d.pool);
        }
        this.notices.push(...notices);
    }

    /**
     * The pool that runs a version of a function: the current code for `$LATEST` and for the
     * function's own version, else the older version's (or, when its code is not in the state
     * folder, the current code: see `notices`). Undefined for an unknown function.
     */
    poolFor(functionArn: string, version: string): FunctionPool | undefined {
        const current = this.deployments.get(functionArn);
        if (!current) {
            return undefined;
        }
        return this.versions.get(versionKey(functionArn, version))?.pool ?? current.pool;
    }

    /**
     * Clears `<stateDir>/functions` but for published versions' code (code of functions the program
     * no longer has goes, as do unpublished functions' folders) and starts every function.
     */
    static async start(
        settings: FunctionSettings,
        model: CloudModel,
        dynamoEndpoint: string,
        versions?: FunctionVersions,
    ): Promise<Functions> {
        const functionsDir = path.join(settings.stateDir, "functions");
        fs.mkdirSync(functionsDir, { recursive: true });
        clearFunctionsDir(functionsDir, versions);
        linkNodeModules(functionsDir, settings.projectDir);
        const context = {
            functionsDir,
            runtimeFile: writeRuntimeFile(functionsDir),
            region: model.region,
            dynamoEndpoint,
        };
        const deployments = new Map<string, Deployment>();
        for (const fn of model.functions) {
            deployments.set(fn.arn, await deploy(fn, settings, context));
        }
        const older = olderVersions(model, deployments, new Map(), settings, context);
        const functions = new Functions(settings, context, deployments, older.versions, older.notices);
        functions.provision(model);
        return functions;
    }

    /** Provisioned concurrency: each config's version gets that many initialized instances now. */
    private provision(model: CloudModel): void {
        for (const config of model.provisionedConcurrency ?? []) {
            const alias = model.aliases?.find(
                (a) => a.functionArn === config.functionArn && a.name === config.qualifier,
            );
            this.poolFor(config.functionArn, alias ? alias.functionVersion : config.qualifier)?.prewarm(config.count);
        }
    }

    /**
     * The functions of a new model, reusing this set's unchanged ones. Nothing of this set is
     * stopped: `retire()` does that once no request uses it any more. If writing a new function
     * fails, the pools made so far are closed and this set is left as it was.
     */
    async update(
        model: CloudModel,
    ): Promise<{ next: Functions; changes: FunctionChanges; retire: () => Promise<void> }> {
        const next = new Map<string, Deployment>();
        const changes: FunctionChanges = { added: [], changed: [], removed: [] };
        let older: { versions: Map<string, Deployment>; notices: string[] } = { versions: new Map(), notices: [] };
        try {
            for (const fn of model.functions) {
                const old = this.deployments.get(fn.arn);
                const entries = await archiveEntries(fn.code);
                if (old && old.fingerprint === fingerprint(fn, entries)) {
                    next.set(fn.arn, old);
                    continue;
                }
                next.set(fn.arn, await deploy(fn, this.settings, this.context, entries));
                (old ? changes.changed : changes.added).push(fn.logicalName);
            }
            // Older versions the new model names: this set's (a replaced current version included, warm) or from their
            // folders.
            const mine = new Map(this.versions);
            for (const d of this.deployments.values()) {
                if (isPublished(d.fn)) {
                    mine.set(versionKey(d.fn.arn, d.fn.version!), d);
                }
            }
            older = olderVersions(model, next, mine, this.settings, this.context);
        } catch (err) {
            const kept = new Set([...this.deployments.values(), ...this.versions.values()]);
            await Promise.all(
                [...next.values(), ...older.versions.values()].filter((d) => !kept.has(d)).map((d) => discard(d)),
            );
            throw err;
        }
        const inUse = new Set([...next.values(), ...older.versions.values()]);
        const replaced = [...this.deployments.values()].filter((d) => next.get(d.fn.arn) !== d);
        changes.removed = replaced.filter((d) => !next.has(d.fn.arn)).map((d) => d.fn.logicalName);
        const retired = [...new Set([...replaced, ...this.versions.values()])].filter((d) => !inUse.has(d));
        const functions = new Functions(this.settings, this.context, next, older.versions, older.notices);
        functions.provision(model);
        return {
            next: functions,
            changes,
            retire: async () => {
                await Promise.all(retired.map((d) => discard(d)));
            },
        };
    }

    async close(): Promise<void> {
        await Promise.all([...this.deployments.values(), ...this.versions.values()].map((d) => d.pool.close()));
    }
}

async function discard(deployment: Deployment): Promise<void> {
    await deployment.pool.close();
    if (!deployment.published) {
        fs.rmSync(deployment.taskRoot, { recursive: true, force: true });
    }
}

/**
 * Every start: what the last run left in `functions/` goes, but for the code of the versions
 * `versions.json` lists (and that file). Without the registry, everything goes.
 */
function clearFunctionsDir(functionsDir: string, versions: FunctionVersions | undefined): void {
    for (const entry of fs.readdirSync(functionsDir, { withFileTypes: true })) {
        const full = path.join(functionsDir, entry.name);
        if (versions && entry.name === "versions.json" && entry.isFile()) {
            continue;
        }
        if (!versions || !entry.isDirectory()) {
            fs.rmSync(full, { recursive: true, force: true });
            continue;
        }
        for (const version of fs.readdirSync(full)) {
            if (!versions.has(entry.name, version)) {
                fs.rmSync(path.join(full, version), { recursive: true, force: true });
            }
        }
        if (fs.readdirSync(full).length === 0) {
            fs.rmdirSync(full);
        }
    }
}

/**
 * The versions the model names for each function (aliases, their canaries, qualified URIs, provisioned concurrency).
 */
function namedVersions(model: CloudModel): Map<string, Set<string>> {
    const named = new Map<string, Set<string>>();
    const add = (arn: string, version: string) => {
        if (/^[0-9]+$/.test(version)) {
            (named.get(arn) ?? named.set(arn, new Set()).get(arn)!).add(version);
        }
    };
    for (const alias of model.aliases ?? []) {
        add(alias.functionArn, alias.functionVersion);
        Object.keys(alias.additionalVersionWeights).forEach((v) => add(alias.functionArn, v));
    }
    for (const config of model.provisionedConcurrency ?? []) {
        add(config.functionArn, config.qualifier);
    }
    for (const api of model.restApis) {
        for (const op of api.operations) {
            const invoked = integrationFunctionArn(op.integration?.uri);
            const { functionArn, qualifier } = invoked === undefined ? { functionArn: "" } : splitFunctionArn(invoked);
            if (qualifier !== undefined) {
                add(functionArn, qualifier);
            }
        }
    }
    return named;
}

/**
 * A pool for each older published version the model names: reused from `available` (the previous
 * set's, still warm), else started from its folder; a version whose folder is missing gets a notice
 * and no pool (the current code serves it).
 */
function olderVersions(
    model: CloudModel,
    current: Map<string, Deployment>,
    available: Map<string, Deployment>,
    settings: FunctionSettings,
    context: Context,
): { versions: Map<string, Deployment>; notices: string[] } {
    const versions = new Map<string, Deployment>();
    const notices: string[] = [];
    for (const [arn, named] of namedVersions(model)) {
        const now = current.get(arn);
        if (!now) {
            continue;
        }
        for (const version of named) {
            if (version === now.fn.version) {
                continue;
            }
            const key = versionKey(arn, version);
            const deployment = available.get(key) ?? savedVersion(now.fn, version, settings, context);
            if (deployment) {
                versions.set(key, deployment);
            } else {
                notices.push(
                    `function ${now.fn.logicalName} (${now.fn.name}): version ${version} is not in the state folder (${path.join(context.functionsDir, now.fn.name, version)}); its current code (version ${now.fn.version ?? "$LATEST"}) answers for it`,
                );
            }
        }
    }
    return { versions, notices };
}

/** An older version's pool from the folder a start or reload wrote it to; undefined when its code is not there. */
function savedVersion(
    fn: FunctionModel,
    version: string,
    settings: FunctionSettings,
    context: Context,
): Deployment | undefined {
    const taskRoot = path.join(context.functionsDir, fn.name, version);
    let saved: SavedVersion;
    try {
        saved = JSON.parse(fs.readFileSync(path.join(taskRoot, VERSION_FILE), "utf8")) as SavedVersion;
    } catch {
        return undefined;
    }
    if (saved?.fn?.name !== fn.name || saved.fn.version !== version) {
        return undefined;
    }
    return {
        fn: saved.fn,
        fingerprint: `version ${version}`,
        taskRoot,
        pool: newPool(
            saved.fn,
            taskRoot,
            saved.archivePackages ?? [],
            settings,
            context,
            `${fn.logicalName}:${version}`,
        ),
        published: true,
    };
}

/** A published version's settings, beside its code; written last, so a folder that has it is whole. */
const VERSION_FILE = "function.json";

function fingerprint(fn: FunctionModel, entries: Record<string, { text?: string; path?: string }>): string {
    const hash = crypto.createHash("sha256").update(JSON.stringify({ ...fn, code: undefined }));
    for (const name of Object.keys(entries).sort()) {
        const entry = entries[name]!;
        hash.update(`\0${name}\0${entry.text ?? `path:${entry.path}`}`);
    }
    return hash.digest("hex").slice(0, 12);
}

/**
 * Writes a function's archive to `functions/<name>/<fingerprint>/` (a published function's to
 * `functions/<name>/<version>/`, with its `function.json`) and makes its pool.
 */
async function deploy(
    fn: FunctionModel,
    settings: FunctionSettings,
    context: Context,
    entries?: Record<string, { text?: string; path?: string }>,
): Promise<Deployment> {
    const archive = entries ?? (await archiveEntries(fn.code));
    const version = fingerprint(fn, archive);
    const published = isPublished(fn);
    const taskRoot = path.join(context.functionsDir, fn.name, published ? fn.version! : version);
    fs.rmSync(taskRoot, { recursive: true, force: true });
    fs.mkdirSync(taskRoot, { recursive: true });
    const archivePackages: string[] = [];
    for (const [name, entry] of Object.entries(archive)) {
        if (entry.text !== undefined) {
            const file = path.join(taskRoot, name);
            fs.mkdirSync(path.dirname(file), { recursive: true });
            fs.writeFileSync(file, entry.text);
        } else if (name.startsWith("node_modules/")) {
            archivePackages.push(name.slice("node_modules/".length));
        }
    }
    const settled: FunctionModel = { ...fn, code: undefined };
    if (published) {
        const saved: SavedVersion = { fn: settled, archivePackages };
        fs.writeFileSync(path.join(taskRoot, VERSION_FILE), JSON.stringify(saved, null, 2) + "\n");
    }
    return {
        fn: settled,
        fingerprint: version,
        taskRoot,
        pool: newPool(settled, taskRoot, archivePackages, settings, context),
        published,
    };
}

/** `label` prefixes the function's log lines: its logical name, and the version for an older one. */
function newPool(
    fn: FunctionModel,
    taskRoot: string,
    archivePackages: string[],
    settings: FunctionSettings,
    context: Context,
    label = fn.logicalName,
): FunctionPool {
    return new FunctionPool({
        fn,
        taskRoot,
        archivePackages,
        env: lambdaEnvironment(fn, context.region, context.dynamoEndpoint, taskRoot),
        runtimeFile: context.runtimeFile,
        maxInstances: settings.maxInstancesPerFunction,
        version: fn.version ?? "$LATEST",
        log: (line) => settings.functionLog(`[${label}] ${line}`),
    });
}

function isInside(child: string, parent: string): boolean {
    const relative = path.relative(parent, child);
    return relative !== "" && !relative.startsWith("..") && !path.isAbsolute(relative);
}

function findNodeModules(projectDir: string): string {
    for (let dir = path.resolve(projectDir); ; dir = path.dirname(dir)) {
        const candidate = path.join(dir, "node_modules");
        if (fs.existsSync(path.join(candidate, "@aws-sdk", "client-dynamodb"))) {
            return candidate;
        }
        if (path.dirname(dir) === dir) {
            return path.join(projectDir, "node_modules");
        }
    }
}

/**
 * The serialized code requires the runtime's SDK and the archive's packages by name: make the
 * project's node_modules reachable from wherever the state folder is.
 */
function linkNodeModules(functionsDir: string, projectDir: string): void {
    const nodeModules = findNodeModules(projectDir);
    if (!isInside(functionsDir, path.dirname(nodeModules))) {
        const link = path.join(functionsDir, "node_modules");
        fs.rmSync(link, { force: true, recursive: true });
        fs.symlinkSync(nodeModules, link, "dir");
    }
}

function lambdaEnvironment(
    fn: FunctionModel,
    region: string,
    dynamoEndpoint: string,
    taskRoot: string,
): Record<string, string> {
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
        AWS_LAMBDA_FUNCTION_VERSION: fn.version ?? "$LATEST",
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
