// `npm run usage` against a local cloud: the AWS SDK's API Gateway client, pointed at the local
// control plane, reads exactly the requests the gateway admitted, per consumer and per day; a
// consumer in the middle of a key rotation has both keys summed.
import { expect } from "chai";
import * as childProcess from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { APIGatewayClient } from "@aws-sdk/client-api-gateway";
import type { LocalCloud } from "local-cloud";
import { call, startTestCloud } from "local-cloud/testing";
import { stopCloud } from "../support/roomyCloud";
import { PROJECT_DIR } from "../../scripts/project";
import { periodStart, usageReport, type ConsumerUsage, type UsageIds } from "../../scripts/usage";

const PLANS = {
    standard: { throttle: { rateLimit: 1000, burstLimit: 500 }, quota: { limit: 50, period: "DAY" } },
    // Burst 2 with a slow refill: a quick third request is throttled (429) and must not count.
    tight: { throttle: { rateLimit: 0.01, burstLimit: 2 }, quota: { limit: 1000, period: "MONTH" } },
};

function runUsage(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
        childProcess.execFile(
            process.execPath,
            ["-r", "./tests/support/register.js", "scripts/usage.ts", ...args],
            { cwd: PROJECT_DIR },
            (err, stdout, stderr) => {
                resolve({ status: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
            },
        );
    });
}

describe("npm run usage: the local control plane through the real SDK client", function () {
    let cloud: LocalCloud;
    let client: APIGatewayClient;
    const today = new Date().toISOString().slice(0, 10);

    const get = (key: string) => call(`${cloud.stageUrl}posts?limit=1`, { headers: { "x-api-key": key } });

    before(async () => {
        cloud = await startTestCloud({
            stack: "usage",
            stackConfig: {
                "posts-api:plans": PLANS,
                "posts-api:consumers": [
                    { name: "web", plan: "standard" },
                    { name: "partner", plan: "standard", keys: [1, 2] },
                    { name: "bot", plan: "tight" },
                ],
            },
        });
        client = new APIGatewayClient({
            endpoint: cloud.controlPlaneUrl,
            region: "us-east-1",
            credentials: { accessKeyId: "local", secretAccessKey: "local" },
        });
        const statuses: number[] = [];
        for (let i = 0; i < 7; i++) {
            statuses.push((await get(cloud.apiKeys["web"]!)).status);
        }
        for (let i = 0; i < 3; i++) {
            statuses.push((await get(cloud.apiKeys["partner"]!)).status); // the old key
        }
        for (let i = 0; i < 4; i++) {
            statuses.push((await get(cloud.apiKeys["partner.key2"]!)).status); // the new key
        }
        const bot = [];
        for (let i = 0; i < 4; i++) {
            bot.push((await get(cloud.apiKeys["bot"]!)).status);
        }
        statuses.push((await get("z".repeat(40))).status); // unknown key: 403, counted nowhere
        expect(statuses).to.deep.equal([...Array(14).fill(200), 403]);
        expect(bot).to.deep.equal([200, 200, 429, 429]);
    });

    after(async () => {
        client?.destroy();
        await stopCloud(cloud);
    });

    const ids = (): UsageIds => ({
        usagePlanIds: cloud.outputs["usagePlanIds"] as Record<string, string>,
        apiKeyIds: cloud.outputs["apiKeyIds"] as Record<string, string[]>,
    });
    const byName = (report: ConsumerUsage[]) => Object.fromEntries(report.map((c) => [c.name, c]));

    it("counts exactly the admitted requests per consumer, remaining from the quota, 429s and 403s not counted", async () => {
        const report = byName(await usageReport(client, ids()));
        expect(report["web"]).to.deep.include({ plan: "standard", used: 7, remaining: 43 });
        expect(report["web"]!.quota).to.deep.equal({ limit: 50, period: "DAY" });
        expect(report["web"]!.throttle).to.deep.equal({ rateLimit: 1000, burstLimit: 500 });
        expect(report["web"]!.period).to.deep.equal({ start: today, end: today });
        expect(report["web"]!.days).to.deep.equal([{ day: today, used: 7 }]);
        expect(report["bot"]).to.deep.include({ plan: "tight", used: 2, remaining: 998 });
        expect(report["bot"]!.period.start).to.equal(periodStart("MONTH", today));
    });

    it("sums a rotating consumer's two keys in `used`; `remaining` is the newest key's, each key in `keys`", async () => {
        const partner = byName(await usageReport(client, ids()))["partner"]!;
        const [oldId, newId] = ids().apiKeyIds["partner"]!;
        expect(partner.used).to.equal(7);
        expect(partner.keys).to.deep.equal([
            { id: oldId, used: 3, remaining: 47 },
            { id: newId, used: 4, remaining: 46 },
        ]);
        expect(partner.remaining).to.equal(46);
    });

    it("gives a per-day series for an explicit range, zeros included", async () => {
        const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
        const web = byName(await usageReport(client, ids(), { from: yesterday, to: today }))["web"]!;
        expect(web.days).to.deep.equal([
            { day: yesterday, used: 0 },
            { day: today, used: 7 },
        ]);
        expect(web.used).to.equal(7); // the current period, whatever the range
    });

    it("as a command: --json per consumer with name, plan, used, remaining; the table otherwise; no key values printed", async () => {
        const json = await runUsage(["--stack", "usage", "--state-dir", cloud.stateDir, "--json"]);
        expect(json.status, json.stderr).to.equal(0);
        const report = JSON.parse(json.stdout) as ConsumerUsage[];
        expect(report.map(({ name, plan, used, remaining }) => ({ name, plan, used, remaining }))).to.deep.equal([
            { name: "web", plan: "standard", used: 7, remaining: 43 },
            { name: "partner", plan: "standard", used: 7, remaining: 46 },
            { name: "bot", plan: "tight", used: 2, remaining: 998 },
        ]);
        const table = await runUsage(["--stack", "usage", "--state-dir", cloud.stateDir]);
        expect(table.status, table.stderr).to.equal(0);
        expect(table.stdout).to.match(/^web\s+standard\s+1000\/s burst 500\s+50\/DAY\s+\S+\s+7\s+43$/m);
        expect(table.stdout).to.match(/^partner \(2 keys\)\s+standard/m);
        for (const value of Object.values(cloud.apiKeys)) {
            expect(json.stdout + table.stdout).not.to.include(value);
        }
    });

    it("the program's access log format, rendered by the local cloud: one JSON line per request, the caller's key id on each", () => {
        const lines = fs
            .readFileSync(path.join(cloud.stateDir, "access.log"), "utf8")
            .trim()
            .split("\n")
            .map((line) => JSON.parse(line) as Record<string, string>);
        const webKeyId = ids().apiKeyIds["web"]![0]!;
        const web = lines.filter((l) => l["apiKeyId"] === webKeyId);
        expect(web).to.have.length(7);
        expect(
            web.every((l) => l["status"] === "200" && l["httpMethod"] === "GET" && l["resourcePath"] === "/posts"),
        ).to.equal(true);
        for (const field of [
            "requestId",
            "extendedRequestId",
            "sourceIp",
            "responseLength",
            "integrationLatency",
            "responseLatency",
            "requestTime",
        ]) {
            expect(web[0]![field], field).to.be.a("string").and.not.equal("");
        }
        const throttled = lines.filter((l) => l["status"] === "429");
        expect(throttled).to.have.length(2);
        expect(throttled[0]!["errorMessage"]).to.equal("Too Many Requests");
    });

    it("as a command: refuses bad dates, and says how to start a local cloud when none ran for the stack", async () => {
        const bad = await runUsage([
            "--stack",
            "usage",
            "--state-dir",
            cloud.stateDir,
            "--from",
            "2026-13-01",
            "--to",
            "2026-12-01",
        ]);
        expect(bad.status).to.not.equal(0);
        expect(bad.stderr).to.include('--from must be a date as YYYY-MM-DD (got "2026-13-01")');
        const none = await runUsage(["--stack", "nothing-here", "--state-dir", `${cloud.stateDir}-missing`]);
        expect(none.status).to.not.equal(0);
        expect(none.stderr).to.include("no local cloud has run for stack nothing-here");
    });
});
