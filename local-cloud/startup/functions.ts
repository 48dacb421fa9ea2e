// The "start functions" step: each recorded Lambda function's archive written to the state folder
// and one worker pool per function (lambdaPool.ts). A reload calls `update` with the new model:
// a function whose code and settings are unchanged keeps its pool (and its warm instances), a
// changed or new one gets a new pool in a folder of its own, so an old instance that still starts
// (a queued request of the old version) never loads the new code.
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { LOCAL_CREDENTIALS } from "../dynamo";
import { FunctionPool, writeRuntimeFile } from "../lambdaPool";
import type { CloudModel, FunctionModel } from "../model";
import { archiveEntries } from "../recordProgram";
import type { Settings } from "./settings";

type FunctionSettings = Pick<Settings, "stateDir" | "projectDir" | "maxInstancesPerFunction" | "functionLog">;

interface Deployment {
    /** The function without its recorded archive (which would keep its whole recording reachable). */
    fn: FunctionModel;
    /** Hash of the archive and every setting the instances see. */
    fingerprint: string;
    taskRoot: string;
    pool: FunctionPool;
}

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

    private constructor(
        private readonly settings: FunctionSettings,
        private readonly context: { functionsDir: string; runtimeFile: string; region: string; dynamoEndpoint: string },
            /** Function ARN -> its deployment. */
        private readonly deployments: Map<string, Deployment>,
    ) {
        for (const d of deployments.values()) {
            this.byArn.set(d.fn.arn, d.pool);
            this.byName.set(d.fn.logicalName, d.pool);
        }
    }

    /** Clears `<stateDir>/functions` (code of functions the program no longer has goes) and starts every function. */
    static async start(settings: FunctionSettings, model: CloudModel, dynamoEndpoint: string): Promise<Functions> {
        const functionsDir = path.join(settings.stateDir, "functions");
        fs.rmSync(functionsDir, { recursive: true, force: true });
        fs.mkdirSync(functionsDir, { recursive: true });
        linkNodeModules(functionsDir, settings.projectDir);
        const context = { functionsDir, runtimeFile: writeRuntimeFile(functionsDir), region: model.region, dynamoEndpoint };
        const deployments = new Map<string, Deployment>();
        for (const fn of model.functions) {
            deployments.set(fn.arn, await deploy(fn, settings, context));
        }
        return new Functions(settings, context, deployments);
    }

    /**
     * The functions of a new model, reusing this set's unchanged ones. Nothing of this set is
     * stopped: `retire()` does that once no request uses it any more. If writing a new function
     * fails, the pools made so far are closed and this set is left as it was.
     */
    async update(model: CloudModel): Promise<{ next: Functions; changes: FunctionChanges; retire: () => Promise<void> }> {
        const next = new Map<string, Deployment>();
        const changes: FunctionChanges = { added: [], changed: [], removed: [] };
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
        } catch (err) {
            await Promise.all([...next.values()].filter((d) => this.deployments.get(d.fn.arn) !== d).map((d) => discard(d)));
            throw err;
        }
        const replaced = [...this.deployments.values()].filter((d) => next.get(d.fn.arn) !== d);
        changes.removed = replaced.filter((d) => !next.has(d.fn.arn)).map((d) => d.fn.logicalName);
        return {
            next: new Functions(this.settings, this.context, next),
            changes,
            retire: async () => {
                await Promise.all(replaced.map((d) => discard(d)));
            },
        };
    }

    async close(): Promise<void> {
        await Promise.all([...this.deployments.values()].map((d) => d.pool.close()));
    }
}

async function discard(deployment: Deployment): Promise<void> {
    await deployment.pool.close();
    fs.rmSync(deployment.taskRoot, { recursive: true, force: true });
}

function fingerprint(fn: FunctionModel, entries: Record<string, { text?: string; path?: string }>): string {
    const hash = crypto.createHash("sha256").update(JSON.stringify({ ...fn, code: undefined }));
    for (const name of Object.keys(entries).sort()) {
        const entry = entries[name]!;
        hash.update(`\0${name}\0${entry.text ?? `path:${entry.path}`}`);
    }
    return hash.digest("hex").slice(0, 12);
}

/** Writes a function's archive to `functions/<name>/<fingerprint>/` and makes its pool. */
async function deploy(
    fn: FunctionModel,
    settings: FunctionSettings,
    context: { functionsDir: string; runtimeFile: string; region: string; dynamoEndpoint: string },
    entries?: Record<string, { text?: string; path?: string }>,
): Promise<Deployment> {
    const archive = entries ?? await archiveEntries(fn.code);
    const version = fingerprint(fn, archive);
    const taskRoot = path.join(context.functionsDir, fn.name, version);
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
    const pool = new FunctionPool({
        fn: settled,
        taskRoot,
        archivePackages,
        env: lambdaEnvironment(fn, context.region, context.dynamoEndpoint, taskRoot),
        runtimeFile: context.runtimeFile,
        maxInstances: settings.maxInstancesPerFunction,
        log: (line) => settings.functionLog(`[${settled.logicalName}] ${line}`),
    });
    return { fn: settled, fingerprint: version, taskRoot, pool };
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
