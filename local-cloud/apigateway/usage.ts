// Usage-plan enforcement: a token bucket per API key (throttle) and a count of admitted requests per
// key and UTC day (quota), exact and deterministic where AWS calls its own "best effort"
// (AWS's guide, "Usage plans for REST APIs"; docs/internals.md).
//
// Choices the AWS documentation leaves open (docs/internals.md lists them too):
// - a new bucket starts full (a first burst of `burstLimit` requests passes);
// - a per-method throttle (`apiStages[].throttles`, "/items/POST") replaces the plan's throttle for
//   that method; it does not also draw from the plan's bucket;
// - "/items/*" gives every method of /items those limits, each method with a bucket of its own;
// - quota periods are UTC calendar periods (`periodStart`); a throttled request does not count
//   against the quota, a quota-refused one still used a throttle token;
// - `quota.offset` is ignored (with a warning at start): AWS's own documents disagree on what it
//   means, and the program accepts only 0.
//
// Durability: every admitted request is written ahead to `<stateDir>/usage.log` (an AppendLog, one
// positional write) before `admit` returns, so before the gateway forwards it; kill -9 never
// forgets an admitted request. Records are `{plan, key, day, count}` (day = UTC "YYYY-MM-DD"); the
// start compacts them to one record per plan, key and day, the per-day series a usage report needs.
//
// Clock steps: a throttle bucket counts a backwards step as no time passing (it re-anchors on the
// new time, so it never goes negative and never locks a key out). Quota periods run on a
// high-water mark of time (the latest clock reading, and at start the latest day in the log), so a
// backwards step never starts a period early and never resets a quota; a forward step is elapsed
// time. The price: after a clock that ran ahead is corrected, requests count towards the day it
// had reached until the real clock gets there.
import * as fs from "node:fs";
import * as path from "node:path";
import { AppendLog, type StorageFaults } from "../state/appendLog";
import type { ThrottleLimits, UsagePlanModel } from "../program/model";
import { LocalCloudError, readJsonFile } from "../state/stateDir";

export type LimitVerdict = "OK" | "THROTTLED" | "QUOTA_EXCEEDED";

export const USAGE_LOG_HEADER = { format: "local-cloud-usage", version: 1 };

const DAY_MS = 86_400_000;

/** Admitted requests of one API key under one usage plan on one UTC day (logical names). */
export interface UsageRecord {
    plan: string;
    key: string;
    /** UTC day, "YYYY-MM-DD". */
    day: string;
    count: number;
    /** Set on counts copied from an old usage.json, until that file has been moved aside. */
    migrated?: true;
}

/** The UTC day holding `time`, as "YYYY-MM-DD". */
export const utcDay = (time: number) => new Date(time).toISOString().slice(0, 10);

/** Start of the UTC calendar period holding `now`: DAY from 00:00Z, WEEK from Monday, MONTH from the 1st. */
export function periodStart(period: "DAY" | "WEEK" | "MONTH", now: number): number {
    const d = new Date(now);
    const day = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
    switch (period) {
        case "DAY":
            return day;
        case "WEEK":
            return day - ((d.getUTCDay() + 6) % 7) * DAY_MS;
        case "MONTH":
            return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
    }
}

/** One warning per plan whose quota has an offset, which the local cloud does not apply. */
export function quotaOffsetWarnings(plans: UsagePlanModel[]): string[] {
    return plans
        .filter((plan) => (plan.quota?.offset ?? 0) !== 0)
        .map(
            (plan) =>
                `usage plan ${plan.logicalName}: quota offset ${plan.quota!.offset} is ignored (AWS's documents disagree on its meaning; the local cloud applies the full limit in every period)`,
        );
}

interface Bucket {
    tokens: number;
    updated: number;
}

export interface UsageLimiterOptions {
    /** Where each admitted request is written ahead; without one, counts live in memory (unit tests). */
    log?: AppendLog;
    /** Counts already saved (the log's records). */
    records?: UsageRecord[];
    /** Notices for the user (the log cannot be written, and when it can again). */
    warn?: (message: string) => void;
    /** Appends between compactions of a long-running server's log; 50,000 by default. */
    compactEvery?: number;
}

const usageId = (plan: string, key: string) => JSON.stringify([plan, key]);

export class UsageLimiter {
    private readonly buckets = new Map<string, Bucket>();
    /** usageId(plan, key) -> UTC day -> admitted requests. */
    private readonly counts = new Map<string, Map<string, number>>();
    /** The latest time seen; quota periods never go back before it. */
    private highWater = -Infinity;
    /** Counts admitted while the log could not be written, keyed like `counts` plus the day. */
    private readonly unwritten = new Map<string, UsageRecord>();
    private appendsSinceCompaction = 0;
    private readonly log?: AppendLog;
    private readonly warn: (message: string) => void;
    private readonly compactEvery: number;

    constructor(
        private readonly now: () => number,
        options: UsageLimiterOptions = {},
    ) {
        this.log = options.log;
        this.warn = options.warn ?? (() => undefined);
        this.compactEvery = options.compactEvery ?? 50_000;
        for (const record of options.records ?? []) {
            this.add(record.plan, record.key, record.day, record.count);
            this.highWater = Math.max(this.highWater, Date.parse(`${record.day}T00:00:00Z`));
        }
    }

    /**
     * The limiter of a state folder: reads `usage.log` (creating it), moves an old `usage.json`'s
     * counters into it once, and compacts it to one record per plan, key and day. A damaged or
     * wrong-shaped file stops the start with a LocalCloudError naming it and the way out.
     */
    static open(
        stateDir: string,
        options: { now: () => number; warn?: (message: string) => void; faults?: StorageFaults; compactEvery?: number },
    ): UsageLimiter {
        const file = path.join(stateDir, "usage.log");
        const warn = options.warn ?? (() => undefined);
        // Checked before anything is written: a wrong-shaped old file stops the start as it is.
        const oldFile = path.join(stateDir, "usage.json");
        const oldRecords = fs.existsSync(oldFile) ? readOldUsage(oldFile) : undefined;
        const opened = AppendLog.open<unknown>(file, USAGE_LOG_HEADER, options.faults);
        try {
            if (opened.cutTail) {
                warn(opened.cutTail);
            }
            // Line 1 is the header, so record i is on line i + 2.
            const records = opened.records.map((record, index) => checkRecord(record, file, index + 2));
            if (oldRecords) {
                // A start that crashed between writing the copy and moving the old file aside has
                // the copy in the log already (marked `migrated`): only the move is left to do.
                if (!records.some((r) => r.migrated)) {
                    opened.log.append(oldRecords);
                    records.push(...oldRecords);
                }
                fs.renameSync(oldFile, `${oldFile}.migrated`);
                warn(
                    `moved the quota counters of ${oldFile} into usage.log (the old file is kept as usage.json.migrated)`,
                );
            }
            const compacted = compact(records);
            if (compacted.length < records.length || records.some((r) => r.migrated)) {
                opened.log.rewrite(USAGE_LOG_HEADER, compacted);
            }
            return new UsageLimiter(options.now, {
                log: opened.log,
                records: compacted,
                warn,
                compactEvery: options.compactEvery,
            });
        } catch (err) {
            opened.log.close();
            throw err;
        }
    }

    /**
     * Counts one request of a key under its plan: throttle first (a throttled request does not
     * count against the quota), then quota. An admitted request is in the log when this returns.
     */
    admit(plan: UsagePlanModel, keyName: string, stage: string, methodKey: string): LimitVerdict {
        const now = this.now();
        if (!this.throttleAllows(plan, keyName, stage, methodKey, now)) {
            return "THROTTLED";
        }
        const time = this.advance(now);
        if (plan.quota && this.usedInPeriod(plan.logicalName, keyName, plan.quota.period, time) >= plan.quota.limit) {
            return "QUOTA_EXCEEDED";
        }
        this.record(plan.logicalName, keyName, utcDay(time));
        return "OK";
    }

    /** The quota period holding the current time (never before the latest time seen) and its use. */
    periodUsage(plan: UsagePlanModel, keyName: string): { start: string; used: number; remaining?: number } {
        const time = this.advance(this.now());
        const period = plan.quota?.period ?? "DAY";
        const used = this.usedInPeriod(plan.logicalName, keyName, period, time);
        return {
            start: utcDay(periodStart(period, time)),
            used,
            remaining: plan.quota ? Math.max(0, plan.quota.limit - used) : undefined,
        };
    }

    /** Admitted requests per UTC day from `from` to `to` ("YYYY-MM-DD", both included), zeros too. */
    dailyUsage(planName: string, keyName: string, from: string, to: string): { day: string; used: number }[] {
        const days = this.counts.get(usageId(planName, keyName));
        const result: { day: string; used: number }[] = [];
        for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += DAY_MS) {
            const day = utcDay(t);
            result.push({ day, used: days?.get(day) ?? 0 });
        }
        return result;
    }

    /** Forgets every bucket, count and the time high-water mark, in the log too (tests start each case clean). */
    reset(): void {
        this.buckets.clear();
        this.counts.clear();
        this.unwritten.clear();
        this.highWater = -Infinity;
        this.log?.rewrite(USAGE_LOG_HEADER, []);
        this.appendsSinceCompaction = 0;
    }

    /**
     * Forgets a deleted API key's quota counts under every plan, in the log too: a key created later
     * under the same logical name is a new key and starts from nothing, as on AWS. (Its throttle
     * buckets stay: they refill within seconds and are never saved.)
     */
    forgetKey(keyName: string): void {
        let forgot = false;
        for (const id of [...this.counts.keys()]) {
            if ((JSON.parse(id) as [string, string])[1] === keyName) {
                this.counts.delete(id);
                forgot = true;
            }
        }
        for (const [id, record] of [...this.unwritten]) {
            if (record.key === keyName) {
                this.unwritten.delete(id);
            }
        }
        if (forgot && this.log) {
            this.compactNow();
        }
    }

    /** Writes counts still waiting for a writable disk (best effort) and closes the log. */
    close(): void {
        if (this.log && this.unwritten.size > 0) {
            try {
                this.log.append([...this.unwritten.values()]);
                this.unwritten.clear();
            } catch (err) {
                this.warn(
                    `usage.log: ${this.unwrittenTotal()} admitted requests could not be saved (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); their quota counts are lost`,
                );
            }
        }
        this.log?.close();
    }

    /** The clock for quota periods: never earlier than the latest time seen. */
    private advance(now: number): number {
        this.highWater = Math.max(this.highWater, now);
        return this.highWater;
    }

    private usedInPeriod(planName: string, keyName: string, period: "DAY" | "WEEK" | "MONTH", time: number): number {
        const days = this.counts.get(usageId(planName, keyName));
        if (!days) {
            return 0;
        }
        let used = 0;
        // At most 31 days; no day after `time` exists, since `time` is the high-water mark.
        for (let t = periodStart(period, time); t <= time; t += DAY_MS) {
            used += days.get(utcDay(t)) ?? 0;
        }
        return used;
    }

    private add(plan: string, key: string, day: string, count: number): void {
        const id = usageId(plan, key);
        let days = this.counts.get(id);
        if (!days) {
            days = new Map();
            this.counts.set(id, days);
        }
        days.set(day, (days.get(day) ?? 0) + count);
    }

    /**
     * Counts an admitted request, in the log before the request goes on. When the log cannot be
     * written (a full disk, an I/O error) the request is still served and counted in memory, and
     * the count goes into the next append that succeeds: the issue wants a server on a full disk to
     * keep serving reads, and refusing every keyed request would stop them all. What a crash
     * during the outage forgets is reported (docs/decisions/0004-deploying-changes-safely.md, "Quota counts on a full
     * disk").
     */
    private record(plan: string, key: string, day: string): void {
        this.add(plan, key, day, 1);
        if (!this.log) {
            return;
        }
        const pendingId = JSON.stringify([plan, key, day]);
        const pending = this.unwritten.get(pendingId);
        const record: UsageRecord = { plan, key, day, count: (pending?.count ?? 0) + 1 };
        const batch =
            this.unwritten.size === 0
                ? [record]
                : [...this.unwritten.values()].filter((r) => r !== pending).concat(record);
        try {
            this.log.append(batch);
        } catch (err) {
            if (this.unwritten.size === 0) {
                this.warn(
                    `usage.log cannot be written (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): requests are still served and counted in memory until it can; a crash before then forgets those counts`,
                );
            }
            this.unwritten.set(pendingId, record);
            return;
        }
        if (this.unwritten.size > 0) {
            this.warn(
                `usage.log can be written again: saved ${this.unwrittenTotal() + 1} counts kept in memory meanwhile`,
            );
            this.unwritten.clear();
        }
        if (++this.appendsSinceCompaction >= this.compactEvery) {
            this.compactNow();
        }
    }

    private unwrittenTotal(): number {
        let total = 0;
        for (const r of this.unwritten.values()) {
            total += r.count;
        }
        return total;
    }

    /** Rewrites the log as one record per plan, key and day (a long-running server's log stays small). */
    private compactNow(): void {
        const records: UsageRecord[] = [];
        for (const [id, days] of this.counts) {
            const [plan, key] = JSON.parse(id) as [string, string];
            for (const [day, count] of days) {
                records.push({ plan, key, day, count });
            }
        }
        try {
            this.log!.rewrite(USAGE_LOG_HEADER, records);
            this.appendsSinceCompaction = 0;
            // Counts kept in memory while the log could not be written are in it now.
            this.unwritten.clear();
        } catch {
            // The appended log is still whole; try again after the next batch of appends.
            this.appendsSinceCompaction = 0;
        }
    }

    private throttleAllows(
        plan: UsagePlanModel,
        keyName: string,
        stage: string,
        methodKey: string,
        now: number,
    ): boolean {
        const apiStage = plan.apiStages.find((s) => s.stage === stage);
        const [resourcePath] = splitMethodKey(methodKey);
        const methodLimits = apiStage?.throttles[methodKey] ?? apiStage?.throttles[`${resourcePath}/*`];
        if (methodLimits) {
            // The method's limits replace the plan's; a wildcard's methods each get their own bucket.
            return this.take(`${plan.logicalName}/${keyName}/${stage}${methodKey}`, methodLimits, now);
        }
        return !plan.throttle || this.take(`${plan.logicalName}/${keyName}`, plan.throttle, now);
    }

    private take(id: string, limits: ThrottleLimits, now: number): boolean {
        let bucket = this.buckets.get(id);
        if (!bucket) {
            // A new bucket starts full.
            bucket = { tokens: limits.burstLimit, updated: now };
            this.buckets.set(id, bucket);
        }
        // A clock stepped back counts as no time passing: the bucket re-anchors on the new time.
        const elapsed = Math.max(0, now - bucket.updated);
        bucket.tokens = Math.min(limits.burstLimit, bucket.tokens + (elapsed / 1000) * limits.rateLimit);
        bucket.updated = now;
        if (bucket.tokens >= 1) {
            bucket.tokens -= 1;
            return true;
        }
        return false;
    }
}

const wayOut = (file: string) =>
    `the local cloud will not start over it. Restore it from a copy, or move it aside (mv ${file} ${file}.damaged) to start with fresh quotas`;

const DAY_PATTERN = /^\d{4}-\d{2}-\d{2}$/;
const isObject = (value: unknown): value is Record<string, unknown> =>
    typeof value === "object" && value !== null && !Array.isArray(value);

/** "2026-11-18" yes; "2026-11-31" and "2026-13-01" no. */
function isRealDay(day: string): boolean {
    const time = Date.parse(`${day}T00:00:00Z`);
    return Number.isFinite(time) && utcDay(time) === day;
}

function checkRecord(value: unknown, file: string, line: number): UsageRecord {
    const r = value as Partial<UsageRecord>;
    const ok =
        isObject(value) &&
        typeof r.plan === "string" &&
        typeof r.key === "string" &&
        typeof r.day === "string" &&
        DAY_PATTERN.test(r.day) &&
        isRealDay(r.day) &&
        Number.isSafeInteger(r.count) &&
        r.count! > 0 &&
        (r.migrated === undefined || r.migrated === true);
    if (!ok) {
        throw new LocalCloudError(
            `${file} line ${line} is not a usage record ({plan, key, day: "YYYY-MM-DD", count}): ${JSON.stringify(value).slice(0, 120)}; ${wayOut(file)}`,
        );
    }
    return r as UsageRecord;
}

/** One record per plan, key and day, in first-seen order. */
function compact(records: UsageRecord[]): UsageRecord[] {
    const merged = new Map<string, UsageRecord>();
    for (const r of records) {
        const id = JSON.stringify([r.plan, r.key, r.day]);
        const found = merged.get(id);
        if (found) {
            found.count += r.count;
        } else {
            merged.set(id, { plan: r.plan, key: r.key, day: r.day, count: r.count });
        }
    }
    return [...merged.values()];
}

/**
 * The counters of the usage.json earlier versions wrote ({plans: {name: {createdAt}}, quotas:
 * {"plan/key": {periodStart, used}}}), as records on the first day of each counter's period (its
 * days were not kept). Anything else is refused, never read as empty.
 */
function readOldUsage(file: string): UsageRecord[] {
    const old = readJsonFile<unknown>(file, {});
    const refuse = (what: string): never => {
        throw new LocalCloudError(
            `${file} is not a usage file of an earlier local cloud (${what}); the local cloud will not start over it. Fix it, or move it aside (mv ${file} ${file}.damaged) to start with fresh quotas`,
        );
    };
    if (!isObject(old)) {
        return refuse(
            `expected {"plans": {...}, "quotas": {...}}, found ${old === null ? "null" : Array.isArray(old) ? "an array" : typeof old}`,
        );
    }
    const plans = old["plans"] ?? {};
    const quotas = old["quotas"] ?? {};
    if (!isObject(plans) || !isObject(quotas)) {
        return refuse('"plans" and "quotas" must be objects');
    }
    const records: UsageRecord[] = [];
    for (const [id, counter] of Object.entries(quotas)) {
        const c = counter as { periodStart?: unknown; used?: unknown };
        if (
            !isObject(counter) ||
            typeof c.periodStart !== "number" ||
            Number.isNaN(new Date(c.periodStart).getTime()) ||
            !Number.isSafeInteger(c.used) ||
            (c.used as number) < 0
        ) {
            return refuse(`quotas[${JSON.stringify(id)}] must be {"periodStart": <ms>, "used": <count>}`);
        }
        const plan =
            Object.keys(plans).find((name) => id.startsWith(`${name}/`)) ?? id.slice(0, Math.max(0, id.indexOf("/")));
        const key = id.slice(plan.length + 1);
        if (plan === "" || key === "") {
            return refuse(`quotas key ${JSON.stringify(id)} is not "<plan>/<key>"`);
        }
        if ((c.used as number) > 0) {
            records.push({ plan, key, day: utcDay(c.periodStart), count: c.used as number, migrated: true });
        }
    }
    return records;
}

/** "/items/{id}/GET" -> ["/items/{id}", "GET"]; the root's GET is "//GET". */
export function splitMethodKey(key: string): [string, string] {
    const slash = key.lastIndexOf("/");
    return [key.slice(0, slash) || "/", key.slice(slash + 1)];
}

export const methodKey = (resourcePath: string, method: string) => `${resourcePath}/${method}`;
