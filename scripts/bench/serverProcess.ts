// The local cloud as `npm start` runs it, in a process of its own, for the benchmark: the project's
// own `start` script (package.json) run by a shell with node_modules/.bin on the PATH, as npm runs
// it (npm's own start-up left out), and the figures only a separate process shows: time from spawn
// to the first answer, the ready line, and the resident memory of its process tree.
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";

export interface ServerProcess {
    child: ChildProcess;
    /** Milliseconds since the spawn at which the ready line was printed, once it was. */
    readyMs?: number;
    /** Request log lines printed so far (`npm start` prints one per request). */
    requestLines: number;
    /** Every line printed so far, stdout and stderr, for errors. */
    output: string[];
    /** Resolves with the time (ms since spawn) of the first line matching, rejects if the process exits first. */
    waitForLine(pattern: RegExp, timeoutMs?: number): Promise<{ line: string; ms: number }>;
    /** SIGINT (Ctrl-C), then SIGKILL after 10 s. */
    stop(): Promise<void>;
    spawnedAt: number;
}

/** A free loopback port, so a restart can reuse it (the program's stage URLs hold the port). */
export async function freePort(): Promise<number> {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return port;
}

/** `npm start -- <args>` without npm: the start script, run as npm runs it. */
export function startServer(projectDir: string, args: string[], env: NodeJS.ProcessEnv = {}): ServerProcess {
    const script = (
        JSON.parse(fs.readFileSync(path.join(projectDir, "package.json"), "utf8")) as {
            scripts: Record<string, string>;
        }
    ).scripts["start"]!;
    // `exec` keeps one process (no shell in between) when the script is a single command.
    const command = /[;&|]/.test(script) ? script : `exec ${script}`;
    const spawnedAt = performance.now();
    const child = spawn("sh", ["-c", `${command} "$@"`, "sh", ...args], {
        cwd: projectDir,
        env: {
            ...process.env,
            ...env,
            PATH: `${path.join(projectDir, "node_modules", ".bin")}${path.delimiter}${process.env["PATH"] ?? ""}`,
        },
        stdio: ["ignore", "pipe", "pipe"],
    });
    const waiters: { pattern: RegExp; resolve: (found: { line: string; ms: number }) => void }[] = [];
    const server: ServerProcess = {
        child,
        requestLines: 0,
        output: [],
        spawnedAt,
        waitForLine: (pattern, timeoutMs = 120_000) =>
            new Promise((resolve, reject) => {
                const seen = server.output.find((line) => pattern.test(line));
                if (seen !== undefined) {
                    resolve({ line: seen, ms: NaN });
                    return;
                }
                const timer = setTimeout(
                    () =>
                        reject(
                            new Error(
                                `no line matching ${pattern} within ${timeoutMs} ms:\n${server.output.slice(-20).join("\n")}`,
                            ),
                        ),
                    timeoutMs,
                );
                const onExit = (code: number | null) => {
                    clearTimeout(timer);
                    reject(
                        new Error(
                            `the server exited (${code}) before printing ${pattern}:\n${server.output.slice(-20).join("\n")}`,
                        ),
                    );
                };
                child.once("exit", onExit);
                waiters.push({
                    pattern,
                    resolve: (found) => {
                        clearTimeout(timer);
                        child.off("exit", onExit);
                        resolve(found);
                    },
                });
            }),
        stop: async () => {
            if (child.exitCode !== null || child.signalCode !== null) {
                return;
            }
            const exited = new Promise((resolve) => child.once("exit", resolve));
            child.kill("SIGINT");
            const kill = setTimeout(() => child.kill("SIGKILL"), 10_000);
            await exited;
            clearTimeout(kill);
        },
    };
    const requestLine = /^[A-Z]+ \/\S* \d{3} [\d.]+ms /;
    for (const stream of [child.stdout!, child.stderr!]) {
        let rest = "";
        stream.on("data", (chunk: Buffer) => {
            rest += chunk.toString();
            for (let nl = rest.indexOf("\n"); nl >= 0; nl = rest.indexOf("\n")) {
                const line = rest.slice(0, nl);
                rest = rest.slice(nl + 1);
                if (requestLine.test(line)) {
                    server.requestLines++;
                    continue;
                }
                server.output.push(line);
                const ms = performance.now() - spawnedAt;
                if (server.readyMs === undefined && / is ready: /.test(line)) {
                    server.readyMs = ms;
                }
                for (const waiter of waiters.splice(0)) {
                    if (waiter.pattern.test(line)) {
                        waiter.resolve({ line, ms });
                    } else {
                        waiters.push(waiter);
                    }
                }
            }
        });
    }
    return server;
}

/**
 * Sends `GET url` until an answer with `status` arrives (the port refuses connections until the
 * server listens); returns the milliseconds since the server's spawn.
 */
export async function firstAnswer(
    server: ServerProcess,
    url: string,
    headers: Record<string, string>,
    status = 200,
    timeoutMs = 120_000,
): Promise<number> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
        if (server.child.exitCode !== null) {
            throw new Error(`the server exited (${server.child.exitCode}):\n${server.output.slice(-20).join("\n")}`);
        }
        try {
            const response = await fetch(url, { headers });
            await response.arrayBuffer();
            if (response.status === status) {
                return performance.now() - server.spawnedAt;
            }
            throw new Error(`GET ${url} answered ${response.status}, expected ${status}`);
        } catch (err) {
            const refused = (err as { cause?: { code?: string } }).cause?.code === "ECONNREFUSED";
            if (!refused || performance.now() > deadline) {
                throw err;
            }
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
    }
}

/** The process and its descendants (children of children...), from /proc. */
function processTree(root: number): number[] {
    const children = new Map<number, number[]>();
    for (const entry of fs.readdirSync("/proc")) {
        if (!/^\d+$/.test(entry)) {
            continue;
        }
        try {
            const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
            const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
            (children.get(ppid) ?? children.set(ppid, []).get(ppid)!).push(Number(entry));
        } catch {
            // Gone meanwhile.
        }
    }
    const tree = [root];
    for (let i = 0; i < tree.length; i++) {
        tree.push(...(children.get(tree[i]!) ?? []));
    }
    return tree;
}

/**
 * CPU time (user + system) a process tree has used so far, in milliseconds (/proc/<pid>/stat, clock ticks of 10 ms).
 */
export function treeCpuMs(root: number): number {
    let ticks = 0;
    for (const pid of processTree(root)) {
        try {
            const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
            const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
            ticks += Number(fields[11]) + Number(fields[12]);
        } catch {
            // Gone meanwhile.
        }
    }
    return ticks * 10;
}

/** Resident memory of a process tree in bytes (VmRSS of each process; worker threads share their process's). */
export function treeRss(root: number): number {
    let total = 0;
    for (const pid of processTree(root)) {
        try {
            const match = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
            total += match ? Number(match[1]) * 1024 : 0;
        } catch {
            // Gone meanwhile.
        }
    }
    return total;
}

/** Samples a process tree's RSS every `everyMs` until stopped; `peak` is the highest seen. */
export function sampleRss(root: number, everyMs = 100): { peak(): number; stop(): number } {
    let peak = treeRss(root);
    const timer = setInterval(() => {
        peak = Math.max(peak, treeRss(root));
    }, everyMs);
    return {
        peak: () => peak,
        stop: () => {
            clearInterval(timer);
            peak = Math.max(peak, treeRss(root));
            return peak;
        },
    };
}
