// The README's curl walkthrough ("curl, route by route"), taken from the README itself and run
// twice in bash against a local cloud: every step answers as the README says, both times (a
// fixed Idempotency-Key or a hand-copied id would break the second run). Then the key rotation of
// docs/operations.md ("Rotate a partner's key in three steps"): the local commands of each step, run
// in bash on the dev stack's own consumers, with each step's edit of the stack file applied as a restart.
import { expect } from "chai";
import * as childProcess from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type { LocalCloud } from "local-cloud";
import { call, startTestCloud, tempStateDir } from "local-cloud/testing";
import { parse as parseYaml } from "yaml";
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
            expect(statuses, `round ${round}:\n${run.stdout}\n${run.stderr}`).to.deep.equal([
                200, 200, 200, 204, 404, 403, 204,
            ]);
            const created = JSON.parse(run.stdout.split("\n")[0]!) as { id: string; version: number };
            expect(created.version).to.equal(1);
            expect(run.stdout).to.include('{"message":"Forbidden"}');
            expect(run.stdout).to.include('{"message":"Post not found"}');
            ids.push(created.id);
        }
        expect(ids[0]).not.to.equal(ids[1]);
    });
});

/** The rotation section of docs/operations.md: its text, the `STACK=` line and each step's local command lines. */
function rotationSection(): { text: string; stack: string; local: string[] } {
    const doc = fs.readFileSync(path.join(PROJECT_DIR, "docs", "operations.md"), "utf8");
    const text = doc.split("## Rotate a partner's key in three steps")[1]?.split(/\n#{1,3} /)[0] ?? "";
    const blocks = [...text.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!.replace(/^ +/gm, ""));
    const stack = /^STACK=(\S+)$/m.exec(blocks[0] ?? "")?.[1] ?? "";
    const local = blocks.slice(1).map((block) => block.split("\n").find((line) => /# local$/.test(line)) ?? "");
    return { text, stack, local };
}

const hasJq = childProcess.spawnSync("jq", ["--version"]).status === 0;

describe("docs/operations.md: the key rotation, step by step on the dev stack", function () {
    const stateDir = tempStateDir("readme-rotation");
    let cloud: LocalCloud | undefined;
    let section: ReturnType<typeof rotationSection>;

    /** The dev stack file's config, the consumer `partner` holding `keys` (the step's edit). */
    const devConfigWith = (keys: number[]) => {
        const config = parseYaml(fs.readFileSync(path.join(PROJECT_DIR, "Pulumi.dev.yaml"), "utf8")).config as Record<
            string,
            unknown
        >;
        const consumers = config["posts-api:consumers"] as { name: string; keys?: number[] }[];
        return { ...config, "posts-api:consumers": consumers.map((c) => (c.name === "partner" ? { ...c, keys } : c)) };
    };
    /** Applies a step's edit: the local cloud started again on the same state folder. */
    const apply = async (keys: number[]) => {
        await cloud?.close();
        cloud = await startTestCloud({ stack: "dev", stateDir, stackConfig: devConfigWith(keys) });
        return cloud;
    };
    /** A step's local command as written, on this test's state folder instead of `.local/dev`. */
    const runLocal = (line: string) =>
        bash(
            `set -u\nSTACK='${section.stack}'\n${line.replace(/--stack "\$STACK"/g, `--stack "$STACK" --state-dir '${stateDir}'`)}`,
        );
    const status = async (key: string) =>
        (await call(`${cloud!.stageUrl}posts?limit=1`, { headers: { "x-api-key": key } })).status;

    before(function () {
        if (!hasJq) {
            console.log("    key rotation runbook SKIPPED: no jq on this machine");
            this.skip();
        }
        section = rotationSection();
    });

    after(() => stopCloud(cloud));

    it("is written for a consumer the dev stack has, with a local and an AWS command for each read", () => {
        expect(section.stack).to.equal("dev");
        const consumers = (
            parseYaml(fs.readFileSync(path.join(PROJECT_DIR, "Pulumi.dev.yaml"), "utf8")).config[
                "posts-api:consumers"
            ] as { name: string }[]
        ).map((c) => c.name);
        expect(consumers).to.include("partner");
        expect(section.local).to.have.length(2);
        expect(section.local.every((line) => line.startsWith("npm run -s "))).to.equal(true);
        expect(section.text).to.include("`keys: [1, 2]`").and.to.include("`keys: [2]`");
        expect(section.text.match(/# AWS$/gm)).to.have.length(2);
    });

    it("runs as written: the new key beside the old, each key's requests, then only the new key", async () => {
        const before = await apply([1]);
        const oldKey = before.apiKeys["partner"]!;
        expect(await status(oldKey)).to.equal(200);

        // Step 1: `keys: [1, 2]`, then the runbook's command prints the new key.
        await apply([1, 2]);
        const printed = await runLocal(section.local[0]!);
        const newKey = printed.stdout.trim();
        expect(newKey, printed.stderr).to.match(/^[A-Za-z0-9]{40}$/);
        expect(newKey).not.to.equal(oldKey);
        expect(await status(oldKey)).to.equal(200);
        expect(await status(newKey)).to.equal(200);

        // Step 2: each key's requests, oldest first (one call each above, plus the one before).
        const usage = await runLocal(section.local[1]!);
        const keys = JSON.parse(usage.stdout) as { id: string; used: number }[];
        expect(
            keys.map((k) => k.used),
            usage.stderr,
        ).to.deep.equal([2, 1]);

        // Step 3: `keys: [2]`: the old key is refused, the new one still works.
        await apply([2]);
        expect(await status(oldKey)).to.equal(403);
        expect(await status(newKey)).to.equal(200);
    });
});
