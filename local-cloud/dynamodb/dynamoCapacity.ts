// The embedded DynamoDB counts capacity as DynamoDB does, and (when asked) throttles a hot
// partition the way DynamoDB does. dynalite neither counts write units for indexes nor throttles,
// so a design that meets DynamoDB's per-partition ceiling (a low-cardinality index key, one hot
// item) would first meet it in production.
//
// What is counted (docs/decisions/0024-local-capacity-model.md has the sources):
// - writes: one unit per started KB of the item, the larger of the old and new item for a put or
//   an update, the deleted item for a delete (1 when there was none); a failed condition costs the
//   stored item's size (1 when there was none);
// - index writes, per global index and charged to the index partition: a put of the projected
//   entry when an item enters the index or its projected attributes change, a delete plus a put
//   when the index key changes, a delete when it leaves; local indexes charge the table partition;
// - reads: ceil(size / 4 KB) per item read, halved when eventually consistent; a Query or Scan sums
//   the sizes of the items it read, then rounds (at least one unit, as a read that finds nothing).
//
// A partition is one partition key value, of the table or of an index (the unit DynamoDB throttles
// at 3,000 read and 1,000 write units a second). With `throttleScale` set, each partition has a
// token bucket of scale × that rate (one second's worth): a request is refused while a partition it
// reads or writes is in deficit, with the error DynamoDB gives, and counted as throttled.
//
// Hooks: dynalite's actions look its `db` and `validations` module functions up at call time, so
// wrapping those exports (as dynamoConditionItem.ts does) sees every item an action reads or
// writes, before anything is written. The wrappers are process-wide and installed once; they act
// only for a store a meter is attached to (attachCapacityMeter), so other dynalites are untouched.

/* eslint-disable @typescript-eslint/no-explicit-any */
import * as path from "node:path";
import { canonical } from "./canonical";

/** DynamoDB's per-partition limits (on-demand and provisioned alike). */
export const PARTITION_LIMITS = { readUnitsPerSecond: 3000, writeUnitsPerSecond: 1000 } as const;

export interface CapacityOptions {
    /**
     * Throttle partitions past scale × DynamoDB's per-partition limits (0.01: 30 read and 10 write
     * units a second). Unset: count only, never throttle.
     */
    throttleScale?: number;
    /** Clock for the token buckets (tests move time instead of waiting). */
    now?: () => number;
}

export interface PartitionUsage {
    /** The partition key value (of the table, or of the index for an index partition). */
    partition: string;
    readUnits: number;
    writeUnits: number;
    throttledReads: number;
    throttledWrites: number;
    /** The most units consumed within one wall-clock second. */
    peakReadUnitsPerSecond: number;
    peakWriteUnitsPerSecond: number;
}

export interface ResourceUsage {
    readUnits: number;
    writeUnits: number;
    throttledReads: number;
    throttledWrites: number;
    partitionCount: number;
    /** The busiest partitions, most units first. */
    hottest: PartitionUsage[];
}

export interface TableUsage extends ResourceUsage {
    table: string;
    indexes: (ResourceUsage & { index: string })[];
}

export interface CapacitySnapshot {
    /** Per-partition limits in force, or null when only counting. */
    limits: { scale: number; readUnitsPerSecond: number; writeUnitsPerSecond: number } | null;
    tables: TableUsage[];
}

type Kind = "read" | "write";

/** A token bucket holding one second of rate; refused while in deficit (a request may overdraw it). */
class Bucket {
    private tokens: number;
    private last: number;
    constructor(
        private readonly rate: number,
        now: number,
    ) {
        this.tokens = rate;
        this.last = now;
    }
    admits(now: number): boolean {
        this.refill(now);
        return this.tokens > 0;
    }
    take(units: number, now: number): void {
        this.refill(now);
        this.tokens -= units;
    }
    private refill(now: number): void {
        this.tokens = Math.min(this.rate, this.tokens + ((now - this.last) / 1000) * this.rate);
        this.last = now;
    }
}

class PartitionCounter {
    readonly units = { read: 0, write: 0 };
    readonly throttled = { read: 0, write: 0 };
    readonly peak = { read: 0, write: 0 };
    private readonly second = { read: { at: -1, units: 0 }, write: { at: -1, units: 0 } };
    private readonly buckets: Partial<Record<Kind, Bucket>> = {};

    constructor(readonly partition: string) {}

    admits(kind: Kind, rate: number | undefined, now: number): boolean {
        return rate === undefined || this.bucket(kind, rate, now).admits(now);
    }

    charge(kind: Kind, units: number, rate: number | undefined, now: number): void {
        this.units[kind] += units;
        const second = this.second[kind];
        const at = Math.floor(now / 1000);
        second.units = second.at === at ? second.units + units : units;
        second.at = at;
        this.peak[kind] = Math.max(this.peak[kind], second.units);
        if (rate !== undefined) {
            this.bucket(kind, rate, now).take(units, now);
        }
    }

    usage(): PartitionUsage {
        return {
            partition: this.partition,
            readUnits: this.units.read,
            writeUnits: this.units.write,
            throttledReads: this.throttled.read,
            throttledWrites: this.throttled.write,
            peakReadUnitsPerSecond: this.peak.read,
            peakWriteUnitsPerSecond: this.peak.write,
        };
    }

    private bucket(kind: Kind, rate: number, now: number): Bucket {
        return (this.buckets[kind] ??= new Bucket(rate, now));
    }
}

class ResourceCounter {
    readonly partitions = new Map<string, PartitionCounter>();
    partition(value: string): PartitionCounter {
        let counter = this.partitions.get(value);
        if (!counter) {
            counter = new PartitionCounter(value);
            this.partitions.set(value, counter);
        }
        return counter;
    }
    usage(top: number): ResourceUsage {
        const all = [...this.partitions.values()].map((p) => p.usage());
        const sum = (pick: (p: PartitionUsage) => number) => all.reduce((total, p) => total + pick(p), 0);
        return {
            readUnits: sum((p) => p.readUnits),
            writeUnits: sum((p) => p.writeUnits),
            throttledReads: sum((p) => p.throttledReads),
            throttledWrites: sum((p) => p.throttledWrites),
            partitionCount: all.length,
            hottest: all.sort((a, b) => b.readUnits + b.writeUnits - (a.readUnits + a.writeUnits)).slice(0, top),
        };
    }
}

/** Where units go: a table partition, or a global index's partition. */
export interface Target {
    table: string;
    index?: string;
    partition: string;
}

/** Consumed units and throttling state of one engine's tables. */
export class CapacityMeter {
    readonly throttleScale: number | undefined;
    private readonly now: () => number;
    private readonly tables = new Map<string, { table: ResourceCounter; indexes: Map<string, ResourceCounter> }>();

    constructor(options: CapacityOptions = {}) {
        if (
            options.throttleScale !== undefined &&
            !(options.throttleScale > 0 && Number.isFinite(options.throttleScale))
        ) {
            throw new RangeError(`throttleScale must be a positive number, not ${options.throttleScale}`);
        }
        this.throttleScale = options.throttleScale;
        this.now = options.now ?? Date.now;
    }

    /** Units a second one partition may consume, or undefined when not throttling. */
    rate(kind: Kind): number | undefined {
        if (this.throttleScale === undefined) {
            return undefined;
        }
        return (
            (kind === "read" ? PARTITION_LIMITS.readUnitsPerSecond : PARTITION_LIMITS.writeUnitsPerSecond) *
            this.throttleScale
        );
    }

    /** The first target whose partition is past its limit, or undefined when all admit the request. */
    refused(targets: Target[], kind: Kind): Target | undefined {
        const now = this.now();
        return targets.find((t) => !this.counter(t).admits(kind, this.rate(kind), now));
    }

    charge(target: Target, kind: Kind, units: number): void {
        this.counter(target).charge(kind, units, this.rate(kind), this.now());
    }

    countThrottled(target: Target, kind: Kind): void {
        this.counter(target).throttled[kind] += 1;
    }

    snapshot(top = 5): CapacitySnapshot {
        const scale = this.throttleScale;
        return {
            limits:
                scale === undefined
                    ? null
                    : {
                          scale,
                          readUnitsPerSecond: PARTITION_LIMITS.readUnitsPerSecond * scale,
                          writeUnitsPerSecond: PARTITION_LIMITS.writeUnitsPerSecond * scale,
                      },
            tables: [...this.tables.entries()]
                .sort(([a], [b]) => a.localeCompare(b))
                .map(([table, counters]) => ({
                    table,
                    ...counters.table.usage(top),
                    indexes: [...counters.indexes.entries()]
                        .sort(([a], [b]) => a.localeCompare(b))
                        .map(([index, counter]) => ({ index, ...counter.usage(top) })),
                })),
        };
    }

    private counter(target: Target): PartitionCounter {
        let table = this.tables.get(target.table);
        if (!table) {
            table = { table: new ResourceCounter(), indexes: new Map() };
            this.tables.set(target.table, table);
        }
        if (target.index === undefined) {
            return table.table.partition(target.partition);
        }
        let index = table.indexes.get(target.index);
        if (!index) {
            index = new ResourceCounter();
            table.indexes.set(target.index, index);
        }
        return index.partition(target.partition);
    }
}

// ---- DynamoDB's unit arithmetic ------------------------------------------------------------------

const KB = 1024;

/** Write units for an item of `size` bytes: one per started KB, at least one. */
export const writeUnits = (size: number) => Math.max(1, Math.ceil(size / KB));

/**
 * Read units for `size` bytes read (one item, or a Query's sum): per started 4 KB, at least one; halved when eventually
 * consistent.
 */
export const readUnits = (size: number, consistent: boolean) =>
    Math.max(1, Math.ceil(size / (4 * KB))) * (consistent ? 1 : 0.5);

// ---- dynalite's table descriptions and items ----------------------------------------------------

type AttributeValue = Record<string, unknown>;
type Item = Record<string, AttributeValue>;

interface KeyElement {
    AttributeName: string;
    KeyType: "HASH" | "RANGE";
}

interface IndexDescription {
    IndexName: string;
    KeySchema: KeyElement[];
    Projection: { ProjectionType?: string; NonKeyAttributes?: string[] };
}

interface TableDescription {
    TableName: string;
    TableArn: string;
    KeySchema: KeyElement[];
    BillingModeSummary?: { BillingMode?: string };
    GlobalSecondaryIndexes?: IndexDescription[];
    LocalSecondaryIndexes?: IndexDescription[];
}

const hashKeyOf = (keys: KeyElement[]) => keys.find((k) => k.KeyType === "HASH")!.AttributeName;

/** A partition key value as people read it: the string, number or base64 itself. */
function partitionLabel(value: AttributeValue | undefined): string {
    const type = value ? Object.keys(value)[0] : undefined;
    return type === undefined ? "" : String(value![type]);
}

interface IndexEntry {
    partition: string;
    key: string;
    projected: Item;
    size: number;
}

/** An item's entry in an index (its projected attributes), or undefined when the item is not in it. */
function indexEntry(
    db: DynaliteDb,
    table: TableDescription,
    index: IndexDescription,
    item: Item | null | undefined,
): IndexEntry | undefined {
    const indexKeys = index.KeySchema.map((k) => k.AttributeName);
    if (!item || indexKeys.some((k) => item[k] == null)) {
        return undefined;
    }
    let projected = item;
    if ((index.Projection.ProjectionType ?? "ALL") !== "ALL") {
        const names = new Set([
            ...indexKeys,
            ...table.KeySchema.map((k) => k.AttributeName),
            ...(index.Projection.NonKeyAttributes ?? []),
        ]);
        projected = Object.fromEntries([...names].filter((n) => item[n] != null).map((n) => [n, item[n]!]));
    }
    return {
        partition: partitionLabel(item[hashKeyOf(index.KeySchema)]),
        key: canonical(indexKeys.map((k) => item[k])),
        projected,
        size: db.itemSize(projected),
    };
}

/** The index writes one table write causes, per DynamoDB's rules (see the header). */
function indexWrites(
    db: DynaliteDb,
    table: TableDescription,
    index: IndexDescription,
    oldItem: Item | null | undefined,
    newItem: Item | null | undefined,
): { partition: string; units: number }[] {
    const before = indexEntry(db, table, index, oldItem);
    const after = indexEntry(db, table, index, newItem);
    if (before && after && before.key === after.key) {
        return canonical(before.projected) === canonical(after.projected)
            ? []
            : [{ partition: after.partition, units: writeUnits(Math.max(before.size, after.size)) }];
    }
    return [
        ...(before ? [{ partition: before.partition, units: writeUnits(before.size) }] : []),
        ...(after ? [{ partition: after.partition, units: writeUnits(after.size) }] : []),
    ];
}

// ---- throttling answers ---------------------------------------------------------------------------

// On-demand tables answer a hot partition with ThrottlingException (its member is
// `throttlingReasons`, lower-case t, in DynamoDB's API model); provisioned tables with
// ProvisionedThroughputExceededException (`ThrottlingReasons`). Both are HTTP 400.
const ON_DEMAND_MESSAGE =
    "Throughput exceeds the current capacity of your table or index. DynamoDB is automatically scaling your table or index " +
    "so please try again shortly. If exceptions persist, check if you have a hot key: " +
    "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html";
const PROVISIONED_MESSAGE =
    "The level of configured provisioned throughput for the table was exceeded. " +
    "Consider increasing your provisioning level with the UpdateTable API.";

export interface ThrottleError extends Error {
    statusCode: number;
    body: Record<string, unknown>;
}

/** The error DynamoDB answers when `target`'s partition is past its limit. */
export function throttleError(table: TableDescription, target: Target, kind: Kind): ThrottleError {
    const reason = `${target.index === undefined ? "Table" : "Index"}${kind === "read" ? "Read" : "Write"}KeyRangeThroughputExceeded`;
    const resource = target.index === undefined ? table.TableArn : `${table.TableArn}/index/${target.index}`;
    const onDemand = table.BillingModeSummary?.BillingMode === "PAY_PER_REQUEST";
    const body = onDemand
        ? {
              __type: "com.amazon.coral.availability#ThrottlingException",
              message: ON_DEMAND_MESSAGE,
              throttlingReasons: [{ reason, resource }],
          }
        : {
              __type: "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
              message: PROVISIONED_MESSAGE,
              ThrottlingReasons: [{ reason, resource }],
          };
    return Object.assign(new Error(body.message), { statusCode: 400, body });
}

// ---- the hooks into dynalite ----------------------------------------------------------------------

interface DynaliteDb {
    itemSize(item: Item): number;
    checkConditional(data: any, existing: any): any;
    updateIndexes(
        store: any,
        table: TableDescription,
        oldItem: Item | null,
        newItem: Item | null,
        cb: (err?: unknown) => void,
    ): void;
    addConsumedCapacity(data: any, isRead: boolean, a?: Item, b?: Item): unknown;
    queryTable(store: any, table: TableDescription, data: any, ...rest: any[]): void;
}

/** Per store: its meter and the table descriptions its actions looked up (by name). */
interface Attached {
    meter: CapacityMeter;
    tables: Map<string, TableDescription>;
}

const STORES = new WeakMap<object, Attached>();
/** A request's data (and, for batch requests, each key or item in it) → its store's meter. */
const REQUESTS = new WeakMap<object, Attached>();
/** Requests that may be throttled: single-item actions and queries (a batch would answer with unprocessed items). */
const DIRECT = new WeakSet<object>();
const PATCHED = Symbol.for("local-cloud.dynalite.capacity");

/**
 * The write a put, update or delete is about to make, from its condition check to its index update (one synchronous run
 * in dynalite).
 */
let pendingWrite: { table: string; partition: string; direct: boolean } | undefined;

/** Counts (and, with a scale, throttles) capacity for the actions of dynalite `store`. */
export function attachCapacityMeter(store: any, meter: CapacityMeter): void {
    installCapacityHooks();
    const attached: Attached = { meter, tables: new Map() };
    STORES.set(store, attached);
    // Every action looks its table up first: keep the description for the hooks that get none.
    const getTable = store.getTable as (name: string, ...rest: any[]) => void;
    store.getTable = (name: string, ...rest: any[]) => {
        const cb = rest.pop() as (err: unknown, table?: TableDescription) => void;
        getTable.call(store, name, ...rest, (err: unknown, table?: TableDescription) => {
            if (!err && table) {
                attached.tables.set(name, table);
            }
            cb(err, table);
        });
    };
}

function dynaliteModules(): {
    db: DynaliteDb & Record<string | symbol, unknown>;
    validations: any;
    getItemTypes: unknown;
} {
    const dir = path.dirname(require.resolve("dynalite/package.json"));
    return {
        db: require(path.join(dir, "db", "index.js")),
        validations: require(path.join(dir, "validations", "index.js")),
        getItemTypes: (require(path.join(dir, "validations", "getItem.js")) as { types: unknown }).types,
    };
}

function installCapacityHooks(): void {
    const { db, validations, getItemTypes } = dynaliteModules();
    if (db[PATCHED]) {
        return;
    }
    db[PATCHED] = true;

    // Request validation (before any action): tag the request with its store's meter; a GetItem on a
    // partition past its read limit is refused here, before it reads.
    const checkValidations = validations.checkValidations as (
        data: any,
        types: unknown,
        custom: unknown,
        store: any,
    ) => void;
    validations.checkValidations = (data: any, types: unknown, custom: unknown, store: any) => {
        checkValidations(data, types, custom, store);
        const attached = STORES.get(store);
        if (!attached || !data) {
            return;
        }
        tagRequest(data, attached);
        if (types === getItemTypes) {
            const table = attached.tables.get(data.TableName);
            if (table) {
                const target = {
                    table: table.TableName,
                    partition: partitionLabel(data.Key?.[hashKeyOf(table.KeySchema)]),
                };
                refuseIfHot(attached, table, [target], "read");
            }
        }
    };

    // Writes: throttled before the condition is evaluated (a throttled request does nothing); a
    // failed condition costs the stored item's size.
    const checkConditional = db.checkConditional.bind(db);
    db.checkConditional = (data: any, existing: any) => {
        const attached = REQUESTS.get(data) ?? REQUESTS.get(data?.Item) ?? REQUESTS.get(data?.Key);
        const table = attached?.tables.get(data.TableName);
        if (!attached || !table) {
            return checkConditional(data, existing);
        }
        const target = {
            table: table.TableName,
            partition: partitionLabel((existing ?? data.Item ?? data.Key)?.[hashKeyOf(table.KeySchema)]),
        };
        const direct = DIRECT.has(data);
        if (direct) {
            const indexTargets = (table.GlobalSecondaryIndexes ?? []).flatMap((index) =>
                [existing, data.Item]
                    .map((item) => indexEntry(db, table, index, item))
                    .filter((e) => e !== undefined)
                    .map((e) => ({ table: table.TableName, index: index.IndexName, partition: e.partition })),
            );
            const refusal = refusalIfHot(attached, table, [target, ...indexTargets], "write");
            if (refusal) {
                return refusal;
            }
        }
        const error = checkConditional(data, existing);
        if (String(error?.body?.__type ?? "").endsWith("#ConditionalCheckFailedException")) {
            attached.meter.charge(target, "write", existing ? writeUnits(db.itemSize(existing)) : 1);
        } else if (!error) {
            pendingWrite = { table: table.TableName, partition: target.partition, direct };
        }
        return error;
    };

    // The write itself: the table's and every index's units, known before anything is stored; an
    // index partition past its limit refuses the table write (index back-pressure).
    const updateIndexes = db.updateIndexes.bind(db);
    db.updateIndexes = (
        store: any,
        table: TableDescription,
        oldItem: Item | null,
        newItem: Item | null,
        cb: (err?: unknown) => void,
    ) => {
        const pending = pendingWrite?.table === table.TableName ? pendingWrite : undefined;
        pendingWrite = undefined;
        const attached = STORES.get(store);
        if (!attached) {
            return updateIndexes(store, table, oldItem, newItem, cb);
        }
        const charges = writeCharges(db, table, oldItem, newItem, pending?.partition ?? "");
        if (pending?.direct) {
            const refusal = refusalIfHot(
                attached,
                table,
                charges.map((c) => c.target),
                "write",
            );
            if (refusal) {
                return cb(refusal);
            }
        }
        charges.forEach((c) => attached.meter.charge(c.target, "write", c.units));
        return updateIndexes(store, table, oldItem, newItem, cb);
    };

    // GetItem (alone or in a batch): the item's size, read on its table partition. Writes: what the
    // request's ConsumedCapacity says, when asked (dynalite's leaves the indexes out); their units
    // are counted by updateIndexes below. dynalite passes the stored item first, then the new one.
    const addConsumedCapacity = db.addConsumedCapacity.bind(db);
    db.addConsumedCapacity = (data: any, isRead: boolean, a?: Item, b?: Item) => {
        const attached = REQUESTS.get(data) ?? REQUESTS.get(data?.Key) ?? REQUESTS.get(data?.Item);
        const table = attached?.tables.get(data.TableName);
        if (!attached || !table) {
            return addConsumedCapacity(data, isRead, a, b);
        }
        if (!isRead) {
            return consumedCapacity(
                table,
                writeCharges(db, table, a ?? null, b ?? null, ""),
                data.ReturnConsumedCapacity,
            );
        }
        const target = { table: table.TableName, partition: partitionLabel(data.Key?.[hashKeyOf(table.KeySchema)]) };
        attached.meter.charge(target, "read", readUnits(a ? db.itemSize(a) : 0, data.ConsistentRead === true));
        return addConsumedCapacity(data, isRead, a, b);
    };

    // Query and Scan: dynalite sums the sizes of the items read when asked for consumed capacity,
    // so it is always asked, and its answer removed again when the caller did not ask.
    const queryTable = db.queryTable.bind(db);
    db.queryTable = (
        store: any,
        table: TableDescription,
        data: any,
        opts: unknown,
        isLocal: boolean,
        fetch: boolean,
        startKeyNames: unknown,
        cb: (err: unknown, result?: any) => void,
    ) => {
        const attached = STORES.get(store);
        if (!attached) {
            return queryTable(store, table, data, opts, isLocal, fetch, startKeyNames, cb);
        }
        const target = readTarget(table, data, isLocal);
        if (DIRECT.has(data) && data.KeyConditions) {
            const refusal = refusalIfHot(attached, table, [target], "read");
            if (refusal) {
                return cb(refusal);
            }
        }
        const asked = data.ReturnConsumedCapacity as string | undefined;
        data.ReturnConsumedCapacity = "INDEXES";
        return queryTable(store, table, data, opts, isLocal, fetch, startKeyNames, (err: unknown, result?: any) => {
            data.ReturnConsumedCapacity = asked;
            if (!err && result?.ConsumedCapacity) {
                const consistent = data.ConsistentRead === true;
                attached.meter.charge(
                    target,
                    "read",
                    Math.max(result.ConsumedCapacity.CapacityUnits, readUnits(0, consistent)),
                );
                if (asked !== "INDEXES" && asked !== "TOTAL") {
                    delete result.ConsumedCapacity;
                } else if (asked === "TOTAL") {
                    result.ConsumedCapacity = {
                        CapacityUnits: result.ConsumedCapacity.CapacityUnits,
                        TableName: result.ConsumedCapacity.TableName,
                    };
                }
            }
            cb(err, result);
        });
    };
}

/** Tags a request, and each key or item of a batch request, with its store's meter. */
function tagRequest(data: any, attached: Attached): void {
    REQUESTS.set(data, attached);
    if (!data.RequestItems) {
        DIRECT.add(data);
        return;
    }
    for (const requests of Object.values(data.RequestItems as Record<string, any>)) {
        const entries: any[] = Array.isArray(requests)
            ? requests.flatMap((r) => [r.PutRequest?.Item, r.DeleteRequest?.Key])
            : (requests?.Keys ?? []);
        entries.filter((e) => e && typeof e === "object").forEach((e) => REQUESTS.set(e, attached));
    }
}

/** Where a Query or Scan reads: a global index's partition, or the table's (local indexes share it). */
function readTarget(table: TableDescription, data: any, isLocal: boolean): Target {
    const global =
        data.IndexName && !isLocal
            ? (table.GlobalSecondaryIndexes ?? []).find((i) => i.IndexName === data.IndexName)
            : undefined;
    const keys =
        global?.KeySchema ??
        (data.IndexName && isLocal
            ? (table.LocalSecondaryIndexes ?? []).find((i) => i.IndexName === data.IndexName)?.KeySchema
            : undefined) ??
        table.KeySchema;
    const hashKey = hashKeyOf(keys);
    // A Scan has no key condition: it reads every partition, counted under "*".
    const partition = data.KeyConditions?.[hashKey]
        ? partitionLabel(data.KeyConditions[hashKey].AttributeValueList?.[0])
        : "*";
    return { table: table.TableName, ...(global ? { index: global.IndexName } : {}), partition };
}

/** The table's and each index's write units for one write (a delete when newItem is null). */
function writeCharges(
    db: DynaliteDb,
    table: TableDescription,
    oldItem: Item | null,
    newItem: Item | null,
    requestPartition: string,
): { target: Target; units: number }[] {
    // A delete of an item that is not there has no item to place it by: the request's key does.
    const item = newItem ?? oldItem;
    const tableTarget = {
        table: table.TableName,
        partition: item ? partitionLabel(item[hashKeyOf(table.KeySchema)]) : requestPartition,
    };
    // The larger of the old and new item (a delete: the deleted one; none at all: still one unit).
    const sizes = [oldItem, newItem].filter((i): i is Item => !!i).map((i) => db.itemSize(i));
    const charges: { target: Target; units: number }[] = [
        { target: tableTarget, units: writeUnits(Math.max(0, ...sizes)) },
    ];
    for (const index of table.LocalSecondaryIndexes ?? []) {
        indexWrites(db, table, index, oldItem, newItem).forEach((w) =>
            charges.push({ target: tableTarget, units: w.units }),
        );
    }
    for (const index of table.GlobalSecondaryIndexes ?? []) {
        indexWrites(db, table, index, oldItem, newItem).forEach((w) =>
            charges.push({
                target: { table: table.TableName, index: index.IndexName, partition: w.partition },
                units: w.units,
            }),
        );
    }
    return charges;
}

/**
 * A write's ConsumedCapacity as DynamoDB returns it: TOTAL, or INDEXES with each global index (local ones count in
 * Table).
 */
function consumedCapacity(
    table: TableDescription,
    charges: { target: Target; units: number }[],
    asked: unknown,
): unknown {
    if (asked !== "TOTAL" && asked !== "INDEXES") {
        return undefined;
    }
    const total = charges.reduce((sum, c) => sum + c.units, 0);
    if (asked === "TOTAL") {
        return { CapacityUnits: total, TableName: table.TableName };
    }
    const indexes: Record<string, { CapacityUnits: number }> = {};
    for (const c of charges.filter((c) => c.target.index !== undefined)) {
        indexes[c.target.index!] = { CapacityUnits: (indexes[c.target.index!]?.CapacityUnits ?? 0) + c.units };
    }
    const tableUnits = charges.filter((c) => c.target.index === undefined).reduce((sum, c) => sum + c.units, 0);
    return {
        CapacityUnits: total,
        TableName: table.TableName,
        Table: { CapacityUnits: tableUnits },
        ...(Object.keys(indexes).length > 0 ? { GlobalSecondaryIndexes: indexes } : {}),
    };
}

/** The throttling error when a target's partition is past its limit (counted), else undefined. */
function refusalIfHot(
    attached: Attached,
    table: TableDescription,
    targets: Target[],
    kind: Kind,
): ThrottleError | undefined {
    const hot = attached.meter.refused(targets, kind);
    if (!hot) {
        return undefined;
    }
    attached.meter.countThrottled(hot, kind);
    return throttleError(table, hot, kind);
}

function refuseIfHot(attached: Attached, table: TableDescription, targets: Target[], kind: Kind): void {
    const refusal = refusalIfHot(attached, table, targets, kind);
    if (refusal) {
        throw refusal;
    }
}
