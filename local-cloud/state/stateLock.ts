// One local cloud per stack folder (`<stateDir>/lock.json`): a second one would corrupt nothing
// (each store has its own lock) but would fail deep inside with an obscure error.
//
// The lock holds the holder's pid, and on Linux the boot id and the process's start time
// (/proc/<pid>/stat field 22), so a lock left by a process that is gone is taken over, not refused:
// - no process with that pid (killed with -9);
// - a zombie with that pid (a killed server its parent has not reaped yet still answers kill(pid, 0));
// - a process with that pid but another start time or boot (the pid was reused, as happens in
//   containers where every start is pid 1 or close to it);
// - this very process's pid while this process holds no lock on the folder (pid reuse again).
// A live other local cloud is refused, and so is a second local cloud on the folder in this process.
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { LocalCloudError, readJsonFile } from "./stateDir";

interface LockContent {
    pid?: unknown;
    owner?: unknown;
    token?: unknown;
    /** /proc/<pid>/stat field 22 (clock ticks after boot), where /proc exists. */
    startTime?: unknown;
    bootId?: unknown;
}

/** Folders this process holds the lock of (by real path), so a second start in-process is refused. */
const heldHere = new Map<string, string>();

/** State letter and start time of a process from /proc/<pid>/stat; undefined without /proc or such a process. */
export function procStat(pid: number): { state: string; startTime: string } | undefined {
    let text: string;
    try {
        text = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    } catch {
        return undefined;
    }
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ")".
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    // fields[0] is field 3 (state); field 22 (starttime) is fields[19].
    const state = fields[0];
    const startTime = fields[19];
    return state && startTime ? { state, startTime } : undefined;
}

function bootId(): string | undefined {
    try {
        return fs.readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
    } catch {
        return undefined;
    }
}

/** Whether a process with this pid exists (EPERM: it exists but belongs to someone else). */
export function isRunning(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch (err) {
        return (err as NodeJS.ErrnoException).code === "EPERM";
    }
}

/** Why the holder of a lock no longer holds it, or undefined when it may still be running. */
function staleReason(holder: LockContent, dir: string): string | undefined {
    if (typeof holder.pid !== "number" || !Number.isSafeInteger(holder.pid) || holder.pid <= 0) {
        return "unreadable (written by a process that died mid-write)";
    }
    const pid = holder.pid;
    if (pid === process.pid) {
        return heldHere.has(dir) ? undefined : "its pid is this process's own (pid reuse)";
    }
    if (!isRunning(pid)) {
        return `process ${pid} is gone`;
    }
    const ourBoot = bootId();
    if (typeof holder.bootId === "string" && ourBoot !== undefined && holder.bootId !== ourBoot) {
        return `process ${pid} ran before a reboot`;
    }
    const stat = procStat(pid);
    if (stat?.state === "Z") {
        return `process ${pid} has exited (a zombie not yet reaped)`;
    }
    if (stat && typeof holder.startTime === "string" && stat.startTime !== holder.startTime) {
        return `pid ${pid} now belongs to another process`;
    }
    return undefined;
}

/** Links the written lock into place; where links are not supported, creates it exclusively instead. */
function linkOrCreate(temporary: string, file: string, content: LockContent): void {
    try {
        fs.linkSync(temporary, file);
    } catch (err) {
        if (!["EPERM", "ENOTSUP", "EOPNOTSUPP", "ENOSYS"].includes((err as NodeJS.ErrnoException).code ?? "")) {
            throw err;
        }
        fs.writeFileSync(file, JSON.stringify(content) + "\n", { flag: "wx" });
    }
}

/** The lock's content; undefined when there is none, `{}` (stale) when it is not a lock object. */
function readLock(file: string): LockContent | undefined {
    let parsed: unknown;
    try {
        parsed = readJsonFile<unknown>(file, undefined);
    } catch (err) {
        if (err instanceof LocalCloudError) {
            return {}; // not JSON: left half-written by a process that died; stale
        }
        throw err;
    }
    if (parsed === undefined) {
        return undefined;
    }
    return typeof parsed === "object" && parsed !== null && !Array.isArray(parsed) ? (parsed as LockContent) : {};
}

/**
 * Locks a state folder for this local cloud; returns the release function. `onTakeover` hears
 * about a stale lock taken over (one line, for the start's warnings).
 */
export function lockStateDir(
    stateDir: string,
    owner: string,
    onTakeover: (message: string) => void = () => undefined,
): () => void {
    fs.mkdirSync(stateDir, { recursive: true });
    const dir = fs.realpathSync(stateDir);
    const file = path.join(stateDir, "lock.json");
    const token = crypto.randomBytes(8).toString("hex");
    const content: LockContent = {
        pid: process.pid,
        owner,
        token,
        startTime: procStat(process.pid)?.startTime,
        bootId: bootId(),
    };
    for (let attempt = 0; attempt < 4; attempt++) {
        // Written whole under a temporary name, then linked: the lock never exists half-written.
        const temporary = `${file}.${token}.tmp`;
        fs.writeFileSync(temporary, JSON.stringify(content) + "\n");
        try {
            linkOrCreate(temporary, file, content);
            heldHere.set(dir, token);
            return () => {
                if (heldHere.get(dir) === token) {
                    heldHere.delete(dir);
                }
                if (readLock(file)?.token === token) {
                    fs.rmSync(file, { force: true });
                }
            };
        } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== "EEXIST") {
                throw err;
            }
        } finally {
            fs.rmSync(temporary, { force: true });
        }
        const holder = readLock(file);
        if (holder === undefined) {
            continue; // released meanwhile
        }
        const reason = staleReason(holder, dir);
        if (reason === undefined) {
            const where = holder.pid === process.pid ? "this process" : `process ${String(holder.pid)}`;
            throw new LocalCloudError(
                `The state folder ${stateDir} is in use by another local cloud (${where}${typeof holder.owner === "string" ? `, ${holder.owner}` : ""}); stop it first, or pass another --state-dir`,
            );
        }
        // Take over by moving the stale lock aside (atomic), then check that what moved is the lock
        // judged stale: another start may have taken it over and locked in between.
        const aside = `${file}.${token}.stale`;
        try {
            fs.renameSync(file, aside);
        } catch (err) {
            if ((err as NodeJS.ErrnoException).code === "ENOENT") {
                continue;
            }
            throw err;
        }
        const moved = readLock(aside);
        if (moved?.token !== holder.token || moved?.pid !== holder.pid) {
            // Someone else's fresh lock: put it back (unless yet another start locked meanwhile).
            try {
                fs.linkSync(aside, file);
            } catch {
                // Leave it; that start holds the folder now.
            }
        } else {
            onTakeover(`took over the lock of ${stateDir}: ${reason}`);
        }
        fs.rmSync(aside, { force: true });
    }
    throw new LocalCloudError(`Could not lock the state folder ${stateDir} (other starts keep taking it); try again`);
}
