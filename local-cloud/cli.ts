// What the command-line scripts share: argument parsing, one clear line per startup error, and
// outputs printed the way `pulumi stack output` prints them.
import { parseArgs, type ParseArgsConfig } from "node:util";
import { ACCOUNT_PROFILES, type AccountSettings } from "./account";

/** Errors whose message is the whole story for a user (no stack trace). */
const USER_ERRORS = new Set(["LocalCloudError", "StackFileError", "ConfigError", "CliError"]);

export class CliError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "CliError";
    }
}

export function parseCli<T extends NonNullable<ParseArgsConfig["options"]>>(args: string[], options: T, usage: string) {
    try {
        return parseArgs({ args, options, allowPositionals: true, strict: true });
    } catch (err) {
        throw new CliError(`${(err as Error).message}\n\n${usage}`);
    }
}

/**
 * A command's arguments as every script here takes them: parseCli, then `--help` prints the usage
 * (the answer is then undefined: nothing more to do) and more positional arguments than the
 * command takes (`maxPositionals`, each a `positionalName`) is an error naming the usage.
 */
export function parseCommand<T extends NonNullable<ParseArgsConfig["options"]>>(
    args: string[],
    options: T,
    usage: string,
    maxPositionals = 0,
    positionalName = "argument",
) {
    const parsed = parseCli(args, options, usage);
    if ((parsed.values as Record<string, unknown>)["help"] === true) {
        process.stdout.write(`${usage}\n`);
        return undefined;
    }
    if (parsed.positionals.length > maxPositionals) {
        throw new CliError(
            maxPositionals === 0
                ? `unexpected argument "${parsed.positionals[0]}"\n\n${usage}`
                : `at most ${maxPositionals === 1 ? "one" : maxPositionals} ${positionalName}, got ${parsed.positionals.length}\n\n${usage}`,
        );
    }
    return parsed;
}

/** Prints a startup failure as one clear message and exits non-zero. */
export function fail(err: unknown): never {
    const e = err as Error;
    if (USER_ERRORS.has(e?.name)) {
        process.stderr.write(`error: ${e.message}\n`);
    } else if (process.env["LOCAL_CLOUD_DEBUG"]) {
        process.stderr.write(`error: ${e?.stack ?? String(err)}\n`);
    } else {
        // Anything else the program (or the local cloud) threw: its message, the trace on demand.
        process.stderr.write(
            `error: ${e?.name ?? "Error"}: ${e?.message ?? String(err)} (LOCAL_CLOUD_DEBUG=1 shows the stack trace)\n`,
        );
    }
    process.exit(1);
}

export function parsePort(text: string | undefined, fallback: number): number {
    if (text === undefined) {
        return fallback;
    }
    const port = Number(text);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
        throw new CliError(`--port must be a whole number from 0 to 65535, not "${text}"`);
    }
    return port;
}

/** `--account <name>`: one of ACCOUNT_PROFILES (account.ts); undefined when not given (the default account). */
export function parseAccount(name: string | undefined): AccountSettings | undefined {
    if (name === undefined) {
        return undefined;
    }
    const account = ACCOUNT_PROFILES[name];
    if (account === undefined || !Object.hasOwn(ACCOUNT_PROFILES, name)) {
        throw new CliError(`--account must be one of ${Object.keys(ACCOUNT_PROFILES).join(", ")}, not "${name}"`);
    }
    return account;
}

/** One line saying which account a local cloud plays, for its banner. */
export function describeAccount(name: string, account: AccountSettings): string {
    return (
        `Account: ${name} (Lambda concurrency quota ${account.concurrentExecutions}, ` +
        `${account.cloudwatchRoleArn === undefined ? "no API Gateway CloudWatch role" : "API Gateway CloudWatch role set"}; \`npm run preflight\` reads it)`
    );
}

const SECRET = "[secret]";

const show = (value: unknown) => (typeof value === "string" ? value : JSON.stringify(value));

/**
 * `pulumi stack output` formats: a table of every output, one output's value, or JSON; secret
 * values are `[secret]` unless showSecrets.
 */
export function formatOutputs(
    outputs: Record<string, unknown>,
    secretOutputs: string[],
    options: { stack: string; name?: string; json?: boolean; showSecrets?: boolean },
): string {
    const visible = (name: string) => (secretOutputs.includes(name) && !options.showSecrets ? SECRET : outputs[name]);
    if (options.name !== undefined) {
        if (!Object.hasOwn(outputs, options.name)) {
            throw new CliError(`current stack does not have output property '${options.name}'`);
        }
        const value = visible(options.name);
        return options.json ? JSON.stringify(value, null, 2) : show(value);
    }
    const names = Object.keys(outputs).sort();
    if (options.json) {
        return JSON.stringify(Object.fromEntries(names.map((n) => [n, visible(n)])), null, 2);
    }
    const width = Math.max("OUTPUT".length, ...names.map((n) => n.length));
    return [
        `Current stack outputs (${names.length}):`,
        `    ${"OUTPUT".padEnd(width)}  VALUE`,
        ...names.map((n) => `    ${n.padEnd(width)}  ${show(visible(n))}`),
    ].join("\n");
}

/** A key value as the start banner shows it without --show-secrets. */
export const maskKey = (value: string) =>
    value.length > 8 ? `${value.slice(0, 4)}${"*".repeat(value.length - 8)}${value.slice(-4)}` : "********";

/**
 * `--throttle-partitions <scale>`: a fraction of DynamoDB's per-partition limits (dynamoCapacity.ts); undefined when
 * not given.
 */
export function parseThrottleScale(text: string | undefined): number | undefined {
    if (text === undefined) {
        return undefined;
    }
    const scale = Number(text);
    if (!Number.isFinite(scale) || scale <= 0 || scale > 1 || text.trim() === "") {
        throw new CliError(
            `--throttle-partitions must be a number above 0 and at most 1 (0.01: 10 write and 30 read units a second per partition), not "${text}"`,
        );
    }
    return scale;
}

/** One line saying at which rates the local cloud throttles a DynamoDB partition, for its banner. */
export function describeThrottle(scale: number): string {
    return (
        `DynamoDB partitions throttle at ${scale} x DynamoDB's limits: ${3000 * scale} read and ${1000 * scale} write units a second ` +
        "per partition key value, table or index, answered with DynamoDB's ThrottlingException (the console's Stack panel shows the units)"
    );
}
