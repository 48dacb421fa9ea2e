// The local gateway under hostile input and its own faults: any query or header name (Object.prototype
// names included) is just a name; every answer, 5xx included, carries the API's CORS headers, a
// request id and a request-log line; a client that goes away costs one log line, never a stack trace.
import { expect } from "chai";
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import * as path from "node:path";
import { Gateway, type GatewayAnswer } from "../../apigateway/gateway";
import { mapParameter, renderTemplate, type TemplateContext } from "../../apigateway/gatewayResponses";
import type { FunctionPool, InvokeOutcome } from "../../lambda/lambdaPool";
import type { RequestLog, LocalCloud } from "../../types";
import type { CloudModel, Operation } from "../../program/model";
import {
    buildProxyEvent,
    mapProxyResult,
    parseQuery,
    type EventTarget,
    type IncomingRequest,
} from "../../apigateway/proxyEvent";
import { call, removeStateDir, startTestCloud, tempStateDir, writeTestProgram, type HttpResult } from "../../testing";
import type { UsageLimiter } from "../../apigateway/usage";

/* eslint-disable @typescript-eslint/no-explicit-any */

const HOSTILE = ["constructor", "__proto__", "toString", "hasOwnProperty", "valueOf"];
const ORIGIN = "https://app.example";
/** An object with these own keys; `{ "__proto__": x }` as a literal would set the prototype instead. */
const own = (entries: [string, unknown][]) => {
    const o: Record<string, unknown> = {};
    for (const [k, v] of entries) {
        Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
    }
    return o;
};

describe("local gateway hardening: names, faults, aborted requests", function () {
    describe("without HTTP", () => {
        it("parses Object.prototype names in the query like any other name", () => {
            const { single, multi } = parseQuery(
                "constructor=1&__proto__=2&toString=3&toString=4&hasOwnProperty=5&valueOf=",
            );
            expect(JSON.parse(JSON.stringify(single))).to.deep.equal(
                own([
                    ["constructor", "1"],
                    ["__proto__", "2"],
                    ["toString", "4"],
                    ["hasOwnProperty", "5"],
                    ["valueOf", ""],
                ]),
            );
            expect(JSON.parse(JSON.stringify(multi))).to.deep.equal(
                own([
                    ["constructor", ["1"]],
                    ["__proto__", ["2"]],
                    ["toString", ["3", "4"]],
                    ["hasOwnProperty", ["5"]],
                    ["valueOf", [""]],
                ]),
            );
        });

        it("puts Object.prototype header names in the event and takes them from a function's answer", () => {
            const request: IncomingRequest = {
                method: "GET",
                path: "/x",
                rawQuery: "",
                body: Buffer.alloc(0),
                sourceIp: "127.0.0.1",
                localPort: 1,
                rawHeaders: HOSTILE.flatMap((name, i) => [name, `v${i}`]).concat(["Host", "h"]),
            };
            const target: EventTarget = {
                apiId: "a",
                stage: "s",
                deploymentId: "d",
                stageVariables: null,
                resourcePath: "/x",
                resourceId: "r",
                pathParameters: null,
                binaryMediaTypes: [],
                accountId: "1",
                requestId: "q",
                extendedRequestId: "e",
                traceId: "t",
                now: new Date(0),
            };
            const event = JSON.parse(JSON.stringify(buildProxyEvent(request, target)));
            HOSTILE.forEach((name, i) => {
                expect(Object.hasOwn(event.headers, name), name).to.equal(true);
                expect(event.headers[name]).to.equal(`v${i}`);
                expect(event.multiValueHeaders[name]).to.deep.equal([`v${i}`]);
            });
            const answer = mapProxyResult(
                JSON.stringify({
                    headers: own(HOSTILE.map((n) => [n, n])),
                    multiValueHeaders: own([["__proto__", ["m"]]]),
                }),
            );
            expect(answer).to.not.have.property("malformed");
            const headers = (answer as { headers: Record<string, string[]> }).headers;
            expect(Object.keys(headers)).to.include.members(HOSTILE);
            expect(headers["__proto__"]).to.deep.equal(["m", "__proto__"]);
        });

        it("refuses a function's header that HTTP cannot carry as a malformed answer (502), instead of failing to send it", () => {
            for (const headers of [
                { "X-Bad": "a\nb" },
                { "X-Bad": "\u0001" },
                { "X-Euro": "€" },
                { "bad name": "x" },
                { "": "x" },
            ]) {
                expect(mapProxyResult(JSON.stringify({ headers })), JSON.stringify(headers)).to.have.property(
                    "malformed",
                );
            }
            expect(mapProxyResult(JSON.stringify({ headers: { "X-Latin": "café" } }))).to.not.have.property(
                "malformed",
            );
        });

        it("reads only a template context's own values", () => {
            const ctx: TemplateContext = { context: { requestId: "r" }, request: { headers: {}, query: {}, path: {} } };
            expect(mapParameter("method.request.querystring.constructor", ctx)).to.equal(undefined);
            expect(mapParameter("method.request.path.toString", ctx)).to.equal(undefined);
            expect(
                renderTemplate("[$context.requestId.constructor|$context.constructor|$context.requestId.length]", ctx),
            ).to.equal("[||]");
        });

        describe("a Gateway with a fake function", () => {
            const lines: string[] = [];
            const events: any[] = [];
            let invoke: (event: string) => Promise<InvokeOutcome> = async (event) => {
                events.push(JSON.parse(event));
                return { kind: "result", payload: JSON.stringify({ statusCode: 200, body: "ok" }) };
            };
            const op = (resourcePath: string, method: string, integration: any): Operation => ({
                resourcePath,
                method,
                apiKeyRequired: false,
                integration,
            });
            const lambda = {
                type: "aws_proxy",
                uri: "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/arn:aws:lambda:us-east-1:1:function:f/invocations",
            };
            const cors = { "gatewayresponse.header.Access-Control-Allow-Origin": `'${ORIGIN}'` };
            const model: CloudModel = {
                region: "us-east-1",
                tables: [],
                functions: [],
                apiKeys: [],
                usagePlans: [],
                restApis: [
                    {
                        logicalName: "api",
                        id: "api1",
                        name: "api",
                        apiKeySource: "HEADER",
                        binaryMediaTypes: ["*/*"],
                        stages: [{ name: "v1", deploymentId: "d1", variables: null }],
                        gatewayResponses: {
                            DEFAULT_4XX: { responseParameters: cors },
                            DEFAULT_5XX: { responseParameters: cors },
                        },
                        operations: [
                            op("/fn/{proxy+}", "GET", lambda),
                            op("/mock", "OPTIONS", {
                                type: "mock",
                                contentHandling: "CONVERT_TO_TEXT",
                                requestTemplates: { "application/json": '{"statusCode": 204}' },
                                responses: { "204": { statusCode: "204" }, default: { statusCode: "200" } },
                            }),
                        ],
                    },
                ],
            } as unknown as CloudModel;
            const pool = { name: "f", invoke: (event: string) => invoke(event) } as unknown as FunctionPool;
            const gateway = new Gateway({
                model,
                pools: new Map([["arn:aws:lambda:us-east-1:1:function:f", pool]]),
                limiter: {} as UsageLimiter,
                integrationTimeoutMs: 1000,
                now: Date.now,
                log: (line) => lines.push(line),
            });
            const request = (p: string, rawQuery = "", rawHeaders: string[] = [], method = "GET"): IncomingRequest => ({
                method,
                path: p,
                rawQuery,
                rawHeaders,
                body: Buffer.alloc(0),
                sourceIp: "127.0.0.1",
                localPort: 1,
            });
            const header = (a: GatewayAnswer, name: string) =>
                Object.entries(a.headers)
                    .find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1]
                    ?.join(",");

            beforeEach(() => {
                lines.length = 0;
                events.length = 0;
            });

            it("hands every hostile query and header name to the function", async () => {
                const query = HOSTILE.map((n, i) => `${n}=${i}`).join("&");
                const answer = await gateway.handle(
                    request(
                        "/v1/fn/constructor/__proto__",
                        query,
                        HOSTILE.flatMap((n) => [n, n.toUpperCase()]),
                    ),
                );
                expect(answer.status).to.equal(200);
                const event = events[0];
                expect(Object.keys(event.queryStringParameters)).to.deep.equal(HOSTILE);
                expect(Object.keys(event.multiValueQueryStringParameters)).to.deep.equal(HOSTILE);
                HOSTILE.forEach((n) => expect(event.headers[n]).to.equal(n.toUpperCase()));
                expect(event.pathParameters).to.deep.equal({ proxy: "constructor/__proto__" });
                expect(lines).to.deep.equal([]);
            });

            it("picks a MOCK's template by the integration's own content types only", async () => {
                for (const contentType of [...HOSTILE, "text/plain"]) {
                    const answer = await gateway.handle(
                        request("/v1/mock", "", ["Content-Type", contentType], "OPTIONS"),
                    );
                    expect(answer.status, contentType).to.equal(204);
                }
            });

            it("turns its own fault into the API's generic 500: CORS, request id, one log line, no detail to the client", async () => {
                invoke = () => {
                    throw new TypeError("injected fault\nsecond line");
                };
                const answer = await gateway.handle(request("/v1/fn/x"));
                expect(answer.status).to.equal(500);
                // The API overrides DEFAULT_5XX (CORS) without a template: AWS's default template, no space.
                expect(answer.body.toString()).to.equal('{"message":"Internal server error"}');
                expect(answer.refusal).to.equal("internal error");
                expect(header(answer, "x-amzn-ErrorType")).to.equal("InternalServerErrorException");
                expect(header(answer, "Access-Control-Allow-Origin")).to.equal(ORIGIN);
                expect(header(answer, "x-amzn-RequestId"))
                    .to.equal(answer.requestId)
                    .and.match(/^[0-9a-f-]{36}$/);
                expect(lines).to.have.length(1);
                expect(lines[0]).to.match(
                    new RegExp(
                        `^GET /v1/fn/x: internal error, answered 500 \\(request ${answer.requestId}\\): TypeError: injected fault \\(at `,
                    ),
                );
                expect(lines[0]).to.not.include("\n");
            });

            it("answers a fault outside any API with AWS's own 500 body and a request id", () => {
                const answer = gateway.internalError({ method: "GET", path: "/nowhere" }, "plain text\nand more");
                expect(answer.status).to.equal(500);
                expect(answer.body.toString()).to.equal('{"message": "Internal server error"}');
                expect(header(answer, "Access-Control-Allow-Origin")).to.equal(undefined);
                expect(header(answer, "x-amzn-RequestId")).to.equal(answer.requestId);
                expect(lines).to.deep.equal([
                    `GET /nowhere: internal error, answered 500 (request ${answer.requestId}): plain text`,
                ]);
            });
        });
    });

    describe("through a started local cloud (a fixture program)", () => {
        const PROGRAM = String.raw`
import * as aws from "@pulumi/aws";
import * as awsx from "@pulumi/awsx";
import * as pulumi from "@pulumi/pulumi";

const role = new aws.iam.Role("fixture", { assumeRolePolicy: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "sts:AssumeRole", Principal: { Service: "lambda.amazonaws.com" } }] }) });
const fn = (name: string, callback: (event: any) => Promise<any>) =>
    new aws.lambda.CallbackFunction(name, { callback, role, timeout: 5, runtime: "nodejs22.x", memorySize: 128 });

const echo = fn("echo", async (event) => ({ statusCode: 200, body: JSON.stringify(event) }));
const respond = fn("respond", async (event) => JSON.parse(Buffer.from(event.body, "base64").toString("utf8")));
const slow = fn("slow", async (event) => {
    await new Promise((r) => setTimeout(r, Number(event.queryStringParameters?.ms ?? 0)));
    return { statusCode: 200, body: "{}" };
});

const cors = { "gatewayresponse.header.Access-Control-Allow-Origin": "'${ORIGIN}'" };
const api = new awsx.classic.apigateway.API("hardened", {
    stageName: "v1",
    gatewayResponses: { DEFAULT_4XX: { responseParameters: cors }, DEFAULT_5XX: { responseParameters: cors } } as any,
    routes: [
        { path: "/echo/{proxy+}", method: "GET", eventHandler: echo, apiKeyRequired: true },
        { path: "/echo", method: "POST", eventHandler: echo, apiKeyRequired: true },
        { path: "/respond", method: "POST", eventHandler: respond },
        { path: "/slow", method: "GET", eventHandler: slow },
        { path: "/preflight", method: "OPTIONS", data: { "x-amazon-apigateway-integration": { type: "mock", contentHandling: "CONVERT_TO_TEXT",
            requestTemplates: { "application/json": '{"statusCode": 204}' },
            responses: { "204": { statusCode: "204", responseParameters: { "method.response.header.Access-Control-Allow-Origin": "'${ORIGIN}'" } }, default: { statusCode: "200" } } } } },
    ],
});

// Gateway responses mapping a header value HTTP cannot carry ("€"): Node refuses to send them.
const ok = { path: "/ok", method: "GET", data: { "x-amazon-apigateway-integration": { type: "mock", contentHandling: "CONVERT_TO_TEXT",
    requestTemplates: { "application/json": '{"statusCode": 200}' }, responses: { default: { statusCode: "200" } } } } } as any;
const unsendable = { "gatewayresponse.header.X-Note": "'€'" };
new awsx.classic.apigateway.API("half-broken", {
    stageName: "v2", routes: [ok],
    gatewayResponses: { MISSING_AUTHENTICATION_TOKEN: { statusCode: 404, responseParameters: unsendable }, DEFAULT_5XX: { responseParameters: cors } } as any,
});
new awsx.classic.apigateway.API("broken", {
    stageName: "v3", routes: [ok],
    gatewayResponses: { MISSING_AUTHENTICATION_TOKEN: { statusCode: 404, responseParameters: unsendable }, DEFAULT_5XX: { responseParameters: unsendable } } as any,
});

const roomy = new aws.apigateway.UsagePlan("roomy", { apiStages: [{ apiId: api.restAPI.id, stage: api.stage.stageName }], throttleSettings: { rateLimit: 10000, burstLimit: 5000 } });
const tight = new aws.apigateway.UsagePlan("tight", { apiStages: [{ apiId: api.restAPI.id, stage: api.stage.stageName }], quotaSettings: { limit: 2, period: "DAY" } });
const member = new aws.apigateway.ApiKey("member", { enabled: true });
const counted = new aws.apigateway.ApiKey("counted", { enabled: true });
new aws.apigateway.UsagePlanKey("member", { keyId: member.id, keyType: "API_KEY", usagePlanId: roomy.id });
new aws.apigateway.UsagePlanKey("counted", { keyId: counted.id, keyType: "API_KEY", usagePlanId: tight.id });

export const url = api.url;
`;
        const programDir = path.join(process.cwd(), ".local", "fixtures", `hardened-${process.pid}`);
        let cloud: LocalCloud;
        let memberKey: string;
        const requests: RequestLog[] = [];
        const lines: string[] = [];
        const url = (p: string) => `${cloud.stageUrls["v1"]}${p}`;
        /** The request-log entries of one answer (by its request id). */
        const logged = (r: HttpResult) => requests.filter((e) => e.requestId === r.headers.get("x-amzn-requestid"));
        const expectAnswered = (r: HttpResult, status: number) => {
            expect(r.status, r.text).to.equal(status);
            expect(r.headers.get("x-amzn-requestid"), r.text).to.match(/^[0-9a-f-]{36}$/);
            expect(logged(r), r.text).to.have.length(1);
            expect(logged(r)[0]!.status).to.equal(status);
        };
        const waitFor = async (what: string, done: () => boolean, ms = 5000) => {
            const until = Date.now() + ms;
            while (!done()) {
                if (Date.now() > until) {
                    throw new Error(`timed out waiting for ${what}; log: ${JSON.stringify(lines)}`);
                }
                await new Promise((r) => setTimeout(r, 20));
            }
        };
        /** Writes raw HTTP on a socket of its own and returns it (errors ignored: the test closes it). */
        const rawSocket = (text: string) => {
            const socket = net.connect(cloud.port, "127.0.0.1");
            socket.on("error", () => undefined);
            socket.write(text);
            return socket;
        };

        /** A GET through Node's own client, with headers set one by one. */
        const nodeGet = (target: string, headers: [string, string][]) =>
            new Promise<HttpResult>((resolve, reject) => {
                const req = http.request(target, (res) => {
                    const chunks: Buffer[] = [];
                    res.on("data", (c: Buffer) => chunks.push(c));
                    res.on("end", () => {
                        const text = Buffer.concat(chunks).toString("utf8");
                        const answerHeaders = new Headers();
                        for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) {
                            answerHeaders.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
                        }
                        resolve({ status: res.statusCode!, headers: answerHeaders, text, json: JSON.parse(text) });
                    });
                });
                req.on("error", reject);
                headers.forEach(([name, value]) => req.setHeader(name, value));
                req.end();
            });

        before(async () => {
            writeTestProgram(programDir, "hardened", PROGRAM);
            cloud = await startTestCloud({
                stack: "v1",
                projectDir: programDir,
                stateDir: tempStateDir("hardened"),
                onRequest: (entry) => requests.push(entry),
                onFunctionLog: (line) => lines.push(line),
            });
            memberKey = cloud.apiKeys["member"]!;
        });

        beforeEach(() => {
            lines.length = 0;
        });

        after(async () => {
            await cloud?.close();
            if (cloud) {
                removeStateDir(cloud.stateDir);
            }
            fs.rmSync(programDir, { recursive: true, force: true });
        });

        it("hands hostile query names to the function as API Gateway would", async () => {
            const r = await call(url(`echo/a?${HOSTILE.map((n, i) => `${n}=${i}`).join("&")}&toString=again`), {
                headers: { "x-api-key": memberKey },
            });
            expectAnswered(r, 200);
            expect(r.json.queryStringParameters).to.deep.equal(
                own([
                    ["constructor", "0"],
                    ["__proto__", "1"],
                    ["toString", "again"],
                    ["hasOwnProperty", "3"],
                    ["valueOf", "4"],
                ]),
            );
            expect(r.json.multiValueQueryStringParameters).to.deep.equal(
                own([
                    ["constructor", ["0"]],
                    ["__proto__", ["1"]],
                    ["toString", ["2", "again"]],
                    ["hasOwnProperty", ["3"]],
                    ["valueOf", ["4"]],
                ]),
            );
            expect(lines).to.deep.equal([]);
        });

        it("hands hostile header names to the function, and still reads the key header", async () => {
            // fetch drops a header named __proto__; Node's client sends what it is given.
            const r = await nodeGet(url("echo/a"), [
                ...HOSTILE.map((n): [string, string] => [n, `h-${n}`]),
                ["X-Api-Key", memberKey],
            ]);
            expectAnswered(r, 200);
            for (const name of HOSTILE) {
                expect(Object.hasOwn(r.json.headers, name), name).to.equal(true);
                expect(r.json.headers[name]).to.equal(`h-${name}`);
                expect(r.json.multiValueHeaders[name]).to.deep.equal([`h-${name}`]);
            }
            expect(r.json.requestContext.identity.apiKey).to.equal(memberKey);
            expect(lines).to.deep.equal([]);
        });

        it("treats hostile stage names, key values and Content-Types as names: the usual answers, with CORS where the API adds it", async () => {
            for (const name of HOSTILE) {
                const stage = await call(`${cloud.url}/${name}/echo`);
                expectAnswered(stage, 403);
                expect(stage.text).to.equal('{"message":"Forbidden"}');
                const key = await call(url("echo/a"), { headers: { "x-api-key": name } });
                expectAnswered(key, 403);
                expect(key.headers.get("access-control-allow-origin")).to.equal(ORIGIN);
                const preflight = await call(url("preflight"), {
                    method: "OPTIONS",
                    headers: { "Content-Type": name },
                });
                expectAnswered(preflight, 204);
                expect(preflight.headers.get("access-control-allow-origin")).to.equal(ORIGIN);
            }
            expect(lines).to.deep.equal([]);
        });

        it("passes a function's headers with hostile names to the client", async () => {
            const r = await call(url("respond"), {
                method: "POST",
                body: { statusCode: 200, headers: own(HOSTILE.map((n) => [n, `r-${n}`])), body: "ok" },
            });
            expectAnswered(r, 200);
            for (const name of HOSTILE) {
                expect(r.headers.get(name), name).to.equal(`r-${name}`);
            }
        });

        it("answers a function header that HTTP cannot carry with the API's 502, not a bare 500", async () => {
            const r = await call(url("respond"), {
                method: "POST",
                body: { statusCode: 200, headers: { "X-Bad": "a\u0001b" }, body: "ok" },
            });
            expectAnswered(r, 502);
            expect(r.headers.get("access-control-allow-origin")).to.equal(ORIGIN);
            expect(r.headers.get("x-amzn-errortype")).to.equal("InternalServerErrorException");
            expect(lines).to.have.length(1);
            expect(lines[0]).to.match(/Malformed Lambda proxy response: headers: the value of X-Bad holds characters/);
        });

        it("answers its own fault with the generic 500, the API's CORS headers, a request id, a request-log line and one log line", async () => {
            const pool = cloud.functionPool("echo")!;
            pool.invoke = async () => {
                throw new Error("injected pool fault");
            };
            try {
                const r = await call(url("echo/a"), { headers: { "x-api-key": memberKey, Origin: ORIGIN } });
                expectAnswered(r, 500);
                // The API overrides DEFAULT_5XX (CORS) without a template: AWS's default template, no space.
                expect(r.text).to.equal('{"message":"Internal server error"}');
                expect(r.headers.get("access-control-allow-origin")).to.equal(ORIGIN);
                expect(r.headers.get("x-amzn-errortype")).to.equal("InternalServerErrorException");
                expect(logged(r)[0]).to.include({ refusal: "internal error", consumer: "member" });
                expect(lines).to.have.length(1);
                expect(lines[0])
                    .to.include("GET /v1/echo/a: internal error, answered 500")
                    .and.include(r.headers.get("x-amzn-requestid")!)
                    .and.include("injected pool fault");
                expect(lines[0]).to.not.include("\n");
            } finally {
                delete (pool as { invoke?: unknown }).invoke;
            }
            expectAnswered(await call(url("echo/a"), { headers: { "x-api-key": memberKey } }), 200);
        });

        it("answers with the API's generic 500 when Node refuses the headers of an answer, and without them when it refuses those too", async () => {
            expectAnswered(await call(`${cloud.url}/v2/ok`), 200);
            const half = await call(`${cloud.url}/v2/nothing-here`);
            expectAnswered(half, 500);
            expect(half.text).to.equal('{"message":"Internal server error"}');
            expect(half.headers.get("access-control-allow-origin")).to.equal(ORIGIN);
            expect(logged(half)[0]).to.include({ refusal: "internal error" });
            expect(lines).to.have.length(1);
            expect(lines[0]).to.match(
                /^\[gateway\] GET \/v2\/nothing-here: internal error, answered 500 \(request [0-9a-f-]{36}\): TypeError: Invalid character in header content \["X-Note"\]/,
            );
            lines.length = 0;
            const broken = await call(`${cloud.url}/v3/nothing-here`);
            expectAnswered(broken, 500);
            expect(broken.text).to.equal('{"message": "Internal server error"}');
            expect(broken.headers.get("x-amzn-errortype")).to.equal("InternalServerErrorException");
            expect(lines).to.have.length(2);
            expect(lines[1]).to.include("GET /v3/nothing-here: the API's DEFAULT_5XX headers cannot be sent");
            expect(lines.join("")).to.not.include("\n");
        });

        it("logs one line for a client that closes mid-body, charges nothing for it and keeps serving", async () => {
            const key = cloud.apiKeys["counted"]!;
            const before = requests.length;
            for (let i = 0; i < 3; i++) {
                const socket = rawSocket(
                    `POST /v1/echo HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: ${key}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"partial":`,
                );
                await new Promise((r) => setTimeout(r, 50));
                socket.destroy();
                await waitFor("the aborted request's log line", () => lines.length === i + 1);
            }
            await new Promise((r) => setTimeout(r, 100));
            expect(lines).to.deep.equal(
                Array(3).fill(
                    "[gateway] client closed the connection: POST /v1/echo (before the end of the request; not counted)",
                ),
            );
            expect(requests.length).to.equal(before);
            // The key's quota of 2 is untouched by the aborted requests.
            const statuses = [];
            for (let i = 0; i < 3; i++) {
                statuses.push(
                    (await call(url("echo"), { method: "POST", headers: { "x-api-key": key }, body: {} })).status,
                );
            }
            expect(statuses).to.deep.equal([200, 200, 429]);
        });

        /** Writes raw HTTP and collects what comes back until the server closes the connection (or `ms` pass). */
        const rawExchange = (text: string, ms = 3000) =>
            new Promise<{ text: string; closed: boolean; elapsedMs: number }>((resolve) => {
                const started = Date.now();
                const socket = rawSocket(text);
                let received = "";
                socket.on("data", (chunk: Buffer) => {
                    received += chunk.toString("latin1");
                });
                const timer = setTimeout(() => {
                    socket.destroy();
                    resolve({ text: received, closed: false, elapsedMs: Date.now() - started });
                }, ms);
                socket.on("close", () => {
                    clearTimeout(timer);
                    resolve({ text: received, closed: true, elapsedMs: Date.now() - started });
                });
            });

        it("answers a Content-Length over the 10 MB limit with 413 at once, before any body arrives, and closes the connection when none follows", async () => {
            const over = 10 * 1024 * 1024 + 1;
            const sent = await rawExchange(
                `POST /v1/echo HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: ${memberKey}\r\nContent-Type: application/json\r\nContent-Length: ${over}\r\n\r\n`,
            );
            expect(sent.text).to.match(/^HTTP\/1\.1 413 /);
            expect(sent.text).to.match(/\r\nx-amzn-ErrorType: RequestTooLargeException\r\n/i);
            expect(sent.text.endsWith('{"message":"Request Too Long"}')).to.equal(true);
            // Answered, and the connection closed, without the body: no wait for Node's request timeout.
            expect(sent.closed).to.equal(true);
            expect(sent.elapsedMs).to.be.below(3000);
            const id = /x-amzn-RequestId: ([0-9a-f-]{36})/i.exec(sent.text)?.[1];
            expect(requests.filter((e) => e.requestId === id).map((e) => e.status)).to.deep.equal([413]);
            expectAnswered(
                await call(url("echo"), { method: "POST", headers: { "x-api-key": memberKey }, body: {} }),
                200,
            );
        });

        it("answers CONNECT as API Gateway answers a request outside any stage (403), then closes: no tunnel", async () => {
            const sent = await rawExchange("CONNECT 127.0.0.1:443 HTTP/1.1\r\nHost: 127.0.0.1:443\r\n\r\n");
            expect(sent.text).to.match(/^HTTP\/1\.1 403 /);
            expect(sent.text).to.match(/\r\nx-amzn-ErrorType: ForbiddenException\r\n/i);
            expect(sent.text).to.match(/\r\nConnection: close\r\n/i);
            expect(sent.text).to.include('{"message":"Forbidden"}');
            expect(sent.closed).to.equal(true);
            const id = /x-amzn-RequestId: ([0-9a-f-]{36})/i.exec(sent.text)?.[1];
            expect(requests.filter((e) => e.requestId === id).map((e) => [e.method, e.status])).to.deep.equal([
                ["CONNECT", 403],
            ]);
        });

        it("answers a console or control-plane path whose percent-encoding does not decode with 400, not a 500", async () => {
            for (const bad of ["api/requests/%", "api/requests/%zz", "api/requests/%C3%28"]) {
                const r = await call(`${cloud.url}/_local/${bad}`);
                expect(r.status, `${bad}: ${r.text}`).to.equal(400);
                expect(r.json.message).to.include("Malformed path");
            }
            expect(
                (await call(`${cloud.url}/_local/api/requests/${encodeURIComponent("no such id")}`)).status,
            ).to.equal(404);
            // The control plane's own answer for the same mistake: AWS's BadRequestException.
            const control = await call(`${cloud.controlPlaneUrl}/apikeys/%`);
            expect(control.status, control.text).to.equal(400);
            expect(control.headers.get("x-amzn-errortype")).to.equal("BadRequestException");
        });

        it("logs one line for a client that closes before the answer, and keeps serving", async () => {
            const socket = rawSocket("GET /v1/slow?ms=700 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
            await waitFor("the function to start", () => cloud.functionStats()["slow"]!.busy > 0);
            socket.destroy();
            await waitFor("the closed request's log line", () => lines.length > 0);
            await new Promise((r) => setTimeout(r, 100));
            expect(lines).to.have.length(1);
            expect(lines[0]).to.match(
                /^\[gateway\] client closed the connection: GET \/v1\/slow \(before the answer; 200 not sent, request [0-9a-f-]{36}\)$/,
            );
            const id = /request ([0-9a-f-]{36})/.exec(lines[0]!)![1];
            expect(requests.filter((e) => e.requestId === id)).to.have.length(1);
            expectAnswered(await call(url("slow?ms=0")), 200);
        });
    });
});
