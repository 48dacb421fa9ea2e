// The one folder per stack that survives restarts (`.local/<stack>/`, gitignored):
//   dynamodb.log every table and item: a checksummed journal of dynalite's writes (dynamoJournal.ts)
//   keys.json    API key values and secrets (the cursor key) generated locally, as AWS and the
//                random provider would on create; which keys a deploy has deleted for good
//                (KeyStore.deploy: a key created again under that logical name is a new key)
//   usage.log    admitted requests per key and day, so a restart does not hand out a fresh quota
//                (local/usage.ts; an older usage.json is moved into it once)
//   lock.json    the running local cloud (local/stateLock.ts)
//   functions/   each Lambda's serialized `__index.js` in `<name>/<version>/` (lambda/functions.ts),
//                rewritten on every start but for published versions' code, which stays with
//                `versions.json`, the published version numbers (functionVersions.ts); a reload
//                adds the versions that changed
//   server.json  `{ url, controlPlane, outputs }` of the last start: where it serves and its
//                non-secret outputs (for `npm run outputs` and scripts calling the control plane)
//   access.log   the stages' access-log lines, appended, created by the first one (accessLog.ts)
// Files are written whole to a temporary name and renamed, so a crash never leaves half a file,
// and a file that cannot be parsed stops the start instead of being replaced.
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

export class LocalCloudError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "LocalCloudError";
    }
}

export const defaultStateDir = (stack: string, projectDir = process.cwd()) => path.join(projectDir, ".local", stack);

const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** What AWS generates for an API key created without a value: 40 characters of [A-Za-z0-9]. */
export function generateKeyValue(): string {
    let value = "";
    while (value.length < 40) {
        // Rejection sampling keeps every character equally likely (256 is not a multiple of 62).
        for (const byte of crypto.randomBytes(64)) {
            if (byte < 248 && value.length < 40) {
                value += ALNUM[byte % 62];
            }
        }
    }
    return value;
}

export function readJsonFile<T>(file: string, fallback: T): T {
    let text: string;
    try {
        text = fs.readFileSync(file, "utf8");
    } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") {
            return fallback;
        }
        throw err;
    }
    try {
        return JSON.parse(text) as T;
    } catch (err) {
        throw new LocalCloudError(
            `${file} is not valid JSON (${(err as Error).message}); fix or delete it by hand, the local cloud will not overwrite it`,
        );
    }
}

/**
 * Writes a file whole: to a temporary name of its own (unique per call, so two writers never share
 * one), then renamed over the old file, so a reader or a crash never sees half of it.
 */
export function writeFileWhole(file: string, text: string): void {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const temporary = `${file}.${process.pid}.${crypto.randomBytes(4).toString("hex")}.tmp`;
    try {
        fs.writeFileSync(temporary, text);
        fs.renameSync(temporary, file);
    } finally {
        fs.rmSync(temporary, { force: true });
    }
}

export function writeJsonFile(file: string, value: unknown): void {
    writeFileWhole(file, JSON.stringify(value, null, 2) + "\n");
}

const KEY_ID_CHARACTERS = "abcdefghijklmnopqrstuvwxyz0123456789";

/** What AWS gives a new API key as its id: 10 characters of [a-z0-9]. */
export function generateKeyId(): string {
    let id = "";
    while (id.length < 10) {
        for (const byte of crypto.randomBytes(16)) {
            // 252 = 7 x 36: every character equally likely.
            if (byte < 252 && id.length < 10) {
                id += KEY_ID_CHARACTERS[byte % 36];
            }
        }
    }
    return id;
}

export interface SavedKeys {
    /** API key logical name -> the value generated for it. */
    apiKeys: Record<string, string>;
    /** Generated secret (a RandomBytes resource's logical name) -> its bytes as hex, e.g. the cursor key. */
    secrets?: Record<string, string>;
    /**
     * API key logical name -> its name (the `name` input, what AWS shows) in the last deploy that
     * had it, for every key no deploy has deleted: those gone from the program for the moment too.
     */
    apiKeyNames?: Record<string, string>;
    /**
     * API key logical name -> the id its next key gets: set when a deploy deletes the key under that
     * name, so one created again there is a new key (the first key under a name keeps the id the
     * recording gives it).
     */
    apiKeyIds?: Record<string, string>;
}

/** An API key as a deploy has it. */
export interface DeployedKey {
    logicalName: string;
    /** Its name on AWS (the `name` input; Pulumi's auto-name when the program sets none). */
    name?: string;
}

/** Orders logical names with their numbers by value: `a` < `a.key2` < `a.key10`. */
const byLogicalName = new Intl.Collator("en", { numeric: true }).compare;

const isStringMap = (value: unknown): value is Record<string, string> =>
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    Object.values(value).every((v) => typeof v === "string");

/**
 * Key values and secrets generated once per stack folder, so clients (and their list cursors) keep
 * working across restarts. A missing file is a first start; a file of any other shape than
 * `{ "apiKeys": { name: value }, "secrets"?: { name: hex } }` stops the start: regenerating would
 * silently lock every client out.
 */
export class KeyStore {
    private readonly file: string;
    private readonly saved: Required<SavedKeys>;
    private changed = false;

    constructor(stateDir: string) {
        this.file = path.join(stateDir, "keys.json");
        const raw = readJsonFile<unknown>(this.file, undefined);
        if (raw === undefined) {
            this.saved = { apiKeys: {}, secrets: {}, apiKeyNames: {}, apiKeyIds: {} };
            return;
        }
        const wayOut =
            "restore it from a backup, or delete it to generate new values (clients holding the old keys then get 403)";
        const record =
            typeof raw === "object" && raw !== null && !Array.isArray(raw)
                ? (raw as Record<string, unknown>)
                : undefined;
        if (!record || !isStringMap(record["apiKeys"])) {
            throw new LocalCloudError(
                `${this.file} has no "apiKeys" object of key values (found ${JSON.stringify(raw).slice(0, 60)}); the local cloud will not regenerate keys over it: ${wayOut}`,
            );
        }
        const optionalMap = (field: keyof SavedKeys, what: string): Record<string, string> => {
            const value = record[field];
            if (value !== undefined && !isStringMap(value)) {
                throw new LocalCloudError(`${this.file}: "${field}" must be an object of ${what}; ${wayOut}`);
            }
            return { ...((value as Record<string, string> | undefined) ?? {}) };
        };
        this.saved = {
            apiKeys: { ...record["apiKeys"] },
            secrets: optionalMap("secrets", "generated secrets (name -> hex)"),
            // Absent in a file from before keys were deleted: no key is known to be gone yet.
            apiKeyNames: optionalMap("apiKeyNames", "API key names (logical name -> name)"),
            apiKeyIds: optionalMap("apiKeyIds", "API key ids (logical name -> id)"),
        };
    }

    /**
     * The id of the key under this logical name when an earlier key there was deleted (it is a new
     * key, as a new resource with the same URN is on AWS); undefined for the first key.
     */
    idFor(name: string): string | undefined {
        return Object.hasOwn(this.saved.apiKeyIds, name) ? this.saved.apiKeyIds[name] : undefined;
    }

    /**
     * Takes note of the API keys a deploy (a start or a reload) has, and deletes for good each key
     * it no longer has that another key replaces: a key of the same name (on AWS) whose logical name
     * sorts after it (numbers by value: `partner` < `partner.key2`). Deleted, its value and id go: a
     * key declared under that logical name later gets a new value and a new id. A key that is gone
     * with nothing replacing it is kept as it is, and comes back the same key if the program declares
     * it again: a live reload also sees the states an editor saves half-way through a change (a block
     * cut and not pasted yet), which no `pulumi up` would deploy (docs/decisions/0020-keys-retired-for-good.md).
     * Returns the logical names of the keys deleted.
     */
    deploy(keys: DeployedKey[]): string[] {
        const live = new Set(keys.map((k) => k.logicalName));
        const deleted = Object.entries(this.saved.apiKeyNames)
            .filter(
                ([logicalName, name]) =>
                    !live.has(logicalName) &&
                    keys.some((k) => k.name === name && byLogicalName(k.logicalName, logicalName) > 0),
            )
            .map(([logicalName]) => logicalName);
        for (const logicalName of deleted) {
            delete this.saved.apiKeys[logicalName];
            delete this.saved.apiKeyNames[logicalName];
            this.saved.apiKeyIds[logicalName] = generateKeyId();
        }
        for (const key of keys) {
            if (key.name !== undefined && this.saved.apiKeyNames[key.logicalName] !== key.name) {
                this.saved.apiKeyNames[key.logicalName] = key.name;
                this.changed = true;
            }
        }
        this.changed ||= deleted.length > 0;
        return deleted;
    }

    /** The saved value for a key, generating (and remembering) one the first time. */
    valueFor(name: string): string {
        let value = this.saved.apiKeys[name];
        if (value === undefined) {
            value = generateKeyValue();
            this.saved.apiKeys[name] = value;
            this.changed = true;
        }
        return value;
    }

    /** The saved random secret for a generated resource (hex of `bytes` random bytes), made once. */
    secretFor(name: string, bytes: number): string {
        let value = this.saved.secrets[name];
        if (value === undefined) {
            value = crypto.randomBytes(bytes).toString("hex");
            this.saved.secrets[name] = value;
            this.changed = true;
        }
        return value;
    }

    /**
     * Writes the file only when a value was generated or a key noted or deleted: an unchanged start touches nothing.
     */
    save(): void {
        if (this.changed) {
            const { apiKeyNames, apiKeyIds, ...values } = this.saved;
            writeJsonFile(this.file, {
                ...values,
                ...(Object.keys(apiKeyNames).length > 0 ? { apiKeyNames } : {}),
                ...(Object.keys(apiKeyIds).length > 0 ? { apiKeyIds } : {}),
            });
            this.changed = false;
        }
    }
}
