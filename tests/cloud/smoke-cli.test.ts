// `npm run smoke` as a user runs it: the key piped in or in POSTS_API_KEY, never an argument,
// never printed.
import { expect } from "chai";
import * as childProcess from "node:child_process";
import type { LocalCloud } from "local-cloud";
import { PROJECT_DIR } from "../../scripts/project";
import { KEY_VARIABLE } from "../../scripts/smoke";
import { startRoomyCloud, stopCloud } from "../support/roomyCloud";

/**
 * The smoke script in a child process (as `npm run smoke` runs it), asynchronously so the cloud in this process keeps
 * serving.
 */
function smoke(
    args: string[],
    options: { input?: string; env?: Record<string, string> } = {},
): Promise<{ status: number | null; output: string }> {
    return new Promise((resolve) => {
        const env = { ...process.env, ...options.env };
        if (!options.env?.[KEY_VARIABLE]) {
            delete env[KEY_VARIABLE];
        }
        const child = childProcess.spawn(
            process.execPath,
            ["-r", "./tests/support/register.js", "scripts/smoke.ts", ...args],
            { cwd: PROJECT_DIR, env },
        );
        let output = "";
        child.stdout.on("data", (d: Buffer) => (output += d.toString()));
        child.stderr.on("data", (d: Buffer) => (output += d.toString()));
        child.stdin.end(options.input ?? "");
        child.on("close", (status) => resolve({ status, output }));
    });
}

describe("npm run smoke: the key from standard input or the environment, never echoed", function () {
    let cloud: LocalCloud;
    let key: string;

    before(async () => {
        cloud = await startRoomyCloud("smoke");
        key = cloud.apiKeys["app"]!;
    });

    after(() => stopCloud(cloud));

    it("passes every check with the key piped in, and prints no part of it", async () => {
        const run = await smoke(["--url", cloud.stageUrl], { input: `${key}\n` });
        expect(run.status, run.output).to.equal(0);
        expect(run.output).to.match(/All \d+ checks passed/);
        expect(run.output).not.to.include(key.slice(0, 12));
    });

    it("passes with the key in POSTS_API_KEY", async () => {
        const run = await smoke(["--url", cloud.stageUrl], { env: { [KEY_VARIABLE]: key } });
        expect(run.status, run.output).to.equal(0);
        expect(run.output).not.to.include(key.slice(0, 12));
    });

    it("refuses --key without repeating its value, and says where the key goes", async () => {
        const run = await smoke(["--url", cloud.stageUrl, "--key", key]);
        expect(run.status).to.equal(2);
        expect(run.output).to.include(KEY_VARIABLE);
        expect(run.output).not.to.include(key.slice(0, 12));
    });

    it("without a key says how to give one", async () => {
        const run = await smoke(["--url", cloud.stageUrl]);
        expect(run.status).to.equal(2);
        expect(run.output).to.match(/no API key: set POSTS_API_KEY or pipe the key in/);
    });
});
