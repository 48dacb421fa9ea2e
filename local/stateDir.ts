// The one folder per stack that survives restarts (`.local/<stack>/`, gitignored):
//   dynamodb/    dynalite's LevelDB files (every table and item)
//   keys.json    API key values generated locally (AWS would generate them on create)
//   usage.json   quota counters, so a restart does not hand out a fresh quota
//   functions/   each Lambda's serialized `__index.js`, rewritten on every start
// Files are written whole to a temporary name and renamed, so a crash never leaves half a file,
// and a file that cannot be parsed stops the start instead of being replaced.
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { PROJECT_DIR } from "./recordProgram";

export class LocalCloudError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "LocalCloudError";
    }
}

export const defaultStateDir = (stack: string, projectDir = PROJECT_DIR) => path.join(projectDir, ".local", stack);

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
        throw new LocalCloudError(`${file} is not valid JSON (${(err as Error).message}); fix or delete it by hand, the local cloud will not overwrite it`);
    }
}

export function writeJsonFile(file: string, value: unknown): void {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const temporary = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(temporary, JSON.stringify(value, null, 2) + "\n");
    fs.renameSync(temporary, file);
}

export interface SavedKeys {
    /** API key logical name -> the value generated for it. */
    apiKeys: Record<string, string>;
}

/** Key values generated once per stack folder, so clients keep working across restarts. */
export class KeyStore {
    private readonly file: string;
    private readonly saved: SavedKeys;
    private changed = false;

    constructor(stateDir: string) {
        this.file = path.join(stateDir, "keys.json");
        const raw = readJsonFile<Partial<SavedKeys>>(this.file, {});
        this.saved = { apiKeys: { ...(raw.apiKeys ?? {}) } };
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

    /** Writes the file only when a value was generated: an unchanged start touches nothing. */
    save(): void {
        if (this.changed) {
            writeJsonFile(this.file, this.saved);
            this.changed = false;
        }
    }
}

const isRunning = (pid: number) => {
    try {
        process.kill(pid, 0);
        return true;
    } catch (err) {
        return (err as NodeJS.ErrnoException).code === "EPERM";
    }
};

/**
 * One local cloud per stack folder: a second one would corrupt nothing (LevelDB has its own lock)
 * but would fail deep inside the database with an obscure error. A lock left by a process that
 * no longer runs (killed with -9) is taken over. Returns the release function.
 */
export function lockStateDir(stateDir: string, owner: string): () => void {
    fs.mkdirSync(stateDir, { recursive: true });
    const file = path.join(stateDir, "lock.json");
    const token = crypto.randomBytes(8).toString("hex");
    for (let attempt = 0; attempt < 2; attempt++) {
        try {
            fs.writeFileSync(file, JSON.stringify({ pid: process.pid, owner, token }) + "\n", { flag: "wx" });
            return () => {
                const current = readJsonFile<{ token?: string }>(file, {});
                if (current.token === token) {
                    fs.rmSync(file, { force: true });
                }
            };
        } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== "EEXIST") {
                throw err;
            }
        }
        let holder: { pid?: number; owner?: string } = {};
        try {
            holder = JSON.parse(fs.readFileSync(file, "utf8"));
        } catch {
            // Unreadable: written by a process that died mid-write; treat it as stale.
        }
        if (typeof holder.pid === "number" && isRunning(holder.pid)) {
            throw new LocalCloudError(`The state folder ${stateDir} is in use by another local cloud (process ${holder.pid}${holder.owner ? `, ${holder.owner}` : ""}); stop it first, or pass another --state-dir`);
        }
        fs.rmSync(file, { force: true });
    }
    throw new LocalCloudError(`Could not lock the state folder ${stateDir}`);
}
