// A local cloud in a process of its own, for tests that kill it with -9 (tests/cloud/faults.test.ts,
// tests/cloud/usage-crash.test.ts). `spawnCloud` starts this file as a child: options come as JSON in
// CLOUD_OPTIONS ({stack, stateDir, stackConfig, clockStart?}); with `clockStart` the child's clock
// starts there and moves with real time. Once serving, the child prints one line
// `READY {"stageUrl":…,"apiKeys":{…}}`, and every notice as `WARNING <text>`.
import { spawn, type ChildProcess } from "node:child_process";
import { startLocalCloud } from "local-cloud";
import { PROJECT_DIR } from "../../scripts/project";

interface ChildOptions {
    stack: string;
    stateDir: string;
    stackConfig?: Record<string, unknown>;
    clockStart?: number;
}

export interface ChildCloud {
    child: ChildProcess;
    stageUrl: string;
    apiKeys: Record<string, string>;
    /** The start's notices (repairs after a crash, lock takeovers, ...). */
    warnings: string[];
}

/** Starts a child local cloud; `ready` settles once it serves (or rejects with its error line). */
export function spawnCloud(options: ChildOptions): { child: ChildProcess; ready: Promise<ChildCloud> } {
    const child = spawn(process.execPath, ["-r", "./tests/support/register.js", __filename], {
        cwd: PROJECT_DIR,
        env: { ...process.env, CLOUD_OPTIONS: JSON.stringify(options) },
        stdio: ["ignore", "pipe", "pipe"],
    });
    const ready = new Promise<ChildCloud>((resolve, reject) => {
        let out = "";
        let err = "";
        const warnings: string[] = [];
        child.stdout!.on("data", (chunk: Buffer) => {
            out += chunk.toString();
            for (let nl = out.indexOf("\n"); nl >= 0; nl = out.indexOf("\n")) {
                const line = out.slice(0, nl);
                out = out.slice(nl + 1);
                if (line.startsWith("WARNING ")) {
                    warnings.push(line.slice(8));
                } else if (line.startsWith("READY ")) {
                    resolve({
                        child,
                        warnings,
                        ...(JSON.parse(line.slice(6)) as { stageUrl: string; apiKeys: Record<string, string> }),
                    });
                }
            }
        });
        child.stderr!.on("data", (chunk: Buffer) => (err += chunk.toString()));
        child.on("exit", (code, signal) =>
            reject(new Error(`local cloud exited (${code ?? signal}) before it was ready: ${err.trim()}`)),
        );
    });
    ready.catch(() => undefined);
    return { child, ready };
}

/** kill -9, then wait until the process is gone (a no-op for one that already exited). */
export async function kill9(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) {
        return;
    }
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGKILL");
    await exited;
}

function runChild(): void {
    const options = JSON.parse(process.env["CLOUD_OPTIONS"]!) as ChildOptions;
    const started = Date.now();
    const clockStart = options.clockStart;
    startLocalCloud({
        stack: options.stack,
        stateDir: options.stateDir,
        stackConfig: options.stackConfig,
        port: 0,
        maxInstancesPerFunction: 4,
        ...(clockStart === undefined ? {} : { now: () => clockStart + (Date.now() - started) }),
        onWarning: (message) => process.stdout.write(`WARNING ${message}\n`),
    }).then(
        (cloud) =>
            process.stdout.write(`READY ${JSON.stringify({ stageUrl: cloud.stageUrl, apiKeys: cloud.apiKeys })}\n`),
        (err) => {
            process.stderr.write(`${(err as Error).name}: ${(err as Error).message}\n`);
            process.exit(1);
        },
    );
}

if (require.main === module) {
    runChild();
}
