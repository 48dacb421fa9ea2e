// `npm start -- [--stack dev] [--port 8080] [--host 127.0.0.1] [--state-dir .local/<stack>] [--show-secrets] [--quiet]
// [--no-watch] [--no-console] [--console-path /_local/] [--account default|new] [--throttle-partitions <scale>]`
// Runs the program for a stack on the local cloud (no AWS account) until Ctrl-C, reloading it when
// its sources or config change.
import * as path from "node:path";
import {
    describeAccount,
    describeThrottle,
    fail,
    formatOutputs,
    maskKey,
    parseAccount,
    parseCommand,
    parsePort,
    parseThrottleScale,
} from "local-cloud/cli";
import { describeReload, startLocalCloud, type LocalCloud, type RequestLog } from "local-cloud";

import { defaultStateDir, runtimeWarnings } from "local-cloud";
import { consoleOpenApiDocument } from "./consoleDocument";
import { PROJECT_DIR } from "./project";

const { restoreTierUpThreshold } = require("local-cloud/tierUp") as { restoreTierUpThreshold: () => boolean };

const USAGE = `usage: npm start -- [--stack <name>] [--port <n>] [--host <address>] [--state-dir <dir>] [--show-secrets] [--quiet] [--no-watch] [--no-console] [--console-path <path>]
  --stack         the Pulumi stack to run (Pulumi.<stack>.yaml); default dev
  --port          port to serve on; default 8080 (0 picks a free one)
  --host          address to listen on; default 127.0.0.1
  --state-dir     where tables and keys are kept; default .local/<stack>
  --show-secrets  print API key values in full
  --quiet         do not print the functions' own log lines
  --no-watch      do not reload when the program's sources or config change
  --no-console    do not serve the console in the browser (API reference, consumers, live requests, stack)
  --console-path  where the console is served on the same port; default /_local/ (a stage of that name needs another)
  --account       the AWS account it plays for \`npm run preflight\`: default (concurrency 1000, a CloudWatch role) or new (concurrency 10, no role)
  --throttle-partitions  throttle a DynamoDB partition past this fraction of DynamoDB's per-partition limits, as DynamoDB would
                  (0.01: 10 write and 30 read units a second per partition key value); default: count units only`;

function banner(cloud: LocalCloud, showSecrets: boolean, watch: boolean): string {
    const lines: string[] = [];
    const relativeState = path.relative(process.cwd(), cloud.stateDir) || ".";
    lines.push(`Local cloud for stack "${cloud.stack}" is ready: ${cloud.stageUrl}`);
    lines.push(`State: ${relativeState} (tables and keys survive restarts; delete the folder to start over)`);
    lines.push(`Control plane (API Gateway SDK endpoint, for \`npm run usage\`): ${cloud.controlPlaneUrl}`);
    if (cloud.consoleUrl) {
        // The API reference with try-it, the consumers and their quotas, live requests, the stack.
        lines.push(`Console: ${cloud.consoleUrl}`);
    }
    if (cloud.model.restApis.some((api) => api.stages.some((stage) => stage.accessLog))) {
        lines.push(
            `Access log: ${path.join(relativeState, "access.log")} (the stage's own format; each line is also shown under its request below)`,
        );
    }
    lines.push("");
    lines.push(formatOutputs(cloud.outputs, cloud.secretOutputs, { stack: cloud.stack, showSecrets }));
    lines.push("");
    lines.push(showSecrets ? "API keys:" : "API keys (masked):");
    for (const key of cloud.model.apiKeys) {
        const plan = cloud.model.usagePlans.find((p) => p.keyIds.includes(key.id));
        const value = showSecrets ? key.value : maskKey(key.value);
        lines.push(
            `    ${key.logicalName.padEnd(16)} ${value}  plan ${plan?.logicalName ?? "(none: every call is refused)"}${key.enabled ? "" : ", DISABLED"}`,
        );
    }
    const keyOutput = fullKeyLine(cloud);
    if (!showSecrets && keyOutput) {
        lines.push(keyOutput);
    }
    lines.push("");
    lines.push("Routes:");
    const width = Math.max(...cloud.routes.map((r) => r.path.length));
    for (const route of cloud.routes) {
        lines.push(
            `    ${route.method.padEnd(7)} ${route.path.padEnd(width)}  ${route.apiKeyRequired ? "x-api-key" : "no key   "}  -> ${route.integration}`,
        );
    }
    const first = cloud.model.apiKeys.find((k) => k.enabled);
    const firstGet = cloud.routes.find((r) => r.method === "GET" && !r.path.includes("{")) ?? cloud.routes[0];
    if (first && firstGet) {
        // Without --show-secrets the line reads the key through `npm run outputs`, so it is not printed here.
        const output = Object.keys(cloud.outputs).find((name) => cloud.outputs[name] === first.value);
        const keyArg = showSecrets
            ? first.value
            : output
              ? `$(${outputsCommand(cloud, output)})`
              : `<${first.logicalName}'s key: npm start -- --show-secrets>`;
        lines.push("");
        lines.push("Try it:");
        lines.push(`    curl -i -H "x-api-key: ${keyArg}" ${cloud.url}${firstGet.path}`);
    }
    lines.push("");
    if (watch) {
        lines.push(
            "Watching the program's sources and Pulumi.yaml files: a change reloads it (tables, keys and usage stay). --no-watch turns this off.",
        );
    }
    lines.push("Requests are logged as: METHOD path status latency consumer. Ctrl-C stops.");
    return lines.join("\n");
}

/**
 * `npm run -s outputs -- … --show-secrets <output>`: prints that output in full. It asks this
 * running cloud (scripts/stackOutputs.js), so it answers in well under a second.
 */
function outputsCommand(cloud: LocalCloud, output: string): string {
    const stackArg = cloud.stack === "dev" ? "" : ` --stack ${cloud.stack}`;
    const stateDirArg =
        path.resolve(cloud.stateDir) === path.resolve(defaultStateDir(cloud.stack))
            ? ""
            : ` --state-dir ${path.relative(process.cwd(), cloud.stateDir)}`;
    return `npm run -s outputs --${stackArg}${stateDirArg} --show-secrets ${output}`;
}

/**
 * The copy-paste line under the masked keys: the command that prints a key in full, for the
 * secret output holding one (`apiKey`: the first consumer's), and the one for every consumer's.
 */
function fullKeyLine(cloud: LocalCloud): string | undefined {
    const secretKeys = cloud.secretOutputs.filter((name) => typeof cloud.outputs[name] === "string");
    const output = secretKeys.find((name) => cloud.model.apiKeys.some((k) => k.value === cloud.outputs[name]));
    const owner = cloud.model.apiKeys.find((k) => k.value === cloud.outputs[output ?? ""]);
    const all = cloud.secretOutputs.find((name) => typeof cloud.outputs[name] === "object");
    if (!output || !owner) {
        return undefined;
    }
    return `    full key of ${owner.logicalName}: ${outputsCommand(cloud, output)}${all ? `   (every consumer's: ${all})` : ""}`;
}

function requestLine(entry: RequestLog): string {
    const latency = entry.latencyMs < 10 ? entry.latencyMs.toFixed(1) : Math.round(entry.latencyMs).toString();
    const note = entry.refusal ? ` (${entry.refusal})` : "";
    // Control-plane calls (npm run usage) are named by their operation, e.g. GetUsage.
    const who = entry.consumer ?? entry.operation ?? "-";
    // A stage cache's verdict for a method it caches: `cache hit`, `cache miss`.
    const cache = entry.cache ? ` [cache ${entry.cache}]` : "";
    const line = `${entry.method} ${entry.path} ${entry.status} ${latency}ms ${who}${note}${cache}`;
    return entry.accessLog ? `${line}\n    ${entry.accessLog}` : line;
}

async function main() {
    const parsed = parseCommand(
        process.argv.slice(2),
        {
            stack: { type: "string", default: "dev" },
            port: { type: "string" },
            host: { type: "string", default: "127.0.0.1" },
            "state-dir": { type: "string" },
            "show-secrets": { type: "boolean", default: false },
            quiet: { type: "boolean", default: false },
            "no-watch": { type: "boolean", default: false },
            "no-console": { type: "boolean", default: false },
            "console-path": { type: "string" },
            account: { type: "string" },
            "throttle-partitions": { type: "string" },
            help: { type: "boolean", default: false },
        },
        USAGE,
    );
    if (parsed === undefined) {
        return;
    }
    const { values } = parsed;
    const stack = values.stack!;
    const watch = !values["no-watch"];
    const account = parseAccount(values.account);
    const throttlePartitions = parseThrottleScale(values["throttle-partitions"]);
    process.stdout.write(
        `Running ${path.relative(process.cwd(), path.join(PROJECT_DIR, "index.ts")) || "index.ts"} for stack "${stack}" under Pulumi mocks...\n`,
    );
    const cloud = await startLocalCloud({
        stack,
        port: parsePort(values.port, 8080),
        host: values.host,
        stateDir: values["state-dir"],
        onWarning: (message) => process.stderr.write(`warning: ${message}\n`),
        onRequest: (entry) => process.stdout.write(`${requestLine(entry)}\n`),
        onFunctionLog: values.quiet ? undefined : (line) => process.stdout.write(`${line}\n`),
        projectDir: PROJECT_DIR,
        watch,
        console: values["no-console"] ? false : { path: values["console-path"] },
        // The console's API reference: this project's own OpenAPI document (descriptions, schemas, examples).
        openApiDocument: consoleOpenApiDocument,
        onReload: (report) => (report.ok ? process.stdout : process.stderr).write(`${describeReload(report)}\n`),
        account,
        throttlePartitions,
    });
    // The start's one-off code is done: V8 optimizes as usual from here (local-cloud/startup/tierUp.js).
    restoreTierUpThreshold();
    process.stdout.write(`${banner(cloud, values["show-secrets"]!, watch)}\n`);
    if (account !== undefined) {
        process.stdout.write(`${describeAccount(values.account!, account)}\n`);
    }
    if (throttlePartitions !== undefined) {
        process.stdout.write(`${describeThrottle(throttlePartitions)}\n`);
    }
    runtimeWarnings(cloud.model.functions).forEach((line) => process.stderr.write(`warning: ${line}\n`));

    let stopping = false;
    const stop = (signal: string) => {
        if (stopping) {
            process.stderr.write("Stopping now.\n");
            process.exit(130);
        }
        stopping = true;
        process.stdout.write(
            `\n${signal}: stopping (data and keys are kept in ${path.relative(process.cwd(), cloud.stateDir)})...\n`,
        );
        cloud.close().then(
            () => process.exit(0),
            (err) => fail(err),
        );
    };
    process.on("SIGINT", () => stop("SIGINT"));
    process.on("SIGTERM", () => stop("SIGTERM"));
}

main().catch(fail);
