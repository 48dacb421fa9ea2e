// Loads the Lambda code exactly as AWS would run it: each function's serialized `__index.js`,
// taken from its archive in the program recorded under mocks, written to a folder inside the
// project (so `require` resolves packages the way the Lambda runtime does) and required. The SDK
// inside reaches the test's dynalite through the standard endpoint environment variables; the
// serialized code is not edited.
import * as fs from "node:fs";
import * as path from "node:path";
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from "aws-lambda";
import { archiveEntries, PROJECT_DIR, type RecordedProgram } from "../../local/recordProgram";
import { ofType, TYPES } from "./program";

export type LambdaHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

export interface LoadedLambdas {
    /** Function logical name (the route name) -> the serialized module's `handler`. */
    handlers: Record<string, LambdaHandler>;
    /** The environment each function was configured with by the program. */
    environments: Record<string, Record<string, string>>;
    /** The serialized module text, for assertions about what was captured. */
    sources: Record<string, string>;
    unload(): void;
}

/**
 * @param env variables overriding the program's (e.g. TABLE_NAME of the test table) plus the
 *            SDK's endpoint settings. They stay set until `unload`, because the SDK resolves
 *            credentials and endpoint lazily on the first call.
 */
export async function loadLambdas(program: RecordedProgram, env: Record<string, string>): Promise<LoadedLambdas> {
    const root = path.join(PROJECT_DIR, ".tmp", "lambdas", `${program.stack}-${process.pid}-${Date.now()}`);
    const saved = { ...process.env };
    const handlers: Record<string, LambdaHandler> = {};
    const environments: Record<string, Record<string, string>> = {};
    const sources: Record<string, string> = {};
    const files: string[] = [];

    for (const fn of ofType(program, TYPES.function)) {
        const entries = await archiveEntries(fn.inputs["code"]);
        const source = entries["__index.js"]?.text;
        if (source === undefined) {
            throw new Error(`${fn.name}: archive has no __index.js`);
        }
        const dir = path.join(root, fn.name);
        fs.mkdirSync(dir, { recursive: true });
        const file = path.join(dir, "__index.js");
        fs.writeFileSync(file, source);
        files.push(file);

        const configured: Record<string, string> = fn.inputs["environment"]?.variables ?? {};
        environments[fn.name] = configured;
        sources[fn.name] = source;
        // The factory runs at module load (a cold start) and reads its settings then.
        Object.assign(process.env, configured, env);
        const [moduleName, exportName] = String(fn.inputs["handler"]).split(".");
        const loaded = require(path.join(dir, `${moduleName}.js`));
        handlers[fn.name] = loaded[exportName!];
    }

    return {
        handlers,
        environments,
        sources,
        unload() {
            for (const file of files) {
                delete require.cache[file];
            }
            fs.rmSync(root, { recursive: true, force: true });
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
