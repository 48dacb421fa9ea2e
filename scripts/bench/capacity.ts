// Figures for DynamoDB capacity (issue 21, item 2), measured by the embedded engine's counters
// (local-cloud/dynamoCapacity.ts) while the real program runs in a local cloud:
// - units per call per route: read and write units each call consumes, table and index, for a post
//   of about 1 KB and one of about 4 KB (the index projects the whole post, so its size counts);
// - under the scaled throttle (DynamoDB's per-partition limits × SCALE), POST /posts flat out for
//   a few seconds: the creates a second the busiest partition lets through before throttling, and
//   what the API answered. The baseline is the model's own prediction for that partition (its
//   write limit ÷ the units one create puts on it, both measured in the same run), as a ratio:
//   1.0 means the emulator throttles exactly where DynamoDB's arithmetic says it would.
import { startLocalCloud, type LocalCloud } from "local-cloud";
import type { CapacitySnapshot, PartitionUsage } from "local-cloud/dynamoCapacity";
import { removeStateDir, tempStateDir } from "local-cloud/testing";
import { PROJECT_DIR } from "../project";
import { headers, STACK, writeBenchStack } from "./localCloud";
import { median } from "./stats";

const CALLS = 5;
const SCALE = Number(process.env["BENCH_THROTTLE_SCALE"] ?? 0.01);
const LOAD_SECONDS = Number(process.env["BENCH_SECONDS"] ?? 6);
const CONNECTIONS = 8;
/** The model matches DynamoDB's arithmetic when the sustained rate is within this of its prediction. */
const TARGET_RATIO = { min: 0.8, max: 1.25 };

interface Units {
    read: number;
    write: number;
    indexRead: number;
    indexWrite: number;
}

function totals(snapshot: CapacitySnapshot): Units {
    const sum = (pick: (u: Units) => number, units: Units[]) => units.reduce((total, u) => total + pick(u), 0);
    const perTable = snapshot.tables.map((t) => ({
        read: t.readUnits,
        write: t.writeUnits,
        indexRead: sum((u) => u.read, t.indexes.map((i) => ({ read: i.readUnits, write: 0, indexRead: 0, indexWrite: 0 }))),
        indexWrite: sum((u) => u.write, t.indexes.map((i) => ({ read: 0, write: i.writeUnits, indexRead: 0, indexWrite: 0 }))),
    }));
    return {
        read: sum((u) => u.read, perTable),
        write: sum((u) => u.write, perTable),
        indexRead: sum((u) => u.indexRead, perTable),
        indexWrite: sum((u) => u.indexWrite, perTable),
    };
}

const minus = (a: Units, b: Units): Units => ({ read: a.read - b.read, write: a.write - b.write, indexRead: a.indexRead - b.indexRead, indexWrite: a.indexWrite - b.indexWrite });

/** A post whose stored item is about `kb` KB (the description carries the bulk). */
const post = (kb: number, n: number) => ({ title: `capacity ${n}`, author: "bench", publicationDate: "2026-11-21", description: "x".repeat(Math.max(1, kb * 1024 - 400)) });

async function call(cloud: LocalCloud, method: string, route: string, body?: unknown, extra: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await fetch(`${cloud.stageUrl}${route}`, { method, headers: { ...headers, ...extra }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) as Record<string, unknown> : {} };
}

/** Units one call consumes, the median over CALLS calls (each made by `make`, which gets the call's number). */
async function unitsPerCall(cloud: LocalCloud, make: (n: number) => Promise<{ status: number }>, expect: number): Promise<Units> {
    const samples: Units[] = [];
    for (let n = 0; n < CALLS; n++) {
        const before = totals(cloud.capacity());
        const answer = await make(n);
        if (answer.status !== expect) {
            throw new Error(`expected ${expect}, got ${answer.status}`);
        }
        samples.push(minus(totals(cloud.capacity()), before));
    }
    return {
        read: median(samples.map((s) => s.read)),
        write: median(samples.map((s) => s.write)),
        indexRead: median(samples.map((s) => s.indexRead)),
        indexWrite: median(samples.map((s) => s.indexWrite)),
    };
}

async function routeUnits(cloud: LocalCloud, kb: number): Promise<[string, Units][]> {
    const create = async (n: number) => {
        const created = await call(cloud, "POST", "posts", post(kb, n));
        return { ...created, id: String(created.body["id"]) };
    };
    const ids: string[] = [];
    const rows: [string, Units][] = [];
    rows.push(["POST /posts", await unitsPerCall(cloud, async (n) => {
        const created = await create(n);
        ids.push(created.id);
        return created;
    }, 201)]);
    rows.push(["GET /posts/{id}", await unitsPerCall(cloud, (n) => call(cloud, "GET", `posts/${ids[n]}`), 200)]);
    rows.push(["GET /posts?limit=20", await unitsPerCall(cloud, () => call(cloud, "GET", "posts?limit=20"), 200)]);
    rows.push(["PUT /posts/{id}", await unitsPerCall(cloud, (n) => call(cloud, "PUT", `posts/${ids[n]}`, post(kb, 100 + n)), 200)]);
    rows.push(["PATCH /posts/{id}", await unitsPerCall(cloud, (n) => call(cloud, "PATCH", `posts/${ids[n]}`, { title: `patched ${n}` }), 200)]);
    rows.push(["DELETE /posts/{id}", await unitsPerCall(cloud, (n) => call(cloud, "DELETE", `posts/${ids[n]}`), 204)]);
    return rows;
}

/** The partition (table or index) with the most write units, and the resource it belongs to. */
function busiestWritePartition(snapshot: CapacitySnapshot): { resource: string; usage: PartitionUsage } | undefined {
    const all = snapshot.tables.flatMap((t) => [
        ...t.hottest.map((usage) => ({ resource: t.table, usage })),
        ...t.indexes.flatMap((i) => i.hottest.map((usage) => ({ resource: `${t.table} / ${i.index}`, usage }))),
    ]);
    return all.sort((a, b) => b.usage.writeUnits - a.usage.writeUnits)[0];
}

/** POST /posts from CONNECTIONS loops for LOAD_SECONDS: answers by status, and the run's length. */
async function createFlatOut(cloud: LocalCloud, kb: number): Promise<{ statuses: Record<string, number>; seconds: number }> {
    const statuses: Record<string, number> = {};
    const started = performance.now();
    const until = started + LOAD_SECONDS * 1000;
    let n = 0;
    await Promise.all(Array.from({ length: CONNECTIONS }, async () => {
        while (performance.now() < until) {
            const answer = await call(cloud, "POST", "posts", post(kb, n++)).catch(() => ({ status: 0 }));
            statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
        }
    }));
    return { statuses, seconds: (performance.now() - started) / 1000 };
}

async function startCloud(dir: string, throttlePartitions?: number): Promise<LocalCloud> {
    return startLocalCloud({ stack: STACK, projectDir: PROJECT_DIR, stateDir: dir, port: 0, console: false, watch: false, throttlePartitions });
}

const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(1));

export async function run(): Promise<void> {
    const stackFile = writeBenchStack(PROJECT_DIR);
    const dirs: string[] = [];
    try {
        console.log("\n## DynamoDB capacity per call (the local cloud's counters; median of 5 calls; units: read / write, index read / index write)");
        for (const kb of [1, 4]) {
            const dir = tempStateDir("capacity-units");
            dirs.push(dir);
            const cloud = await startCloud(dir);
            try {
                console.log(`post of ~${kb} KB:`);
                console.log("    route                  read  write  index read  index write");
                for (const [route, units] of await routeUnits(cloud, kb)) {
                    console.log(`    ${route.padEnd(22)} ${fmt(units.read).padStart(4)}  ${fmt(units.write).padStart(5)}  ${fmt(units.indexRead).padStart(10)}  ${fmt(units.indexWrite).padStart(11)}`);
                }
            } finally {
                await cloud.close();
            }
        }

        const kb = 1;
        console.log(`\n## Creates a second one partition sustains under the scaled throttle (x${SCALE}: ${1000 * SCALE} write units a second per partition; ` +
            `POST /posts of ~${kb} KB from ${CONNECTIONS} loops for ${LOAD_SECONDS} s; baseline = the model's prediction: limit / units per create on that partition)`);
        const dir = tempStateDir("capacity-throttle");
        dirs.push(dir);
        const cloud = await startCloud(dir, SCALE);
        try {
            const load = await createFlatOut(cloud, kb);
            const snapshot = cloud.capacity();
            const hot = busiestWritePartition(snapshot);
            const created = load.statuses["201"] ?? 0;
            if (!hot || created === 0) {
                console.log(`no create succeeded: ${JSON.stringify(load.statuses)}`);
                return;
            }
            const unitsPerCreate = hot.usage.writeUnits / created;
            const predicted = (1000 * SCALE) / unitsPerCreate;
            // The first second runs on the bucket's initial fill (one second's worth): not a sustained rate.
            const sustained = (created - (1000 * SCALE) / unitsPerCreate) / Math.max(0.001, load.seconds - 1);
            const ratio = sustained / predicted;
            const ok = ratio >= TARGET_RATIO.min && ratio <= TARGET_RATIO.max;
            console.log(`busiest partition: ${hot.resource} "${hot.usage.partition}" (${fmt(unitsPerCreate)} write units per create, peak ${fmt(hot.usage.peakWriteUnitsPerSecond)} in a second, ${hot.usage.throttledWrites} throttled writes)`);
            console.log(`answers: ${Object.entries(load.statuses).map(([status, count]) => `${status} x${count}`).join(", ")}`);
            console.log(`sustained ${sustained.toFixed(1)} creates/s, predicted ${predicted.toFixed(1)}: ratio ${ratio.toFixed(2)} ` +
                `(target ${TARGET_RATIO.min}-${TARGET_RATIO.max}: ${ok ? "met" : "MISSED"}); on DynamoDB, x${1 / SCALE}: about ${Math.round(sustained / SCALE)} creates/s`);
        } finally {
            await cloud.close();
        }
    } finally {
        dirs.forEach(removeStateDir);
        (await import("node:fs")).rmSync(stackFile, { force: true });
    }
}
