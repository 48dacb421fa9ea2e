// Figures for the local cloud (issue 4, item 7): requests per second and p50/p99 latency of
// `GET /posts/{id}` and `POST /posts` through the local cloud, the same serialized handler called
// directly (no HTTP, no gateway, no worker) as the baseline in the same run, and the cold start of
// a fresh instance (worker start, module load, first answer).
import * as crypto from "node:crypto";
import * as path from "node:path";
import type { LocalCloud } from "local-cloud";
import { buildProxyEvent } from "local-cloud";
import { removeStateDir, startTestCloud, tempStateDir } from "local-cloud/testing";

const CONCURRENCY = 8;
const REQUESTS = Number(process.env["BENCH_REQUESTS"] ?? 1500);
const WARMUP = 100;
const COLD_STARTS = 5;

interface Figures {
    label: string;
    requestsPerSecond: number;
    p50: number;
    p99: number;
    errors: number;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

/** Runs `total` calls with `concurrency` in flight; `one` returns whether the answer was the expected one. */
async function measure(label: string, total: number, concurrency: number, one: (i: number) => Promise<boolean>): Promise<Figures> {
    const latencies: number[] = [];
    let next = 0;
    let errors = 0;
    const started = process.hrtime.bigint();
    await Promise.all(Array.from({ length: concurrency }, async () => {
        while (next < total) {
            const i = next++;
            const t0 = process.hrtime.bigint();
            if (!(await one(i))) {
                errors++;
            }
            latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
        }
    }));
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    latencies.sort((a, b) => a - b);
    return { label, requestsPerSecond: total / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99), errors };
}

/** The proxy event the gateway would build for a request (same builder as the local cloud's). */
function eventFor(cloud: LocalCloud, method: string, resourcePath: string, pathValue: string, pathParameters: Record<string, string> | null, body: unknown, key: string): Record<string, unknown> {
    const api = cloud.model.restApis[0]!;
    const stage = api.stages[0]!;
    const apiKey = cloud.model.apiKeys.find((k) => k.value === key)!;
    const bytes = body === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(body));
    return buildProxyEvent({
        method,
        path: pathValue,
        rawQuery: "",
        rawHeaders: ["Host", new URL(cloud.url).host, "x-api-key", key, "Content-Type", "application/json", "User-Agent", "bench"],
        body: bytes,
        sourceIp: "127.0.0.1",
        localPort: cloud.port,
    }, {
        apiId: api.id,
        stage: stage.name,
        deploymentId: stage.deploymentId,
        stageVariables: null,
        resourcePath,
        resourceId: "bench",
        pathParameters,
        binaryMediaTypes: api.binaryMediaTypes,
        apiKey: { value: key, id: apiKey.id },
        accountId: "123456789012",
        requestId: crypto.randomUUID(),
        extendedRequestId: "bench",
        traceId: "Root=1-bench",
        now: new Date(),
    });
}

/** Loads a function's serialized handler in this process, with its environment, as the baseline. */
function loadHandler(cloud: LocalCloud, logicalName: string): (event: unknown) => Promise<{ statusCode: number }> {
    const { fn, taskRoot, env } = cloud.functionPool(logicalName)!.deployment;
    for (const [name, value] of Object.entries(env)) {
        if (name !== "PATH") {
            process.env[name] = value;
        }
    }
    const dot = fn.handler.lastIndexOf(".");
    const handler = require(path.join(taskRoot, fn.handler.slice(0, dot)))[fn.handler.slice(dot + 1)];
    const context = () => ({
        awsRequestId: crypto.randomUUID(),
        functionName: fn.name,
        functionVersion: "$LATEST",
        invokedFunctionArn: fn.arn,
        memoryLimitInMB: String(fn.memorySize),
        logGroupName: fn.logGroup,
        logStreamName: "bench",
        callbackWaitsForEmptyEventLoop: true,
        getRemainingTimeInMillis: () => fn.timeoutSeconds * 1000,
    });
    return (event) => handler(JSON.parse(JSON.stringify(event)), context());
}

const ms = (n: number) => n.toFixed(n < 10 ? 2 : 1).padStart(8);

export async function run(): Promise<void> {
    const stateDir = tempStateDir("bench");
    // The dev stack with a plan roomy enough that throttling never shows in the figures.
    const cloud = await startTestCloud({
        stack: "dev",
        stateDir,
        config: { "posts-api:plans": { standard: { throttle: { rateLimit: 1_000_000, burstLimit: 1_000_000 }, quota: { limit: 100_000_000, period: "DAY" } } } },
    });
    try {
        const key = cloud.apiKeys[Object.keys(cloud.apiKeys)[0]!]!;
        const headers = { "x-api-key": key, "Content-Type": "application/json" };
        const newPost = (i: number) => ({ title: `bench ${i}`, author: "bench", publicationDate: "2026-11-21", description: "x".repeat(200) });
        const created = await fetch(`${cloud.stageUrl}posts`, { method: "POST", headers, body: JSON.stringify(newPost(-1)) });
        const id = ((await created.json()) as { id: string }).id;
        const routeFn = (method: string, p: string) => cloud.routes.find((r) => r.method === method && r.path.endsWith(p))!.integration;

        const viaHttpGet = () => fetch(`${cloud.stageUrl}posts/${id}`, { headers }).then(async (r) => (await r.arrayBuffer(), r.status === 200));
        const viaHttpPost = (i: number) => fetch(`${cloud.stageUrl}posts`, { method: "POST", headers, body: JSON.stringify(newPost(i)) }).then(async (r) => (await r.arrayBuffer(), r.status === 201));

        const getHandler = loadHandler(cloud, routeFn("GET", "/posts/{id}"));
        const postHandler = loadHandler(cloud, routeFn("POST", "/posts"));
        const getEvent = eventFor(cloud, "GET", "/posts/{id}", `/posts/${id}`, { id }, undefined, key);
        const directGet = () => getHandler(getEvent).then((r) => r.statusCode === 200);
        const directPost = (i: number) => postHandler(eventFor(cloud, "POST", "/posts", "/posts", null, newPost(i), key)).then((r) => r.statusCode === 201);

        // Warm every path (instances up to the concurrency, SDK connections) before measuring.
        await measure("warmup", WARMUP, CONCURRENCY, viaHttpGet);
        await measure("warmup", WARMUP, CONCURRENCY, viaHttpPost);
        await measure("warmup", WARMUP, CONCURRENCY, directGet);
        await measure("warmup", WARMUP, CONCURRENCY, directPost);

        const rows = [
            await measure("GET /posts/{id}  local cloud (HTTP)", REQUESTS, CONCURRENCY, viaHttpGet),
            await measure("GET /posts/{id}  handler called directly", REQUESTS, CONCURRENCY, directGet),
            await measure("POST /posts      local cloud (HTTP)", REQUESTS, CONCURRENCY, viaHttpPost),
            await measure("POST /posts      handler called directly", REQUESTS, CONCURRENCY, directPost),
        ];

        const pool = cloud.functionPool(routeFn("GET", "/posts/{id}"))!;
        const coldEvent = JSON.stringify(getEvent);
        const cold: number[] = [];
        for (let i = 0; i < COLD_STARTS; i++) {
            const t0 = process.hrtime.bigint();
            const outcome = await pool.invoke(coldEvent, crypto.randomUUID(), true);
            cold.push(Number(process.hrtime.bigint() - t0) / 1e6);
            if (outcome.kind !== "result") {
                throw new Error(`cold start invocation failed: ${JSON.stringify(outcome)}`);
            }
        }
        cold.sort((a, b) => a - b);

        const lines = [
            `Local cloud (stack dev, ${REQUESTS} requests per row, ${CONCURRENCY} in flight, ${process.version}, ${require("node:os").cpus().length} CPUs)`,
            `${"".padEnd(42)}   req/s    p50 ms    p99 ms  errors`,
            ...rows.map((r) => `${r.label.padEnd(42)}${r.requestsPerSecond.toFixed(0).padStart(8)}  ${ms(r.p50)}  ${ms(r.p99)}  ${String(r.errors).padStart(6)}`),
            // The figures that carry across machines: local cloud over the direct baseline.
            ...([[rows[0]!, rows[1]!], [rows[2]!, rows[3]!]] as const).map(([local, direct]) =>
                `ratio ${local.label.split("  ")[0]!.padEnd(16)} local/direct: throughput ${(local.requestsPerSecond / direct.requestsPerSecond).toFixed(2)}, ` +
                `p50 ${(local.p50 / direct.p50).toFixed(2)}, p99 ${(local.p99 / direct.p99).toFixed(2)}`),
            `Cold start of ${routeFn("GET", "/posts/{id}")} (fresh worker, module load, first answer): ` +
                `median ${cold[Math.floor(cold.length / 2)]!.toFixed(0)} ms, min ${cold[0]!.toFixed(0)} ms, max ${cold[cold.length - 1]!.toFixed(0)} ms over ${COLD_STARTS}; ` +
                `${(cold[Math.floor(cold.length / 2)]! / rows[1]!.p50).toFixed(1)}x a warm direct call's p50`,
        ];
        console.log(lines.join("\n"));
    } finally {
        await cloud.close();
        removeStateDir(stateDir);
    }
}

if (require.main === module) {
    run().then(() => process.exit(0), (err) => {
        console.error(err);
        process.exit(1);
    });
}
