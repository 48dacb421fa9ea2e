// kill -9 never hands out a fresh quota: a local cloud in a child process with a quota of 5 a day
// is killed right after its answers, round after round, and across all rounds exactly 5 requests
// are admitted (the counts used to be saved once a second, so each kill forgot the latest ones: a
// quota of 5 admitted 15 in these 3 rounds). Bounded: 3 starts, 3 kills, 21 requests.
import { expect } from "chai";
import type { ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { call, removeStateDir, tempStateDir } from "local-cloud/testing";
import { kill9, spawnCloud } from "../support/cloudProcess";

const QUOTA = 5;
const KILLS = 3;
const PER_ROUND = 7;
const STACK = {
    "posts-api:plans": {
        daily: { throttle: { rateLimit: 10_000, burstLimit: 5_000 }, quota: { limit: QUOTA, period: "DAY" } },
    },
    "posts-api:consumers": [{ name: "app", plan: "daily" }],
};
// Noon UTC, moving with real time: no UTC midnight falls inside the test.
const CLOCK_START = Date.UTC(2026, 10, 18, 12);

async function startChild(stateDir: string): Promise<{ child: ChildProcess; stageUrl: string; key: string }> {
    const cloud = await spawnCloud({ stack: "usagecrash", stateDir, stackConfig: STACK, clockStart: CLOCK_START })
        .ready;
    return { child: cloud.child, stageUrl: cloud.stageUrl, key: cloud.apiKeys["app"]! };
}

describe("local cloud: quota counts under kill -9 (a child process)", function () {
    // Child processes and local-cloud starts: minutes on a loaded 2-core machine, seconds on an idle one.
    this.timeout(300_000);
    const stateDir = tempStateDir("usage-crash");
    let running: ChildProcess | undefined;

    after(async () => {
        if (running && running.exitCode === null && running.signalCode === null) {
            await kill9(running);
        }
        removeStateDir(stateDir);
    });

    it(`admits ${QUOTA} requests in all over ${KILLS} kills with a quota of ${QUOTA} a day: every restart refuses the rest`, async () => {
        const started = Date.now();
        const admitted: number[] = [];
        for (let round = 0; round < KILLS; round++) {
            const cloud = await startChild(stateDir);
            running = cloud.child;
            let passed = 0;
            for (let i = 0; i < PER_ROUND; i++) {
                const r = await call(`${cloud.stageUrl}posts/00000000-0000-4000-8000-000000000000`, {
                    headers: { "x-api-key": cloud.key },
                });
                if (r.status === 404) {
                    passed++;
                } else {
                    expect(r.status, r.text).to.equal(429);
                    expect(r.text).to.equal('{"message":"Limit Exceeded"}');
                }
            }
            // Right after the last answer: nothing gets a chance to save anything.
            await kill9(cloud.child);
            admitted.push(passed);
        }
        expect(admitted, `admitted per round (${admitted.reduce((a, b) => a + b, 0)} in all)`).to.deep.equal([
            QUOTA,
            ...Array<number>(KILLS - 1).fill(0),
        ]);
        // The log holds exactly the admitted requests: refused ones are not counted.
        const counted = fs
            .readFileSync(path.join(stateDir, "usage.log"), "utf8")
            .trimEnd()
            .split("\n")
            .slice(1)
            .map((line) => JSON.parse(line.slice(9)) as { count: number })
            .reduce((sum, record) => sum + record.count, 0);
        expect(counted).to.equal(QUOTA);
        expect(Date.now() - started, "bounded run time").to.be.below(60_000);
    });
});
