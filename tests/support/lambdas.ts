// Loads the Lambda code exactly as AWS would run it: each function's serialized `__index.js`,
// taken from its archive in the program recorded under mocks, written to a folder inside the
// project (so `require` resolves packages the way the Lambda runtime does) and required. The SDK
// inside reaches the test's dynalite through the standard endpoint environment variables; the
// serialized code is not edited.
//
// Also the one switch between the two ways the contract tests run (`loadApiUnderTest`): "handler"
// calls the TypeScript handlers through handleEvent with injected deps, "closure" calls the
// serialized Lambda handlers with the same events.
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from "aws-lambda";
import { archiveEntries, type RecordedProgram } from "local-cloud";
import { ofType, stackProgram, TYPES } from "./program";
import {
    ALLOW_ORIGIN,
    CURSOR_KEY,
    apiClient,
    closureClient,
    testClock,
    testDeps,
    type ApiCall,
    type Mode,
} from "./client";
import { localDocumentClient } from "./dynamo";
import type { Deps } from "../../api/http/contract";
import type { RouteName } from "../../api/handlers";
import { PROJECT_DIR } from "../../scripts/project";

export type LambdaHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

export interface LoadedLambdas {
    /**
     * Function logical name (the route name) -> the serialized module's `handler`. A module is
     * required the first time its handler is read (a cold start, with the environment of this
     * load), so a test pays only for the functions it calls.
     */
    handlers: Record<string, LambdaHandler>;
    /** The environment each function was configured with by the program. */
    environments: Record<string, Record<string, string>>;
    /** The serialized module text, for assertions about what was captured. */
    sources: Record<string, string>;
    unload(): void;
}

interface SerializedFunction {
    name: string;
    /** The `handler` input, e.g. `__index.handler`. */
    handler: string;
    source: string;
    environment: Record<string, string>;
}

const serializedCache = new WeakMap<RecordedProgram, Promise<SerializedFunction[]>>();

/** Each function's serialized code and configuration, read from its archive once per program. */
export function serializedFunctions(program: RecordedProgram): Promise<SerializedFunction[]> {
    let found = serializedCache.get(program);
    if (!found) {
        found = Promise.all(
            ofType(program, TYPES.function).map(async (fn) => {
                const entries = await archiveEntries(fn.inputs["code"]);
                const source = entries["__index.js"]?.text;
                if (source === undefined) {
                    throw new Error(`${fn.name}: archive has no __index.js`);
                }
                return {
                    name: fn.name,
                    handler: String(fn.inputs["handler"]),
                    source,
                    environment: (fn.inputs["environment"]?.variables ?? {}) as Record<string, string>,
                };
            }),
        );
        serializedCache.set(program, found);
    }
    return found;
}

// One folder per process: a module file is written once per distinct source and required afresh
// (a new module instance, so a new cold start) by every load.
const ROOT = path.join(PROJECT_DIR, ".tmp", "lambdas", `${process.pid}`);
let cleanupRegistered = false;

function moduleDir(fn: SerializedFunction): string {
    const digest = crypto.createHash("sha256").update(fn.source).digest("hex").slice(0, 12);
    const dir = path.join(ROOT, `${fn.name}-${digest}`);
    const file = path.join(dir, "__index.js");
    if (!fs.existsSync(file)) {
        fs.mkdirSync(dir, { recursive: true });
        fs.writeFileSync(file, fn.source);
        if (!cleanupRegistered) {
            cleanupRegistered = true;
            process.once("exit", () => fs.rmSync(ROOT, { recursive: true, force: true }));
        }
    }
    return dir;
}

/**
 * @param env variables overriding the program's (e.g. TABLE_NAME of the test table) plus the
 *            SDK's endpoint settings. They stay set until `unload`, because the SDK resolves
 *            credentials and endpoint lazily on the first call.
 */
export async function loadLambdas(program: RecordedProgram, env: Record<string, string>): Promise<LoadedLambdas> {
    const functions = await serializedFunctions(program);
    const saved = { ...process.env };
    const handlers: Record<string, LambdaHandler> = {};
    const environments: Record<string, Record<string, string>> = {};
    const sources: Record<string, string> = {};
    const loadedFiles: string[] = [];
    let unloaded = false;

    for (const fn of functions) {
        environments[fn.name] = fn.environment;
        sources[fn.name] = fn.source;
        const [moduleName, exportName] = fn.handler.split(".");
        const file = path.join(moduleDir(fn), `${moduleName}.js`);
        let handler: LambdaHandler | undefined;
        Object.defineProperty(handlers, fn.name, {
            enumerable: true,
            get: () => {
                if (handler === undefined) {
                    if (unloaded) {
                        throw new Error(`${fn.name}: lambdas already unloaded`);
                    }
                    // The factory runs at module load (a cold start) and reads its settings then.
                    Object.assign(process.env, fn.environment, env);
                    delete require.cache[file];
                    handler = require(file)[exportName!] as LambdaHandler;
                    loadedFiles.push(file);
                }
                return handler;
            },
        });
    }
    // Settings for the SDK's lazy resolution, also before any handler is read.
    Object.assign(process.env, env);

    return {
        handlers,
        environments,
        sources,
        unload() {
            unloaded = true;
            for (const file of loadedFiles) {
                delete require.cache[file];
            }
            for (const key of Object.keys(process.env)) {
                if (!(key in saved)) {
                    delete process.env[key];
                }
            }
            Object.assign(process.env, saved);
        },
    };
}

/** Environment that points the unmodified AWS SDK at a local DynamoDB-compatible endpoint. */
export function localSdkEnv(endpoint: string): Record<string, string> {
    return {
        AWS_ENDPOINT_URL_DYNAMODB: endpoint,
        AWS_REGION: "us-east-1",
        AWS_ACCESS_KEY_ID: "local",
        AWS_SECRET_ACCESS_KEY: "local",
    };
}

// ---------------------------------------------------------------------------------------------
// The two modes of the contract tests.
// ---------------------------------------------------------------------------------------------

/** The stack whose recorded program supplies the serialized closures. */
const CLOSURE_STACK = "dev";

export interface ContractApi {
    mode: Mode;
    call: ApiCall;
    tableName: string;
    /** The clock the code under test reads: the test clock (handler mode) or the real one (closures). */
    now(): Date;
    /** Handler mode only: the injected dependencies, for tests that swap one of them. */
    deps?: Deps;
    close(): void;
}

export interface ApiUnderTestOptions {
    /** The DynamoDB endpoint the code under test talks to: dynalite's, or a DynamoProxy's. */
    endpoint: string;
    tableName: string;
    /** Handler mode: the injected clock (default: a fresh testClock). */
    clock?: ReturnType<typeof testClock>;
}

/**
 * The posts API as one mode runs it, against `tableName` at `endpoint`:
 * - "handler": the route handlers through handleEvent, with a document client, clock and ids
 *   injected (tests/support/client.ts);
 * - "closure": each function's serialized `__index.js` from the `dev` program recorded under
 *   mocks, loaded as Lambda would with TABLE_NAME, CURSOR_KEY and CORS_ALLOW_ORIGIN set for this
 *   test, and called with the same API Gateway events.
 * Both answer with the same ApiResult, so one set of test code covers both.
 */
export async function loadApiUnderTest(mode: Mode, options: ApiUnderTestOptions): Promise<ContractApi> {
    if (mode === "handler") {
        const db = localDocumentClient(options.endpoint);
        const clock = options.clock ?? testClock();
        const deps = testDeps(db, options.tableName, clock);
        return {
            mode,
            call: apiClient(deps),
            tableName: options.tableName,
            now: clock.now,
            deps,
            close: () => db.destroy(),
        };
    }
    const lambdas = await loadLambdas(await stackProgram(CLOSURE_STACK), {
        TABLE_NAME: options.tableName,
        CURSOR_KEY,
        CORS_ALLOW_ORIGIN: ALLOW_ORIGIN,
        ...localSdkEnv(options.endpoint),
    });
    return {
        mode,
        call: closureClient(lambdas.handlers as Record<RouteName, LambdaHandler>),
        tableName: options.tableName,
        now: () => new Date(),
        close: () => lambdas.unload(),
    };
}
