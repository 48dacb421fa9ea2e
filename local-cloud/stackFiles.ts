// Reads a stack's configuration the way the Pulumi CLI does: defaults from Pulumi.yaml's `config`
// schema, overridden by Pulumi.<stack>.yaml. Used wherever the program runs without the CLI
// (tests, the local cloud, the OpenAPI generator).
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
    return fs.readdirSync(projectDir)
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
        throw new StackFileError(`No stack "${stack}": ${path.basename(stackFile)} does not exist (stacks here: ${known.join(", ") || "none"})`);
    }
    const projectDoc = readYaml(projectFile);
    const project = readProjectName(projectDir);
    const config: Record<string, string> = {};
    const undecryptable: string[] = [];

    const schema = (projectDoc["config"] ?? {}) as Record<string, unknown>;
    for (const [key, decl] of Object.entries(schema)) {
        const fullKey = key.includes(":") ? key : `${project}:${key}`;
        const value = decl && typeof decl === "object" && !Array.isArray(decl)
            ? ((decl as Record<string, unknown>)["default"] ?? (decl as Record<string, unknown>)["value"])
            : decl;
        if (value !== undefined) {
            config[fullKey] = asConfigString(value);
        }
    }

    const stackConfig = (readYaml(stackFile)["config"] ?? {}) as Record<string, unknown>;
    for (const [key, value] of Object.entries(stackConfig)) {
        const fullKey = key.includes(":") ? key : `${project}:${key}`;
        if (isSecure(value) || JSON.stringify(value).includes("\"secure\":")) {
            // Encrypted with the stack's secrets provider; only the Pulumi CLI can read it.
            undecryptable.push(fullKey);
            delete config[fullKey];
            continue;
        }
        config[fullKey] = asConfigString(value);
    }
    return { project, stack, config, undecryptable };
}
