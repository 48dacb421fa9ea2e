// The local cloud's state and startup: data and keys survive a restart, 200 concurrent writes are
// all stored, and every startup problem ends with one clear message, leaving saved state untouched.
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import { DynamoDBClient, ScanCommand } from "@aws-sdk/client-dynamodb";
import type { LocalCloud } from "../local/localCloud";
import { PROJECT_DIR } from "../local/recordProgram";
import { call, removeStateDir, startTestCloud, tempStateDir } from "../local/testing";

const STACK = {
    "posts-api:plans": { roomy: { throttle: { rateLimit: 10_000, burstLimit: 5_000 }, quota: { limit: 1_000_000, period: "DAY" } } },
    "posts-api:consumers": [{ name: "app", plan: "roomy" }, { name: "batch", plan: "roomy" }],
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
                result[path.relative(dir, full)] = crypto.createHash("sha256").update(fs.readFileSync(full)).digest("hex");
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
        const results = await Promise.all(Array.from({ length: 200 }, (_, i) => call(`${cloud!.stageUrl}posts`, {
            method: "POST",
            headers: { "x-api-key": key },
            body: { title: `post ${i}`, author: "load", publicationDate: "2026-11-21" },
        })));
        expect(results.map((r) => r.status).filter((s) => s !== 201), results.find((r) => r.status !== 201)?.text).to.deep.equal([]);
        const ids = new Set(results.map((r) => r.json.id as string));
        expect(ids.size).to.equal(200);
        postId = results[0]!.json.id;

        const db = new DynamoDBClient({ endpoint: cloud.dynamoEndpoint, region: "us-east-1", credentials: { accessKeyId: "x", secretAccessKey: "x" } });
        const titles = new Set<string>();
        let startKey: Record<string, never> | undefined;
        do {
            const page = await db.send(new ScanCommand({ TableName: String(cloud.outputs["tableName"]), ExclusiveStartKey: startKey }));
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
        await expectStartFailure(startTestCloud({ stack: "state", stateDir, stackConfig: STACK }), "LocalCloudError", /in use by another local cloud/);
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
            startTestCloud({ stack: "state", stateDir, stackConfig: { ...STACK, "posts-api:apiKeyValues": { app: "too-short" } } }),
            "ConfigError",
            /^posts-api:apiKeyValues\.app: an API key value must be a string of 20-128 characters$/,
        );
        expect(snapshot(stateDir)).to.deep.equal(before);
    });

    it("stops on a missing stack file or a busy port before writing anything", async () => {
        const fresh = tempStateDir("never");
        await expectStartFailure(startTestCloud({ stack: "no-such-stack", stateDir: fresh }), "StackFileError", /No stack "no-such-stack": Pulumi\.no-such-stack\.yaml does not exist \(stacks here: .*dev.*\)/);
        const busy = http.createServer();
        await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
        const port = (busy.address() as AddressInfo).port;
        try {
            await expectStartFailure(startTestCloud({ stack: "dev", stateDir: fresh, port }), "LocalCloudError", new RegExp(`Port ${port} on 127\\.0\\.0\\.1 is already in use`));
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
            await expectStartFailure(startTestCloud({ stack: "state", stateDir: broken, stackConfig: STACK }), "LocalCloudError", /keys\.json is not valid JSON/);
            expect(fs.readFileSync(path.join(broken, "keys.json"), "utf8")).to.equal("{ not json");
        } finally {
            removeStateDir(broken);
        }
    });

    it("npm start exits non-zero with one clear line for a missing stack", () => {
        const result = spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", "scripts/start.ts", "--stack", "no-such-stack"], { cwd: PROJECT_DIR, encoding: "utf8" });
        expect(result.status).to.equal(1);
        expect(result.stderr.trim()).to.match(/^error: No stack "no-such-stack": Pulumi\.no-such-stack\.yaml does not exist/);
        expect(result.stderr.trim().split("\n")).to.have.length(1);
    });
});
