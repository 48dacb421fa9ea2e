// The embedded DynamoDB's durable layout: dynalite keeps its tables in memory (memory-level) and
// every write it makes goes first to one append-only journal (local/appendLog.ts). Why not
// dynalite's own LevelDB folder: probed with faults, it left tables `CREATING` after a kill during
// the first start, list and GET disagreeing after a kill under writes, the whole server dead on a
// full disk (dynalite rethrows storage errors from a callback), acknowledged items silently dropped
// after a flipped byte in its log, and an empty start over a folder missing `CURRENT`.
//
// What this file guarantees, and how:
// - Every write dynalite acknowledges is in the journal first (a synchronous write before the
//   in-memory apply), so kill -9 loses nothing acknowledged.
// - dynalite writes an item's index entries and the item itself as separate operations (index
//   first), so a kill between them leaves an index entry without its item (a listed post that GET
//   calls 404) or of an older version. The item is the truth: at start, every index is recomputed
//   from the items with dynalite's own functions and the differences repaired, with one report line.
// - A table left `CREATING`/`UPDATING` by a kill is finished (`ACTIVE`), one left `DELETING` is
//   deleted, as dynalite's timers would have done.
// - A failed journal write (ENOSPC, EIO) answers that one request with DynamoDB's 500
//   InternalServerError and changes nothing; reads keep working and writes resume when space returns.
// - A damaged journal refuses the start (appendLog.ts); a folder that has been used but lost its
//   journal refuses too, instead of starting empty.
import * as fs from "node:fs";
import * as path from "node:path";
import { AppendLog, type StorageFaults } from "../state/appendLog";
import { LocalCloudError } from "../state/stateDir";
import { returnOldItemOnConditionFailure } from "./dynamoConditionItem";
import { canonical } from "./canonical";

/* eslint-disable @typescript-eslint/no-explicit-any */

export const JOURNAL_FILE = "dynamodb.log";
const HEADER = { format: "local-cloud-dynamodb-journal", version: 1 };
/** Where earlier versions kept dynalite's LevelDB folder; migrated once, then moved aside. */
const LEGACY_LEVELDB_DIR = "dynamodb";

/** One journal record: a group of writes as dynalite issued them ([key, value] puts, [key] deletes). */
interface JournalRecord {
    ops: ([string, unknown] | [string])[];
}

/** What dynalite's `db.create` returns (the parts used here). */
interface DynaliteStore {
    db: {
        put(key: string, value: unknown, cb?: (err?: Error | null) => void): any;
        del(key: string, cb?: (err?: Error | null) => void): any;
        batch(ops: { type: "put" | "del"; key: string; value?: unknown }[], cb?: (err?: Error | null) => void): any;
        iterator(): AsyncIterable<[string, any]>;
    };
}

export interface OpenedJournal {
    /** Lines worth showing at start: what was repaired or migrated (empty when nothing was). */
    report: string[];
    close(): void;
}

const dynaliteDir = () => path.dirname(require.resolve("dynalite/package.json"));
const dynaliteDb = () => require(path.join(dynaliteDir(), "db", "index.js")) as any;

/**
 * Creates dynalite's server with the store this file makes durable. dynalite builds its store in
 * `db.create` and offers no way to pass one in; its server looks `create` up on the module at call
 * time, so wrapping it for the duration of this synchronous call hands back the store without
 * touching any other dynalite in the process.
 */
export function createDynalite(options: Record<string, unknown>): {
    server: import("node:http").Server;
    store: DynaliteStore;
} {
    returnOldItemOnConditionFailure();
    const dbModule = dynaliteDb();
    const dynalite = require("dynalite") as (options: Record<string, unknown>) => import("node:http").Server;
    const create = dbModule.create;
    let store: DynaliteStore | undefined;
    dbModule.create = (opts: unknown) => (store = create(opts));
    try {
        const server = dynalite(options);
        return { server, store: store! };
    } finally {
        dbModule.create = create;
    }
}

/** DynamoDB's own 500, in the shape dynalite sends for errors that carry a statusCode. */
function storageFailure(err: unknown): Error {
    const code = (err as NodeJS.ErrnoException).code ?? "EIO";
    return Object.assign(new Error(`local storage write failed (${code})`), {
        statusCode: 500,
        body: {
            __type: "com.amazonaws.dynamodb.v20120810#InternalServerError",
            message: `Internal server error (local storage: ${code})`,
        },
    });
}

export async function openJournal(
    store: DynaliteStore,
    stateDir: string,
    faults: StorageFaults = {},
): Promise<OpenedJournal> {
    const file = path.join(stateDir, JOURNAL_FILE);
    const report: string[] = [];
    const legacyDir = path.join(stateDir, LEGACY_LEVELDB_DIR);
    const journalExists = fs.existsSync(file);
    if (
        !journalExists &&
        !fs.existsSync(legacyDir) &&
        ["keys.json", "usage.log", "usage.json"].some((f) => fs.existsSync(path.join(stateDir, f)))
    ) {
        throw new LocalCloudError(
            `${file} is missing, but ${stateDir} has been used before: restore the file, or delete the folder to start with no data`,
        );
    }
    // Read an earlier version's folder before anything is written, so a failure leaves all as it was.
    let legacyOps = fs.existsSync(legacyDir) && !journalExists ? await readLegacyLevelDb(legacyDir) : undefined;
    const opened = AppendLog.open<JournalRecord>(file, HEADER, faults);
    if (opened.cutTail) {
        report.push(opened.cutTail);
    }
    if (legacyOps === undefined && opened.records.length === 0 && fs.existsSync(legacyDir)) {
        // A migration cut short after the journal was created and before it was filled.
        legacyOps = await readLegacyLevelDb(legacyDir);
    }
    const legacy = legacyOps !== undefined;
    const db = store.db;
    const ops = legacyOps ?? opened.records.flatMap((record) => checkRecord(record, file).ops);
    for (let i = 0; i < ops.length; i += 1000) {
        await db.batch(
            ops
                .slice(i, i + 1000)
                .map((op) =>
                    op.length === 2 ? { type: "put", key: op[0], value: op[1] } : { type: "del", key: op[0] },
                ),
        );
    }
    const repairs = await repair(db);
    report.push(...repairs.lines);
    const live = [...repairs.entries];
    // Compact when the journal holds more than the live entries (overwrites, deletes, repairs).
    if (legacy || repairs.lines.length > 0 || ops.length > live.length) {
        const chunks: JournalRecord[] = [];
        for (let i = 0; i < live.length; i += 100) {
            chunks.push({ ops: live.slice(i, i + 100) });
        }
        opened.log.rewrite(HEADER, chunks);
    }
    if (legacy) {
        const aside = `${legacyDir}.leveldb-migrated`;
        fs.renameSync(legacyDir, aside);
        report.push(
            `migrated ${live.length} entries from the LevelDB folder of an earlier version into ${JOURNAL_FILE}; the old folder is kept as ${aside}`,
        );
    }
    journalWrites(store, opened.log);
    return { report, close: () => opened.log.close() };
}

function checkRecord(record: unknown, file: string): JournalRecord {
    const ops = (record as JournalRecord | null)?.ops;
    if (
        !Array.isArray(ops) ||
        !ops.every((op) => Array.isArray(op) && typeof op[0] === "string" && (op.length === 1 || op.length === 2))
    ) {
        throw new LocalCloudError(
            `${file} holds a record that is not a journal entry; the local cloud will not start over it. Restore it from a copy, or move it aside to start without its data`,
        );
    }
    return record as JournalRecord;
}

/** Journal first, then apply; a journal failure is that operation's error and nothing is applied. */
function journalWrites(store: DynaliteStore, log: AppendLog): void {
    const db = store.db;
    const { put, del, batch } = db;
    const guarded = (ops: JournalRecord["ops"], apply: () => any, cb?: (err?: Error | null) => void) => {
        try {
            log.append([{ ops }]);
        } catch (err) {
            const failure = storageFailure(err);
            if (cb) {
                setImmediate(cb, failure);
                return undefined;
            }
            return Promise.reject(failure);
        }
        return apply();
    };
    db.put = (key, value, cb) => guarded([[key, value]], () => put.call(db, key, value, cb), cb);
    db.del = (key, cb) => guarded([[key]], () => del.call(db, key, cb), cb);
    db.batch = (ops, cb) =>
        guarded(
            ops.map((op) => (op.type === "put" ? ([op.key, op.value] as [string, unknown]) : ([op.key] as [string]))),
            () => batch.call(db, ops, cb),
            cb,
        );
}

async function readLegacyLevelDb(dir: string): Promise<[string, unknown][]> {
    const { Level } = require(require.resolve("level", { paths: [dynaliteDir()] })) as any;
    // createIfMissing: false: LevelDB would otherwise start a new database over a folder whose
    // CURRENT is gone and delete the old table files as obsolete.
    const level = new Level(dir, { valueEncoding: "json", createIfMissing: false });
    try {
        await level.open();
        const entries: [string, unknown][] = [];
        for await (const entry of level.iterator()) {
            entries.push(entry);
        }
        return entries;
    } catch (err) {
        throw new LocalCloudError(
            `${dir} (the LevelDB folder of an earlier version) cannot be read (${(err as Error).message.split("\n")[0]}); it is left untouched. Move it aside to start with no data`,
        );
    } finally {
        await level.close().catch(() => undefined);
    }
}

/**
 * Finishes interrupted table changes and makes every index agree with its table's items. Returns
 * what it repaired and every entry as the store now holds it (for compaction, without a second read).
 */
async function repair(db: DynaliteStore["db"]): Promise<{ lines: string[]; entries: Map<string, unknown> }> {
    const dynaliteDbModule = dynaliteDb();
    const all = new Map<string, any>();
    for await (const [key, value] of db.iterator()) {
        all.set(key, value);
    }
    const lines: string[] = [];
    const writes: { type: "put" | "del"; key: string; value?: unknown }[] = [];
    for (const [key, table] of all) {
        if (!key.startsWith("table~")) {
            continue;
        }
        const name = key.slice("table~".length);
        if (table.TableStatus === "DELETING") {
            for (const other of all.keys()) {
                if (
                    other === key ||
                    other.startsWith(`item-${name}~`) ||
                    other.startsWith(`index-global~${name}~`) ||
                    other.startsWith(`index-local~${name}~`) ||
                    other.startsWith(`tag-${name}~`)
                ) {
                    writes.push({ type: "del", key: other });
                }
            }
            lines.push(`table ${name}: finished a deletion interrupted by a crash`);
            continue;
        }
        if (table.TableStatus !== "ACTIVE") {
            // As dynalite's own timer does once creation or an update is done.
            lines.push(`table ${name}: was left ${table.TableStatus} by a crash; now ACTIVE`);
            table.TableStatus = "ACTIVE";
            for (const index of table.GlobalSecondaryIndexes ?? []) {
                index.IndexStatus = "ACTIVE";
            }
            writes.push({ type: "put", key, value: table });
        }
        const expected = new Map<string, unknown>();
        for (const [itemKey, item] of all) {
            if (!itemKey.startsWith(`item-${name}~`)) {
                continue;
            }
            for (const kind of ["Local", "Global"] as const) {
                const actions = dynaliteDbModule.getIndexActions(
                    table[`${kind}SecondaryIndexes`] ?? [],
                    null,
                    item,
                    table,
                );
                for (const action of actions.puts) {
                    expected.set(`index-${kind.toLowerCase()}~${name}~${action.index}~${action.key}`, action.item);
                }
            }
        }
        let removed = 0;
        let restored = 0;
        for (const [indexKey] of all) {
            if (
                (indexKey.startsWith(`index-global~${name}~`) || indexKey.startsWith(`index-local~${name}~`)) &&
                !expected.has(indexKey)
            ) {
                writes.push({ type: "del", key: indexKey });
                removed++;
            }
        }
        for (const [indexKey, value] of expected) {
            if (!all.has(indexKey) || canonical(all.get(indexKey)) !== canonical(value)) {
                writes.push({ type: "put", key: indexKey, value });
                restored++;
            }
        }
        if (removed + restored > 0) {
            lines.push(
                `table ${name}: repaired its indexes after a crash between an item write and its index write (${removed} stale entries removed, ${restored} rewritten from the items)`,
            );
        }
    }
    if (writes.length > 0) {
        await db.batch(writes);
    }
    for (const write of writes) {
        if (write.type === "put") {
            all.set(write.key, write.value);
        } else {
            all.delete(write.key);
        }
    }
    return { lines, entries: all };
}
