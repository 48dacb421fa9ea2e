// `npm run bench -- outputs`: how long `npm run outputs` takes to give a key while the stack's local
// cloud runs (scripts/stackOutputs.js asks it), against the same command made to evaluate the
// program as it did before (LOCAL_CLOUD_OUTPUTS=evaluate), in the same run, rounds interleaved.
// Whole processes, as a user runs them: `npm run -s outputs -- --show-secrets apiKey`.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PROJECT_DIR } from "../project";
import { freePort, startServer } from "./serverProcess";
import { median, verdict } from "./stats";

const ROUNDS = 5;
/** The target for reading a key while the cloud runs (npm itself takes about 0.3 s of it). */
const TARGET_SECONDS = 1.5;

/** One `npm run -s outputs -- --show-secrets apiKey`: what it printed and how long it took (s). */
function readKey(stateDir: string, env: NodeJS.ProcessEnv = {}): { key: string; seconds: number } {
    const started = performance.now();
    const run = spawnSync("npm", ["run", "-s", "outputs", "--", "--state-dir", stateDir, "--show-secrets", "apiKey"], {
        cwd: PROJECT_DIR,
        env: { ...process.env, ...env },
        encoding: "utf8",
    });
    const seconds = (performance.now() - started) / 1000;
    if (run.status !== 0 || !/^[A-Za-z0-9]{20,128}$/.test(run.stdout.trim())) {
        throw new Error(`npm run outputs did not print a key (exit ${run.status}): ${run.stdout}${run.stderr}`);
    }
    return { key: run.stdout.trim(), seconds };
}

/** Seconds npm itself takes to run a script (`npm run -s env`, built in): the floor under any `npm run`. */
function timeNpmAlone(): number {
    const started = performance.now();
    spawnSync("npm", ["run", "-s", "env"], { cwd: PROJECT_DIR, stdio: "ignore" });
    return (performance.now() - started) / 1000;
}

/** Seconds one read takes; throws unless it printed `key` (both ways must agree). */
function timeOutputs(stateDir: string, key: string, env: NodeJS.ProcessEnv = {}): number {
    const read = readKey(stateDir, env);
    if (read.key !== key) {
        throw new Error("npm run outputs printed another key than the program evaluation");
    }
    return read.seconds;
}

export async function run(): Promise<void> {
    const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-outputs-"));
    const server = startServer(PROJECT_DIR, [
        "--port",
        String(await freePort()),
        "--state-dir",
        stateDir,
        "--no-watch",
        "--no-console",
    ]);
    try {
        await server.waitForLine(/is ready: /);
        // Warm-up: the key as the program evaluation gives it, which the fast way must match.
        const key = readKey(stateDir, { LOCAL_CLOUD_OUTPUTS: "evaluate" }).key;
        const fast: number[] = [];
        const evaluated: number[] = [];
        const npmAlone: number[] = [];
        timeOutputs(stateDir, key);
        for (let round = 0; round < ROUNDS; round++) {
            npmAlone.push(timeNpmAlone());
            fast.push(timeOutputs(stateDir, key));
            // Evaluated as before the program cache served it too: recorded every time.
            evaluated.push(
                timeOutputs(stateDir, key, { LOCAL_CLOUD_OUTPUTS: "evaluate", LOCAL_CLOUD_PROGRAM_CACHE: "off" }),
            );
        }
        const ratio = median(fast.map((f, i) => f / evaluated[i]!));
        const overNpm = median(fast.map((f, i) => f / npmAlone[i]!));
        console.log("\n== npm run outputs: a key while the local cloud runs ==");
        console.log(
            `asking the running cloud   ${median(fast).toFixed(2)} s median of ${ROUNDS} (target <= ${TARGET_SECONDS} s: ${verdict(median(fast) <= TARGET_SECONDS)})`,
        );
        console.log(
            `npm alone (npm run env)    ${median(npmAlone).toFixed(2)} s: asking the cloud is ${overNpm.toFixed(2)}x npm's own start`,
        );
        console.log(
            `evaluating the program     ${median(evaluated).toFixed(2)} s median (the way before; still the way when no cloud runs)`,
        );
        console.log(
            `ratio                      ${ratio.toFixed(3)} (asking / evaluating, median of the per-round ratios)`,
        );
    } finally {
        await server.stop();
        fs.rmSync(stateDir, { recursive: true, force: true });
    }
}
