// `npm run bench -- start`: how long `npm start` takes to its first answer (spawn to the first 200
// of GET /posts), in a process of its own, as the local-cloud section measures it but without the
// load rounds, so it runs in about a minute:
// - cold: a fresh state folder and empty program and compile caches (nothing recorded or compiled
//   by an earlier start; what `npm ci` left is all there is: node_modules, and what its prepare step
//   keeps in .local/install, the package tree and the files a start compiles: scripts/prepare.js);
// - another port: the same state folder on a new port, the program cache kept (before issue 20
//   the cache keyed on the server's URL, so this recorded again: 5.2-5.5 s);
// - another state folder: a new folder, the caches kept; it records again, as its generated keys
//   are its own (decision 0027);
// - warm: a restart on that folder, caches kept.
// The baseline, measured in the same run and interleaved with the cold starts: a Node process that
// only loads TypeScript and @pulumi/pulumi and exits, the floor under any start that must record.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { removeStateDir, tempStateDir } from "local-cloud/testing";
import { PROJECT_DIR } from "../project";
import { headers, STACK, writeBenchStack } from "./localCloud";
import { firstAnswer, freePort, startServer } from "./serverProcess";
import { median, verdict } from "./stats";

const STARTS = Number(process.env["BENCH_STARTS"] ?? 3);
const TARGETS = { coldMs: 3000, otherPortMs: 1500, otherFolderMs: 3000, warmMs: 1500 };

interface Caches {
    env: NodeJS.ProcessEnv;
    dir: string;
}

function emptyCaches(): Caches {
    const dir = tempStateDir("bench-start-caches");
    return {
        dir,
        env: {
            LOCAL_CLOUD_PROGRAM_CACHE: path.join(dir, "programs"),
            LOCAL_CLOUD_COMPILE_CACHE: path.join(dir, "compiled"),
        },
    };
}

/** Spawn to the first 200 of GET /posts, then the server is stopped. */
async function timeStart(stateDir: string, caches: Caches): Promise<number> {
    const port = await freePort();
    const server = startServer(
        PROJECT_DIR,
        ["--stack", STACK, "--port", String(port), "--state-dir", stateDir],
        caches.env,
    );
    try {
        return await firstAnswer(server, `http://127.0.0.1:${port}/${STACK}/posts?limit=1`, headers);
    } finally {
        await server.stop();
    }
}

/** A process that loads what every recording needs (TypeScript, Pulumi) and exits. */
function timeBaseline(): number {
    const started = performance.now();
    const run = spawnSync(process.execPath, ["-e", "require('typescript'); require('@pulumi/pulumi')"], {
        cwd: PROJECT_DIR,
    });
    if (run.status !== 0) {
        throw new Error(`the baseline process failed: ${run.stderr}`);
    }
    return performance.now() - started;
}

const sec = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

export async function run(): Promise<void> {
    const load = os.loadavg();
    console.log(
        `\n## Start: spawn to the first answer of \`npm start\` (${process.version}, ${os.cpus().length} CPUs, load average ${load.map((l) => l.toFixed(1)).join(" ")})`,
    );
    const stackFile = writeBenchStack(PROJECT_DIR);
    const dirs: string[] = [];
    const figures = {
        cold: [] as number[],
        otherPort: [] as number[],
        otherFolder: [] as number[],
        warm: [] as number[],
        baseline: [] as number[],
    };
    try {
        for (let i = 0; i < STARTS; i++) {
            const caches = emptyCaches();
            const first = tempStateDir("bench-start-state");
            const second = tempStateDir("bench-start-state");
            dirs.push(caches.dir, first, second);
            figures.baseline.push(timeBaseline());
            figures.cold.push(await timeStart(first, caches));
            figures.otherPort.push(await timeStart(first, caches));
            figures.otherFolder.push(await timeStart(second, caches));
            figures.warm.push(await timeStart(second, caches));
        }
        const base = median(figures.baseline);
        const rows: [string, number[], number][] = [
            ["cold (nothing cached)", figures.cold, TARGETS.coldMs],
            ["another port (same state folder)", figures.otherPort, TARGETS.otherPortMs],
            ["another state folder (records)", figures.otherFolder, TARGETS.otherFolderMs],
            ["warm (same folder, caches kept)", figures.warm, TARGETS.warmMs],
        ];
        console.log(
            `${"start to first answer".padEnd(34)}${"median".padStart(9)}${"ratio".padStart(8)}   target   (runs)`,
        );
        for (const [name, values, target] of rows) {
            const m = median(values);
            console.log(
                `${name.padEnd(34)}${sec(m).padStart(9)}${(m / base).toFixed(2).padStart(8)}   <= ${sec(target)}: ${verdict(m <= target)}   (${values.map(sec).join(", ")})`,
            );
        }
        console.log(
            `baseline: a process loading TypeScript and @pulumi/pulumi, ${sec(base)} median (${figures.baseline.map(sec).join(", ")}); ratios are against it`,
        );
    } finally {
        dirs.forEach(removeStateDir);
        fs.rmSync(stackFile, { force: true });
    }
}
