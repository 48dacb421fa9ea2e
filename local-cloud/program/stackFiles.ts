// Reads a stack's configuration the way the Pulumi CLI does: defaults from Pulumi.yaml's `config`
// schema, overridden by Pulumi.<stack>.yaml. Used wherever the program runs without the CLI
// (tests, the local cloud, the OpenAPI generator). `readProgramConfig` is the one place that turns
// a project folder, a stack and a caller's overrides into the config a recording runs with.
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";

export interface StackFiles {
    project: string;
    stack: string;
    /** Full key ("my-project:plans", "aws:region") -> value as the CLI hands it to the program. */
    config: Record<string, string>;
    /** Keys whose value is encrypted (`secure:`): they cannot be decrypted without the Pulumi CLI. */
    undecryptable: string[];
}

export class StackFileError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "StackFileError";
    }
}

function readYaml(file: string): Record<string, unknown> {
    try {
        const doc = parse(fs.readFileSync(file, "utf8")) as unknown;
        return doc && typeof doc === "object" ? (doc as Record<string, unknown>) : {};
    } catch (err) {
        throw new StackFileError(`${path.basename(file)} is not valid YAML: ${(err as Error).message}`);
    }
}

/** Pulumi passes strings to the program; structured values travel as JSON. */
const asConfigString = (value: unknown) => (typeof value === "string" ? value : JSON.stringify(value));

const isSecure = (value: unknown) =>
    typeof value === "object" && value !== null && Object.keys(value).length === 1 && "secure" in value;

export function listStacks(projectDir: string): string[] {
    return fs
        .readdirSync(projectDir)
        .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
        .filter((s): s is string => s !== undefined)
        .sort();
}

/** The project's name, from Pulumi.yaml (the prefix of its config keys). */
export function readProjectName(projectDir: string): string {
    const name = readYaml(path.join(projectDir, "Pulumi.yaml"))["name"];
    if (typeof name !== "string" || name === "") {
        throw new StackFileError(`Pulumi.yaml in ${projectDir} has no project name`);
    }
    return name;
}

export function readStackFiles(projectDir: string, stack: string): StackFiles {
    const projectFile = path.join(projectDir, "Pulumi.yaml");
    const stackFile = path.join(projectDir, `Pulumi.${stack}.yaml`);
    if (!fs.existsSync(stackFile)) {
        const known = listStacks(projectDir);
        throw new StackFileError(
            `No stack "${stack}": ${path.basename(stackFile)} does not exist (stacks here: ${known.join(", ") || "none"})`,
        );
    }
    const projectDoc = readYaml(projectFile);
    const project = readProjectName(projectDir);
    const config: Record<string, string> = {};
    const undecryptable: string[] = [];

    const schema = (projectDoc["config"] ?? {}) as Record<string, unknown>;
    for (const [key, decl] of Object.entries(schema)) {
        const fullKey = key.includes(":") ? key : `${project}:${key}`;
        const value =
            decl && typeof decl === "object" && !Array.isArray(decl)
                ? ((decl as Record<string, unknown>)["default"] ?? (decl as Record<string, unknown>)["value"])
                : decl;
        if (value !== undefined) {
            config[fullKey] = asConfigString(value);
        }
    }

    const stackConfig = (readYaml(stackFile)["config"] ?? {}) as Record<string, unknown>;
    for (const [key, value] of Object.entries(stackConfig)) {
        const fullKey = key.includes(":") ? key : `${project}:${key}`;
        if (isSecure(value) || JSON.stringify(value).includes('"secure":')) {
            // Encrypted with the stack's secrets provider; only the Pulumi CLI can read it.
            undecryptable.push(fullKey);
            delete config[fullKey];
            continue;
        }
        config[fullKey] = asConfigString(value);
    }
    return { project, stack, config, undecryptable };
}

/** Everything a recording of the program needs to know about its configuration, read once. */
export interface ProgramConfig {
    projectDir: string;
    project: string;
    stack: string;
    /** `aws:region`, us-east-1 when the stack sets none. */
    region: string;
    /** Full key -> value as the program reads it (stack file, then the caller's overrides). */
    config: Record<string, string>;
    /** Keys whose value is encrypted in the stack file and left out of `config`. */
    undecryptable: string[];
    /** The files this config was read from (Pulumi.yaml, and Pulumi.<stack>.yaml unless `stackConfig` replaced it). */
    files: string[];
}

export interface ProgramConfigOptions {
    projectDir: string;
    stack: string;
    /** Replace the stack file entirely (tests define their own stacks). */
    stackConfig?: Record<string, unknown>;
    /** Full config keys ("my-project:lambdaTimeout") overriding the stack file; `undefined` removes a key. */
    config?: Record<string, unknown>;
}

/**
 * The program's config for a stack: Pulumi.yaml defaults and Pulumi.<stack>.yaml (or a test's own
 * `stackConfig`), then single-key overrides. Throws StackFileError for a missing stack file or
 * unreadable YAML, before anything runs.
 */
export function readProgramConfig(options: ProgramConfigOptions): ProgramConfig {
    const projectDir = path.resolve(options.projectDir);
    const files = options.stackConfig
        ? { project: readProjectName(projectDir), config: {}, undecryptable: [] as string[] }
        : readStackFiles(projectDir, options.stack);
    const config: Record<string, string> = { ...files.config };
    const overrides = { ...(options.stackConfig ?? {}), ...(options.config ?? {}) };
    for (const [key, value] of Object.entries(overrides)) {
        if (value === undefined) {
            delete config[key];
        } else {
            config[key] = typeof value === "string" ? value : JSON.stringify(value);
        }
    }
    const region = config["aws:region"] ?? "us-east-1";
    config["aws:region"] = region;
    return {
        projectDir,
        project: files.project,
        stack: options.stack,
        region,
        config,
        undecryptable: files.undecryptable,
        files: [
            path.join(projectDir, "Pulumi.yaml"),
            ...(options.stackConfig ? [] : [path.join(projectDir, `Pulumi.${options.stack}.yaml`)]),
        ],
    };
}
