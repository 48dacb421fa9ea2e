// Figures for DynamoDB capacity (issue 21, item 2), measured by the embedded engine's counters
// (local-cloud/dynamodb/dynamoCapacity.ts) while the real program runs in a local cloud:
// - units per call per route: read and write units each call consumes, table and index, for a post
//   of about 1 KB and one of about 4 KB (the index projects the whole post, so its size counts);
// - under the scaled throttle (DynamoDB's per-partition limits × SCALE), flat out for a few seconds:
//   - the engine alone: 1 KB puts to one partition key from SDK loops (no retries); the write
//     units a second the partition accepted over the run beyond its bucket's first fill (one
//     second's worth), against its scaled limit (the baseline, DynamoDB's figure), as a ratio:
//     1.0 means it throttles where DynamoDB would;
//   - the program: POST /posts through the gateway and functions (their SDK retries included):
//     the busiest partition, the creates a second that went through once steady, the
//     model's ceiling for them (the limit ÷ the units one create puts on that partition, both
//     measured in the same run) and the API's answers; with BENCH_CAPACITY_CONFIG, once per stack
//     configuration (e.g. listShards 1 against 8), each steady rate as a ratio to the first's.
import { CreateTableCommand, DynamoDBClient, PutItemCommand } from "@aws-sdk/client-dynamodb";
import {
    LOCAL_CREDENTIALS,
    startLocalCloud,
    type CapacitySnapshot,
    type LocalCloud,
    type PartitionUsage,
} from "local-cloud";
import { removeStateDir, tempStateDir } from "local-cloud/testing";
import { PROJECT_DIR } from "../project";
import { headers, STACK, writeBenchStack } from "./localCloud";
import { median } from "./stats";

const CALLS = 5;
const SCALE = Number(process.env["BENCH_THROTTLE_SCALE"] ?? 0.01);
const LOAD_SECONDS = Number(process.env["BENCH_SECONDS"] ?? 6);
const CONNECTIONS = 8;
/** The engine figure's own table (the program's tables are left to the program). */
const SCRATCH_TABLE = "capacity-bench-scratch";
/**
 * Stack configurations to compare under the throttle, each a set of full config keys overriding the
 * bench stack: `BENCH_CAPACITY_CONFIG='[{"posts-api:listShards":1},{"posts-api:listShards":8}]'`
 * prints each one's steady rate and its ratio to the first. Default: the stack as it is.
 */
const VARIANTS = JSON.parse(process.env["BENCH_CAPACITY_CONFIG"] ?? "[{}]") as Record<string, unknown>[];
/** The steady rate is counted from here (ms into the load): past the buckets' first fill and the functions' start. */
const STEADY_AFTER_MS = 2000;
/** The engine throttles where DynamoDB would when the accepted rate is within this of the scaled limit. */
const TARGET_RATIO = { min: 0.9, max: 1.1 };

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
        indexRead: sum(
            (u) => u.read,
            t.indexes.map((i) => ({ read: i.readUnits, write: 0, indexRead: 0, indexWrite: 0 })),
        ),
        indexWrite: sum(
            (u) => u.write,
            t.indexes.map((i) => ({ read: 0, write: i.writeUnits, indexRead: 0, indexWrite: 0 })),
        ),
    }));
    return {
        read: sum((u) => u.read, perTable),
        write: sum((u) => u.write, perTable),
        indexRead: sum((u) => u.indexRead, perTable),
        indexWrite: sum((u) => u.indexWrite, perTable),
    };
}

const minus = (a: Units, b: Units): Units => ({
    read: a.read - b.read,
    write: a.write - b.write,
    indexRead: a.indexRead - b.indexRead,
    indexWrite: a.indexWrite - b.indexWrite,
});

/** A post whose stored item is about `kb` KB (the description carries the bulk). */
const post = (kb: number, n: number) => ({
    title: `capacity ${n}`,
    author: "bench",
    publicationDate: "2026-11-21",
    description: "x".repeat(Math.max(1, kb * 1024 - 400)),
});

async function call(
    cloud: LocalCloud,
    method: string,
    route: string,
    body?: unknown,
    extra: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
    const response = await fetch(`${cloud.stageUrl}${route}`, {
        method,
        headers: { ...headers, ...extra },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/** Units one call consumes, the median over CALLS calls (each made by `make`, which gets the call's number). */
async function unitsPerCall(
    cloud: LocalCloud,
    make: (n: number) => Promise<{ status: number }>,
    expect: number,
): Promise<Units> {
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
    rows.push([
        "POST /posts",
        await unitsPerCall(
            cloud,
            async (n) => {
                const created = await create(n);
                ids.push(created.id);
                return created;
            },
            201,
        ),
    ]);
    rows.push(["GET /posts/{id}", await unitsPerCall(cloud, (n) => call(cloud, "GET", `posts/${ids[n]}`), 200)]);
    rows.push(["GET /posts?limit=20", await unitsPerCall(cloud, () => call(cloud, "GET", "posts?limit=20"), 200)]);
    rows.push([
        "PUT /posts/{id}",
        await unitsPerCall(cloud, (n) => call(cloud, "PUT", `posts/${ids[n]}`, post(kb, 100 + n)), 200),
    ]);
    rows.push([
        "PATCH /posts/{id}",
        await unitsPerCall(cloud, (n) => call(cloud, "PATCH", `posts/${ids[n]}`, { title: `patched ${n}` }), 200),
    ]);
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

/**
 * POST /posts from CONNECTIONS loops for LOAD_SECONDS: answers by status, when each 201 came (ms into the run), the
 * run's length.
 */
async function createFlatOut(
    cloud: LocalCloud,
    kb: number,
): Promise<{ statuses: Record<string, number>; created: number[]; seconds: number }> {
    const statuses: Record<string, number> = {};
    const created: number[] = [];
    const started = performance.now();
    const until = started + LOAD_SECONDS * 1000;
    let n = 0;
    await Promise.all(
        Array.from({ length: CONNECTIONS }, async () => {
            while (performance.now() < until) {
                const answer = await call(cloud, "POST", "posts", post(kb, n++)).catch(() => ({ status: 0 }));
                statuses[answer.status] = (statuses[answer.status] ?? 0) + 1;
                if (answer.status === 201) {
                    created.push(performance.now() - started);
                }
            }
        }),
    );
    return { statuses, created, seconds: (performance.now() - started) / 1000 };
}

/**
 * 1 KB puts to one partition key of a scratch table from CONNECTIONS loops, no retries: units accepted and refusals.
 */
async function engineFlatOut(
    endpoint: string,
    region: string,
): Promise<{ units: number; throttled: number; seconds: number }> {
    const client = new DynamoDBClient({ endpoint, region, credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });
    const TableName = SCRATCH_TABLE;
    try {
        await client.send(
            new CreateTableCommand({
                TableName,
                BillingMode: "PAY_PER_REQUEST",
                AttributeDefinitions: [
                    { AttributeName: "pk", AttributeType: "S" },
                    { AttributeName: "sk", AttributeType: "S" },
                ],
                KeySchema: [
                    { AttributeName: "pk", KeyType: "HASH" },
                    { AttributeName: "sk", KeyType: "RANGE" },
                ],
            }),
        );
        await new Promise((resolve) => setTimeout(resolve, 50));
        let units = 0;
        let throttled = 0;
        let n = 0;
        const started = performance.now();
        const until = started + LOAD_SECONDS * 1000;
        await Promise.all(
            Array.from({ length: CONNECTIONS }, async () => {
                while (performance.now() < until) {
                    const sk = String(n++);
                    try {
                        // pk + sk + body = 1,024 bytes: one write unit.
                        await client.send(
                            new PutItemCommand({
                                TableName,
                                Item: {
                                    pk: { S: "hot" },
                                    sk: { S: sk },
                                    body: { S: "x".repeat(1024 - 2 - 3 - 2 - sk.length - 4) },
                                },
                            }),
                        );
                        units += 1;
                    } catch (err) {
                        if ((err as Error).name !== "ThrottlingException") {
                            throw err;
                        }
                        throttled += 1;
                    }
                }
            }),
        );
        return { units, throttled, seconds: (performance.now() - started) / 1000 };
    } finally {
        client.destroy();
    }
}

async function startCloud(
    dir: string,
    throttlePartitions?: number,
    config: Record<string, unknown> = {},
): Promise<LocalCloud> {
    return startLocalCloud({
        stack: STACK,
        projectDir: PROJECT_DIR,
        stateDir: dir,
        port: 0,
        console: false,
        watch: false,
        throttlePartitions,
        config,
    });
}

/**
 * POST /posts flat out in one configuration: the busiest partition, the steady creates a second, the answers; returns
 * the steady rate.
 */
async function programFigures(
    cloud: LocalCloud,
    kb: number,
    limit: number,
    config: Record<string, unknown>,
): Promise<number> {
    const load = await createFlatOut(cloud, kb);
    const snapshot = cloud.capacity();
    const program = { ...snapshot, tables: snapshot.tables.filter((t) => t.table !== SCRATCH_TABLE) };
    const hot = busiestWritePartition(program);
    const created = load.created.length;
    const label = Object.keys(config).length === 0 ? "" : ` with ${JSON.stringify(config)}`;
    if (!hot || created === 0) {
        console.log(`program${label}: no create succeeded: ${JSON.stringify(load.statuses)}`);
        return 0;
    }
    const unitsPerCreate = hot.usage.writeUnits / created;
    // After the buckets' first fill (one second's worth each), once the load is steady.
    const steady =
        load.created.filter((t) => t >= STEADY_AFTER_MS).length / ((load.seconds * 1000 - STEADY_AFTER_MS) / 1000);
    console.log(
        `program${label}, POST /posts of ~${kb} KB: busiest partition ${hot.resource} "${hot.usage.partition}" ` +
            `(${fmt(unitsPerCreate)} write units per create, most in a second ${fmt(hot.usage.peakWriteUnitsPerSecond)}, ${hot.usage.throttledWrites} throttled writes)`,
    );
    for (const table of program.tables) {
        for (const index of table.indexes.filter((i) => i.writeUnits > 0)) {
            console.log(
                `    index ${index.index}: ${index.partitionCount} partition keys written, the busiest took ${((100 * (index.hottest[0]?.writeUnits ?? 0)) / index.writeUnits).toFixed(0)} % of its write units`,
            );
        }
    }
    console.log(
        `    ${steady.toFixed(1)} creates/s once steady (that partition's ceiling in the model: ${(limit / unitsPerCreate).toFixed(1)}); ` +
            `on DynamoDB, x${1 / SCALE}: about ${Math.round(steady / SCALE)} creates/s`,
    );
    console.log(
        `    answers: ${Object.entries(load.statuses)
            .map(([status, count]) => `${status} x${count}`)
            .join(", ")}`,
    );
    return steady;
}

const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(1));

export async function run(): Promise<void> {
    const stackFile = writeBenchStack(PROJECT_DIR);
    const dirs: string[] = [];
    try {
        console.log(
            "\n## DynamoDB capacity per call (the local cloud's counters; median of 5 calls; units: read / write, index read / index write)",
        );
        const unitsDir = tempStateDir("capacity-units");
        dirs.push(unitsDir);
        const unitsCloud = await startCloud(unitsDir);
        try {
            for (const kb of [1, 4]) {
                console.log(`post of ~${kb} KB:`);
                console.log("    route                  read  write  index read  index write");
                for (const [route, units] of await routeUnits(unitsCloud, kb)) {
                    console.log(
                        `    ${route.padEnd(22)} ${fmt(units.read).padStart(4)}  ${fmt(units.write).padStart(5)}  ${fmt(units.indexRead).padStart(10)}  ${fmt(units.indexWrite).padStart(11)}`,
                    );
                }
            }
        } finally {
            await unitsCloud.close();
        }

        const kb = 1;
        const limit = 1000 * SCALE;
        console.log(
            `\n## Hot partitions under the scaled throttle (x${SCALE}: ${limit} write units a second per partition; ${CONNECTIONS} loops for ${LOAD_SECONDS} s)`,
        );
        let first: number | undefined;
        for (const [n, config] of VARIANTS.entries()) {
            const dir = tempStateDir("capacity-throttle");
            dirs.push(dir);
            const cloud = await startCloud(dir, SCALE, config);
            try {
                if (n === 0) {
                    const engine = await engineFlatOut(cloud.dynamoEndpoint, cloud.model.region);
                    // The partition starts with one second's worth of units in its bucket: not a sustained rate.
                    const accepted = (engine.units - limit) / engine.seconds;
                    const ratio = accepted / limit;
                    console.log(
                        `engine, 1 KB puts to one key: accepted ${accepted.toFixed(1)} write units/s beyond the bucket's first fill, ${engine.throttled} throttled; ` +
                            `baseline ${limit} (DynamoDB's limit x${SCALE}): ratio ${ratio.toFixed(2)} (target ${TARGET_RATIO.min}-${TARGET_RATIO.max}: ` +
                            `${ratio >= TARGET_RATIO.min && ratio <= TARGET_RATIO.max ? "met" : "MISSED"})`,
                    );
                }
                const steady = await programFigures(cloud, kb, limit, config);
                if (first === undefined) {
                    first = steady;
                } else if (first > 0) {
                    console.log(`    ${(steady / first).toFixed(2)}x the first configuration's steady rate`);
                }
            } finally {
                await cloud.close();
            }
        }
    } finally {
        dirs.forEach(removeStateDir);
        (await import("node:fs")).rmSync(stackFile, { force: true });
    }
}
