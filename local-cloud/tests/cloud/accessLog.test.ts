// Access logs (accessLog.ts) with a program of its own: one REST API from an OpenAPI body with three
// stages, `v1` logging a JSON format, `clf` the Common Log Format and `quiet` nothing, MOCK routes
// and a Lambda that logs the API Gateway request id and throws. Every request to a logging stage
// appends one line to <stateDir>/access.log and hands the same line to the request log; a stage
// without accessLogSettings writes nothing, and a program with none never creates the file.
import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { accessLogValues, renderAccessLog, type AccessFacts } from "../../apigateway/accessLog";
import type { LocalCloud, RequestLog } from "../../types";
import {
    call,
    removeStateDir,
    startTestCloud,
    tempStateDir,
    waitFor,
    writeTestProgram,
    type HttpResult,
} from "../../testing";

/* eslint-disable @typescript-eslint/no-explicit-any */

/** Every variable quoted, as AWS's JSON examples do, but one number left bare and one unknown name. */
const JSON_FORMAT = JSON.stringify({
    requestId: "$context.requestId",
    extendedRequestId: "$context.extendedRequestId",
    ip: "$context.identity.sourceIp",
    userAgent: "$context.identity.userAgent",
    apiKeyId: "$context.identity.apiKeyId",
    caller: "$context.identity.caller",
    requestTime: "$context.requestTime",
    requestTimeEpoch: "$context.requestTimeEpoch",
    httpMethod: "$context.httpMethod",
    resourcePath: "$context.resourcePath",
    path: "$context.path",
    status: "$context.status",
    protocol: "$context.protocol",
    responseLength: "$context.responseLength",
    responseLatency: "$context.responseLatency",
    integrationLatency: "$context.integrationLatency",
    integrationStatus: "$context.integrationStatus",
    integrationRequestId: "$context.integration.requestId",
    errorMessage: "$context.error.message",
    errorType: "$context.error.responseType",
    stage: "$context.stage",
    apiId: "$context.apiId",
    domainName: "$context.domainName",
    principal: "$context.authorizer.principalId",
    made_up: "$context.noSuchVariable",
    statusNumber: "STATUS",
}).replace('"STATUS"', "$context.status");

const CLF_FORMAT =
    '$context.identity.sourceIp $context.identity.caller $context.identity.user [$context.requestTime] "$context.httpMethod $context.resourcePath $context.protocol" $context.status $context.responseLength $context.requestId';

const PROGRAM = String.raw`
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

const config = new pulumi.Config();
const logs = config.getBoolean("accessLogs") ?? true;

const handler = [
    "exports.handler = async (event) => {",
    "    console.log('api request ' + event.requestContext.requestId);",
    "    if (event.path === '/boom') { throw new Error('boom'); }",
    "    return { statusCode: 201, body: JSON.stringify({ made: true }) };",
    "};",
].join("\n");
const fn = new aws.lambda.Function("worker", {
    role: "arn:aws:iam::123456789012:role/worker", runtime: "nodejs22.x", handler: "index.handler", timeout: 5,
    code: new pulumi.asset.AssetArchive({ "index.js": new pulumi.asset.StringAsset(handler) }),
});
const mock = {
    type: "mock",
    requestTemplates: { "application/json": '{"statusCode": 200}' },
    responses: { default: { statusCode: "200", responseTemplates: { "application/json": '{"ok": true}' } } },
};
const lambda = { type: "aws_proxy", httpMethod: "POST", uri: fn.invokeArn };
const keyed = [{ api_key: [] as string[] }];
const body = pulumi.jsonStringify({
    swagger: "2.0",
    info: { title: "logged", version: "1" },
    securityDefinitions: { api_key: { type: "apiKey", name: "x-api-key", in: "header" } },
    paths: {
        "/hello": { get: { security: keyed, "x-amazon-apigateway-integration": mock } },
        "/open": { get: { "x-amazon-apigateway-integration": mock } },
        "/items/{id}": { post: { security: keyed, "x-amazon-apigateway-integration": lambda } },
        "/boom": { get: { "x-amazon-apigateway-integration": lambda } },
    },
});
const api = new aws.apigateway.RestApi("logged", { body });
// API Gateway may invoke the function from this API (any stage, method and path), as on AWS.
new aws.lambda.Permission("worker", { action: "lambda:InvokeFunction", function: fn.name, principal: "apigateway.amazonaws.com", sourceArn: api.executionArn.apply((arn) => arn + "/*/*/*") });
const deployment = new aws.apigateway.Deployment("logged", { restApi: api.id });
const group = new aws.cloudwatch.LogGroup("access", { retentionInDays: 7 });
const stage = (name: string, format?: string) => new aws.apigateway.Stage(name, {
    restApi: api.id, deployment: deployment.id, stageName: name,
    accessLogSettings: logs && format ? { destinationArn: group.arn, format } : undefined,
});
const stages = [stage("v1", ${JSON.stringify(JSON_FORMAT)}), stage("clf", ${JSON.stringify(CLF_FORMAT)}), stage("quiet")];
const apiStages = stages.map((s) => ({ apiId: api.id, stage: s.stageName }));

const plan = new aws.apigateway.UsagePlan("plan", { apiStages });
const tight = new aws.apigateway.UsagePlan("tight", { apiStages, quotaSettings: { limit: 1, period: "DAY" } });
const member = new aws.apigateway.ApiKey("member", {});
const once = new aws.apigateway.ApiKey("once", {});
new aws.apigateway.UsagePlanKey("member", { keyId: member.id, keyType: "API_KEY", usagePlanId: plan.id });
new aws.apigateway.UsagePlanKey("once", { keyId: once.id, keyType: "API_KEY", usagePlanId: tight.id });
`;

describe("local cloud: access logs from the stage's accessLogSettings", function () {
    const programDir = path.join(process.cwd(), ".local", "fixtures", `access-log-${process.pid}`);
    let cloud: LocalCloud;
    let accessLog: string;
    const requests: RequestLog[] = [];
    const functionLines: string[] = [];
    const url = (stage: string, p: string) => `${cloud.url}/${stage}/${p}`;
    const lines = () =>
        fs.existsSync(accessLog)
            ? fs
                  .readFileSync(accessLog, "utf8")
                  .split("\n")
                  .filter((l) => l !== "")
            : [];
    const keyId = (name: string) => cloud.model.apiKeys.find((k) => k.logicalName === name)!.id;

    /** One request, and the one line it appended (parsed when `json`). */
    async function logged(
        stage: string,
        p: string,
        init: Parameters<typeof call>[1] = {},
        json = true,
    ): Promise<{ r: HttpResult; line: string; entry: any }> {
        const before = lines();
        const r = await call(url(stage, p), init);
        // The line is written as the answer goes out: the client may read the answer first.
        let after = lines();
        for (let i = 0; i < 50 && after.length === before.length; i++) {
            await new Promise((resolve) => setTimeout(resolve, 10));
            after = lines();
        }
        expect(after.slice(0, before.length), "earlier lines stay as they were").to.deep.equal(before);
        expect(after.length, `one line for ${p}`).to.equal(before.length + 1);
        const line = after[after.length - 1]!;
        expect(
            requests.find((q) => q.requestId === r.headers.get("x-amzn-requestid"))?.accessLog,
            "the request log carries the same line",
        ).to.equal(line);
        return { r, line, entry: json ? JSON.parse(line) : undefined };
    }

    before(async () => {
        writeTestProgram(programDir, "logged", PROGRAM);
        cloud = await startTestCloud({
            stack: "v1",
            projectDir: programDir,
            stateDir: tempStateDir("access-log"),
            onRequest: (entry) => requests.push(entry),
            onFunctionLog: (line) => functionLines.push(line),
        });
        accessLog = path.join(cloud.stateDir, "access.log");
    });

    after(async () => {
        await cloud?.close();
        if (cloud) {
            removeStateDir(cloud.stateDir);
        }
        fs.rmSync(programDir, { recursive: true, force: true });
    });

    it("creates nothing before the first request", () => {
        expect(cloud.model.restApis[0]!.stages.find((s) => s.name === "v1")!.accessLog!.format).to.equal(JSON_FORMAT);
        expect(fs.existsSync(accessLog)).to.equal(false);
    });

    it("writes one JSON line per request with the values the gateway used", async () => {
        const { r, entry } = await logged("v1", "hello", {
            headers: { "x-api-key": cloud.apiKeys["member"]!, "User-Agent": "access-test/1.0" },
        });
        expect(r.status).to.equal(200);
        expect(entry.requestId).to.equal(r.headers.get("x-amzn-requestid"));
        expect(entry.extendedRequestId).to.equal(r.headers.get("x-amz-apigw-id"));
        expect(entry).to.include({
            ip: "127.0.0.1",
            userAgent: "access-test/1.0",
            apiKeyId: keyId("member"),
            caller: "-",
            httpMethod: "GET",
            resourcePath: "/hello",
            path: "/v1/hello",
            status: "200",
            protocol: "HTTP/1.1",
            responseLength: String(Buffer.byteLength(r.text)),
            errorMessage: "-",
            errorType: "-",
            stage: "v1",
            apiId: cloud.model.restApis[0]!.id,
            domainName: new URL(cloud.url).host,
            principal: "-",
            made_up: "-",
            statusNumber: 200,
            integrationLatency: "-",
            integrationStatus: "-",
        });
        expect(entry.requestTime).to.match(/^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
        expect(Number(entry.requestTimeEpoch)).to.be.closeTo(Date.now(), 10_000);
        expect(Number(entry.responseLatency)).to.be.at.least(0);
    });

    it("logs refusals with the gateway response type, and the key once it is known", async () => {
        const missing = await logged("v1", "hello");
        expect(missing.r.status).to.equal(403);
        expect(missing.entry).to.include({
            status: "403",
            apiKeyId: "-",
            errorMessage: "Forbidden",
            errorType: "INVALID_API_KEY",
            resourcePath: "/hello",
        });
        expect(missing.entry.requestId).to.equal(missing.r.headers.get("x-amzn-requestid"));

        const noRoute = await logged("v1", "nowhere");
        expect(noRoute.entry).to.include({
            status: "403",
            errorType: "MISSING_AUTHENTICATION_TOKEN",
            resourcePath: "-",
            path: "/v1/nowhere",
        });

        const key = { headers: { "x-api-key": cloud.apiKeys["once"]! } };
        expect((await logged("v1", "hello", key)).entry).to.include({ status: "200", apiKeyId: keyId("once") });
        const refused = await logged("v1", "hello", key);
        expect(refused.r.status).to.equal(429);
        expect(refused.entry).to.include({
            status: "429",
            apiKeyId: keyId("once"),
            errorMessage: "Limit Exceeded",
            errorType: "QUOTA_EXCEEDED",
        });
    });

    it("logs a Lambda integration, and a 5xx line shares its request id with the function's log line", async () => {
        const made = await logged("v1", "items/7", {
            method: "POST",
            headers: { "x-api-key": cloud.apiKeys["member"]! },
            body: { a: 1 },
        });
        expect(made.r.status).to.equal(201);
        expect(made.entry).to.include({
            status: "201",
            resourcePath: "/items/{id}",
            path: "/v1/items/7",
            integrationStatus: "200",
            errorType: "-",
        });
        expect(Number(made.entry.integrationLatency)).to.be.at.least(0);

        const boom = await logged("v1", "boom");
        expect(boom.r.status).to.equal(502);
        const requestId = boom.r.headers.get("x-amzn-requestid")!;
        expect(boom.entry).to.include({
            requestId,
            status: "502",
            errorType: "DEFAULT_5XX",
            errorMessage: "Internal server error",
            integrationStatus: "200",
        });
        // The function logged API Gateway's request id; its own log prefix is the invocation's id.
        // Its log line travels from the function's worker apart from the answer: it may come just after.
        const own = await waitFor(
            "the function's log line",
            () => functionLines.find((line) => line.includes(`api request ${requestId}`)),
            2000,
        ).catch(() => undefined);
        expect(own, functionLines.join("\n")).to.be.a("string");
        expect(boom.entry.integrationRequestId).to.match(/^[0-9a-f-]{36}$/);
        expect(own).to.include(boom.entry.integrationRequestId);
    });

    it("keeps the line valid JSON whatever the user agent holds", async () => {
        const agent = 'evil "agent" \\ {"status": 1} \t end';
        const { entry } = await logged("v1", "open", { headers: { "User-Agent": agent } });
        expect(entry.userAgent).to.equal(agent);
        expect(entry.statusNumber).to.equal(200);
    });

    it("fills a non-JSON format as it is (Common Log Format)", async () => {
        const { r, line } = await logged("clf", "open", {}, false);
        expect(line).to.equal(
            `127.0.0.1 - - [${line.split("[")[1]!.split("]")[0]}] "GET /open HTTP/1.1" 200 ${Buffer.byteLength(r.text)} ${r.headers.get("x-amzn-requestid")}`,
        );
    });

    it("writes nothing for a stage without accessLogSettings", async () => {
        const before = lines();
        const r = await call(url("quiet", "open"));
        expect(r.status).to.equal(200);
        await new Promise((resolve) => setTimeout(resolve, 50));
        expect(lines()).to.deep.equal(before);
        expect(requests.find((q) => q.requestId === r.headers.get("x-amzn-requestid"))!.accessLog).to.equal(undefined);
    });

    it("never creates access.log for a program without access logs", async () => {
        const quiet = await startTestCloud({
            stack: "v1",
            projectDir: programDir,
            stateDir: tempStateDir("access-log-none"),
            config: { "logged:accessLogs": false },
        });
        try {
            expect(quiet.model.restApis[0]!.stages.every((s) => s.accessLog === undefined)).to.equal(true);
            for (const stage of ["v1", "clf", "quiet"]) {
                expect((await call(`${quiet.url}/${stage}/open`)).status).to.equal(200);
            }
            expect(fs.existsSync(path.join(quiet.stateDir, "access.log"))).to.equal(false);
        } finally {
            await quiet.close();
            removeStateDir(quiet.stateDir);
        }
    });

    describe("rendering (no HTTP)", () => {
        const facts: AccessFacts = {
            requestId: "r-1",
            extendedRequestId: "e-1",
            traceId: "Root=1-abc-def",
            time: Date.parse("2026-03-02T10:00:00Z"),
            accountId: "123456789012",
            apiId: "api1",
            stage: "v1",
            deploymentId: "d1",
            httpMethod: "GET",
            path: "/v1/x",
            sourceIp: "10.0.0.1",
            userAgent: 'line\none "two"',
        };
        const values = accessLogValues(facts, { status: 204, responseLength: 0, responseLatencyMs: 3.6 });

        it("escapes a value only where a JSON string holds it, and keeps one line", () => {
            const line = renderAccessLog(
                '{"ua":"$context.identity.userAgent","s":$context.status,"lat":"$context.responseLatency","x":"$context.xrayTraceId"}',
                values,
            );
            expect(JSON.parse(line)).to.deep.equal({ ua: 'line\none "two"', s: 204, lat: "4", x: "1-abc-def" });
            expect(
                renderAccessLog("$context.identity.userAgent|$context.requestTime|$context.requestId.", values),
            ).to.equal('line one "two"|02/Mar/2026:10:00:00 +0000|r-1.');
        });

        it("gives - for what is unset or unknown, and error.messageString quoted", () => {
            expect(
                renderAccessLog(
                    "$context.identity.apiKeyId $context.resourcePath $context.waf.error $context.error.messageString",
                    values,
                ),
            ).to.equal("- - - -");
            const refused = accessLogValues(
                { ...facts, error: { message: "Forbidden", responseType: "INVALID_API_KEY" } },
                { status: 403, responseLength: 23, responseLatencyMs: 1 },
            );
            expect(
                renderAccessLog('{"m":$context.error.messageString,"t":"$context.error.responseType"}', refused),
            ).to.equal('{"m":"Forbidden","t":"INVALID_API_KEY"}');
        });
    });
});
