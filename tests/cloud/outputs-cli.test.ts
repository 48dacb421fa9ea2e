// `npm run outputs` as a user runs it: while the stack's local cloud runs, the answer comes from
// that cloud (scripts/stackOutputs.js: server.json and the control plane, no program evaluation)
// and says what the evaluation says; `npm start` prints the one line that gives the full key.
// How long each way takes is `npm run bench -- outputs`, not a test.
import { expect } from "chai";
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type { LocalCloud } from "local-cloud";
import { formatOutputs } from "local-cloud/cli";
import { removeStateDir, startTestCloud, tempStateDir } from "local-cloud/testing";
import { PROJECT_DIR } from "../../scripts/project";
import { startRoomyCloud, stopCloud } from "../support/roomyCloud";

interface Run {
    status: number | null;
    stdout: string;
    stderr: string;
}

type FastFormat = (
    program: { outputs: Record<string, unknown>; secretOutputs: string[] },
    options: Record<string, unknown>,
) => string | undefined;
const fast = require("../../scripts/stackOutputs.js") as { formatOutputs: FastFormat };

/** A shell command line in the project folder, asynchronously so a cloud in this process keeps serving. */
function sh(command: string, env: Record<string, string> = {}): Promise<Run> {
    return new Promise((resolve) => {
        const child = spawn("bash", ["-c", command], { cwd: PROJECT_DIR, env: { ...process.env, ...env } });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
        child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        child.on("close", (status) => resolve({ status, stdout, stderr }));
    });
}

const outputs = (stack: string, stateDir: string, args: string, env: Record<string, string> = {}) =>
    sh(`npm run -s outputs -- --stack ${stack} --state-dir ${path.relative(PROJECT_DIR, stateDir)} ${args}`, env);

describe("npm run outputs: answered by the running local cloud", function () {
    // No Pulumi.outputs-fast.yaml: evaluating the program for this stack fails, so every answer
    // below comes from the running cloud.
    const STACK = "outputs-fast";
    let cloud: LocalCloud;

    before(async () => {
        expect(fs.existsSync(path.join(PROJECT_DIR, `Pulumi.${STACK}.yaml`))).to.equal(false);
        cloud = await startRoomyCloud(STACK);
    });

    after(() => stopCloud(cloud));

    it("gives the full key, every consumer's key and the URL without evaluating the program", async () => {
        const key = await outputs(STACK, cloud.stateDir, "--show-secrets apiKey");
        expect(key.stdout, key.stderr).to.equal(`${cloud.apiKeys["app"]}\n`);
        const keys = await outputs(STACK, cloud.stateDir, "--show-secrets apiKeys");
        expect(JSON.parse(keys.stdout)).to.deep.equal({ app: cloud.apiKeys["app"] });
        const url = await outputs(STACK, cloud.stateDir, "url");
        expect(url.stdout).to.equal(`${cloud.stageUrl}\n`);
    });

    it("masks the secret outputs unless --show-secrets, as `pulumi stack output` does", async () => {
        const table = await outputs(STACK, cloud.stateDir, "");
        expect(table.stdout).to.match(/^Current stack outputs \(\d+\):/);
        expect(table.stdout).to.match(/^ {4}apiKey +\[secret\]$/m);
        expect(table.stdout).to.match(/^ {4}apiKeys +\[secret\]$/m);
        expect(table.stdout).not.to.include(cloud.apiKeys["app"]!);
        expect((await outputs(STACK, cloud.stateDir, "apiKey")).stdout).to.equal("[secret]\n");
    });

    it("once the cloud is gone, evaluates the program as before (which for this stack says its stack file is missing)", async () => {
        const gone = await startRoomyCloud(`${STACK}-gone`);
        await stopCloud(gone);
        fs.mkdirSync(gone.stateDir, { recursive: true });
        // server.json of a cloud that no longer answers: never trusted.
        fs.writeFileSync(
            path.join(gone.stateDir, "server.json"),
            JSON.stringify({
                url: gone.url,
                controlPlane: gone.controlPlaneUrl,
                outputs: { apiKeyIds: { app: ["gone"] } },
            }),
        );
        try {
            const run = await outputs(`${STACK}-gone`, gone.stateDir, "--show-secrets apiKey");
            expect(run.status).to.equal(1);
            expect(run.stderr).to.match(/Pulumi\.outputs-fast-gone\.yaml does not exist/);
        } finally {
            removeStateDir(gone.stateDir);
        }
    });
});

describe("npm run outputs: the running cloud's answer is the program's (dev stack)", function () {
    let cloud: LocalCloud;

    before(async () => {
        cloud = await startTestCloud({ stack: "dev" });
    });

    after(() => stopCloud(cloud));

    it("prints every output, secrets included, exactly as the program evaluation does", async () => {
        const asked = await outputs("dev", cloud.stateDir, "--json --show-secrets");
        const evaluated = await outputs("dev", cloud.stateDir, "--json --show-secrets", {
            LOCAL_CLOUD_OUTPUTS: "evaluate",
        });
        expect(evaluated.status, evaluated.stderr).to.equal(0);
        expect(asked.stdout).to.equal(evaluated.stdout);
        expect(JSON.parse(asked.stdout).apiKey).to.equal(cloud.apiKeys["developer"]);
    });

    it("formats every form as the evaluated way does (local-cloud/cli.ts formatOutputs)", () => {
        const program = { outputs: cloud.outputs, secretOutputs: cloud.secretOutputs };
        for (const name of [undefined, "apiKey", "apiKeys", "url", "apiKeyIds"]) {
            for (const json of [false, true]) {
                for (const showSecrets of [false, true]) {
                    const expected = formatOutputs(cloud.outputs, cloud.secretOutputs, {
                        stack: "dev",
                        name,
                        json,
                        showSecrets,
                    });
                    expect(
                        fast.formatOutputs(program, { name, json, "show-secrets": showSecrets }),
                        `${name} json=${json} secrets=${showSecrets}`,
                    ).to.equal(expected);
                }
            }
        }
    });
});

describe("npm start: the copy-paste line for the full key", function () {
    let child: ChildProcess | undefined;
    const stateDir = tempStateDir("banner");

    after(async () => {
        if (child && child.exitCode === null) {
            const exited = new Promise((resolve) => child!.once("exit", resolve));
            child.kill("SIGINT");
            await exited;
        }
        removeStateDir(stateDir);
    });

    it("prints the keys masked and one command that prints the first consumer's key in full", async () => {
        child = spawn(
            process.execPath,
            [
                "scripts/start.js",
                "--port",
                "0",
                "--state-dir",
                path.relative(PROJECT_DIR, stateDir),
                "--no-watch",
                "--no-console",
                "--quiet",
            ],
            { cwd: PROJECT_DIR },
        );
        const banner = await new Promise<string>((resolve, reject) => {
            let out = "";
            child!.stdout!.on("data", (d: Buffer) => {
                out += d.toString();
                if (/^Routes:/m.test(out)) {
                    resolve(out);
                }
            });
            child!.on("exit", (code) => reject(new Error(`npm start exited (${code}) before its banner:\n${out}`)));
        });
        const masked = /^ {4}developer +(\S+) +plan standard$/m.exec(banner)?.[1];
        expect(masked, banner).to.match(/^\w{4}\*+\w{4}$/);
        const line = /^ {4}full key of developer: (npm run -s outputs -- .*--show-secrets apiKey)(?: {3}|$)/m.exec(
            banner,
        )?.[1];
        expect(line, banner).to.be.a("string");
        const run = await sh(line!);
        const key = run.stdout.trim();
        expect(key, run.stderr).to.match(/^[A-Za-z0-9]{40}$/);
        expect(`${key.slice(0, 4)}${key.slice(-4)}`).to.equal(`${masked!.slice(0, 4)}${masked!.slice(-4)}`);
    });
});
