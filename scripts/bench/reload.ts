// Figures for requests during a live reload (issue 18, item 2): `npm start` (watching) in its own
// process serves GET /posts/{id} to steady load from this process while its stack file is edited,
// and the requests whose time in flight overlaps the reload (from the edit to the server's
// `reloaded` line) are compared with the same load with no reload, measured just before, as a
// ratio. Two edits per round: one that changes every function (the CORS origin, as the
// local-cloud section's reload figure), and one that changes nothing the program declares (a
// comment: the reload records the program again and finds nothing to swap). The stack file is the
// edit because it is the bench's own file; the program's .ts files are shared with whoever else
// works in the checkout, and a comment in either is a reload that records the whole program.
import * as fs from "node:fs";
import * as path from "node:path";
import autocannon from "autocannon";
import { removeStateDir, tempStateDir } from "local-cloud/testing";
import { PROJECT_DIR } from "../project";
import { createPost, headers, STACK, writeBenchStack } from "./localCloud";
import { firstAnswer, freePort, startServer, type ServerProcess } from "./serverProcess";
import { median, percentile, verdict } from "./stats";

const CONNECTIONS = 5;
const ROUNDS = Number(process.env["BENCH_ROUNDS"] ?? 3);
const QUIET_MS = 5000;
/** Load before the edit and after the reload line, so the window sits in the middle of the load. */
const MARGIN_MS = 1000;
const TARGET_P99_MS = 250;

/** One answered request (any status): when it was sent and answered (performance.now() of this process). */
interface Timed {
    start: number;
    end: number;
}

interface Load {
    /** Stops the load; the answers so far, and the failures (a status other than 200, an error, a timeout). */
    stop(): Promise<{ answers: Timed[]; failures: string[] }>;
}

/** autocannon against `url` until stopped; every 200's send and answer time. */
function startLoad(url: string): Load {
    const answers: Timed[] = [];
    const failures: string[] = [];
    let finished: () => void = () => undefined;
    const done = new Promise<void>((resolve) => {
        finished = resolve;
    });
    const instance = autocannon({ url, connections: CONNECTIONS, duration: 3600, timeout: 60, headers }, () =>
        finished(),
    );
    instance.on("response", (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
        const end = performance.now();
        // A failed answer counts in the latencies too: it is what the client waited for.
        answers.push({ start: end - responseTime, end });
        if (statusCode !== 200) {
            failures.push(String(statusCode));
        }
    });
    instance.on("reqError", (err: Error) => failures.push(err.message));
    return {
        stop: async () => {
            instance.stop();
            await done;
            return { answers, failures };
        },
    };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The first line printed after `from` lines that matches; its time (performance.now()). */
async function nextLine(
    server: ServerProcess,
    pattern: RegExp,
    from: number,
    timeoutMs = 120_000,
): Promise<{ line: string; at: number }> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
        const line = server.output.slice(from).find((l) => pattern.test(l));
        if (line !== undefined) {
            return { line, at: performance.now() };
        }
        if (performance.now() > deadline) {
            throw new Error(
                `no line matching ${pattern} within ${timeoutMs} ms:\n${server.output.slice(-10).join("\n")}`,
            );
        }
        await sleep(5);
    }
}

interface Window {
    p50: number;
    p99: number;
    max: number;
    requests: number;
    failures: string[];
    /** From the edit to the reload line (a reload that failed throws). */
    reloadMs: number;
}

const latencies = (answers: Timed[]) => answers.map((a) => a.end - a.start);

function summary(answers: Timed[], failures: string[], reloadMs: number): Window {
    const values = latencies(answers);
    return {
        p50: percentile(values, 50),
        p99: percentile(values, 99),
        max: Math.max(...values),
        requests: values.length,
        failures,
        reloadMs,
    };
}

/** Steady load with no reload, for as long as a reload window usually lasts. */
async function quiet(url: string): Promise<Window> {
    const load = startLoad(url);
    await sleep(QUIET_MS);
    const { answers, failures } = await load.stop();
    return summary(answers, failures, 0);
}

/** Steady load, the edit in the middle; the requests in flight at any moment of the reload. */
async function duringReload(server: ServerProcess, url: string, edit: () => void): Promise<Window> {
    const load = startLoad(url);
    await sleep(MARGIN_MS);
    const from = server.output.length;
    const editedAt = performance.now();
    edit();
    const reloaded = await nextLine(server, /^reload(ed| failed)/, from);
    await sleep(MARGIN_MS);
    const { answers, failures } = await load.stop();
    if (!reloaded.line.startsWith("reloaded")) {
        throw new Error(`the reload failed: ${reloaded.line}`);
    }
    const inWindow = answers.filter((a) => a.end >= editedAt && a.start <= reloaded.at);
    return summary(inWindow, failures, reloaded.at - editedAt);
}

const fixed = (n: number) => n.toFixed(n < 10 ? 2 : 1);

export async function run(): Promise<void> {
    console.log(
        `\n## Requests during a live reload: GET /posts/{id} through \`npm start\` (${CONNECTIONS} connections), in flight during a reload against the same load with none`,
    );
    const stackFile = writeBenchStack(PROJECT_DIR);
    const stateDir = tempStateDir("bench-reload");
    const caches = tempStateDir("bench-reload-caches");
    let server: ServerProcess | undefined;
    try {
        const port = await freePort();
        server = startServer(PROJECT_DIR, ["--stack", STACK, "--port", String(port), "--state-dir", stateDir], {
            LOCAL_CLOUD_PROGRAM_CACHE: path.join(caches, "programs"),
            LOCAL_CLOUD_COMPILE_CACHE: path.join(caches, "compiled"),
        });
        const stageUrl = `http://127.0.0.1:${port}/${STACK}/`;
        await firstAnswer(server, `${stageUrl}posts?limit=1`, headers);
        await server.waitForLine(/ is ready: /);
        const url = `${stageUrl}posts/${await createPost(stageUrl)}`;
        // Warm instances and connections.
        await quiet(url);
        await sleep(2000);

        const rounds: { quiet: Window; changed: Window; unchanged: Window }[] = [];
        for (let round = 1; round <= ROUNDS; round++) {
            const calm = await quiet(url);
            const changed = await duringReload(server, url, () =>
                writeBenchStack(PROJECT_DIR, `https://reload-${round}.example`),
            );
            const unchanged = await duringReload(server, url, () =>
                writeBenchStack(PROJECT_DIR, `https://reload-${round}.example`, ` Round ${round}.`),
            );
            rounds.push({ quiet: calm, changed, unchanged });
        }

        const base = { p50: median(rounds.map((r) => r.quiet.p50)), p99: median(rounds.map((r) => r.quiet.p99)) };
        console.log(
            `${"figure".padEnd(44)}${"during".padStart(10)}${"no reload".padStart(11)}${"ratio".padStart(8)}   target`,
        );
        for (const [name, pick] of [
            ["reload changing every function", (r: (typeof rounds)[number]) => r.changed],
            ["reload changing nothing (a comment)", (r: (typeof rounds)[number]) => r.unchanged],
        ] as const) {
            const p50 = median(rounds.map((r) => pick(r).p50));
            const p99 = median(rounds.map((r) => pick(r).p99));
            console.log(
                `${`${name}: p50`.padEnd(44)}${`${fixed(p50)} ms`.padStart(10)}${`${fixed(base.p50)} ms`.padStart(11)}${(p50 / base.p50).toFixed(2).padStart(8)}`,
            );
            // A request that failed during a reload misses the target whatever the latencies.
            const failed = rounds.reduce((sum, r) => sum + pick(r).failures.length, 0);
            console.log(
                `${`${name}: p99`.padEnd(44)}${`${fixed(p99)} ms`.padStart(10)}${`${fixed(base.p99)} ms`.padStart(11)}${(p99 / base.p99).toFixed(2).padStart(8)}   ` +
                    `<= ${TARGET_P99_MS} ms, none failed (${failed} did): ${verdict(p99 <= TARGET_P99_MS && failed === 0)}`,
            );
        }
        console.log("rounds (quiet | changing every function | changing nothing):");
        const line = (w: Window) =>
            `p50 ${fixed(w.p50)} ms, p99 ${fixed(w.p99)} ms, max ${fixed(w.max)} ms, ${w.requests} answers, ${w.failures.length} failed${w.failures.length > 0 ? ` (${[...new Set(w.failures)].join(", ")})` : ""}`;
        rounds.forEach((r, i) =>
            console.log(
                `  ${i + 1}: ${line(r.quiet)} | reload ${(r.changed.reloadMs / 1000).toFixed(2)} s: ${line(r.changed)} | reload ${(r.unchanged.reloadMs / 1000).toFixed(2)} s: ${line(r.unchanged)}`,
            ),
        );
    } finally {
        await server?.stop();
        removeStateDir(stateDir);
        removeStateDir(caches);
        fs.rmSync(stackFile, { force: true });
    }
}

if (require.main === module) {
    run().then(
        () => process.exit(0),
        (err) => {
            console.error(err);
            process.exit(1);
        },
    );
}
