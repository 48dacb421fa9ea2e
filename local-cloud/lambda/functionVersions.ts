// Published Lambda versions, numbered per state folder. A function with `publish: true` gets a new
// version on AWS each time its code or configuration changes (the AWS provider publishes on create
// and on every update of either), numbered 1, 2, 3, ... per function, never reused. Locally the
// numbers live in `<stateDir>/functions/versions.json` (function physical name -> version ->
// fingerprint of its code and configuration), and each version's code and settings stay in
// `functions/<name>/<version>/` (lambda/functions.ts), so an alias pinned to an older version runs
// that version's code.
//
// A recording asks `versionFor` while the program runs (program/program.ts): the latest version
// when its fingerprint is the function's now, else the next number. Like a generated key value, a
// new number is remembered in memory and written by `save()` once the start (or reload) has worked.
// Reverting to an older version's code publishes a new version, as on AWS (a version is compared
// with the latest only).
import * as crypto from "node:crypto";
import * as path from "node:path";
import { LocalCloudError, readJsonFile, writeJsonFile } from "../state/stateDir";

/* eslint-disable @typescript-eslint/no-explicit-any */

/** Inputs that are not part of a version: the code (hashed from its files), `publish` itself, tags. */
const NOT_VERSIONED = new Set(["code", "publish", "tags", "tagsAll"]);

/** JSON with object keys sorted, so the same inputs always hash alike. */
function stableJson(value: unknown): string {
    if (Array.isArray(value)) {
        return `[${value.map(stableJson).join(",")}]`;
    }
    if (value !== null && typeof value === "object") {
        return `{${Object.keys(value)
            .sort()
            .map((k) => `${JSON.stringify(k)}:${stableJson((value as any)[k])}`)
            .join(",")}}`;
    }
    return JSON.stringify(value) ?? "null";
}

/**
 * What a published version is made of: the function's configuration (every input but the code,
 * `publish` and tags) and its code (each archive file's text, or the path of a folder it ships).
 */
export function versionFingerprint(
    inputs: Record<string, any>,
    entries: Record<string, { text?: string; path?: string }>,
): string {
    const hash = crypto.createHash("sha256");
    hash.update(stableJson(Object.fromEntries(Object.entries(inputs).filter(([name]) => !NOT_VERSIONED.has(name)))));
    for (const name of Object.keys(entries).sort()) {
        const entry = entries[name]!;
        hash.update(`\0${name}\0${entry.text ?? `path:${entry.path}`}`);
    }
    return hash.digest("hex").slice(0, 16);
}

type Saved = Record<string, Record<string, string>>;

export class FunctionVersions {
    readonly file: string;
    private readonly saved: Saved;
    private changed = false;

    constructor(stateDir: string) {
        this.file = path.join(stateDir, "functions", "versions.json");
        const raw = readJsonFile<unknown>(this.file, {});
        const valid =
            typeof raw === "object" &&
            raw !== null &&
            !Array.isArray(raw) &&
            Object.values(raw).every(
                (versions) =>
                    typeof versions === "object" &&
                    versions !== null &&
                    !Array.isArray(versions) &&
                    Object.entries(versions).every(([n, fp]) => /^[1-9][0-9]*$/.test(n) && typeof fp === "string"),
            );
        if (!valid) {
            throw new LocalCloudError(
                `${this.file} is not a map of function name -> version -> fingerprint; move it aside (published version numbers then start again at 1)`,
            );
        }
        this.saved = raw as Saved;
    }

    /** The latest version number of a function, 0 when it has none. */
    latest(functionName: string): number {
        return Math.max(0, ...Object.keys(this.saved[functionName] ?? {}).map(Number));
    }

    /** Whether the function has published this version (its code may still be missing from the folder). */
    has(functionName: string, version: string): boolean {
        return Object.hasOwn(this.saved[functionName] ?? {}, version);
    }

    /** The version a function with this fingerprint is at: the latest when unchanged, else a new one. */
    versionFor(functionName: string, fingerprint: string): string {
        const versions = (this.saved[functionName] ??= {});
        const latest = this.latest(functionName);
        if (latest > 0 && versions[String(latest)] === fingerprint) {
            return String(latest);
        }
        versions[String(latest + 1)] = fingerprint;
        this.changed = true;
        return String(latest + 1);
    }

    /** Writes the file only when a version was published: an unchanged start touches nothing. */
    save(): void {
        if (this.changed) {
            writeJsonFile(this.file, this.saved);
            this.changed = false;
        }
    }
}
