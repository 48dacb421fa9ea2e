// Lambda and gateway fidelity with a program written here (not the posts program): the local cloud
// must run any program's routes, functions and tables. The functions echo what they receive, answer
// what they are told, sleep, throw and write to two tables, so the tests can look at every edge.
import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import type { LocalCloud } from "../../types";
import { call, removeStateDir, startTestCloud, tempStateDir, writeTestProgram } from "../../testing";

const PROGRAM = String.raw`
import * as aws from "@pulumi/aws";
import * as awsx from "@pulumi/awsx";
import * as pulumi from "@pulumi/pulumi";

const notes = new aws.dynamodb.Table("notes", { attributes: [{ name: "id", type: "S" }], hashKey: "id", billingMode: "PAY_PER_REQUEST" });
const audit = new aws.dynamodb.Table("audit", {
    attributes: [{ name: "day", type: "S" }, { name: "at", type: "S" }],
    hashKey: "day", rangeKey: "at", billingMode: "PAY_PER_REQUEST",
});
const role = new aws.iam.Role("fixture", { assumeRolePolicy: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "sts:AssumeRole", Principal: { Service: "lambda.amazonaws.com" } }] }) });

function fn(name: string, timeout: number, callback: (event: any, context: any) => Promise<any>) {
    return new aws.lambda.CallbackFunction(name, {
        callback, role, timeout, runtime: "nodejs22.x", memorySize: 256,
        environment: { variables: { NOTES_TABLE: notes.name, AUDIT_TABLE: audit.name, GREETING: "hello from " + name } },
        codePathOptions: { extraExcludePackages: ["@aws-sdk/client-dynamodb", "@aws-sdk/lib-dynamodb"] },
    });
}

const echo = fn("echo", 5, async (event, context) => {
    const g = globalThis as any;
    g.invocations = (g.invocations ?? 0) + 1;
    return {
        statusCode: 200,
        body: JSON.stringify({
            event,
            invocations: g.invocations,
            context: {
                awsRequestId: context.awsRequestId, functionName: context.functionName, functionVersion: context.functionVersion,
                invokedFunctionArn: context.invokedFunctionArn, memoryLimitInMB: context.memoryLimitInMB, logGroupName: context.logGroupName,
                remaining: context.getRemainingTimeInMillis(),
            },
            env: {
                GREETING: process.env.GREETING, NOTES_TABLE: process.env.NOTES_TABLE, AWS_REGION: process.env.AWS_REGION,
                AWS_LAMBDA_FUNCTION_NAME: process.env.AWS_LAMBDA_FUNCTION_NAME, endpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB,
                HOME_OF_TEST_RUNNER: process.env.LOCAL_CLOUD_TEST_MARKER,
            },
        }),
    };
});
const respond = fn("respond", 5, async (event) => JSON.parse(Buffer.from(event.body, "base64").toString("utf8")));
const sleepy = fn("sleepy", 1, async (event) => {
    const ms = Number(event.queryStringParameters?.ms ?? 0);
    const started = Date.now();
    await new Promise((r) => setTimeout(r, ms));
    return { statusCode: 200, body: JSON.stringify({ started, ended: Date.now() }) };
});
const slow = fn("slow", 5, async (event) => {
    await new Promise((r) => setTimeout(r, Number(event.queryStringParameters?.ms ?? 0)));
    return { statusCode: 200, body: "{}" };
});
const thrower = fn("thrower", 5, async () => {
    throw new Error("boom");
});
const missing = fn("missing", 5, async () => {
    require("yaml");
    return { statusCode: 200, body: "{}" };
});
const writer = fn("writer", 5, async (event) => {
    const { DynamoDBClient, PutItemCommand, GetItemCommand } = require("@aws-sdk/client-dynamodb");
    const db = new DynamoDBClient({});
    const id = event.pathParameters.id;
    await db.send(new PutItemCommand({ TableName: process.env.NOTES_TABLE, Item: { id: { S: id }, text: { S: "note " + id } } }));
    await db.send(new PutItemCommand({ TableName: process.env.AUDIT_TABLE, Item: { day: { S: "2026-11-21" }, at: { S: id } } }));
    const read = await db.send(new GetItemCommand({ TableName: process.env.NOTES_TABLE, Key: { id: { S: id } } }));
    return { statusCode: 201, body: JSON.stringify({ text: read.Item.text.S }) };
});

const api = new awsx.classic.apigateway.API("fixture", {
    stageName: "v1",
    routes: [
        { path: "/echo/{proxy+}", method: "GET", eventHandler: echo, apiKeyRequired: true },
        { path: "/echo", method: "POST", eventHandler: echo },
        { path: "/items/special", method: "GET", eventHandler: echo },
        { path: "/items/{id}", method: "GET", eventHandler: echo },
        { path: "/items/{id}", method: "ANY", eventHandler: respond },
        { path: "/respond", method: "POST", eventHandler: respond },
        { path: "/sleepy", method: "GET", eventHandler: sleepy },
        { path: "/slow", method: "GET", eventHandler: slow },
        { path: "/throw", method: "GET", eventHandler: thrower },
        { path: "/missing", method: "GET", eventHandler: missing },
        { path: "/notes/{id}", method: "PUT", eventHandler: writer },
        // MOCK integrations with and without text conversion (awsx makes every type binary).
        { path: "/mock/text", method: "GET", data: { "x-amazon-apigateway-integration": { type: "mock", contentHandling: "CONVERT_TO_TEXT",
            requestTemplates: { "application/json": '{"statusCode": 200}' }, responses: { default: { statusCode: "200" } } } } },
        { path: "/mock/binary", method: "GET", data: { "x-amazon-apigateway-integration": { type: "mock",
            requestTemplates: { "application/json": '{"statusCode": 200}' }, responses: { default: { statusCode: "200" } } } } },
    ],
});

const plan = new aws.apigateway.UsagePlan("plan", { apiStages: [{ apiId: api.restAPI.id, stage: api.stage.stageName }] });
const elsewhere = new aws.apigateway.UsagePlan("elsewhere", { apiStages: [{ apiId: api.restAPI.id, stage: "other" }] });
const member = new aws.apigateway.ApiKey("member", { enabled: true });
const outsider = new aws.apigateway.ApiKey("outsider", { enabled: true });
const planless = new aws.apigateway.ApiKey("planless", { enabled: true, value: "planless-key-0123456789" });
new aws.apigateway.UsagePlanKey("member", { keyId: member.id, keyType: "API_KEY", usagePlanId: plan.id });
new aws.apigateway.UsagePlanKey("outsider", { keyId: outsider.id, keyType: "API_KEY", usagePlanId: elsewhere.id });

export const url = api.url;
export const keys = pulumi.secret({ member: member.value, outsider: outsider.value, planless: planless.value });
`;

describe("local cloud: any program's functions, routes and tables (a fixture program)", function () {
    const programDir = path.join(process.cwd(), ".local", "fixtures", `generic-${process.pid}`);
    let cloud: LocalCloud;
    let memberKey: string;
    const warnings: string[] = [];
    const url = (p: string) => `${cloud.stageUrl}${p}`;

    before(async () => {
        writeTestProgram(
            programDir,
            "fixture",
            PROGRAM,
            "config:\n  aws:region: us-east-1\n  fixture:apiKeyValues:\n    secure: AAABAKzV0b6nXh2bYbq0f3vOV1dFz0cDk1c=\n",
        );
        process.env["LOCAL_CLOUD_TEST_MARKER"] = "must not leak into functions";
        cloud = await startTestCloud({
            stack: "v1",
            projectDir: programDir,
            stateDir: tempStateDir("fixture"),
            integrationTimeoutMs: 1500,
            maxInstancesPerFunction: 8,
            onWarning: (message) => warnings.push(message),
        });
        memberKey = cloud.apiKeys["member"]!;
    });

    after(async () => {
        await cloud?.close();
        if (cloud) {
            removeStateDir(cloud.stateDir);
        }
        fs.rmSync(programDir, { recursive: true, force: true });
    });

    it("provisions what the program defines: both tables, every function, every route", () => {
        expect(cloud.model.tables.map((t) => t.logicalName)).to.have.members(["notes", "audit"]);
        expect(cloud.model.functions.map((f) => f.logicalName)).to.have.members([
            "echo",
            "respond",
            "sleepy",
            "slow",
            "thrower",
            "missing",
            "writer",
        ]);
        expect(cloud.routes.map((r) => `${r.method} ${r.path}`)).to.include.members([
            "GET /v1/echo/{proxy+}",
            "PUT /v1/notes/{id}",
            "ANY /v1/items/{id}",
        ]);
        expect(cloud.stageUrl).to.match(/\/v1\/$/);
    });

    it("says clearly that a secure: config value cannot be read locally", () => {
        expect(warnings).to.deep.equal([
            "fixture:apiKeyValues is encrypted (secure:) in Pulumi.v1.yaml and only the Pulumi CLI can decrypt it; the local cloud runs without it and uses locally generated key values instead.",
        ]);
    });

    it("builds the v1 proxy event as API Gateway does", async () => {
        const r = await call(url("echo/a%20b/c?x=1&x=2&y=%2F&flag"), {
            headers: { "x-api-key": memberKey, "X-Custom": "Mixed", "User-Agent": "fixture-test" },
        });
        expect(r.status, r.text).to.equal(200);
        const event = r.json.event;
        expect(event.resource).to.equal("/echo/{proxy+}");
        expect(event.path).to.equal("/echo/a%20b/c");
        expect(event.httpMethod).to.equal("GET");
        expect(event.pathParameters).to.deep.equal({ proxy: "a%20b/c" });
        expect(event.queryStringParameters).to.deep.equal({ x: "2", y: "/", flag: "" });
        expect(event.multiValueQueryStringParameters).to.deep.equal({ x: ["1", "2"], y: ["/"], flag: [""] });
        expect(event.stageVariables).to.equal(null);
        expect(event.body).to.equal(null);
        expect(event.isBase64Encoded).to.equal(false);
        expect(event.headers["X-Custom"]).to.equal("Mixed");
        expect(event.multiValueHeaders["X-Custom"]).to.deep.equal(["Mixed"]);
        expect(Object.keys(event.headers).map((h) => h.toLowerCase())).to.not.include("content-length");
        expect(event.headers).to.include.keys(
            "X-Amzn-Trace-Id",
            "X-Forwarded-For",
            "X-Forwarded-Port",
            "X-Forwarded-Proto",
        );
        const rc = event.requestContext;
        expect(rc).to.include({
            httpMethod: "GET",
            path: "/v1/echo/a%20b/c",
            protocol: "HTTP/1.1",
            stage: "v1",
            resourcePath: "/echo/{proxy+}",
            accountId: "123456789012",
        });
        expect(rc.apiId).to.equal(cloud.model.restApis[0]!.id);
        expect(rc.requestId).to.match(/^[0-9a-f-]{36}$/);
        expect(r.headers.get("x-amzn-requestid")).to.equal(rc.requestId);
        expect(rc.requestTime).to.match(/^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
        expect(rc.requestTimeEpoch).to.be.a("number");
        expect(rc.identity.apiKey).to.equal(memberKey);
        expect(rc.identity.apiKeyId).to.equal(cloud.model.apiKeys.find((k) => k.logicalName === "member")!.id);
        expect(rc.identity.userAgent).to.equal("fixture-test");
        expect(rc.identity.sourceIp).to.equal("127.0.0.1");
        expect(rc.identity.user).to.equal(null);
    });

    it("sends bodies base64-encoded (binaryMediaTypes */*) and no key fields for a method without a key", async () => {
        const r = await call(url("echo"), { method: "POST", body: { hello: "wörld" } });
        const event = r.json.event;
        expect(event.isBase64Encoded).to.equal(true);
        expect(JSON.parse(Buffer.from(event.body, "base64").toString("utf8"))).to.deep.equal({ hello: "wörld" });
        expect(event.queryStringParameters).to.equal(null);
        expect(event.pathParameters).to.equal(null);
        expect(event.requestContext.identity.apiKey).to.equal(null);
        expect(event.requestContext.identity.apiKeyId).to.equal(null);
    });

    it("gives each function its own environment and a proper context, and keeps module state warm", async () => {
        const first = (await call(url("echo"), { method: "POST" })).json;
        const second = (await call(url("echo"), { method: "POST" })).json;
        expect(first.env.GREETING).to.equal("hello from echo");
        expect(first.env.NOTES_TABLE).to.equal(cloud.model.tables.find((t) => t.logicalName === "notes")!.name);
        expect(first.env.AWS_REGION).to.equal("us-east-1");
        expect(first.env.endpoint).to.equal(cloud.dynamoEndpoint);
        expect(first.env.HOME_OF_TEST_RUNNER).to.equal(undefined);
        const fn = cloud.model.functions.find((f) => f.logicalName === "echo")!;
        expect(first.env.AWS_LAMBDA_FUNCTION_NAME).to.equal(fn.name);
        expect(first.context).to.include({
            functionName: fn.name,
            functionVersion: "$LATEST",
            invokedFunctionArn: fn.arn,
            memoryLimitInMB: "256",
        });
        expect(first.context.remaining).to.be.within(4000, 5000);
        expect(first.context.awsRequestId)
            .to.match(/^[0-9a-f-]{36}$/)
            .and.not.equal(second.context.awsRequestId);
        expect(second.invocations).to.equal(first.invocations + 1);
    });

    it("reaches the local DynamoDB through the unmodified SDK, in two tables", async () => {
        const r = await call(url("notes/n1"), { method: "PUT", body: {} });
        expect(r.status, r.text).to.equal(201);
        expect(r.json).to.deep.equal({ text: "note n1" });
    });

    it("matches literal segments before {param} before {proxy+}, and an explicit method before ANY", async () => {
        expect((await call(url("items/special"))).json.event.resource).to.equal("/items/special");
        expect((await call(url("items/other"))).json.event).to.include({ resource: "/items/{id}" });
        const any = await call(url("items/other"), { method: "DELETE", body: { statusCode: 202, body: "any" } });
        expect(any.status).to.equal(202);
        expect(any.text).to.equal("any");
        const none = await call(url("nowhere"));
        expect(none.status).to.equal(404);
        expect(none.text).to.equal('{"message": "404 Not found" }');
        expect(none.headers.get("x-amzn-errortype")).to.equal("MissingAuthenticationTokenException");
    });

    it("refuses keys that are unknown, in no plan, or in a plan bound to another stage", async () => {
        for (const key of [
            undefined,
            "unknown-key-000000000000",
            cloud.apiKeys["planless"]!,
            cloud.apiKeys["outsider"]!,
        ]) {
            const r = await call(url("echo/x"), { headers: key === undefined ? {} : { "x-api-key": key } });
            expect(r.status, String(key)).to.equal(403);
            expect(r.text).to.equal('{"message":"Forbidden"}');
            expect(r.headers.get("x-amzn-errortype")).to.equal("ForbiddenException");
        }
        expect(cloud.apiKeys["planless"]).to.equal("planless-key-0123456789");
    });

    it("answers a MOCK only when it converts the (binary) request to text, as AWS does", async () => {
        expect((await call(url("mock/text"))).status).to.equal(200);
        const binary = await call(url("mock/binary"));
        expect(binary.status).to.equal(500);
        expect(binary.text).to.equal('{"message": "Internal server error"}');
    });

    it("maps the function's answer like API Gateway: headers merged, defaults, base64 bodies", async () => {
        const empty = await call(url("respond"), { method: "POST", body: {} });
        expect(empty.status).to.equal(200);
        expect(empty.text).to.equal("");
        expect(empty.headers.get("content-type")).to.equal("application/json");

        const full = await call(url("respond"), {
            method: "POST",
            body: {
                statusCode: "201",
                headers: { "X-One": "a", "X-Flag": true },
                multiValueHeaders: { "X-One": ["m1", "m2"] },
                body: Buffer.from("bin").toString("base64"),
                isBase64Encoded: true,
            },
        });
        expect(full.status).to.equal(201);
        expect(full.text).to.equal("bin");
        expect(full.headers.get("x-one")).to.equal("m1,m2,a");
        expect(full.headers.get("x-flag")).to.equal("true");
    });

    it("answers 502 for a malformed answer", async () => {
        for (const answer of [
            { statusCode: 200, body: { not: "a string" } },
            { statusCode: 200, extra: 1 },
            { statusCode: "abc" },
            { multiValueHeaders: { a: "b" } },
            [1],
            "text",
            null,
        ]) {
            const r = await call(url("respond"), { method: "POST", body: JSON.stringify(answer) });
            expect(r.status, JSON.stringify(answer)).to.equal(502);
            expect(r.text).to.equal('{"message": "Internal server error"}');
            expect(r.headers.get("x-amzn-errortype")).to.equal("InternalServerErrorException");
        }
    });

    it("answers 502 when the function throws or requires a package its archive does not ship", async () => {
        for (const p of ["throw", "missing"]) {
            const r = await call(url(p));
            expect(r.status, p).to.equal(502);
            expect(r.text).to.equal('{"message": "Internal server error"}');
        }
    });

    it("answers 502 when the function exceeds its own timeout, and starts a fresh instance after", async () => {
        const timedOut = await call(url("sleepy?ms=1200"));
        expect(timedOut.status).to.equal(502);
        const coldStarts = cloud.functionStats()["sleepy"]!.coldStarts;
        expect((await call(url("sleepy?ms=0"))).status).to.equal(200);
        expect(cloud.functionStats()["sleepy"]!.coldStarts).to.equal(coldStarts + 1);
    });

    it("answers 504 Endpoint request timed out at the integration timeout", async () => {
        const started = Date.now();
        const r = await call(url("slow?ms=3000"));
        expect(r.status).to.equal(504);
        expect(r.text).to.equal('{"message": "Endpoint request timed out"}');
        expect(Date.now() - started).to.be.within(1400, 2500);
    });

    it("runs concurrent invocations of one function at the same time, on more instances", async () => {
        await call(url("sleepy?ms=0"));
        const started = Date.now();
        const results = await Promise.all(Array.from({ length: 5 }, () => call(url("sleepy?ms=400"))));
        const elapsed = Date.now() - started;
        expect(results.map((r) => r.status)).to.deep.equal([200, 200, 200, 200, 200]);
        // One after the other would take 2 s; side by side they overlap.
        const spans = results.map((r) => [r.json.started, r.json.ended] as [number, number]);
        const overlapping = spans.filter(([s]) => spans.some(([s2, e2]) => s2 !== s && s >= s2 && s < e2)).length;
        expect(overlapping).to.be.greaterThan(0);
        expect(elapsed).to.be.below(1900);
        expect(cloud.functionStats()["sleepy"]!.peakConcurrency).to.be.at.least(4);
    });

    it("refuses a request body over 10 MB with 413", async () => {
        const r = await call(url("echo"), { method: "POST", body: "x".repeat(10 * 1024 * 1024 + 1) });
        expect(r.status).to.equal(413);
        expect(r.text).to.equal('{"message":"Request Too Long"}');
    });

    it("refuses an event over Lambda's 6 MB limit with 413", async () => {
        const r = await call(url("echo"), { method: "POST", body: "x".repeat(5 * 1024 * 1024) });
        // 5 MB of body is 6.7 MB once base64-encoded in the event.
        expect(r.status).to.equal(413);
    });
});
