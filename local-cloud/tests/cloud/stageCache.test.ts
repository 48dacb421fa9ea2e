// The stage cache (stageCache.ts) with a program of its own: one REST API from an OpenAPI body, a
// function that answers with a fresh id on every call (so a cached answer shows as the same id),
// and three stages: `v1` with a cache cluster, method settings per cached method (each
// unauthorized-invalidation strategy, a method that lets anyone invalidate) and an access log;
// `nocache` with caching turned on for a method but no cluster; `wild` whose stage-wide `*/*`
// settings turn caching on. The clock is the test's, so TTLs pass without waiting.
import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import type { LocalCloud, RequestLog } from "../../types";
import {
    asksToInvalidate,
    cacheKey,
    CACHE_CONTROL_IGNORED,
    methodSettingsKey,
    StageCache,
} from "../../apigateway/stageCache";
import { parseHeaders } from "../../apigateway/requestHeaders";
import { call, removeStateDir, startTestCloud, tempStateDir, type HttpResult, writeTestProgram } from "../../testing";

const ACCESS_FORMAT = JSON.stringify({
    requestId: "$context.requestId",
    status: "$context.status",
    integrationLatency: "$context.integrationLatency",
    integrationStatus: "$context.integrationStatus",
    integrationRequestId: "$context.integration.requestId",
    latency: "$context.integration.latency",
});

const PROGRAM = String.raw`
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

const handler = [
    "exports.handler = async (event) => {",
    "    const served = require('crypto').randomUUID();",
    "    if (event.path === '/fail') { return { statusCode: 500, body: JSON.stringify({ served }) }; }",
    "    if (event.path === '/big') { return { statusCode: 200, body: JSON.stringify({ served, pad: 'x'.repeat(1100000) }) }; }",
    "    return { statusCode: 200, headers: { 'X-Served': served }, body: JSON.stringify({ served, method: event.httpMethod, path: event.path, query: event.queryStringParameters }) };",
    "};",
].join("\n");
const fn = new aws.lambda.Function("answer", {
    role: "arn:aws:iam::123456789012:role/answer", runtime: "nodejs22.x", handler: "index.handler", timeout: 5,
    code: new pulumi.asset.AssetArchive({ "index.js": new pulumi.asset.StringAsset(handler) }),
});
const keyed = [{ api_key: [] as string[] }];
const id = [{ name: "id", in: "path", required: true, type: "string" }];
const lambda = (cacheKeyParameters?: string[]) => ({ type: "aws_proxy", httpMethod: "POST", uri: fn.invokeArn, ...(cacheKeyParameters ? { cacheKeyParameters } : {}) });
const get = (parameters: any[], cacheKeyParameters?: string[]) => ({ security: keyed, parameters, "x-amazon-apigateway-integration": lambda(cacheKeyParameters) });
const body = pulumi.jsonStringify({
    swagger: "2.0",
    info: { title: "cached", version: "1" },
    securityDefinitions: { api_key: { type: "apiKey", name: "x-api-key", in: "header" } },
    paths: {
        "/items/{id}": {
            get: get(id, ["method.request.path.id"]),
            post: { security: keyed, parameters: id, "x-amazon-apigateway-integration": lambda() },
            options: { "x-amazon-apigateway-integration": {
                type: "mock", contentHandling: "CONVERT_TO_TEXT", requestTemplates: { "application/json": '{"statusCode": 200}' },
                responses: { default: { statusCode: "200", responseTemplates: { "application/json": '{"preflight": true}' } } },
            } },
        },
        "/shared/{id}": { get: get(id) },
        "/list": { get: get([{ name: "limit", in: "query", type: "string" }, { name: "cursor", in: "query", type: "string" }], ["method.request.querystring.limit"]) },
        "/uncached/{id}": { get: get(id, ["method.request.path.id"]) },
        "/fail": { get: get([]) },
        "/big": { get: get([]) },
        "/strict/{id}": { get: get(id, ["method.request.path.id"]) },
        "/quiet/{id}": { get: get(id, ["method.request.path.id"]) },
        "/open/{id}": { get: get(id, ["method.request.path.id"]) },
    },
});
const api = new aws.apigateway.RestApi("cached", { body });
// API Gateway may invoke the function from this API (any stage, method and path), as on AWS.
new aws.lambda.Permission("answer", { action: "lambda:InvokeFunction", function: fn.name, principal: "apigateway.amazonaws.com", sourceArn: api.executionArn.apply((arn) => arn + "/*/*/*") });
const deployment = new aws.apigateway.Deployment("cached", { restApi: api.id });
const group = new aws.cloudwatch.LogGroup("access", { retentionInDays: 7 });
const v1 = new aws.apigateway.Stage("v1", {
    restApi: api.id, deployment: deployment.id, stageName: "v1", cacheClusterEnabled: true, cacheClusterSize: "0.5",
    accessLogSettings: { destinationArn: group.arn, format: ${JSON.stringify(ACCESS_FORMAT)} },
});
const nocache = new aws.apigateway.Stage("nocache", { restApi: api.id, deployment: deployment.id, stageName: "nocache" });
const wild = new aws.apigateway.Stage("wild", { restApi: api.id, deployment: deployment.id, stageName: "wild", cacheClusterEnabled: true });

const ms = (name: string, stage: aws.apigateway.Stage, methodPath: string, extra: Record<string, unknown> = {}) =>
    new aws.apigateway.MethodSettings(name, {
        restApi: api.id, stageName: stage.stageName, methodPath,
        settings: { metricsEnabled: true, cachingEnabled: true, cacheTtlInSeconds: 30, ...extra },
    });
ms("v1-all", v1, "*/*", { cachingEnabled: false });
ms("v1-items", v1, "~1items~1{id}/GET", { requireAuthorizationForCacheControl: true, unauthorizedCacheControlHeaderStrategy: "SUCCEED_WITH_RESPONSE_HEADER" });
ms("v1-shared", v1, "~1shared~1{id}/GET");
ms("v1-list", v1, "~1list/GET");
ms("v1-fail", v1, "~1fail/GET");
ms("v1-big", v1, "~1big/GET");
ms("v1-strict", v1, "~1strict~1{id}/GET", { unauthorizedCacheControlHeaderStrategy: "FAIL_WITH_403" });
ms("v1-quiet", v1, "~1quiet~1{id}/GET", { unauthorizedCacheControlHeaderStrategy: "SUCCEED_WITHOUT_RESPONSE_HEADER" });
ms("v1-open", v1, "~1open~1{id}/GET", { requireAuthorizationForCacheControl: false });
// Plain slashes: AWS stores these under a key no method has.
ms("v1-plain", v1, "uncached/{id}/GET");
ms("nocache-items", nocache, "~1items~1{id}/GET");
ms("wild-all", wild, "*/*");

const apiStages = [v1, nocache, wild].map((s) => ({ apiId: api.id, stage: s.stageName }));
const plan = new aws.apigateway.UsagePlan("plan", { apiStages });
const tight = new aws.apigateway.UsagePlan("tight", { apiStages, quotaSettings: { limit: 3, period: "DAY" } });
const member = new aws.apigateway.ApiKey("member", {});
const metered = new aws.apigateway.ApiKey("metered", {});
new aws.apigateway.UsagePlanKey("member", { keyId: member.id, keyType: "API_KEY", usagePlanId: plan.id });
new aws.apigateway.UsagePlanKey("metered", { keyId: metered.id, keyType: "API_KEY", usagePlanId: tight.id });
`;

describe("local cloud: the stage cache", function () {
    const programDir = path.join(process.cwd(), ".local", "fixtures", `stage-cache-${process.pid}`);
    let cloud: LocalCloud;
    let clock = Date.now();
    const warnings: string[] = [];
    const requests: RequestLog[] = [];

    interface Answer extends HttpResult {
        logged: RequestLog;
    }
    async function get(
        p: string,
        headers: Record<string, string> = {},
        init: { method?: string; key?: string | null } = {},
    ): Promise<Answer> {
        const key = init.key === undefined ? cloud.apiKeys["member"]! : init.key;
        const r = await call(`${cloud.url}/${p}`, {
            method: init.method ?? "GET",
            headers: { ...(key ? { "x-api-key": key } : {}), ...headers },
        });
        const logged = requests.find((e) => e.requestId === r.headers.get("x-amzn-requestid"))!;
        expect(logged, `a request-log entry for ${p}`).to.not.equal(undefined);
        return { ...r, logged };
    }
    const served = (a: Answer) => a.json?.served as string;

    before(async () => {
        writeTestProgram(programDir, "cached", PROGRAM);
        cloud = await startTestCloud({
            stack: "v1",
            projectDir: programDir,
            stateDir: tempStateDir("stage-cache"),
            now: () => clock,
            onWarning: (message) => warnings.push(message),
            onRequest: (entry) => requests.push(entry),
        });
    });

    after(async () => {
        await cloud?.close();
        if (cloud) {
            removeStateDir(cloud.stateDir);
        }
        fs.rmSync(programDir, { recursive: true, force: true });
    });

    describe("rules without HTTP", () => {
        it("keys method settings as API Gateway stores them", () => {
            expect(methodSettingsKey("/posts/{id}", "GET")).to.equal("~1posts~1{id}/GET");
            expect(methodSettingsKey("/", "GET")).to.equal("~1/GET");
        });

        it("reads max-age=0 among other directives, and nothing else as an invalidation", () => {
            expect(
                ["max-age=0", "no-cache, max-age=0", "MAX-AGE = 0", 'max-age="0"'].map(asksToInvalidate),
            ).to.deep.equal([true, true, true, true]);
            expect(
                [undefined, "no-cache", "max-age=10", "s-maxage=0", "max-age=01x"].map(asksToInvalidate),
            ).to.deep.equal([false, false, false, false, false]);
        });

        it("keys on the method, the resource and the declared key parameters only", () => {
            const op = {
                method: "GET",
                resourcePath: "/x/{id}",
                integration: {
                    cacheKeyParameters: [
                        "method.request.path.id",
                        "method.request.querystring.limit",
                        "method.request.header.X-Tenant",
                    ],
                },
            };
            const key = (rawQuery: string, headers: string[], id: string) =>
                cacheKey(op, { rawQuery, headers: parseHeaders(headers), pathParameters: { id } });
            expect(key("limit=1&other=2", ["x-tenant", "a"], "1")).to.equal(
                key("other=3&limit=1", ["X-TENANT", "a", "User-Agent", "z"], "1"),
            );
            expect(key("limit=1", [], "1")).to.not.equal(key("limit=2", [], "1"));
            expect(key("limit=1", [], "1")).to.not.equal(key("limit=1", [], "2"));
            expect(key("limit=1", ["x-tenant", "a"], "1")).to.not.equal(key("limit=1", ["x-tenant", "b"], "1"));
            expect(
                cacheKey(
                    { ...op, integration: {} },
                    { rawQuery: "a=1", headers: parseHeaders([]), pathParameters: { id: "1" } },
                ),
            ).to.equal(
                cacheKey(
                    { ...op, integration: {} },
                    { rawQuery: "", headers: parseHeaders([]), pathParameters: { id: "2" } },
                ),
            );
        });

        it("keeps 2XX answers up to 1 MB, each until its TTL is up", () => {
            let now = 0;
            const cache = new StageCache("0.5", () => now);
            const answer = (status: number, bytes = 10) => ({
                status,
                headers: { a: ["b"] },
                body: Buffer.alloc(bytes),
            });
            expect(cache.put("ok", answer(200), 10)).to.equal(true);
            expect(cache.put("created", answer(201), 10)).to.equal(true);
            expect(cache.put("notFound", answer(404), 10)).to.equal(false);
            expect(cache.put("error", answer(500), 10)).to.equal(false);
            expect(cache.put("limit", answer(200, 1_048_576), 10)).to.equal(true);
            expect(cache.put("over", answer(200, 1_048_577), 10)).to.equal(false);
            now = 9_999;
            expect(cache.get("ok")?.status).to.equal(200);
            now = 10_000;
            expect(cache.get("ok")).to.equal(undefined);
            expect(cache.size).to.equal(2);
        });

        it("applies a TTL lowered since an entry was kept (a reload) to that entry, and never extends one by a raised TTL", () => {
            let now = 0;
            const cache = new StageCache("0.5", () => now);
            const answer = { status: 200, headers: {}, body: Buffer.from("{}") };
            cache.put("kept-at-300", answer, 300);
            cache.put("kept-at-10", answer, 10);
            now = 60_000;
            expect(cache.get("kept-at-300", 300)?.status).to.equal(200);
            // The method's TTL is now 30 s: an entry kept 60 s ago is past it.
            expect(cache.get("kept-at-300", 30)).to.equal(undefined);
            // Raised to 3600 s: an entry kept for 10 s stays expired.
            expect(cache.get("kept-at-10", 3600)).to.equal(undefined);
            expect(cache.size).to.equal(0);
        });

        it("drops expired entries nobody reads again (e.g. one per cursor) when a new one comes", () => {
            let now = 0;
            const cache = new StageCache("0.5", () => now);
            for (let i = 0; i < 100; i++) {
                cache.put(`cursor-${i}`, { status: 200, headers: {}, body: Buffer.alloc(100) }, 1);
            }
            expect(cache.size).to.equal(100);
            now = 1_000;
            cache.put("fresh", { status: 200, headers: {}, body: Buffer.alloc(100) }, 1);
            expect(cache.size).to.equal(1);
        });
    });

    it("warns about method settings no method has and caching on a stage without a cluster", () => {
        expect(warnings.filter((w) => w.includes('"uncached/{id}/GET" name no method'))).to.have.length(1);
        expect(warnings.find((w) => w.includes('"uncached/{id}/GET"'))).to.include('"~1uncached~1{id}/GET"');
        expect(warnings.filter((w) => w.includes("stage nocache") && w.includes("no cache cluster"))).to.have.length(1);
        expect(cloud.model.restApis[0]!.stages.find((s) => s.name === "v1")!.cacheCluster).to.deep.equal({
            sizeGb: "0.5",
        });
    });

    it("answers the same id from the cache and another id from the function", async () => {
        const first = await get("v1/items/1");
        expect(first.status).to.equal(200);
        expect(first.logged.cache).to.equal("miss");
        expect(first.logged.functionRequestId).to.be.a("string");
        const again = await get("v1/items/1");
        expect(again.logged.cache).to.equal("hit");
        expect(served(again)).to.equal(served(first));
        expect(again.headers.get("x-served")).to.equal(served(first));
        expect(again.logged.functionRequestId, "no function ran").to.equal(undefined);
        expect(again.headers.get("x-amzn-requestid")).to.not.equal(first.headers.get("x-amzn-requestid"));
        const other = await get("v1/items/2");
        expect(other.logged.cache).to.equal("miss");
        expect(served(other)).to.not.equal(served(first));
        // A query parameter that is not a cache key parameter shares the entry.
        const withQuery = await get("v1/items/1?verbose=1");
        expect(withQuery.logged.cache).to.equal("hit");
        expect(served(withQuery)).to.equal(served(first));
    });

    it("shares one entry between every id when the path parameter is not a key parameter, as AWS does", async () => {
        const one = await get("v1/shared/1");
        const two = await get("v1/shared/2");
        expect([one.logged.cache, two.logged.cache]).to.deep.equal(["miss", "hit"]);
        expect(two.json.path, "the answer for another id").to.equal("/shared/1");
    });

    it("keys a list on its limit and not on the cursor it does not declare as a key", async () => {
        const one = await get("v1/list?limit=1");
        const two = await get("v1/list?limit=2");
        const oneAgain = await get("v1/list?limit=1&cursor=abc");
        expect([one.logged.cache, two.logged.cache, oneAgain.logged.cache]).to.deep.equal(["miss", "miss", "hit"]);
        expect(served(oneAgain)).to.equal(served(one));
    });

    it("serves an entry until its TTL is up, then asks the function again", async () => {
        const first = await get("v1/items/ttl");
        clock += 29_000;
        expect((await get("v1/items/ttl")).logged.cache).to.equal("hit");
        clock += 1_000;
        const after = await get("v1/items/ttl");
        expect(after.logged.cache).to.equal("miss");
        expect(served(after)).to.not.equal(served(first));
        expect((await get("v1/items/ttl")).logged.cache).to.equal("hit");
    });

    it("keeps serving a cached read after a write to the same resource (AWS does not invalidate on writes)", async () => {
        const read = await get("v1/items/5");
        const write = await get("v1/items/5", {}, { method: "POST" });
        expect(write.status).to.equal(200);
        expect(write.logged.cache, "a method without caching has no cache verdict").to.equal(undefined);
        const reread = await get("v1/items/5");
        expect(reread.logged.cache).to.equal("hit");
        expect(served(reread)).to.equal(served(read));
    });

    it("never keeps an error or an answer over 1 MB", async () => {
        const fails = [await get("v1/fail"), await get("v1/fail")];
        expect(fails.map((a) => [a.status, a.logged.cache])).to.deep.equal([
            [500, "miss"],
            [500, "miss"],
        ]);
        const big = [await get("v1/big"), await get("v1/big")];
        expect(big.map((a) => [a.status, a.logged.cache])).to.deep.equal([
            [200, "miss"],
            [200, "miss"],
        ]);
        expect(served(big[1]!)).to.not.equal(served(big[0]!));
    });

    it("never caches a method without caching settings (nor one named with plain slashes), an OPTIONS or a MOCK", async () => {
        const a = await get("v1/uncached/1");
        const b = await get("v1/uncached/1");
        expect([a.logged.cache, b.logged.cache]).to.deep.equal([undefined, undefined]);
        expect(served(b)).to.not.equal(served(a));
        const preflight = await get("v1/items/1", {}, { method: "OPTIONS", key: null });
        expect(preflight.status).to.equal(200);
        expect(preflight.logged.cache).to.equal(undefined);
    });

    it("never caches on a stage without a cache cluster, whatever its method settings say", async () => {
        const a = await get("nocache/items/1");
        const b = await get("nocache/items/1");
        expect([a.logged.cache, b.logged.cache]).to.deep.equal([undefined, undefined]);
        expect(served(b)).to.not.equal(served(a));
    });

    it("caches only GET methods with stage-wide (*/*) settings", async () => {
        const a = await get("wild/uncached/1");
        const b = await get("wild/uncached/1");
        expect([a.logged.cache, b.logged.cache]).to.deep.equal(["miss", "hit"]);
        const posts = [
            await get("wild/items/1", {}, { method: "POST" }),
            await get("wild/items/1", {}, { method: "POST" }),
        ];
        expect(posts.map((p) => p.logged.cache)).to.deep.equal([undefined, undefined]);
        expect(served(posts[1]!)).to.not.equal(served(posts[0]!));
        // Each stage has its own cache.
        expect((await get("v1/uncached/1")).logged.cache).to.equal(undefined);
    });

    describe("Cache-Control: max-age=0 from an API-key caller (never authorized: that takes IAM)", () => {
        const invalidate = { "Cache-Control": "max-age=0" };

        it("SUCCEED_WITH_RESPONSE_HEADER: answers from the cache and says the header was ignored", async () => {
            const first = await get("v1/items/9");
            const ignored = await get("v1/items/9", invalidate);
            expect(ignored.logged.cache).to.equal("hit");
            expect(served(ignored)).to.equal(served(first));
            expect(ignored.headers.get(CACHE_CONTROL_IGNORED.name)).to.equal(CACHE_CONTROL_IGNORED.value);
            expect(first.headers.get(CACHE_CONTROL_IGNORED.name)).to.equal(null);
            // On a miss too: the answer is the function's, with the header.
            const miss = await get("v1/items/10", invalidate);
            expect(miss.logged.cache).to.equal("miss");
            expect(miss.headers.get(CACHE_CONTROL_IGNORED.name)).to.equal(CACHE_CONTROL_IGNORED.value);
            expect((await get("v1/items/10")).logged.cache).to.equal("hit");
        });

        it("FAIL_WITH_403: refuses the request, and the entry stays", async () => {
            const first = await get("v1/strict/1");
            const refused = await get("v1/strict/1", invalidate);
            expect(refused.status).to.equal(403);
            expect(refused.logged.refusal).to.equal("ACCESS_DENIED");
            expect(refused.json).to.deep.equal({ message: "Unauthorized" });
            const again = await get("v1/strict/1");
            expect(again.logged.cache).to.equal("hit");
            expect(served(again)).to.equal(served(first));
        });

        it("SUCCEED_WITHOUT_RESPONSE_HEADER: answers from the cache and says nothing", async () => {
            const first = await get("v1/quiet/1");
            const ignored = await get("v1/quiet/1", invalidate);
            expect(ignored.logged.cache).to.equal("hit");
            expect(served(ignored)).to.equal(served(first));
            expect(ignored.headers.get(CACHE_CONTROL_IGNORED.name)).to.equal(null);
        });

        it("without requireAuthorizationForCacheControl anyone refreshes the entry", async () => {
            const first = await get("v1/open/1");
            const refreshed = await get("v1/open/1", invalidate);
            expect(refreshed.logged.cache).to.equal("refresh");
            expect(served(refreshed)).to.not.equal(served(first));
            const after = await get("v1/open/1");
            expect(after.logged.cache).to.equal("hit");
            expect(served(after)).to.equal(served(refreshed));
        });
    });

    it("checks the key, and counts a cached answer against the quota", async () => {
        expect((await get("v1/items/1", {}, { key: null })).status).to.equal(403);
        expect((await get("v1/items/1", {}, { key: "wrong" })).status).to.equal(403);
        const metered = cloud.apiKeys["metered"]!;
        const answers = [];
        for (let i = 0; i < 4; i++) {
            answers.push(await get("v1/items/quota", {}, { key: metered }));
        }
        expect(answers.map((a) => [a.status, a.logged.cache ?? a.logged.refusal])).to.deep.equal([
            [200, "miss"],
            [200, "hit"],
            [200, "hit"],
            [429, "QUOTA_EXCEEDED"],
        ]);
    });

    it("writes a hit's access-log line without integration values, as no integration ran", async () => {
        const miss = JSON.parse((await get("v1/items/logged")).logged.accessLog!);
        const hit = JSON.parse((await get("v1/items/logged")).logged.accessLog!);
        expect(miss).to.include({ status: "200", integrationStatus: "200" });
        expect(Number(miss.integrationLatency)).to.be.at.least(0);
        expect(miss.integrationRequestId).to.match(/^[0-9a-f-]{36}$/);
        expect(hit).to.include({
            status: "200",
            integrationLatency: "-",
            integrationStatus: "-",
            integrationRequestId: "-",
            latency: "-",
        });
    });

    it("empties a stage's cache on flushStageCache, and keeps it over a reload", async () => {
        const first = await get("v1/items/flush");
        const report = await cloud.reload();
        expect(report.ok, String(report.error)).to.equal(true);
        expect((await get("v1/items/flush")).logged.cache).to.equal("hit");
        cloud.flushStageCache("v1");
        const after = await get("v1/items/flush");
        expect(after.logged.cache).to.equal("miss");
        expect(served(after)).to.not.equal(served(first));
    });

    it("applies a TTL lowered by a reload to the entries already kept", async () => {
        const first = await get("v1/list?limit=7");
        clock += 10_000;
        expect((await get("v1/list?limit=7")).logged.cache).to.equal("hit");
        const lowered = PROGRAM.replace(
            `ms("v1-list", v1, "~1list/GET");`,
            `ms("v1-list", v1, "~1list/GET", { cacheTtlInSeconds: 5 });`,
        );
        expect(lowered).to.not.equal(PROGRAM);
        try {
            writeTestProgram(programDir, "cached", lowered);
            const report = await cloud.reload();
            expect(report.ok, String(report.error)).to.equal(true);
            // Kept 10 s ago under a 30 s TTL; the TTL is 5 s now.
            const after = await get("v1/list?limit=7");
            expect(after.logged.cache).to.equal("miss");
            expect(served(after)).to.not.equal(served(first));
        } finally {
            writeTestProgram(programDir, "cached", PROGRAM);
            await cloud.reload();
        }
    });
});
