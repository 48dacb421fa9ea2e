// The recorded program, kept between starts. Recording runs the program under Pulumi mocks: it
// loads @pulumi/pulumi, compiles the program's TypeScript and serializes every function's closure,
// most of a cold start. A restart where nothing the recording depends on has changed loads the
// last recording instead, in milliseconds. What it depends on, and how each is checked:
//
// - the program's sources: every module loaded outside node_modules when the recording ended (the
//   program, and this package's own files), by content hash; the folders holding the program's
//   modules, by the names of the code files in them (a new `foo.js` beside `foo.ts` changes what
//   `require("./foo")` loads);
// - its config: the resolved config (stackFiles.ts) and the Pulumi.yaml / Pulumi.<stack>.yaml text;
// - its packages: package.json, the lockfiles (package-lock.json, node_modules/.package-lock.json,
//   which npm rewrites on every install, yarn.lock, pnpm-lock.yaml) and tsconfig.json;
// - what the local cloud feeds the recording: the key values and secrets read from keys.json, replayed against the
// state folder's KeyStore (a folder
//   whose keys.json differs, or lacks one, records again), and the published functions' version
//   numbers (functionVersions.ts), replayed the same way;
// - the Node version, and PULUMI_* / TS_NODE_* environment variables (other variables are taken
//   not to change what the program declares).
//
// Not the server's URL: a recording is made with a stand-in (RECORDING_BASE_URL, the reserved
// `.invalid` domain), kept that way, and every string holding it (stage `invokeUrl`s, outputs built
// from them, code that captured one, an asset's text) gets this start's URL when it is handed out,
// so a start on another port is served from the cache. Only the URL as written is replaced: a
// program that derives something from it (its host alone, an encoded or hashed form) or writes it
// to a file path keeps the stand-in's form there, and its log lines during the recording show it.
//
// Recordings under plain mocks (recordProgram.ts `recordProgram`: no state folder, no server) go
// through the same checks with `recordOrReuseProgram`, in a `mocks` folder of their own (their
// keys differ from the local cloud's): a test suite's processes, which each record the same stacks,
// record each one once between them.
//
// Any difference records again and replaces the entry. An entry is one file,
// `<cache>/<hash of the first four>.json`: a header line with the format and a SHA-256 of the rest,
// then the entry as JSON. A file that is cut short, fails its checksum or does not parse is
// ignored and rewritten: the cache never stops a start. The cache folder is `.local/cache/programs`
// in the project (entries hold key values, as keys.json does), or LOCAL_CLOUD_PROGRAM_CACHE
// (`off` disables it); the 8 most recently used entries are kept.
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { recordConfiguredProgram, type RecordedProgram, type RecordOptions } from "./recordProgram";
import { recordLocalProgram, type LocalProgramInput } from "./program";
import { readProgramConfig } from "./stackFiles";
import type { FunctionVersions } from "../lambda/functionVersions";
import { writeFileWhole, type KeyStore } from "../state/stateDir";

/* eslint-disable @typescript-eslint/no-explicit-any */

const FORMAT = "local-cloud-program-cache";
const VERSION = 4;
const KEEP = 8;
/** Mock recordings: a test run's stacks and one-off configs. */
const KEEP_MOCKS = 32;

// Pulumi's wire-format markers for assets and archives (runtime/rpc.js), reused for the entry's.
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const ASSET_SIG = "c44067f5952c0a294b673a41bacd8c17";
const ARCHIVE_SIG = "0def7320c3a5731c473e5ecbe6d01bc7";
const UNDEFINED_SIG = "local-cloud:undefined";

/** Files whose text decides which packages (and which compiled code) the program gets. */
const PACKAGE_FILES = [...(require("./packageTree.js") as { INSTALL_FILES: string[] }).INSTALL_FILES, "tsconfig.json"];
const CODE_FILE = /\.(ts|tsx|mts|cts|js|cjs|mjs|json|node)$/;

type KeyCall =
    | { kind: "value"; name: string; value: string }
    | { kind: "secret"; name: string; bytes: number; value: string }
    | { kind: "id"; name: string; value: string | null };
type VersionCall = { name: string; fingerprint: string; version: string };

interface Entry {
    /** File -> SHA-1 of its bytes. */
    files: Record<string, string>;
    /** Folder -> SHA-1 of the sorted names of its code files. */
    folders: Record<string, string>;
    keyCalls: KeyCall[];
    /** What the recording asked the version numbers; unset when it recorded without them. */
    versionCalls?: VersionCall[];
    /** The recording, with assets, archives and `undefined` as marker objects. */
    program: unknown;
}

/** Where entries go: LOCAL_CLOUD_PROGRAM_CACHE, else `.local/cache/programs` in the project; undefined when off. */
export const programCacheDir: (projectDir: string) => string | undefined = (
    require("./cacheDirs.js") as { programCacheDir: (projectDir: string) => string | undefined }
).programCacheDir;

/**
 * The program as program/program.ts records it for the local cloud, from the cache when nothing it
 * depends on has changed. Same input, same result, same errors: the cache only skips work.
 */
export function recordOrReuseLocalProgram(input: LocalProgramInput): Promise<RecordedProgram> {
    return cachedRecording(input, recordLocalProgram);
}

/**
 * The cached recording for `input` when nothing it depends on has changed, else undefined (no
 * recording: a caller that records elsewhere, the recorder thread, writes the entry there).
 */
export function cachedOnly(input: LocalProgramInput): RecordedProgram | undefined {
    const dir = programCacheDir(input.config.projectDir);
    if (dir === undefined) {
        return undefined;
    }
    const key = entryKey(input, "cloud");
    const cached = readEntry(path.join(dir, `${key}.json`), key, input.keys, input.versions);
    return cached && atBaseUrl(cached, input.baseUrl);
}

/**
 * Whether a start may be served from the cache: an entry for this config, packages and Node exists
 * (its sources and keys are checked when it is read). Cheap, before anything is opened: a start
 * that will record can get the recorder going at once.
 */
export function mayBeCached(config: LocalProgramInput["config"]): boolean {
    const dir = programCacheDir(config.projectDir);
    return dir !== undefined && fs.existsSync(path.join(dir, `${entryKey({ config }, "cloud")}.json`));
}

/**
 * The program recorded under plain mocks, as recordProgram.ts `recordProgram` records it, from the
 * cache when nothing it depends on has changed. A `stateOverride` (a function, not data) records.
 */
export async function recordOrReuseProgram(options: RecordOptions): Promise<RecordedProgram> {
    const config = readProgramConfig({ ...options, projectDir: options.projectDir ?? process.cwd() });
    const root = programCacheDir(config.projectDir);
    if (root === undefined || options.stateOverride) {
        return recordConfiguredProgram(config, options.stateOverride);
    }
    const place = { dir: path.join(root, "mocks"), key: entryKey({ config }, "mocks"), keep: KEEP_MOCKS };
    return entryOrRecording(place, {}, () => recordConfiguredProgram(config));
}

/** `record(input)`, or its result of an earlier run when nothing it depends on has changed. */
export async function cachedRecording(
    input: LocalProgramInput,
    record: (input: LocalProgramInput) => Promise<RecordedProgram>,
): Promise<RecordedProgram> {
    const dir = programCacheDir(input.config.projectDir);
    if (dir === undefined) {
        // The stand-in URL here too: with the cache on or off, the same recording (and the same
        // version fingerprints for code that holds the URL).
        return atBaseUrl(await record({ ...input, baseUrl: RECORDING_BASE_URL }), input.baseUrl);
    }
    const place = { dir, key: entryKey(input, "cloud"), keep: KEEP };
    const program = await entryOrRecording(place, input, ({ keys, versions }) =>
        record({ ...input, baseUrl: RECORDING_BASE_URL, keys: keys!, versions }),
    );
    return atBaseUrl(program, input.baseUrl);
}

interface Stores {
    keys?: KeyStore;
    versions?: FunctionVersions;
}

/**
 * The entry `key` in `dir` when every check holds; else `record` (given the stores, logged) and its
 * result kept there with what it asked them. The local cloud's entries and plain mocks' alike.
 */
async function entryOrRecording(
    place: { dir: string; key: string; keep: number },
    stores: Stores,
    record: (logged: Stores) => Promise<RecordedProgram>,
): Promise<RecordedProgram> {
    const file = path.join(place.dir, `${place.key}.json`);
    const cached = readEntry(file, place.key, stores.keys, stores.versions);
    if (cached) {
        return cached;
    }
    const keyCalls: KeyCall[] = [];
    const versionCalls: VersionCall[] | undefined = stores.versions ? [] : undefined;
    const program = await record({
        ...(stores.keys ? { keys: keyLog(stores.keys, keyCalls) } : {}),
        ...(stores.versions && versionCalls ? { versions: versionLog(stores.versions, versionCalls) } : {}),
    });
    try {
        await writeEntry(place.dir, file, place.key, program, keyCalls, versionCalls, place.keep);
    } catch {
        // A read-only or full disk, a value that cannot be kept: the next start records again.
    }
    return program;
}

/** The server URL a cached recording is made with: a reserved name (RFC 2606) no program holds. */
export const RECORDING_BASE_URL = "http://local-cloud.invalid";

/** The recording with this start's URL for the stand-in, in every string, archive text included. */
function atBaseUrl(program: RecordedProgram, baseUrl: string): RecordedProgram {
    return rebased(program, baseUrl) as RecordedProgram;
}

function rebased(value: unknown, baseUrl: string): unknown {
    if (typeof value === "string") {
        return value.includes(RECORDING_BASE_URL) ? value.replaceAll(RECORDING_BASE_URL, baseUrl) : value;
    }
    if (Array.isArray(value)) {
        return value.map((item) => rebased(item, baseUrl));
    }
    if (value === null || typeof value !== "object") {
        return value;
    }
    const v = value as Record<string, any>;
    if (v["__pulumiArchive"] === true || v["__pulumiAsset"] === true) {
        // Pulumi's shapes hold their fields as promises (decode makes them so).
        const copy: Record<string, unknown> = { ...v };
        for (const field of ["assets", "text"]) {
            if (v[field] !== undefined) {
                copy[field] = Promise.resolve(v[field]).then((resolved) => rebased(resolved, baseUrl));
            }
        }
        return Object.setPrototypeOf(copy, Object.getPrototypeOf(v));
    }
    if (Object.getPrototypeOf(v) !== Object.prototype) {
        return value;
    }
    return Object.fromEntries(Object.entries(v).map(([name, item]) => [name, rebased(item, baseUrl)]));
}

const sha1 = (data: string | Buffer) => crypto.createHash("sha1").update(data).digest("hex");

function readOrDash(file: string): string | Buffer {
    try {
        return fs.readFileSync(file);
    } catch {
        return "-";
    }
}

/**
 * The hash of what is known before recording: the kind of recording (the local cloud's, or plain
 * mocks'), config, packages, Node, environment.
 */
function entryKey(input: Pick<LocalProgramInput, "config">, kind: "cloud" | "mocks"): string {
    const { config } = input;
    const hash = crypto.createHash("sha256");
    const add = (label: string, data: string | Buffer) => hash.update(`\0${label}\0`).update(data);
    add("format", `${FORMAT}/${VERSION}`);
    add("kind", kind);
    add("node", `${process.version} ${process.arch}`);
    add(
        "config",
        JSON.stringify({
            ...config,
            config: Object.entries(config.config).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        }),
    );
    for (const file of [...config.files, ...PACKAGE_FILES.map((name) => path.join(config.projectDir, name))]) {
        add(file, readOrDash(file));
    }
    const env = Object.entries(process.env)
        .filter(([name]) => /^(PULUMI_|TS_NODE_)/.test(name))
        .sort();
    add("env", JSON.stringify(env));
    return hash.digest("hex").slice(0, 32);
}

/** A KeyStore that remembers what the recording asked it, for the next start to ask again. */
function keyLog(keys: KeyStore, calls: KeyCall[]): KeyStore {
    const logged = Object.create(keys) as KeyStore;
    logged.valueFor = (name) => {
        const value = keys.valueFor(name);
        calls.push({ kind: "value", name, value });
        return value;
    };
    logged.secretFor = (name, bytes) => {
        const value = keys.secretFor(name, bytes);
        calls.push({ kind: "secret", name, bytes, value });
        return value;
    };
    logged.idFor = (name) => {
        const value = keys.idFor(name);
        calls.push({ kind: "id", name, value: value ?? null });
        return value;
    };
    return logged;
}

/** FunctionVersions that remember what the recording asked them, for the next start to ask again. */
function versionLog(versions: FunctionVersions, calls: VersionCall[]): FunctionVersions {
    const logged = Object.create(versions) as FunctionVersions;
    logged.versionFor = (name, fingerprint) => {
        const version = versions.versionFor(name, fingerprint);
        calls.push({ name, fingerprint, version });
        return version;
    };
    return logged;
}

/** Every module loaded outside node_modules (the program's, this package's), and their folders. */
function sourcesNow(): { files: Record<string, string>; folders: Record<string, string> } {
    const files: Record<string, string> = {};
    const folders: Record<string, string> = {};
    for (const file of Object.keys(require.cache)) {
        if (file.includes(`${path.sep}node_modules${path.sep}`) || !path.isAbsolute(file)) {
            continue;
        }
        files[file] = sha1(readOrDash(file));
        const folder = path.dirname(file);
        folders[folder] ??= folderHash(folder);
    }
    return { files, folders };
}

function folderHash(folder: string): string {
    try {
        return sha1(
            fs
                .readdirSync(folder)
                .filter((name) => CODE_FILE.test(name))
                .sort()
                .join("\n"),
        );
    } catch {
        return "-";
    }
}

async function writeEntry(
    dir: string,
    file: string,
    key: string,
    program: RecordedProgram,
    keyCalls: KeyCall[],
    versionCalls: VersionCall[] | undefined,
    keep: number,
): Promise<void> {
    const entry: Entry = {
        ...sourcesNow(),
        keyCalls,
        ...(versionCalls ? { versionCalls } : {}),
        program: await encode(program),
    };
    const body = JSON.stringify(entry);
    const header = JSON.stringify({
        format: FORMAT,
        version: VERSION,
        key,
        sha256: crypto.createHash("sha256").update(body).digest("hex"),
        // For earlyRecorder.js, which reads header lines only: can this entry serve a start of this
        // stack on a state folder with no keys yet?
        stack: program.stack,
        askedKeys: keyCalls.length > 0,
    });
    writeFileWhole(file, `${header}\n${body}`);
    prune(dir, keep);
}

/** Keeps the most recently used entries (a hit touches its file). */
function prune(dir: string, keep: number): void {
    const entries = fs
        .readdirSync(dir)
        .filter((name) => name.endsWith(".json"))
        .map((name) => {
            try {
                return { file: path.join(dir, name), used: fs.statSync(path.join(dir, name)).mtimeMs };
            } catch {
                return undefined;
            }
        })
        .filter((e): e is { file: string; used: number } => e !== undefined)
        .sort((a, b) => b.used - a.used);
    for (const { file } of entries.slice(keep)) {
        fs.rmSync(file, { force: true });
    }
}

/** The cached recording when every check holds; undefined for a miss or any damage. */
function readEntry(
    file: string,
    key: string,
    keys: KeyStore | undefined,
    versions: FunctionVersions | undefined,
): RecordedProgram | undefined {
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch {
        return undefined;
    }
    try {
        const newline = text.indexOf("\n");
        const header = JSON.parse(text.slice(0, newline)) as {
            format?: string;
            version?: number;
            key?: string;
            sha256?: string;
        };
        const body = text.slice(newline + 1);
        if (
            newline < 0 ||
            header.format !== FORMAT ||
            header.version !== VERSION ||
            header.key !== key ||
            header.sha256 !== crypto.createHash("sha256").update(body).digest("hex")
        ) {
            return undefined;
        }
        const entry = JSON.parse(body) as Entry;
        for (const [source, hash] of Object.entries(entry.files)) {
            if (sha1(readOrDash(source)) !== hash) {
                return undefined;
            }
        }
        for (const [folder, hash] of Object.entries(entry.folders)) {
            if (folderHash(folder) !== hash) {
                return undefined;
            }
        }
        for (const call of entry.keyCalls) {
            if (keys === undefined) {
                return undefined;
            }
            const value =
                call.kind === "value"
                    ? keys.valueFor(call.name)
                    : call.kind === "id"
                      ? (keys.idFor(call.name) ?? null)
                      : keys.secretFor(call.name, call.bytes);
            if (value !== call.value) {
                return undefined;
            }
        }
        // Recorded with version numbers or without, as this start asks: never one for the other.
        if ((entry.versionCalls === undefined) !== (versions === undefined)) {
            return undefined;
        }
        for (const call of entry.versionCalls ?? []) {
            if (versions!.versionFor(call.name, call.fingerprint) !== call.version) {
                return undefined;
            }
        }
        const program = decode(entry.program) as RecordedProgram;
        const now = new Date();
        fs.utimesSync(file, now, now);
        return program;
    } catch {
        return undefined;
    }
}

class NotCacheable extends Error {}

/**
 * A recording as data another thread can be sent (structured cloning carries no promise, function
 * or class instance; `decodeRecording` makes it a recording again). Assets and archives as in a
 * cache entry; what a cache entry refuses (only an output the program exports can hold it: a
 * function, a resource object) goes as its JSON form, as server.json keeps it.
 */
export function encodeRecording(program: RecordedProgram): Promise<unknown> {
    return encode(program, true);
}

export function decodeRecording(data: unknown): RecordedProgram {
    return decode(data) as RecordedProgram;
}

/**
 * `JSON.parse(JSON.stringify(value))`, the `undefined` marker for what JSON leaves out, a string for what it refuses (a
 * cycle, a BigInt).
 */
function jsonForm(value: unknown): unknown {
    try {
        const text = JSON.stringify(value);
        return text === undefined ? { [SIG_KEY]: UNDEFINED_SIG } : JSON.parse(text);
    } catch {
        return String(value);
    }
}

/**
 * The recording as JSON-safe values: Pulumi assets and archives resolved, `undefined` marked.
 * A value JSON cannot carry throws NotCacheable, or with `lenient` goes as its JSON form.
 */
async function encode(value: unknown, lenient = false): Promise<unknown> {
    if (value === undefined) {
        return { [SIG_KEY]: UNDEFINED_SIG };
    }
    if (value === null || typeof value === "string" || typeof value === "boolean") {
        return value;
    }
    if (typeof value === "number") {
        if (!Number.isFinite(value) || Object.is(value, -0)) {
            if (lenient) {
                return jsonForm(value);
            }
            throw new NotCacheable("a number JSON cannot carry");
        }
        return value;
    }
    if (Array.isArray(value)) {
        const items: unknown[] = [];
        for (let i = 0; i < value.length; i++) {
            items.push(await encode(value[i], lenient));
        }
        return items;
    }
    if (typeof value !== "object") {
        if (lenient) {
            return jsonForm(value);
        }
        throw new NotCacheable(`a ${typeof value}`);
    }
    const v = value as Record<string, any>;
    if (v["__pulumiArchive"] === true || v["__pulumiAsset"] === true) {
        const encoded: Record<string, unknown> = { [SIG_KEY]: v["__pulumiArchive"] === true ? ARCHIVE_SIG : ASSET_SIG };
        for (const field of ["assets", "text", "path", "uri"]) {
            if (v[field] !== undefined) {
                encoded[field] = await encode(await v[field], lenient);
            }
        }
        return encoded;
    }
    if (Object.getPrototypeOf(v) !== Object.prototype || Object.hasOwn(v, SIG_KEY)) {
        if (lenient) {
            return jsonForm(value);
        }
        throw new NotCacheable("an object JSON cannot carry");
    }
    const entries: [string, unknown][] = [];
    for (const [name, item] of Object.entries(v)) {
        entries.push([name, await encode(item, lenient)]);
    }
    // fromEntries makes own properties of every name, `__proto__` included.
    return Object.fromEntries(entries);
}

/** Back from `encode`: assets and archives as Pulumi's own shapes (fields are promises, as in Pulumi's). */
function decode(value: unknown): unknown {
    if (Array.isArray(value)) {
        return value.map(decode);
    }
    if (value === null || typeof value !== "object") {
        return value;
    }
    const v = value as Record<string, unknown>;
    const sig = v[SIG_KEY];
    if (sig === UNDEFINED_SIG) {
        return undefined;
    }
    if (sig === ASSET_SIG || sig === ARCHIVE_SIG) {
        const decoded: Record<string, unknown> = { [sig === ARCHIVE_SIG ? "__pulumiArchive" : "__pulumiAsset"]: true };
        for (const field of ["assets", "text", "path", "uri"]) {
            if (v[field] !== undefined) {
                decoded[field] = Promise.resolve(decode(v[field]));
            }
        }
        return decoded;
    }
    return Object.fromEntries(Object.entries(v).map(([name, item]) => [name, decode(item)]));
}
