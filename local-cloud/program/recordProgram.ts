// Runs the Pulumi program in-process under `pulumi.runtime.setMocks` and records every resource it
// registers: type, logical name, parent, the options that change how it deploys (`protect`,
// `deleteBeforeReplace`, `aliases`), inputs (and which were secret) and the (mocked) state. The unit tests,
// the policy rules, the OpenAPI generator and the local cloud all read the program through this
// one record, so none of them keeps a copy of what the program builds.
import * as crypto from "node:crypto";
import * as path from "node:path";
import type * as Pulumi from "@pulumi/pulumi";
import { splitFunctionArn } from "../lambda/lambdaArn";
import { TYPES } from "./resourceTypes";
import { readProgramConfig, type ProgramConfig } from "./stackFiles";
import { cheapPulumiStacks, prepareRerecording, releaseClosureMirrors } from "./rerecord";

// @pulumi/pulumi loads on the first recording, not with this module: loading it costs more than a
// whole start served from the program cache (programCache.ts), which never records.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const lazy = (id: string): any => {
    let loaded: object | undefined;
    return new Proxy({}, { get: (_target, name) => Reflect.get((loaded ??= require(id) as object), name) });
};
const pulumi: typeof Pulumi = lazy("@pulumi/pulumi");
// Internal SDK modules: the mock monitor hides resource options (parent, protect) from `Mocks`,
// so the recorder wraps the monitor itself, and waits for the RPC queue to drain.
const rpc = lazy("@pulumi/pulumi/runtime/rpc");
const settings = lazy("@pulumi/pulumi/runtime/settings");
const runtimeState = lazy("@pulumi/pulumi/runtime/state");

export const MOCK_ACCOUNT = "123456789012";

/** This package's own folder, the parent of program/ (with a trailing separator). */
const PACKAGE_DIR = path.dirname(__dirname) + path.sep;

/* eslint-disable @typescript-eslint/no-explicit-any */
export interface RecordedResource {
    urn: string;
    type: string;
    name: string;
    /** URN of the parent resource, or "" at the top. */
    parent: string;
    custom: boolean;
    protect: boolean;
    /** Output properties the program asked the engine to treat as secret. */
    additionalSecretOutputs: string[];
    /** The `deleteBeforeReplace` resource option. (These three are always recorded; optional so
     *  hand-made resources in tests need not spell them.) */
    deleteBeforeReplace?: boolean;
    /** URNs of the `aliases` resource option: the URNs this resource may have had before. */
    aliases?: string[];
    /** Dotted paths of the inputs that were Pulumi secrets ("environment.variables.CURSOR_KEY"). */
    secretInputs?: string[];
    id: string;
    inputs: Record<string, any>;
    state: Record<string, any>;
}

export interface RecordedProgram {
    stack: string;
    region: string;
    resources: RecordedResource[];
    /** Stack outputs with their values resolved. */
    outputs: Record<string, unknown>;
    /** Names of outputs that are Pulumi secrets. */
    secretOutputs: string[];
    /** Config keys with encrypted values that could not be read (see local/stackFiles.ts). */
    undecryptable: string[];
}

/** What to record: a stack of a project, with the config of stackFiles.ts's `readProgramConfig`. */
export interface RecordOptions {
    stack: string;
    /** Full config keys ("my-project:lambdaTimeout") overriding the stack file; `undefined` removes a key. */
    config?: Record<string, unknown>;
    /** Replace the stack file entirely (tests define their own stacks). */
    stackConfig?: Record<string, unknown>;
    /**
     * Extra state for a resource, e.g. the local cloud's saved API key values or a published
     * function's version number; `state` is the mocked state it adds to (ids, ARNs, names). An `id`
     * in it is the resource's id too (a key created again after a deploy deleted the one before).
     */
    stateOverride?: (args: {
        type: string;
        name: string;
        inputs: Record<string, any>;
        state: Record<string, any>;
    }) => Record<string, any> | undefined | Promise<Record<string, any> | undefined>;
    projectDir?: string;
}

const hash = (text: string, length: number, alphabet = "abcdefghijklmnopqrstuvwxyz0123456789") => {
    const bytes = crypto.createHash("sha512").update(text).digest();
    return Array.from(bytes.subarray(0, length), (b) => alphabet[b % alphabet.length]).join("");
};
const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

// How the Pulumi wire format marks a secret value: { [SECRET_SIG_KEY]: SECRET_SIG, value }.
const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** Inputs as the provider would see them once decrypted: secret wrappers removed. */
function unwrapSecrets(value: any): any {
    if (Array.isArray(value)) {
        return value.map(unwrapSecrets);
    }
    if (value && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
        if (value[SECRET_SIG_KEY] === SECRET_SIG) {
            return unwrapSecrets(value.value);
        }
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrapSecrets(v)]));
    }
    return value;
}

/** Where secret markers sit in a deserialized value: dotted paths ("a.b", "list.0"). */
function secretPaths(value: any, at = ""): string[] {
    if (Array.isArray(value)) {
        return value.flatMap((v, i) => secretPaths(v, at ? `${at}.${i}` : String(i)));
    }
    if (value && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
        if (value[SECRET_SIG_KEY] === SECRET_SIG) {
            return [at];
        }
        return Object.entries(value).flatMap(([k, v]) => secretPaths(v, at ? `${at}.${k}` : k));
    }
    return [];
}

/**
 * The URNs a registration's `aliases` stand for, computed as the engine does: an alias spec
 * defaults to the resource's own name, type, stack, project and parent.
 */
function aliasUrns(req: any, stack: string, project: string): string[] {
    const urns: string[] = [...(req.getAliasurnsList?.() ?? [])];
    for (const alias of req.getAliasesList?.() ?? []) {
        const urn = alias.getUrn?.();
        if (urn) {
            urns.push(urn);
            continue;
        }
        const spec = alias.getSpec?.();
        if (!spec) {
            continue;
        }
        const type = spec.getType() || req.getType();
        const name = spec.getName() || req.getName();
        const parent = spec.getNoparent() ? "" : spec.getParenturn() || req.getParent();
        const prefix =
            parent && !parent.includes(`::${TYPES.stack}::`)
                ? `${parent.slice(0, parent.lastIndexOf("::"))}$`
                : `urn:pulumi:${spec.getStack() || stack}::${spec.getProject() || project}::`;
        urns.push(`${prefix}${type}::${name}`);
    }
    return urns;
}

/** Stand-ins for what AWS computes on create: ids, ARNs, auto-names, URLs, key values. */
function mockState(
    stack: string,
    region: string,
    type: string,
    name: string,
    inputs: Record<string, any>,
): { id: string; state: Record<string, any> } {
    const seed = `${stack}/${type}/${name}`;
    const id = hash(seed, 10);
    // Pulumi auto-naming: logical name plus a random suffix, unless the program set a name.
    const physicalName = inputs["name"] ?? `${name}-${hash(seed, 7)}`;
    const state: Record<string, any> = { ...inputs, id, name: physicalName };
    const arn = (service: string, resource: string) => `arn:aws:${service}:${region}:${MOCK_ACCOUNT}:${resource}`;
    switch (type) {
        case TYPES.table:
            return { id: physicalName, state: { ...state, arn: arn("dynamodb", `table/${physicalName}`) } };
        case TYPES.function: {
            const fnArn = arn("lambda", `function:${physicalName}`);
            // Without a state folder to number versions in, a published function is at its first.
            return {
                id: physicalName,
                state: {
                    ...state,
                    arn: fnArn,
                    invokeArn: lambdaInvokeArn(region, fnArn),
                    ...functionVersionState(region, fnArn, inputs["publish"] === true ? "1" : "$LATEST"),
                },
            };
        }
        case TYPES.alias: {
            // `functionName` is a name or an ARN (of the function, maybe qualified: the qualifier goes).
            const fn = String(inputs["functionName"] ?? "");
            const fnArn = fn.startsWith("arn:") ? splitFunctionArn(fn).functionArn : arn("lambda", `function:${fn}`);
            const aliasArn = `${fnArn}:${physicalName}`;
            return { id: aliasArn, state: { ...state, arn: aliasArn, invokeArn: lambdaInvokeArn(region, aliasArn) } };
        }
        case TYPES.role:
            return { id: physicalName, state: { ...state, arn: `arn:aws:iam::${MOCK_ACCOUNT}:role/${physicalName}` } };
        case TYPES.logGroup:
            return { id: physicalName, state: { ...state, arn: arn("logs", `log-group:${physicalName}`) } };
        case TYPES.restApi:
            return {
                id,
                state: {
                    ...state,
                    rootResourceId: hash(seed + "/root", 10),
                    executionArn: arn("execute-api", id),
                    arn: `arn:aws:apigateway:${region}::/restapis/${id}`,
                },
            };
        case TYPES.stage: {
            const restApiId =
                typeof inputs["restApi"] === "string" ? inputs["restApi"] : String(inputs["restApi"]?.id ?? "");
            return {
                id,
                state: {
                    ...state,
                    invokeUrl: `https://${restApiId}.execute-api.${region}.amazonaws.com/${inputs["stageName"]}`,
                    executionArn: arn("execute-api", `${restApiId}/${inputs["stageName"]}`),
                },
            };
        }
        case TYPES.apiKey:
            // AWS generates 40 alphanumeric characters when no value is given.
            return {
                id,
                state: {
                    ...state,
                    value: inputs["value"] ?? hash(seed + "/value", 40, ALNUM),
                    arn: `arn:aws:apigateway:${region}::/apikeys/${id}`,
                },
            };
        case TYPES.randomBytes: {
            // Deterministic per stack and name under mocks (the local cloud overrides it with a real one).
            const bytes = crypto
                .createHash("sha512")
                .update(seed + "/bytes")
                .digest()
                .subarray(0, Number(inputs["length"] ?? 32));
            return { id, state: { ...inputs, id, hex: bytes.toString("hex"), base64: bytes.toString("base64") } };
        }
        default:
            return { id, state: { ...state, arn: arn(type.split(":")[1]?.split("/")[0] ?? "aws", `${name}/${id}`) } };
    }
}

/** What API Gateway calls a Lambda ARN in an integration's `uri` (an alias's or a version's too). */
export const lambdaInvokeArn = (region: string, functionArn: string) =>
    `arn:aws:apigateway:${region}:lambda:path/2015-03-31/functions/${functionArn}/invocations`;

/**
 * A function's `version` (the latest published one, `$LATEST` when `publish` is off) and the
 * attributes that qualify its ARN with it, as the AWS provider sets them.
 */
export function functionVersionState(
    region: string,
    functionArn: string,
    version: string,
): { version: string; qualifiedArn: string; qualifiedInvokeArn: string } {
    const qualifiedArn = `${functionArn}:${version}`;
    return { version, qualifiedArn, qualifiedInvokeArn: lambdaInvokeArn(region, qualifiedArn) };
}

/** Resolves an Output (or a plain value) and tells whether it is secret. */
async function resolve(value: unknown): Promise<{ value: unknown; secret: boolean }> {
    if (!pulumi.Output.isInstance(value)) {
        return { value, secret: false };
    }
    const output = value as Pulumi.Output<unknown> & { isSecret: Promise<boolean> };
    const resolved = await new Promise<unknown>((r) =>
        output.apply((v) => {
            r(v);
            return v;
        }),
    );
    return { value: resolved, secret: await output.isSecret };
}

let running = false;

/** Reads the stack's config (stackFiles.ts) and records the program with it. */
export async function recordProgram(options: RecordOptions): Promise<RecordedProgram> {
    const config = readProgramConfig({ ...options, projectDir: options.projectDir ?? process.cwd() });
    return recordConfiguredProgram(config, options.stateOverride);
}

/** Records the program with a config already read (the local cloud reads it once, before anything else). */
export async function recordConfiguredProgram(
    config: ProgramConfig,
    stateOverride?: RecordOptions["stateOverride"],
): Promise<RecordedProgram> {
    // The Pulumi runtime is process-global state: two programs at once would mix their resources.
    if (running) {
        throw new Error("recordProgram is already running; await the previous call first");
    }
    running = true;
    try {
        // Every recording takes the shortcuts of rerecord.ts (the package tree read once, unchanged
        // modules not compiled again, Pulumi's bookkeeping stacks not source-mapped): live reload,
        // a start, a test suite's many recordings. Same recording, a fraction of the time.
        await prepareRerecording();
        return await cheapPulumiStacks(() => failOnProgramRejection(record(config, stateOverride)));
    } finally {
        running = false;
        await releaseClosureMirrors();
    }
}

/**
 * An error thrown inside an `apply` (a config check on a secret value, say) never reaches the
 * recording's promise: Pulumi's runtime leaves it as an unhandled rejection, and the recording
 * waits forever for the output. While the program runs, such a rejection is the program's error:
 * it fails this start with the error's own message (Pulumi prefixes "error serializing property").
 * Other listeners (mocha's) are set aside meanwhile so they do not report it a second time.
 */
async function failOnProgramRejection<T>(recording: Promise<T>): Promise<T> {
    const others = process.listeners("unhandledRejection");
    process.removeAllListeners("unhandledRejection");
    let onRejection: (reason: unknown) => void = () => undefined;
    const rejected = new Promise<never>((_resolve, reject) => {
        onRejection = (reason) => {
            if (reason instanceof Error) {
                reason.message = reason.message.replace(/^(error serializing property "[^"]*": )+/, "");
            }
            reject(reason);
        };
    });
    process.on("unhandledRejection", onRejection);
    try {
        return await Promise.race([recording, rejected]);
    } catch (err) {
        // The failed program leaves promises that never settle; Pulumi's exit hook would report
        // them as leaks and turn a later clean exit (a test run's, say) into exit code 1.
        runtimeState.getStore().leakCandidates = new Set();
        throw err;
    } finally {
        process.off("unhandledRejection", onRejection);
        // Later rejections from the abandoned recording would otherwise crash the process.
        process.on("unhandledRejection", ignoreLateProgramRejection);
        setTimeout(() => process.off("unhandledRejection", ignoreLateProgramRejection), 1000).unref();
        for (const listener of others) {
            process.on("unhandledRejection", listener);
        }
    }
}

function ignoreLateProgramRejection(): void {
    // See failOnProgramRejection.
}

async function record(
    programConfig: ProgramConfig,
    stateOverride: RecordOptions["stateOverride"],
): Promise<RecordedProgram> {
    const { projectDir, stack, region, config, project } = programConfig;
    const resources: RecordedResource[] = [];
    const mocks: Pulumi.runtime.Mocks = {
        newResource: (args) => {
            const inputs = unwrapSecrets(args.inputs);
            const { id, state } = mockState(stack, region, args.type, args.name, inputs);
            const override = stateOverride?.({ ...args, inputs, state });
            const withOverride = (extra: Record<string, any> | undefined) => ({
                id: typeof extra?.["id"] === "string" ? extra["id"] : id,
                state: { ...state, ...(extra ?? {}) },
            });
            // Written with `then` (see archiveEntries): an override may read the function's archive.
            return override instanceof Promise ? override.then(withOverride) : withOverride(override);
        },
        call: (args) => {
            if (args.token === "aws:index/getRegion:getRegion") {
                return { name: region, id: region, region };
            }
            if (args.token === "aws:index/getCallerIdentity:getCallerIdentity") {
                return { accountId: MOCK_ACCOUNT, arn: `arn:aws:iam::${MOCK_ACCOUNT}:user/mock`, userId: "mock" };
            }
            // An unmocked call would return nonsense silently; fail loudly so the mock grows with the program.
            throw new Error(`recordProgram: no mock for call ${args.token}`);
        },
    };

    pulumi.runtime.setAllConfig(config, []);
    await pulumi.runtime.setMocks(mocks, project, stack, false);
    // Resource-typed inputs (a Stage's `restApi`) then arrive as ids, as a provider sees them.
    runtimeState.getStore().supportsResourceReferences = false;

    const monitor = runtimeState.getStore().settings.monitor;
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req: any, callback: (err: unknown, res: any) => void) => {
        register(req, (err: unknown, res: any) => {
            if (!err && res) {
                resources.push({
                    urn: res.getUrn(),
                    type: req.getType(),
                    name: req.getName(),
                    parent: req.getParent(),
                    custom: req.getCustom(),
                    protect: req.getProtect?.() ?? false,
                    additionalSecretOutputs: req.getAdditionalsecretoutputsList?.() ?? [],
                    deleteBeforeReplace: req.getDeletebeforereplace?.() ?? false,
                    aliases: aliasUrns(req, stack, project),
                    secretInputs: secretPaths(rpc.deserializeProperties(req.getObject())),
                    id: res.getId(),
                    inputs: unwrapSecrets(rpc.deserializeProperties(req.getObject())),
                    state: unwrapSecrets(rpc.deserializeProperties(res.getObject())),
                });
            }
            callback(err, res);
        });
    };

    // Fresh module instances for every run: the program reads its config at load time, and a
    // reload must see edited files. Packages stay loaded, and so does this package when it sits
    // inside the project (as here): it is the recorder, not the program.
    const isProgramFile = (file: string) =>
        file.startsWith(projectDir + path.sep) &&
        !file.includes(`${path.sep}node_modules${path.sep}`) &&
        !file.startsWith(PACKAGE_DIR);
    for (const file of Object.keys(require.cache)) {
        if (isProgramFile(file)) {
            delete require.cache[file];
        }
    }
    // Node lists every module this one required in `module.children`: the last run's program would
    // stay reachable from here (a leak per reload) unless it is taken off the list.
    module.children = module.children.filter((child) => !isProgramFile(child.filename));
    let program: Record<string, unknown>;
    try {
        program = require(path.join(projectDir, "index.ts")) as Record<string, unknown>;
    } catch (err) {
        // Resources declared before the throw still have RPCs in flight (their outputs, say).
        // Let them finish against this run's monitor, or they land on the next run's and fail it.
        await Promise.race([settings.waitForRPCs(), new Promise((r) => setTimeout(r, 5000).unref())]).catch(
            () => undefined,
        );
        throw err;
    }

    const outputs: Record<string, unknown> = {};
    const secretOutputs: string[] = [];
    for (const [name, value] of Object.entries(program)) {
        const resolved = await resolve(value);
        outputs[name] = resolved.value;
        if (resolved.secret) {
            secretOutputs.push(name);
        }
    }
    await settings.waitForRPCs();
    return { stack, region, resources, outputs, secretOutputs, undecryptable: programConfig.undecryptable };
}

/**
 * The files of a Lambda archive recorded under mocks: name -> text (for assets) or a path (for folders).
 * Written with `then`, not `await`: while Pulumi's inspector session is on, an `await` on one of the
 * archive's (long-lived) promises links it to the awaiting function's frame, and through that frame
 * to whatever its caller holds (a live reload's previous version, and so on back).
 */
export function archiveEntries(code: any): Promise<Record<string, { text?: string; path?: string }>> {
    return Promise.resolve(code.assets)
        .then((assets: Record<string, any>) =>
            Promise.all(
                Object.entries(assets).map(([name, asset]) =>
                    asset.text !== undefined
                        ? Promise.resolve(asset.text).then((text: string) => [name, { text }] as const)
                        : Promise.resolve(asset.path).then((file: string) => [name, { path: file }] as const),
                ),
            ),
        )
        .then((entries) => Object.fromEntries(entries));
}
