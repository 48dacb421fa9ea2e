// The README's curl walkthrough ("curl, route by route"), taken from the README itself and run
// twice in bash against a local cloud: every step answers as the README says, both times (a
// fixed Idempotency-Key or a hand-copied id would break the second run).
import { expect } from "chai";
import * as childProcess from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type { LocalCloud } from "local-cloud";
import { PROJECT_DIR } from "../../scripts/project";
import { startRoomyCloud, stopCloud } from "../support/roomyCloud";

/** The two sh blocks of the README's curl section: the variables, then the walkthrough. */
function walkthroughBlocks(): { variables: string; steps: string } {
    const readme = fs.readFileSync(path.join(PROJECT_DIR, "README.md"), "utf8");
    const section = readme.split("### curl, route by route")[1]?.split("\n## ")[0] ?? "";
    const blocks = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
    expect(blocks, "the README's curl section has its two sh blocks").to.have.length(2);
    return { variables: blocks[0]!, steps: blocks[1]! };
}

function bash(script: string): Promise<{ stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
        childProcess.execFile("bash", ["-c", script], { cwd: PROJECT_DIR, timeout: 60_000 }, (err, stdout, stderr) => {
            // A failing last line is the script's business; the answers are checked below.
            if (err && err.killed) {
                reject(err);
            } else {
                resolve({ stdout, stderr });
            }
        });
    });
}

const hasCurl = childProcess.spawnSync("curl", ["--version"]).status === 0;

describe("README: the curl walkthrough, pasted twice", function () {
    let cloud: LocalCloud;
    let key: string;

    before(async function () {
        if (!hasCurl) {
            console.log("    README walkthrough SKIPPED: no curl on this machine");
            this.skip();
        }
        cloud = await startRoomyCloud("walkthrough");
        key = cloud.apiKeys["app"]!;
    });

    after(() => stopCloud(cloud));

    it("sets URL and KEY the way the README says (local values, AWS in comments)", () => {
        const { variables } = walkthroughBlocks();
        expect(variables).to.match(/^URL=http:\/\/127\.0\.0\.1:8080\/dev\//m);
        expect(variables).to.match(/^KEY=\$\(npm run --silent outputs -- --stack dev --show-secrets apiKey\)/m);
    });

    it("answers every step as written, twice in a row, with a new post each time", async () => {
        const { steps } = walkthroughBlocks();
        const ids: string[] = [];
        for (const round of [1, 2]) {
            // The test's own URL and key stand in for the first block (its port and state folder).
            const script = `set -u\nURL='${cloud.stageUrl}'\nKEY='${key}'\n${steps}`;
            // Asynchronously: the cloud serving these requests runs in this process.
            const run = await bash(script);
            const statuses = [...run.stdout.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
            // read 200, PUT 200, PATCH 200, DELETE 204, read 404, no key 403, preflight 204.
            expect(statuses, `round ${round}:\n${run.stdout}\n${run.stderr}`).to.deep.equal([200, 200, 200, 204, 404, 403, 204]);
            const created = JSON.parse(run.stdout.split("\n")[0]!) as { id: string; version: number };
            expect(created.version).to.equal(1);
            expect(run.stdout).to.include("{\"message\":\"Forbidden\"}");
            expect(run.stdout).to.include("{\"message\":\"Post not found\"}");
            ids.push(created.id);
        }
        expect(ids[0]).not.to.equal(ids[1]);
    });
});
