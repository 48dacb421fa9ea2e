// The local cloud's state and startup: data and keys survive a restart, 200 concurrent writes are
// all stored, and every startup problem ends with one clear message, leaving saved state untouched.
import { expect } from "chai";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import { DynamoDBClient, ScanCommand } from "@aws-sdk/client-dynamodb";
import type { LocalCloud } from "local-cloud";

import { call, removeStateDir, startTestCloud, tempStateDir } from "local-cloud/testing";
import { PROJECT_DIR } from "../../scripts/project";
import { ROOMY_PLAN } from "../support/roomyCloud";

const STACK = {
    "posts-api:plans": { roomy: ROOMY_PLAN },
    "posts-api:consumers": [
        { name: "app", plan: "roomy" },
        { name: "batch", plan: "roomy" },
    ],
};

/** Every file under a folder with a hash of its bytes: a before/after picture of saved state. */
function snapshot(dir: string): Record<string, string> {
    const result: Record<string, string> = {};
    const walk = (d: string) => {
        for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
            const full = path.join(d, entry.name);
            if (entry.isDirectory()) {
                walk(full);
            } else if (entry.isFile()) {
                result[path.relative(dir, full)] = crypto
                    .createHash("sha256")
                    .update(fs.readFileSync(full))
                    .digest("hex");
            }
        }
    };
    walk(dir);
    return result;
}

async function expectStartFailure(start: Promise<LocalCloud>, name: string, message: RegExp) {
    let error: Error | undefined;
    try {
        const cloud = await start;
        await cloud.close();
    } catch (err) {
        error = err as Error;
    }
    expect(error, "the start should have failed").to.be.instanceOf(Error);
    expect(error!.name).to.equal(name);
    expect(error!.message).to.match(message);
}

describe("local cloud: state and startup", function () {
    const stateDir = tempStateDir("state");
    let cloud: LocalCloud | undefined;
    let keysBefore: Record<string, string>;
    let postId: string;

    after(async () => {
        await cloud?.close();
        removeStateDir(stateDir);
    });

    it("stores 200 concurrent writes, scaling a function out to several instances", async () => {
        cloud = await startTestCloud({ stack: "state", stateDir, stackConfig: STACK, maxInstancesPerFunction: 6 });
        const key = cloud.apiKeys["app"]!;
        const results = await Promise.all(
            Array.from({ length: 200 }, (_, i) =>
                call(`${cloud!.stageUrl}posts`, {
                    method: "POST",
                    headers: { "x-api-key": key },
                    body: { title: `post ${i}`, author: "load", publicationDate: "2026-11-21" },
                }),
            ),
        );
        expect(
            results.map((r) => r.status).filter((s) => s !== 201),
            results.find((r) => r.status !== 201)?.text,
        ).to.deep.equal([]);
        const ids = new Set(results.map((r) => r.json.id as string));
        expect(ids.size).to.equal(200);
        postId = results[0]!.json.id;

        const db = new DynamoDBClient({
            endpoint: cloud.dynamoEndpoint,
            region: "us-east-1",
            credentials: { accessKeyId: "x", secretAccessKey: "x" },
        });
        const titles = new Set<string>();
        let startKey: Record<string, never> | undefined;
        do {
            const page = await db.send(
                new ScanCommand({ TableName: String(cloud.outputs["tableName"]), ExclusiveStartKey: startKey }),
            );
            for (const item of page.Items ?? []) {
                if (item["title"]?.S?.startsWith("post ")) {
                    titles.add(item["title"].S);
                }
            }
            startKey = page.LastEvaluatedKey as typeof startKey;
        } while (startKey);
        db.destroy();
        expect(titles.size).to.equal(200);

        const stats = cloud.functionStats()["createPost"]!;
        expect(stats.peakConcurrency).to.be.greaterThan(1);
        expect(stats.instances).to.be.at.most(6);
        expect(stats.invocations).to.equal(200);
        keysBefore = { ...cloud.apiKeys };
    });

    it("saves generated keys (40 alphanumeric characters) in the stack folder", () => {
        const saved = JSON.parse(fs.readFileSync(path.join(stateDir, "keys.json"), "utf8"));
        expect(saved.apiKeys).to.deep.equal(keysBefore);
        for (const value of Object.values<string>(saved.apiKeys)) {
            expect(value).to.match(/^[A-Za-z0-9]{40}$/);
        }
        expect(keysBefore["app"]).to.not.equal(keysBefore["batch"]);
    });

    it("refuses a second local cloud on the same state folder, and the first keeps serving", async () => {
        await expectStartFailure(
            startTestCloud({ stack: "state", stateDir, stackConfig: STACK }),
            "LocalCloudError",
            /in use by another local cloud/,
        );
        const r = await call(`${cloud!.stageUrl}posts/${postId}`, { headers: { "x-api-key": keysBefore["app"]! } });
        expect(r.status).to.equal(200);
    });

    it("keeps every post and every key across a restart", async () => {
        await cloud!.close();
        cloud = await startTestCloud({ stack: "state", stateDir, stackConfig: STACK });
        expect(cloud.apiKeys).to.deep.equal(keysBefore);
        const r = await call(`${cloud.stageUrl}posts/${postId}`, { headers: { "x-api-key": keysBefore["app"]! } });
        expect(r.status, r.text).to.equal(200);
        expect(r.json.title).to.match(/^post \d+$/);
        await cloud.close();
        cloud = undefined;
    });

    it("stops on a bad config with the program's own message and leaves saved state untouched", async () => {
        const before = snapshot(stateDir);
        await expectStartFailure(
            startTestCloud({ stack: "state", stateDir, stackConfig: { ...STACK, "posts-api:lambdaTimeout": 90 } }),
            "ConfigError",
            /posts-api:lambdaTimeout: lambdaTimeout must be at most 29 seconds/,
        );
        await expectStartFailure(
            startTestCloud({
                stack: "state",
                stateDir,
                stackConfig: { ...STACK, "posts-api:apiKeyValues": { app: "too-short" } },
            }),
            "ConfigError",
            /^posts-api:apiKeyValues\.app: an API key value must be 20-128 letters \(A-Z, a-z\) and digits$/,
        );
        expect(snapshot(stateDir)).to.deep.equal(before);
    });

    it("stops on a missing stack file or a busy port before writing anything", async () => {
        const fresh = tempStateDir("never");
        await expectStartFailure(
            startTestCloud({ stack: "no-such-stack", stateDir: fresh }),
            "StackFileError",
            /No stack "no-such-stack": Pulumi\.no-such-stack\.yaml does not exist \(stacks here: .*dev.*\)/,
        );
        const busy = http.createServer();
        await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
        const port = (busy.address() as AddressInfo).port;
        try {
            await expectStartFailure(
                startTestCloud({ stack: "dev", stateDir: fresh, port }),
                "LocalCloudError",
                new RegExp(`Port ${port} on 127\\.0\\.0\\.1 is already in use`),
            );
        } finally {
            busy.close();
        }
        expect(fs.existsSync(fresh)).to.equal(false);
    });

    it("refuses a keys file it cannot read instead of replacing it", async () => {
        const broken = tempStateDir("broken");
        fs.mkdirSync(broken, { recursive: true });
        fs.writeFileSync(path.join(broken, "keys.json"), "{ not json");
        try {
            await expectStartFailure(
                startTestCloud({ stack: "state", stateDir: broken, stackConfig: STACK }),
                "LocalCloudError",
                /keys\.json is not valid JSON/,
            );
            expect(fs.readFileSync(path.join(broken, "keys.json"), "utf8")).to.equal("{ not json");
        } finally {
            removeStateDir(broken);
        }
    });

    it("npm start exits non-zero with one clear line for a missing stack", () => {
        const result = spawnSync(
            process.execPath,
            // npm start's own entry (package.json): the early recorder thread and all.
            ["scripts/start.js", "--stack", "no-such-stack"],
            { cwd: PROJECT_DIR, encoding: "utf8" },
        );
        expect(result.status).to.equal(1);
        expect(result.stderr.trim()).to.match(
            /^error: No stack "no-such-stack": Pulumi\.no-such-stack\.yaml does not exist/,
        );
        expect(result.stderr.trim().split("\n")).to.have.length(1);
    });
});

/** State letter and start time (field 22) of a process, from /proc/<pid>/stat. */
function procStat(pid: number): { state: string; startTime: string } {
    const text = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return { state: fields[0]!, startTime: fields[19]! };
}

async function until(condition: () => boolean, what: string): Promise<void> {
    for (const deadline = Date.now() + 5000; !condition(); await new Promise((resolve) => setTimeout(resolve, 20))) {
        if (Date.now() > deadline) {
            throw new Error(`timed out waiting for ${what}`);
        }
    }
}

describe("local cloud: a lock.json left behind", function () {
    const dirs: string[] = [];
    const children: ChildProcess[] = [];
    const bootId = () => fs.readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
    /** A folder whose lock.json holds `lock`, as a local cloud that is gone (or not) left it. */
    const lockedDir = (lock: Record<string, unknown>) => {
        const dir = tempStateDir("lock");
        fs.mkdirSync(dir, { recursive: true });
        fs.writeFileSync(
            path.join(dir, "lock.json"),
            JSON.stringify({ owner: "http://127.0.0.1:8080/", token: "0123456789abcdef", ...lock }) + "\n",
        );
        dirs.push(dir);
        return dir;
    };
    /** Starts with a config the program refuses: a ConfigError means the lock was taken (it comes first). */
    const startPastLock = (dir: string, warnings: string[] = []) =>
        startTestCloud({
            stack: "state",
            stateDir: dir,
            stackConfig: { ...STACK, "posts-api:lambdaTimeout": 90 },
            onWarning: (m) => warnings.push(m),
        });
    const sleeper = () => {
        const child = spawn("sleep", ["30"], { stdio: "ignore" });
        children.push(child);
        return child.pid!;
    };

    after(() => {
        children.forEach((child) => child.kill());
        dirs.forEach(removeStateDir);
    });

    it("takes over a lock holding this process's own pid (pid reuse in a container), and still refuses a second local cloud in this process", async () => {
        const dir = lockedDir({ pid: process.pid });
        const warnings: string[] = [];
        const cloud = await startTestCloud({
            stack: "state",
            stateDir: dir,
            stackConfig: STACK,
            onWarning: (m) => warnings.push(m),
        });
        try {
            expect(warnings.join("\n")).to.match(/took over the lock of .*: its pid is this process's own/);
            await expectStartFailure(
                startTestCloud({ stack: "state", stateDir: dir, stackConfig: STACK }),
                "LocalCloudError",
                /in use by another local cloud \(this process, http:\/\/127\.0\.0\.1:\d+\/\)/,
            );
            const r = await call(`${cloud.stageUrl}posts`, { headers: { "x-api-key": cloud.apiKeys["app"]! } });
            expect(r.status, r.text).to.equal(200);
        } finally {
            await cloud.close();
        }
        expect(fs.existsSync(path.join(dir, "lock.json"))).to.equal(false);
    });

    if (process.platform !== "linux") {
        return; // the cases below read /proc
    }

    it("takes over the lock of a killed local cloud that is not reaped yet (a zombie still answers kill(pid, 0))", async () => {
        // `sleep 0.2` becomes a zombie: its parent (exec'd into `sleep 30`) never waits for it.
        const parent = spawn("sh", ["-c", "sleep 0.2 & echo $!; exec sleep 30"], {
            stdio: ["ignore", "pipe", "ignore"],
        });
        children.push(parent);
        const zombie = await new Promise<number>((resolve) =>
            parent.stdout!.once("data", (chunk: Buffer) => resolve(Number(chunk.toString().trim()))),
        );
        await until(() => procStat(zombie).state === "Z", `process ${zombie} to become a zombie`);
        process.kill(zombie, 0); // still "running" for kill(pid, 0)
        const dir = lockedDir({ pid: zombie, startTime: procStat(zombie).startTime, bootId: bootId() });
        const warnings: string[] = [];
        await expectStartFailure(startPastLock(dir, warnings), "ConfigError", /lambdaTimeout/);
        expect(warnings).to.deep.include(
            `took over the lock of ${dir}: process ${zombie} has exited (a zombie not yet reaped)`,
        );
        expect(fs.existsSync(path.join(dir, "lock.json"))).to.equal(false);
    });

    it("takes over a lock whose pid now belongs to another process (another start time)", async () => {
        const pid = sleeper();
        const dir = lockedDir({ pid, startTime: String(Number(procStat(pid).startTime) - 1), bootId: bootId() });
        const warnings: string[] = [];
        await expectStartFailure(startPastLock(dir, warnings), "ConfigError", /lambdaTimeout/);
        expect(warnings).to.deep.include(`took over the lock of ${dir}: pid ${pid} now belongs to another process`);
    });

    it("takes over a lock written before a reboot", async () => {
        const pid = sleeper();
        const dir = lockedDir({
            pid,
            startTime: procStat(pid).startTime,
            bootId: "00000000-0000-0000-0000-000000000000",
        });
        await expectStartFailure(startPastLock(dir), "ConfigError", /lambdaTimeout/);
    });

    it("refuses a lock held by a live process with the same start time, or by a live pid in the old format", async () => {
        const pid = sleeper();
        for (const lock of [{ pid, startTime: procStat(pid).startTime, bootId: bootId() }, { pid }]) {
            const dir = lockedDir(lock);
            const before = fs.readFileSync(path.join(dir, "lock.json"), "utf8");
            await expectStartFailure(
                startPastLock(dir),
                "LocalCloudError",
                new RegExp(
                    `in use by another local cloud \\(process ${pid}, http://127\\.0\\.0\\.1:8080/\\); stop it first`,
                ),
            );
            expect(fs.readFileSync(path.join(dir, "lock.json"), "utf8")).to.equal(before);
        }
    });
});
