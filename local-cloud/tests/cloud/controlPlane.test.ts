// The API Gateway control plane (controlPlane.ts) driven by the real @aws-sdk/client-api-gateway, with
// a program of its own: a REST API from an OpenAPI body (MOCK integrations, no Lambda), a daily plan
// with a quota and a throttle holding two keys (one disabled), a weekly plan and a plan without a
// quota. The test moves the cloud's clock, sends requests the gateway admits and refuses (403, 429),
// and checks that GetUsage counts exactly the admitted ones, per key and per day, with the quota
// remaining in each day's period, across a restart too.
import {
    APIGatewayClient,
    BadRequestException,
    CreateApiKeyCommand,
    GetApiKeyCommand,
    GetApiKeysCommand,
    GetUsageCommand,
    GetUsagePlanCommand,
    GetUsagePlansCommand,
    NotFoundException,
} from "@aws-sdk/client-api-gateway";
import { expect } from "chai";
import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";
import { CONTROL_PLANE_PATH, ControlPlane, isLocalCaller } from "../../apigateway/controlPlane";
import type { LocalCloud, RequestLog } from "../../types";
import { cloudModel } from "../../program/model";
import type { RecordedProgram } from "../../program/recordProgram";
import { TYPES } from "../../program/resourceTypes";
import { call, removeStateDir, startTestCloud, tempStateDir, writeTestProgram } from "../../testing";

const PROGRAM = String.raw`
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

const mock = {
    type: "mock",
    requestTemplates: { "application/json": '{"statusCode": 200}' },
    responses: { default: { statusCode: "200", responseTemplates: { "application/json": '{"ok": true}' } } },
};
const body = {
    swagger: "2.0",
    info: { title: "metered", version: "1" },
    securityDefinitions: { api_key: { type: "apiKey", name: "x-api-key", in: "header" } },
    paths: {
        "/hello": { get: { security: [{ api_key: [] }], "x-amazon-apigateway-integration": mock } },
        "/open": { get: { "x-amazon-apigateway-integration": mock } },
    },
};
const api = new aws.apigateway.RestApi("metered", { body: JSON.stringify(body) });
const deployment = new aws.apigateway.Deployment("metered", { restApi: api.id });
const stage = new aws.apigateway.Stage("metered", { restApi: api.id, deployment: deployment.id, stageName: "v1" });
const apiStages = [{ apiId: api.id, stage: stage.stageName }];

const daily = new aws.apigateway.UsagePlan("daily", {
    description: "five a day",
    apiStages: [{ apiId: api.id, stage: stage.stageName, throttles: [{ path: "/open/GET", burstLimit: 9, rateLimit: 3 }] }],
    quotaSettings: { limit: 5, period: "DAY" },
    throttleSettings: { burstLimit: 2, rateLimit: 1 },
    tags: { team: "metering" },
});
const weekly = new aws.apigateway.UsagePlan("weekly", { apiStages, quotaSettings: { limit: 10, period: "WEEK" } });
const free = new aws.apigateway.UsagePlan("free", { apiStages });

const gold = new aws.apigateway.ApiKey("gold", { enabled: true, description: "the paying one", customerId: "cust-1", tags: { tier: "gold" } });
const paused = new aws.apigateway.ApiKey("paused", { enabled: false });
const weekKey = new aws.apigateway.ApiKey("week-key", {});
const freeKey = new aws.apigateway.ApiKey("free-key", { value: "free-key-value-0123456789" });
new aws.apigateway.UsagePlanKey("gold", { keyId: gold.id, keyType: "API_KEY", usagePlanId: daily.id });
new aws.apigateway.UsagePlanKey("paused", { keyId: paused.id, keyType: "API_KEY", usagePlanId: daily.id });
new aws.apigateway.UsagePlanKey("week-key", { keyId: weekKey.id, keyType: "API_KEY", usagePlanId: weekly.id });
new aws.apigateway.UsagePlanKey("free-key", { keyId: freeKey.id, keyType: "API_KEY", usagePlanId: free.id });

export const dailyPlanId = daily.id;
export const goldKeyId = gold.id;
export const pausedKeyId = paused.id;
export const goldKeyValue = pulumi.secret(gold.value);
`;

/** Monday 2 March 2026, 10:00 UTC: day 1 of a week. */
const DAY1 = Date.parse("2026-03-02T10:00:00Z");
const DAY_MS = 86_400_000;

describe("local cloud: the API Gateway control plane through the AWS SDK", function () {
    const programDir = path.join(process.cwd(), ".local", "fixtures", `control-plane-${process.pid}`);
    const stateDir = tempStateDir("control-plane");
    let clock = DAY1;
    let cloud: LocalCloud;
    let client: APIGatewayClient;
    const requests: RequestLog[] = [];
    let ids: {
        daily: string;
        weekly: string;
        free: string;
        gold: string;
        paused: string;
        week: string;
        freeKey: string;
    };

    const start = async () => {
        cloud = await startTestCloud({
            stack: "v1",
            projectDir: programDir,
            stateDir,
            now: () => clock,
            onRequest: (entry) => requests.push(entry),
        });
        client = new APIGatewayClient({
            endpoint: cloud.controlPlaneUrl,
            region: "us-east-1",
            credentials: { accessKeyId: "local", secretAccessKey: "local" },
            maxAttempts: 1,
        });
        const planId = (name: string) => cloud.model.usagePlans.find((p) => p.logicalName === name)!.id;
        const keyId = (name: string) => cloud.model.apiKeys.find((k) => k.logicalName === name)!.id;
        ids = {
            daily: planId("daily"),
            weekly: planId("weekly"),
            free: planId("free"),
            gold: keyId("gold"),
            paused: keyId("paused"),
            week: keyId("week-key"),
            freeKey: keyId("free-key"),
        };
    };
    const hello = (key: string | undefined) =>
        call(`${cloud.stageUrl}hello`, { headers: key === undefined ? {} : { "x-api-key": key } });
    const statuses = async (key: string | undefined, n: number) => {
        const result: number[] = [];
        for (let i = 0; i < n; i++) {
            result.push((await hello(key)).status);
        }
        return result;
    };

    before(async () => {
        writeTestProgram(programDir, "metered", PROGRAM);
        await start();

        // Day 1 (Monday). gold: burst of 2, then throttled; 10 s later 2 more, then throttled; 10 s
        // later the 5th is admitted and the 6th refused by the quota (it used a throttle token).
        expect(await statuses(cloud.apiKeys["gold"], 3)).to.deep.equal([200, 200, 429]);
        clock += 10_000;
        expect(await statuses(cloud.apiKeys["gold"], 3)).to.deep.equal([200, 200, 429]);
        clock += 10_000;
        expect(await statuses(cloud.apiKeys["gold"], 2)).to.deep.equal([200, 429]);
        // Refused before any count: a disabled key, a wrong key, no key; a route without a key is not metered.
        expect(await statuses(cloud.apiKeys["paused"], 2)).to.deep.equal([403, 403]);
        expect(await statuses("not-a-key-0123456789", 1)).to.deep.equal([403]);
        expect(await statuses(undefined, 1)).to.deep.equal([403]);
        expect((await call(`${cloud.stageUrl}open`)).status).to.equal(200);
        expect(await statuses(cloud.apiKeys["week-key"], 2)).to.deep.equal([200, 200]);

        // Day 2 (Tuesday): gold's quota is back; the weekly key keeps counting against its week.
        clock += DAY_MS;
        expect(await statuses(cloud.apiKeys["gold"], 2)).to.deep.equal([200, 200]);
        clock += 10_000;
        expect(await statuses(cloud.apiKeys["gold"], 1)).to.deep.equal([200]);
        expect(await statuses(cloud.apiKeys["week-key"], 2)).to.deep.equal([200, 200]);
        clock += 10_000;
        expect(await statuses(cloud.apiKeys["week-key"], 1)).to.deep.equal([200]);
        expect(await statuses("free-key-value-0123456789", 1)).to.deep.equal([200]);
    });

    after(async () => {
        client?.destroy();
        await cloud?.close();
        removeStateDir(stateDir);
        fs.rmSync(programDir, { recursive: true, force: true });
    });

    it("serves on the cloud's port under a path no stage can have, and says where in server.json", () => {
        expect(cloud.controlPlaneUrl).to.equal(`${cloud.url}${CONTROL_PLANE_PATH}`);
        expect(CONTROL_PLANE_PATH).to.equal("/.aws/apigateway");
        const server = JSON.parse(fs.readFileSync(path.join(cloud.stateDir, "server.json"), "utf8"));
        // With the outputs a script needs to ask about (ids), never the secret ones.
        expect(cloud.secretOutputs).to.include("goldKeyValue");
        expect(server).to.deep.equal({
            url: cloud.url,
            controlPlane: cloud.controlPlaneUrl,
            outputs: { dailyPlanId: ids.daily, goldKeyId: ids.gold, pausedKeyId: ids.paused },
        });
    });

    it("uses the ids of the program's recorded resources (the stack outputs')", () => {
        expect(cloud.outputs["dailyPlanId"]).to.equal(ids.daily);
        expect(cloud.outputs["goldKeyId"]).to.equal(ids.gold);
        expect(cloud.outputs["pausedKeyId"]).to.equal(ids.paused);
    });

    it("GetUsage counts the admitted requests per key and day, with the quota left in each day's period", async () => {
        const usage = await client.send(
            new GetUsageCommand({ usagePlanId: ids.daily, startDate: "2026-03-01", endDate: "2026-03-04" }),
        );
        expect(usage.usagePlanId).to.equal(ids.daily);
        expect(usage.startDate).to.equal("2026-03-01");
        expect(usage.endDate).to.equal("2026-03-04");
        expect(usage.position).to.equal(undefined);
        // Sunday, Monday (5 admitted of 8 tried), Tuesday (3), Wednesday: [used, remaining].
        expect(usage.items).to.deep.equal({
            [ids.gold]: [
                [0, 5],
                [5, 0],
                [3, 2],
                [0, 5],
            ],
            [ids.paused]: [
                [0, 5],
                [0, 5],
                [0, 5],
                [0, 5],
            ],
        });
        // What the gateway refused never reached the counts: 8 + 3 gold requests answered, 8 admitted.
        const goldAnswers = requests.filter((r) => r.consumer === "gold");
        expect(goldAnswers.filter((r) => r.status === 200)).to.have.length(8);
        expect(goldAnswers.filter((r) => r.status === 429).map((r) => r.refusal)).to.deep.equal([
            "THROTTLED",
            "THROTTLED",
            "QUOTA_EXCEEDED",
        ]);
    });

    it("GetUsage counts a week's days against the week, from before the range too, and filters by keyId", async () => {
        const week = await client.send(
            new GetUsageCommand({ usagePlanId: ids.weekly, startDate: "2026-03-03", endDate: "2026-03-09" }),
        );
        // Monday's 2 are outside the range but inside Tuesday's week; the next Monday starts afresh.
        expect(week.items).to.deep.equal({
            [ids.week]: [
                [3, 5],
                [0, 5],
                [0, 5],
                [0, 5],
                [0, 5],
                [0, 5],
                [0, 10],
            ],
        });
        const one = await client.send(
            new GetUsageCommand({
                usagePlanId: ids.daily,
                startDate: "2026-03-02",
                endDate: "2026-03-02",
                keyId: ids.gold,
            }),
        );
        expect(one.items).to.deep.equal({ [ids.gold]: [[5, 0]] });
        const none = await client.send(
            new GetUsageCommand({
                usagePlanId: ids.daily,
                startDate: "2026-03-02",
                endDate: "2026-03-02",
                keyId: ids.week,
            }),
        );
        expect(none.items).to.deep.equal({});
        // A plan without a quota has nothing remaining to report.
        const free = await client.send(
            new GetUsageCommand({ usagePlanId: ids.free, startDate: "2026-03-02", endDate: "2026-03-03" }),
        );
        expect(free.items).to.deep.equal({ [ids.freeKey]: [[0], [1]] });
    });

    it("GetUsage pages over keys (in id order) with limit and position", async () => {
        const [firstId, secondId] = [ids.gold, ids.paused].sort();
        const first = await client.send(
            new GetUsageCommand({ usagePlanId: ids.daily, startDate: "2026-03-02", endDate: "2026-03-02", limit: 1 }),
        );
        expect(Object.keys(first.items!)).to.deep.equal([firstId]);
        expect(first.position).to.be.a("string");
        const second = await client.send(
            new GetUsageCommand({
                usagePlanId: ids.daily,
                startDate: "2026-03-02",
                endDate: "2026-03-02",
                limit: 1,
                position: first.position,
            }),
        );
        expect(Object.keys(second.items!)).to.deep.equal([secondId]);
        expect(second.position).to.equal(undefined);
    });

    it("refuses bad date ranges with BadRequestException and an unknown plan with NotFoundException", async () => {
        const refusal = async (command: GetUsageCommand) =>
            client.send(command).then(
                () => undefined,
                (err: unknown) => err,
            );
        for (const [startDate, endDate] of [
            ["2026-03-04", "2026-03-02"],
            ["2026-02-30", "2026-03-02"],
            ["2026-3-2", "2026-03-02"],
            ["2026-03-02", "tomorrow"],
            ["2025-01-01", "2026-03-02"],
        ]) {
            const err = await refusal(new GetUsageCommand({ usagePlanId: ids.daily, startDate, endDate }));
            expect(err, `${startDate}..${endDate}`).to.be.instanceOf(BadRequestException);
            expect((err as BadRequestException).$metadata.httpStatusCode).to.equal(400);
        }
        const missing = await refusal(
            new GetUsageCommand({ usagePlanId: "nosuchplan", startDate: "2026-03-02", endDate: "2026-03-02" }),
        );
        expect(missing).to.be.instanceOf(NotFoundException);
        expect((missing as NotFoundException).message).to.equal("Invalid Usage Plan ID specified");
        // Without the SDK: the required dates, and the error's wire format.
        const raw = await call(`${cloud.controlPlaneUrl}/usageplans/${ids.daily}/usage?endDate=2026-03-02`);
        expect(raw.status).to.equal(400);
        expect(raw.headers.get("x-amzn-errortype")).to.equal("BadRequestException");
        expect(raw.json).to.deep.equal({ message: "startDate is required (YYYY-MM-DD)" });
        expect(raw.headers.get("x-amzn-requestid")).to.match(/^[0-9a-f-]{36}$/);
    });

    it("GetUsagePlans lists the plans as the program declares them, and filters by keyId", async () => {
        const all = await client.send(new GetUsagePlansCommand({}));
        expect(all.items!.map((p) => p.id)).to.deep.equal([ids.daily, ids.weekly, ids.free].sort());
        const daily = all.items!.find((p) => p.id === ids.daily)!;
        expect(daily.name).to.match(/^daily-/);
        expect(daily.description).to.equal("five a day");
        expect(daily.apiStages).to.deep.equal([
            {
                apiId: cloud.model.restApis[0]!.id,
                stage: "v1",
                throttle: { "/open/GET": { burstLimit: 9, rateLimit: 3 } },
            },
        ]);
        expect(daily.throttle).to.deep.equal({ burstLimit: 2, rateLimit: 1 });
        expect(daily.quota).to.deep.equal({ limit: 5, offset: 0, period: "DAY" });
        expect(daily.tags).to.deep.equal({ team: "metering" });
        expect(all.items!.find((p) => p.id === ids.free)!.quota).to.equal(undefined);
        const forWeekKey = await client.send(new GetUsagePlansCommand({ keyId: ids.week }));
        expect(forWeekKey.items!.map((p) => p.id)).to.deep.equal([ids.weekly]);
        const unknownKey = await client
            .send(new GetUsagePlansCommand({ keyId: "nosuchkey" }))
            .catch((err: unknown) => err);
        expect(unknownKey).to.be.instanceOf(NotFoundException);
        const one = await client.send(new GetUsagePlanCommand({ usagePlanId: ids.weekly }));
        expect(one.quota).to.deep.equal({ limit: 10, offset: 0, period: "WEEK" });
    });

    it("GetApiKeys gives values only with includeValues, filters by name prefix and pages", async () => {
        const without = await client.send(new GetApiKeysCommand({}));
        const allIds = [ids.gold, ids.paused, ids.week, ids.freeKey].sort();
        expect(without.items!.map((k) => k.id)).to.deep.equal(allIds);
        expect(without.items!.every((k) => k.value === undefined)).to.equal(true);
        const gold = without.items!.find((k) => k.id === ids.gold)!;
        expect(gold).to.include({ enabled: true, description: "the paying one", customerId: "cust-1" });
        expect(gold.name).to.match(/^gold-/);
        expect(gold.tags).to.deep.equal({ tier: "gold" });
        expect(gold.stageKeys).to.deep.equal([]);
        expect(gold.createdDate).to.be.instanceOf(Date);
        expect(gold.createdDate!.getTime()).to.equal(Math.floor(DAY1 / 1000) * 1000);
        expect(without.items!.find((k) => k.id === ids.paused)!.enabled).to.equal(false);

        const withValues = await client.send(new GetApiKeysCommand({ includeValues: true }));
        expect(Object.fromEntries(withValues.items!.map((k) => [k.id, k.value]))).to.deep.equal({
            [ids.gold]: cloud.apiKeys["gold"],
            [ids.paused]: cloud.apiKeys["paused"],
            [ids.week]: cloud.apiKeys["week-key"],
            [ids.freeKey]: "free-key-value-0123456789",
        });
        const named = await client.send(new GetApiKeysCommand({ nameQuery: "week-" }));
        expect(named.items!.map((k) => k.id)).to.deep.equal([ids.week]);

        const first = await client.send(new GetApiKeysCommand({ limit: 3 }));
        expect(first.items).to.have.length(3);
        const rest = await client.send(new GetApiKeysCommand({ limit: 3, position: first.position }));
        expect([...first.items!, ...rest.items!].map((k) => k.id)).to.deep.equal(allIds);
        expect(rest.position).to.equal(undefined);
    });

    it("GetApiKey finds a key by id, with its value only when asked", async () => {
        const plain = await client.send(new GetApiKeyCommand({ apiKey: ids.gold }));
        expect(plain.id).to.equal(ids.gold);
        expect(plain.value).to.equal(undefined);
        const withValue = await client.send(new GetApiKeyCommand({ apiKey: ids.gold, includeValue: true }));
        expect(withValue.value).to.equal(cloud.apiKeys["gold"]);
        const missing = await client.send(new GetApiKeyCommand({ apiKey: "nosuchkey" })).catch((err: unknown) => err);
        expect(missing).to.be.instanceOf(NotFoundException);
        expect((missing as NotFoundException).message).to.equal("Invalid API Key identifier specified");
    });

    it("answers anything else (writes above all) with UnknownOperationException, and logs every call", async () => {
        const err = (await client.send(new CreateApiKeyCommand({ name: "new" })).catch((e: unknown) => e)) as Error & {
            $metadata: { httpStatusCode: number };
        };
        expect(err.name).to.equal("UnknownOperationException");
        expect(err.$metadata.httpStatusCode).to.equal(404);
        expect(err.message).to.match(/GetUsage, GetUsagePlans, GetUsagePlan, GetApiKeys and GetApiKey/);
        const logged = requests.filter((r) => r.path.startsWith(CONTROL_PLANE_PATH));
        expect(logged.some((r) => r.operation === "GetUsage" && r.status === 200)).to.equal(true);
        expect(
            logged.some((r) => r.operation === "GetApiKey" && r.status === 404 && r.refusal === "NotFoundException"),
        ).to.equal(true);
        expect(logged.every((r) => r.accessLog === undefined && r.consumer === undefined)).to.equal(true);
    });

    it("writes no access.log for a stage without accessLogSettings", () => {
        expect(fs.existsSync(path.join(cloud.stateDir, "access.log"))).to.equal(false);
    });

    it("answers from a reloaded version, keeping the keys' dates and the counts", async () => {
        clock += 1000;
        const report = await cloud.reload();
        expect(report.ok, String(report.error)).to.equal(true);
        const gold = await client.send(new GetApiKeyCommand({ apiKey: ids.gold }));
        expect(gold.createdDate!.getTime()).to.equal(Math.floor(DAY1 / 1000) * 1000);
        expect(gold.lastUpdatedDate!.getTime()).to.equal(Math.floor(DAY1 / 1000) * 1000);
        const usage = await client.send(
            new GetUsageCommand({
                usagePlanId: ids.daily,
                startDate: "2026-03-02",
                endDate: "2026-03-03",
                keyId: ids.gold,
            }),
        );
        expect(usage.items).to.deep.equal({
            [ids.gold]: [
                [5, 0],
                [3, 2],
            ],
        });
    });

    it("keeps the counts across a restart (usage.log), under the same ids", async () => {
        client.destroy();
        await cloud.close();
        await start();
        const usage = await client.send(
            new GetUsageCommand({ usagePlanId: ids.daily, startDate: "2026-03-02", endDate: "2026-03-03" }),
        );
        expect(usage.items).to.deep.equal({
            [ids.gold]: [
                [5, 0],
                [3, 2],
            ],
            [ids.paused]: [
                [0, 5],
                [0, 5],
            ],
        });
        // And the quota goes on from there: two more on day 2, then refused.
        clock += 10_000;
        expect(await statuses(cloud.apiKeys["gold"], 2)).to.deep.equal([200, 200]);
        clock += 10_000;
        expect(await statuses(cloud.apiKeys["gold"], 1)).to.deep.equal([429]);
        const after = await client.send(
            new GetUsageCommand({
                usagePlanId: ids.daily,
                startDate: "2026-03-03",
                endDate: "2026-03-03",
                keyId: ids.gold,
            }),
        );
        expect(after.items).to.deep.equal({ [ids.gold]: [[5, 0]] });
    });

    it("refuses a stage name AWS would refuse (no stage can reach the control plane's path)", () => {
        const program: RecordedProgram = {
            stack: "s",
            region: "us-east-1",
            outputs: {},
            secretOutputs: [],
            undecryptable: [],
            resources: [
                {
                    urn: "u1",
                    type: TYPES.restApi,
                    name: "api",
                    parent: "",
                    custom: true,
                    protect: false,
                    additionalSecretOutputs: [],
                    id: "api1",
                    inputs: {},
                    state: {},
                },
                {
                    urn: "u2",
                    type: TYPES.stage,
                    name: "stage",
                    parent: "",
                    custom: true,
                    protect: false,
                    additionalSecretOutputs: [],
                    id: "s1",
                    inputs: { restApi: "api1", stageName: ".aws", deployment: "d1" },
                    state: {},
                },
            ],
        };
        expect(() => cloudModel(program)).to.throw(/stage name "\.aws" is not one AWS accepts/);
    });

    it("over HTTP, a request that names another host (DNS rebinding) gets 403 and no key values", async () => {
        const endpoint = new URL(cloud.controlPlaneUrl);
        const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
            const req = http.request(
                {
                    host: endpoint.hostname,
                    port: endpoint.port,
                    path: `${endpoint.pathname}/apikeys?includeValues=true`,
                    headers: { Host: `evil.example.com:${endpoint.port}` },
                },
                (res) => {
                    let body = "";
                    res.on("data", (chunk: Buffer) => (body += chunk.toString()));
                    res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
                },
            );
            req.on("error", reject);
            req.end();
        });
        expect(answer.status).to.equal(403);
        expect(answer.body).to.include("only requests from this machine");
        for (const value of Object.values(cloud.apiKeys)) {
            expect(answer.body).not.to.include(value);
        }
    });
});

describe("control plane: only this machine, by address and by host name", () => {
    it("answers loopback callers that named a loopback host, and no one else", () => {
        expect(isLocalCaller("127.0.0.1", "127.0.0.1:8080")).to.equal(true);
        expect(isLocalCaller("::ffff:127.0.0.1", "localhost:8080")).to.equal(true);
        expect(isLocalCaller("::1", "[::1]:8080")).to.equal(true);
        // Another machine (a cloud started with --host 0.0.0.0).
        expect(isLocalCaller("192.168.1.20", "192.168.1.5:8080")).to.equal(false);
        expect(isLocalCaller("192.168.1.20", "127.0.0.1:8080")).to.equal(false);
        // A page whose host name was re-pointed at 127.0.0.1 (DNS rebinding) sends its own name.
        expect(isLocalCaller("127.0.0.1", "evil.example.com:8080")).to.equal(false);
        expect(isLocalCaller("127.0.0.1", undefined)).to.equal(false);
    });

    it("refuses with AWS's AccessDeniedException shape", () => {
        const answer = new ControlPlane({ usage: undefined as never, now: () => 0 }).refuse();
        expect(answer.status).to.equal(403);
        expect(answer.headers["x-amzn-ErrorType"]).to.deep.equal(["AccessDeniedException"]);
        expect(JSON.parse(answer.body.toString()).message).to.match(/only requests from this machine/);
    });
});
