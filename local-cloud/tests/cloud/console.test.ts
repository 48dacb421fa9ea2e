// The console's HTTP side (console/console.ts, console/feed.ts) without a browser, with a program of
// its own: a REST API from an OpenAPI body with three stages (`v1` with a JSON access log, `quiet` and
// `spare` without), a MOCK route behind an API key, and a Lambda that logs and throws. It checks the
// page and its assets (this origin only), the loopback guard, the overview (secrets masked, no key
// values), the reference document (the program's own through `openApiDocument`, else the recorded
// body, pointed at the local stage), the live events (replayed on connect, then live, resumed with
// Last-Event-ID), a 5xx linked to its function's log line with or without an access log, the
// console's own control-plane reads kept out of the request log, the ring buffer's bounds, and the
// start refused when a stage is named like the console's path (with `console: false` and another
// path as the ways out). tests/cloud/console.browser.test.ts drives the page itself in Chromium.
import { expect } from "chai";
import * as fs from "node:fs";
import * as http from "node:http";
import * as net from "node:net";
import * as path from "node:path";
import { CONSOLE_HEADER, DEFAULT_CONSOLE_PATH, normalizeConsolePath, type ConsoleStage } from "../../console/console";
import { BYTES_PER_TURN, EVENT_LIMIT, FUNCTION_LOG_IDS, RequestFeed } from "../../console/feed";
import type { LocalCloud, RequestLog } from "../../types";
import { call, removeStateDir, startTestCloud, tempStateDir, writeTestProgram } from "../../testing";

/* eslint-disable @typescript-eslint/no-explicit-any */

const PROGRAM = String.raw`
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

const config = new pulumi.Config();
const extraStage = config.get("extraStage");

const handler = [
    "exports.handler = async (event) => {",
    "    console.log('api request ' + event.requestContext.requestId);",
    "    if (event.path === '/boom') { console.error('boom: the table is gone'); throw new Error('boom'); }",
    "    return { statusCode: 201, body: JSON.stringify({ made: true }) };",
    "};",
].join("\n");
const fn = new aws.lambda.Function("worker", {
    role: "arn:aws:iam::123456789012:role/worker", runtime: "nodejs16.x", handler: "index.handler", timeout: 5,
    code: new pulumi.asset.AssetArchive({ "index.js": new pulumi.asset.StringAsset(handler) }),
});
const table = new aws.dynamodb.Table("things", { attributes: [{ name: "pk", type: "S" }, { name: "sk", type: "S" }], hashKey: "pk", rangeKey: "sk", billingMode: "PAY_PER_REQUEST" });
const mock = {
    type: "mock",
    requestTemplates: { "application/json": '{"statusCode": 200}' },
    responses: { default: { statusCode: "200", responseTemplates: { "application/json": '{"ok": true}' } } },
};
const lambda = { type: "aws_proxy", httpMethod: "POST", uri: fn.invokeArn };
const keyed = [{ api_key: [] as string[] }];
const body = pulumi.jsonStringify({
    swagger: "2.0",
    info: { title: "consoled", version: "1" },
    securityDefinitions: { api_key: { type: "apiKey", name: "x-api-key", in: "header" } },
    paths: {
        "/hello": { get: { security: keyed, "x-amazon-apigateway-integration": mock } },
        "/items/{id}": { post: { security: keyed, "x-amazon-apigateway-integration": lambda } },
        "/boom": { get: { "x-amazon-apigateway-integration": lambda } },
    },
});
const api = new aws.apigateway.RestApi("consoled", { body });
// API Gateway may invoke the function from this API (any stage, method and path), as on AWS.
new aws.lambda.Permission("worker", { action: "lambda:InvokeFunction", function: fn.name, principal: "apigateway.amazonaws.com", sourceArn: api.executionArn.apply((arn) => arn + "/*/*/*") });
const deployment = new aws.apigateway.Deployment("consoled", { restApi: api.id });
const group = new aws.cloudwatch.LogGroup("access", { retentionInDays: 7 });
const format = JSON.stringify({ requestId: "$context.requestId", status: "$context.status", integrationRequestId: "$context.integration.requestId" });
const stages = [
    new aws.apigateway.Stage("v1", { restApi: api.id, deployment: deployment.id, stageName: "v1", accessLogSettings: { destinationArn: group.arn, format } }),
    new aws.apigateway.Stage("quiet", { restApi: api.id, deployment: deployment.id, stageName: "quiet" }),
    new aws.apigateway.Stage("spare", { restApi: api.id, deployment: deployment.id, stageName: "spare" }),
    ...(extraStage ? [new aws.apigateway.Stage("extra", { restApi: api.id, deployment: deployment.id, stageName: extraStage })] : []),
];
const plan = new aws.apigateway.UsagePlan("plan", {
    apiStages: stages.map((s) => ({ apiId: api.id, stage: s.stageName })),
    quotaSettings: { limit: 100, period: "DAY" },
    throttleSettings: { burstLimit: 50, rateLimit: 50 },
});
const member = new aws.apigateway.ApiKey("member", {});
new aws.apigateway.UsagePlanKey("member", { keyId: member.id, keyType: "API_KEY", usagePlanId: plan.id });

export const tableName = table.name;
export const memberKey = pulumi.secret(member.value);
`;

interface Events {
    /** Every event received so far, in order: `{ type, id, data }`. */
    received: { type: string; id?: string; data: any }[];
    waitFor(
        predicate: (e: { type: string; id?: string; data: any }) => boolean,
        what: string,
    ): Promise<{ type: string; id?: string; data: any }>;
    close(): void;
}

/** An EventSource's view of `url`, parsed as the browser would (event, id, data lines; blank line ends one). */
function openEvents(url: string, headers: Record<string, string> = {}): Promise<Events> {
    return new Promise((resolve, reject) => {
        const received: Events["received"] = [];
        const waiters: (() => void)[] = [];
        const req = http.get(url, { headers: { Accept: "text/event-stream", ...headers } }, (res) => {
            if (res.statusCode !== 200 || !String(res.headers["content-type"]).startsWith("text/event-stream")) {
                reject(new Error(`events: ${res.statusCode} ${res.headers["content-type"]}`));
                return;
            }
            let buffer = "";
            res.setEncoding("utf8");
            res.on("data", (chunk: string) => {
                buffer += chunk;
                let end: number;
                while ((end = buffer.indexOf("\n\n")) >= 0) {
                    const block = buffer.slice(0, end);
                    buffer = buffer.slice(end + 2);
                    const fields = Object.fromEntries(
                        block
                            .split("\n")
                            .filter((l) => !l.startsWith(":") && l.includes(": "))
                            .map((l) => [l.slice(0, l.indexOf(": ")), l.slice(l.indexOf(": ") + 2)]),
                    );
                    if (fields["data"] !== undefined) {
                        received.push({
                            type: fields["event"] ?? "message",
                            id: fields["id"],
                            data: JSON.parse(fields["data"]),
                        });
                        waiters.splice(0).forEach((wake) => wake());
                    }
                }
            });
            resolve({
                received,
                waitFor: async (predicate, what) => {
                    const deadline = Date.now() + 10_000;
                    for (;;) {
                        const found = received.find(predicate);
                        if (found) {
                            return found;
                        }
                        if (Date.now() > deadline) {
                            throw new Error(
                                `no event ${what} in ${JSON.stringify(received.map((e) => [e.type, e.id]))}`,
                            );
                        }
                        await new Promise<void>((wake) => {
                            waiters.push(wake);
                            setTimeout(wake, 200);
                        });
                    }
                },
                close: () => req.destroy(),
            });
        });
        req.on("error", reject);
    });
}

/**
 * A browser tab that stopped reading: it asks for the events and never reads a byte of the answer
 * (paused before it connects, so not even Node's own buffer takes any).
 */
function stalledEvents(url: string): Promise<net.Socket> {
    const { hostname, port, pathname, host } = new URL(url);
    return new Promise((resolve, reject) => {
        const socket = net.connect(Number(port), hostname, () => {
            socket.write(`GET ${pathname} HTTP/1.1\r\nHost: ${host}\r\nAccept: text/event-stream\r\n\r\n`);
            resolve(socket);
        });
        socket.pause();
        socket.on("error", reject);
    });
}

const waitUntil = async (condition: () => boolean, what: string) => {
    for (const deadline = Date.now() + 10_000; !condition();) {
        if (Date.now() > deadline) {
            throw new Error(`timed out waiting for ${what}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
    }
};

/** A raw GET with a chosen Host header (fetch does not let a caller set one). */
function getWithHost(url: string, host: string): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
        http.get(url, { headers: { Host: host } }, (res) => {
            let text = "";
            res.setEncoding("utf8");
            res.on("data", (c: string) => (text += c));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
        }).on("error", reject);
    });
}

describe("local cloud: the console's pages, JSON and events (no browser)", function () {
    const programDir = path.join(process.cwd(), ".local", "fixtures", `console-${process.pid}`);
    let cloud: LocalCloud;
    const requests: RequestLog[] = [];
    const asked: ConsoleStage[] = [];
    const consoleUrl = (p = "") => `${cloud.consoleUrl}${p}`;
    const memberKey = () => cloud.apiKeys["member"]!;

    before(async () => {
        writeTestProgram(programDir, "consoled", PROGRAM, "config:\n  aws:region: eu-west-1\n");
        cloud = await startTestCloud({
            stack: "v1",
            projectDir: programDir,
            stateDir: tempStateDir("console"),
            onRequest: (entry) => requests.push(entry),
            // The program's own document for v1, none for quiet (the recorded body), a failure for spare.
            openApiDocument: (stage) => {
                asked.push(stage);
                if (stage.name === "spare") {
                    throw new Error("no document for spare");
                }
                return stage.name === "v1"
                    ? {
                          openapi: "3.0.3",
                          info: { title: "from the program", version: "9" },
                          servers: [{ url: "https://example.invalid/v1" }],
                          paths: { "/hello": { get: { responses: { 200: { description: "ok" } } } } },
                          components: { securitySchemes: { key: { type: "apiKey", in: "header", name: "X-Api-Key" } } },
                      }
                    : undefined;
            },
        });
    });

    after(async () => {
        await cloud?.close();
        if (cloud) {
            removeStateDir(cloud.stateDir);
        }
        fs.rmSync(programDir, { recursive: true, force: true });
    });

    it("serves the page at /_local/ on the cloud's port, with every asset from this origin", async () => {
        expect(cloud.consoleUrl).to.equal(`${cloud.url}${DEFAULT_CONSOLE_PATH}`);
        const page = await call(consoleUrl());
        expect(page.status).to.equal(200);
        expect(page.headers.get("content-type")).to.match(/^text\/html/);
        expect(page.headers.get("content-security-policy"))
            .to.include("default-src 'self'")
            .and.include("connect-src 'self'");
        // Nothing from the internet: every src and href is relative.
        const links = [...page.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
        expect(links).to.include.members([
            "console.js",
            "console.css",
            "vendor/swagger-ui/swagger-ui-bundle.js",
            "vendor/swagger-ui/swagger-ui.css",
        ]);
        expect(
            links.filter((l) => /^[a-z]+:|^\/\//i.test(l) && !l.startsWith("#")),
            "absolute links",
        ).to.deep.equal([]);
        for (const asset of links.filter((l) => !l.startsWith("#"))) {
            const r = await call(consoleUrl(asset));
            expect(r.status, asset).to.equal(200);
            expect(r.text.length, asset).to.be.greaterThan(100);
        }
        expect((await call(consoleUrl("console.js"))).headers.get("content-type")).to.match(/^text\/javascript/);
        const js = fs.readFileSync(path.join(__dirname, "..", "..", "console", "static", "console.js"), "utf8");
        expect(js, "the page's script names no other origin").not.to.match(/https?:\/\//);
        // Only the files the page loads from swagger-ui-dist, nothing else of node_modules.
        expect((await call(consoleUrl("vendor/swagger-ui/package.json"))).status).to.equal(404);
        expect((await call(consoleUrl("vendor/swagger-ui/../../package.json"))).status).to.equal(404);
        expect((await call(consoleUrl("nothing-here"))).status).to.equal(404);
    });

    it("redirects the path without its slash, reads only, and answers loopback host names only", async () => {
        const bare = await fetch(`${cloud.url}/_local?x=1`, { redirect: "manual" });
        expect(bare.status).to.equal(308);
        expect(bare.headers.get("location")).to.equal("/_local/?x=1");
        expect((await call(consoleUrl("api/overview"), { method: "POST", body: {} })).status).to.equal(405);
        // A page elsewhere that rebinds its DNS name to 127.0.0.1 still sends its own Host.
        const port = new URL(cloud.url).port;
        const rebound = await getWithHost(consoleUrl("api/overview"), `attacker.example:${port}`);
        expect(rebound.status).to.equal(403);
        expect(rebound.text).to.include("only this machine");
        expect((await getWithHost(consoleUrl("api/overview"), `localhost:${port}`)).status).to.equal(200);
    });

    it("overview: stages, routes and their functions, tables, outputs with secrets masked, warnings; no key values", async () => {
        const r = await call(consoleUrl("api/overview"));
        expect(r.status).to.equal(200);
        const o = r.json;
        expect(o).to.include({
            stack: "v1",
            url: cloud.url,
            consolePath: "/_local/",
            controlPlanePath: "/.aws/apigateway",
            consoleHeader: CONSOLE_HEADER,
            region: "eu-west-1",
        });
        // In the recording's order (which varies between runs), as cloud.stageUrls has them.
        expect(o.stages.map((s: any) => [s.name, s.url, s.accessLog]).sort()).to.deep.equal([
            ["quiet", cloud.stageUrls["quiet"], false],
            ["spare", cloud.stageUrls["spare"], false],
            ["v1", cloud.stageUrls["v1"], true],
        ]);
        expect(o.stages[0].url).to.equal(cloud.stageUrl);
        expect(o.routes).to.deep.include({
            method: "GET",
            path: "/quiet/boom",
            apiKeyRequired: false,
            integration: "worker",
        });
        expect(o.routes).to.deep.include({
            method: "GET",
            path: "/v1/hello",
            apiKeyRequired: true,
            integration: "mock",
        });
        expect(o.functions).to.deep.equal([
            {
                logicalName: "worker",
                name: cloud.model.functions[0]!.name,
                runtime: "nodejs16.x",
                handler: "index.handler",
                timeoutSeconds: 5,
                memorySize: 128,
            },
        ]);
        expect(o.tables).to.deep.equal([
            { logicalName: "things", name: cloud.outputs["tableName"], hashKey: "pk", rangeKey: "sk", indexes: [] },
        ]);
        expect(o.outputs).to.deep.equal([
            { name: "memberKey", secret: true, value: "[secret]" },
            { name: "tableName", secret: false, value: cloud.outputs["tableName"] },
        ]);
        expect(o.apiKeys).to.deep.equal([
            {
                logicalName: "member",
                id: cloud.model.apiKeys[0]!.id,
                name: cloud.model.apiKeys[0]!.name ?? "member",
                enabled: true,
            },
        ]);
        expect(r.text, "no key value anywhere in the overview").not.to.include(memberKey());
        // The host's Node is not 16: the same warning `npm start` prints.
        expect(o.warnings.join("\n")).to.match(
            /function worker is deployed on nodejs16\.x but runs here on this machine's Node/,
        );
        expect(o.now).to.be.closeTo(Date.now(), 60_000);
    });

    it("reference: the program's document when it gives one, pointed at the local stage; else the recorded body", async () => {
        const first = await call(consoleUrl("api/openapi"));
        expect(first.json.url, "the first stage by default").to.equal(cloud.stageUrl);
        const own = await call(consoleUrl("api/openapi?stage=v1"));
        expect(own.status).to.equal(200);
        expect(own.json).to.include({
            stage: "v1",
            url: cloud.stageUrls["v1"],
            source: "program",
            apiKeyScheme: "key",
        });
        expect(own.json.document.info.title).to.equal("from the program");
        expect(own.json.document.servers, "only the local stage: try-it never calls elsewhere").to.deep.equal([
            { url: cloud.stageUrls["v1"]!.replace(/\/$/, ""), description: "This local cloud's stage" },
        ]);
        expect(asked.find((s) => s.name === "v1")).to.deep.include({
            name: "v1",
            url: cloud.stageUrls["v1"],
            region: "eu-west-1",
            port: cloud.port,
            api: "consoled",
        });

        const recorded = await call(consoleUrl("api/openapi?stage=quiet"));
        expect(recorded.json).to.include({ stage: "quiet", source: "recorded", apiKeyScheme: "api_key" });
        expect(recorded.json.note).to.equal(undefined);
        expect(recorded.json.document).to.include({
            swagger: "2.0",
            host: new URL(cloud.url).host,
            basePath: "/quiet",
        });
        expect(recorded.json.document.schemes).to.deep.equal(["http"]);
        expect(Object.keys(recorded.json.document.paths)).to.deep.equal(["/hello", "/items/{id}", "/boom"]);

        const failed = await call(consoleUrl("api/openapi?stage=spare"));
        expect(failed.json).to.include({ stage: "spare", source: "recorded" });
        expect(failed.json.note).to.include("no document for spare");

        expect((await call(consoleUrl("api/openapi?stage=nope"))).status).to.equal(404);
    });

    it("events: the kept requests on connect, then each new one; Last-Event-ID resumes after it", async () => {
        const hello = await call(`${cloud.stageUrls["v1"]}hello`, { headers: { "x-api-key": memberKey() } });
        const denied = await call(`${cloud.stageUrls["v1"]}hello`);
        expect([hello.status, denied.status]).to.deep.equal([200, 403]);
        const events = await openEvents(consoleUrl("api/events"));
        try {
            const ready = await events.waitFor((e) => e.type === "ready", "ready");
            const replayed = events.received.filter((e) => e.type === "request");
            const first = replayed.find((e) => e.data.requestId === hello.headers.get("x-amzn-requestid"));
            expect(first?.data).to.include({ method: "GET", path: "/v1/hello", status: 200, consumer: "member" });
            // Ids are `<boot>-<seq>`, the boot announced first: numbers restart with every process.
            const boot = events.received.find((e) => e.type === "hello")?.data.boot as string;
            expect(boot).to.match(/^[0-9a-f]{8}$/);
            expect(first?.id).to.equal(`${boot}-${first?.data.seq}`);
            expect(first?.data.accessLog).to.be.a("string");
            const refused = replayed.find((e) => e.data.requestId === denied.headers.get("x-amzn-requestid"));
            expect(refused?.data).to.include({ status: 403, refusal: "INVALID_API_KEY" });
            expect(refused?.data.consumer).to.equal(undefined);
            expect(ready.data.limit).to.equal(EVENT_LIMIT);

            const made = await call(`${cloud.stageUrls["quiet"]}items/7`, {
                method: "POST",
                headers: { "x-api-key": memberKey() },
                body: { a: 1 },
            });
            expect(made.status).to.equal(201);
            const live = await events.waitFor(
                (e) => e.type === "request" && e.data.requestId === made.headers.get("x-amzn-requestid"),
                "for the POST",
            );
            expect(live.data).to.include({ method: "POST", path: "/quiet/items/7", status: 201, consumer: "member" });
            expect(live.data.functionRequestId).to.match(/^[0-9a-f-]{36}$/);
            expect(live.data.latencyMs).to.be.a("number");

            // A reconnect says the last id it saw: only what came after is sent again.
            const resumed = await openEvents(consoleUrl("api/events"), { "Last-Event-ID": refused!.id! });
            try {
                await resumed.waitFor((e) => e.type === "ready", "ready");
                expect(resumed.received.filter((e) => e.type === "request").map((e) => e.id)).to.deep.equal(
                    events.received
                        .filter((e) => e.type === "request" && e.data.seq > refused!.data.seq)
                        .map((e) => e.id),
                );
            } finally {
                resumed.close();
            }
            // The same number from another process (a restart) replays everything kept.
            const otherBoot = await openEvents(consoleUrl("api/events"), {
                "Last-Event-ID": `00000000-${refused!.data.seq}`,
            });
            try {
                await otherBoot.waitFor((e) => e.type === "ready", "ready");
                expect(otherBoot.received.filter((e) => e.type === "request").length).to.equal(
                    events.received.filter((e) => e.type === "request").length,
                );
            } finally {
                otherBoot.close();
            }
        } finally {
            events.close();
        }
    });

    it("a 5xx leads to its function's log line, with or without an access log", async () => {
        for (const stage of ["quiet", "v1"]) {
            const boom = await call(`${cloud.stageUrls[stage]}boom`);
            expect(boom.status).to.equal(502);
            const requestId = boom.headers.get("x-amzn-requestid")!;
            let detail: any;
            for (
                let i = 0;
                i < 50 && !detail?.functionLog?.some((l: any) => l.line.includes("boom: the table is gone"));
                i++
            ) {
                // The function's lines come through the worker's stdout: they may trail the answer a little.
                detail = (await call(consoleUrl(`api/requests/${requestId}`))).json;
                await new Promise((resolve) => setTimeout(resolve, 20));
            }
            expect(detail.event).to.include({ requestId, status: 502, refusal: "DEFAULT_5XX", path: `/${stage}/boom` });
            const fnId = detail.event.functionRequestId;
            expect(fnId, stage).to.match(/^[0-9a-f-]{36}$/);
            const error = detail.functionLog.find((l: any) => l.line.includes("boom: the table is gone"));
            expect(error, JSON.stringify(detail.functionLog)).to.deep.include({ source: "worker" });
            expect(error.line).to.include(`\t${fnId}\tERROR\t`);
            expect(detail.functionLog.some((l: any) => l.line.includes(`api request ${requestId}`))).to.equal(true);
            if (stage === "v1") {
                // The access log's integration.requestId is the same invocation.
                expect(JSON.parse(detail.event.accessLog).integrationRequestId).to.equal(fnId);
            }
        }
        expect((await call(consoleUrl("api/requests/not-a-request"))).status).to.equal(404);
    });

    it("the console's own control-plane reads stay out of the request log; anyone else's are in it", async () => {
        const before = requests.length;
        const quiet = await call(`${cloud.controlPlaneUrl}/apikeys?includeValues=true`, {
            headers: { [CONSOLE_HEADER]: "1" },
        });
        expect(quiet.status).to.equal(200);
        expect(quiet.json.item[0].value).to.equal(memberKey());
        expect(requests.length).to.equal(before);
        const loud = await call(`${cloud.controlPlaneUrl}/usageplans`);
        expect(loud.status).to.equal(200);
        expect(requests.slice(before).map((e) => e.operation)).to.deep.equal(["GetUsagePlans"]);
        const events = await openEvents(consoleUrl("api/events"));
        try {
            await events.waitFor((e) => e.type === "ready", "ready");
            const operations = events.received
                .filter((e) => e.type === "request" && e.data.operation)
                .map((e) => e.data.operation);
            expect(operations).to.deep.equal(["GetUsagePlans"]);
        } finally {
            events.close();
        }
        // The console's own pages are not requests of the API either.
        expect(requests.some((e) => e.path.startsWith("/_local"))).to.equal(false);
    });

    it("twenty console page loads at once, while API requests run: the reference document is made once, every request answered (issue 18)", async () => {
        const askedBefore = asked.length;
        let stop = false;
        const statuses: number[] = [];
        const api = (async () => {
            while (!stop) {
                statuses.push(
                    (await call(`${cloud.stageUrls["v1"]}hello`, { headers: { "x-api-key": memberKey() } })).status,
                );
            }
        })();
        const pageLoad = async () => {
            const [overview, reference, events] = await Promise.all([
                call(consoleUrl("api/overview")),
                call(consoleUrl("api/openapi?stage=v1")),
                openEvents(consoleUrl("api/events")),
            ]);
            try {
                await events.waitFor((e) => e.type === "ready", "ready");
            } finally {
                events.close();
            }
            return [overview.status, reference.status, reference.text] as const;
        };
        try {
            const loads = await Promise.all(Array.from({ length: 20 }, pageLoad));
            expect(new Set(loads.map(([o, r]) => `${o} ${r}`))).to.deep.equal(new Set(["200 200"]));
            expect(new Set(loads.map(([, , text]) => text)).size, "one answer for all").to.equal(1);
            // Made at most once (the earlier test may have made it for this program version already).
            expect(asked.length - askedBefore, "the program's document built for 20 loads").to.be.at.most(1);
            await new Promise((resolve) => setTimeout(resolve, 50));
        } finally {
            stop = true;
            await api;
        }
        expect(statuses.length).to.be.at.least(1);
        expect(new Set(statuses)).to.deep.equal(new Set([200]));
    });

    it("30 console clients that stop reading keep the server's memory near what it was (issue 18)", async function () {
        // The ring full of the largest events a client can make (paths of ~14 KB: Node's header limit is 16 KB).
        const long = `${cloud.stageUrls["quiet"]}${"x".repeat(14_000)}`;
        for (let i = 0; i < EVENT_LIMIT; i++) {
            expect((await call(`${long}${i}`)).status).to.be.oneOf([403, 404]);
        }
        const idle = process.memoryUsage().rss;
        const stalled: net.Socket[] = [];
        try {
            for (let i = 0; i < 30; i++) {
                stalled.push(await stalledEvents(consoleUrl("api/events")));
            }
            // One that reads, last: its replay done, the server has taken the 30 before it.
            const reader = await openEvents(consoleUrl("api/events"));
            await reader.waitFor((e) => e.type === "ready", "ready");
            reader.close();
            await new Promise((resolve) => setTimeout(resolve, 300));
            const grown = process.memoryUsage().rss - idle;
            // Without a bound each would hold its own copy of the ~7 MB replay (what the kernel does not take).
            expect(
                grown,
                `RSS growth with 30 stalled clients: ${(grown / 1e6).toFixed(1)} MB (idle ${(idle / 1e6).toFixed(0)} MB)`,
            ).to.be.below(60e6);
        } finally {
            stalled.forEach((socket) => socket.destroy());
        }
    });
});

describe("local cloud: the console's feed keeps bounded memory", () => {
    it("keeps at most about 8 MB of function log text, dropping the oldest invocations first", () => {
        const feed = new RequestFeed();
        const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;
        const long = "x".repeat(3900);
        // 1500 invocations × 10 lines × ~4 KB = ~60 MB offered.
        for (let n = 0; n < 1500; n++) {
            for (let k = 0; k < 10; k++) {
                feed.functionLog(`[worker] 2026-03-02T10:00:00.000Z\t${id(n)}\tINFO\t${long}`);
            }
        }
        const newest = feed.record({
            method: "GET",
            path: "/v1/n",
            status: 500,
            latencyMs: 1,
            requestId: "newest",
            functionRequestId: id(1499),
        });
        const oldest = feed.record({
            method: "GET",
            path: "/v1/o",
            status: 500,
            latencyMs: 1,
            requestId: "oldest",
            functionRequestId: id(0),
        });
        expect(feed.detail(newest.requestId)!.functionLog).to.have.length(10);
        expect(feed.detail(oldest.requestId)!.functionLog).to.deep.equal([]);
        const kept = Array.from({ length: 1500 }, (_, n) => n).filter((n) => {
            const e = feed.record({
                method: "GET",
                path: "/v1/k",
                status: 500,
                latencyMs: 1,
                requestId: `k${n}`,
                functionRequestId: id(n),
            });
            return feed.detail(e.requestId)!.functionLog.length > 0;
        }).length;
        expect(kept * 10 * 4000).to.be.at.most(8.5 * 1024 * 1024);
        feed.close();
    });

    it("keeps the last EVENT_LIMIT requests and the log lines of the last FUNCTION_LOG_IDS invocations", () => {
        const feed = new RequestFeed();
        for (let i = 0; i < EVENT_LIMIT + 20; i++) {
            feed.record({ method: "GET", path: `/v1/${i}`, status: 200, latencyMs: 1, requestId: `r${i}` });
        }
        expect(feed.recent()).to.have.length(EVENT_LIMIT);
        expect(feed.recent()[0]!.seq).to.equal(21);
        expect(feed.detail("r0")).to.equal(undefined);

        const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;
        for (let n = 0; n < FUNCTION_LOG_IDS + 5; n++) {
            feed.functionLog(`[worker] 2026-03-02T10:00:00.000Z\t${id(n)}\tINFO\tline ${n}`);
        }
        for (let k = 0; k < 100; k++) {
            feed.functionLog(`[worker] 2026-03-02T10:00:00.000Z\t${id(FUNCTION_LOG_IDS + 4)}\tINFO\tmore ${k}`);
        }
        const last = feed.record({
            method: "GET",
            path: "/v1/x",
            status: 502,
            latencyMs: 1,
            requestId: "last",
            functionRequestId: id(FUNCTION_LOG_IDS + 4),
        });
        expect(feed.detail("last")!.event).to.equal(last);
        expect(feed.detail("last")!.functionLog.length, "lines per invocation are capped").to.be.below(50);
        const oldest = feed.record({
            method: "GET",
            path: "/v1/y",
            status: 502,
            latencyMs: 1,
            requestId: "oldest",
            functionRequestId: id(0),
        });
        expect(feed.detail(oldest.requestId)!.functionLog, "the oldest invocation's lines are gone").to.deep.equal([]);
        // A line without the runtime's prefix (the program's own stdout before a request) is not kept;
        // the rest of a message of several lines (a stack trace) goes with the line that had it.
        feed.functionLog("[worker] cold start");
        feed.functionLog(`[other] 2026-03-02T10:00:00.000Z\t${id(0)}\tERROR\tError: boom`);
        feed.functionLog("[other]     at handler (/var/task/index.js:1:1)");
        expect(feed.detail(oldest.requestId)!.functionLog.map((l) => [l.source, l.line])).to.deep.equal([
            ["other", `[other] 2026-03-02T10:00:00.000Z\t${id(0)}\tERROR\tError: boom`],
            ["other", "[other]     at handler (/var/task/index.js:1:1)"],
        ]);
        feed.close();
    });

    /**
     * A server that hands every request to `feed.subscribe`, noting the bytes each connect wrote before it returned.
     */
    async function feedServer(feed: RequestFeed): Promise<{
        url: string;
        responses: http.ServerResponse[];
        writtenOnConnect: number[];
        maxPerTurn(): number;
        close(): Promise<void>;
    }> {
        const responses: http.ServerResponse[] = [];
        const writtenOnConnect: number[] = [];
        // Bytes written to each response since the last turn of the event loop, and the most seen.
        const sinceTurn = new Map<http.ServerResponse, number>();
        let maxPerTurn = 0;
        let turns = true;
        const turn = () => {
            for (const [res, bytes] of sinceTurn) {
                maxPerTurn = Math.max(maxPerTurn, bytes);
                sinceTurn.set(res, 0);
            }
            if (turns) {
                setImmediate(turn);
            }
        };
        setImmediate(turn);
        const server = http.createServer((req, res) => {
            let written = 0;
            const write = res.write.bind(res) as (chunk: string | Buffer) => boolean;
            res.write = ((chunk: string | Buffer) => {
                written += Buffer.byteLength(chunk);
                sinceTurn.set(res, (sinceTurn.get(res) ?? 0) + Buffer.byteLength(chunk));
                return write(chunk);
            }) as typeof res.write;
            responses.push(res);
            feed.subscribe(req, res);
            writtenOnConnect.push(written);
        });
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        const url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/events`;
        return {
            url,
            responses,
            writtenOnConnect,
            maxPerTurn: () => maxPerTurn,
            close: () => {
                turns = false;
                feed.close();
                server.closeAllConnections();
                return new Promise((resolve) => server.close(() => resolve()));
            },
        };
    }

    /** EVENT_LIMIT requests whose paths are `pathChars` long (a client may send a path of up to ~16 KB). */
    const fillRing = (feed: RequestFeed, pathChars: number) => {
        for (let i = 0; i < EVENT_LIMIT; i++) {
            feed.record({
                method: "GET",
                path: `/v1/${String(i).padStart(pathChars - 4, "x")}`,
                status: 403,
                latencyMs: 1,
                requestId: `big-${i}`,
            });
        }
    };

    it("30 clients that connect and never read hold about one socket buffer each, not a copy of the replay (issue 18)", async () => {
        const feed = new RequestFeed();
        // 500 × 30 KB: a 15 MB replay, more than a loopback socket's kernel buffers take.
        fillRing(feed, 30_000);
        const server = await feedServer(feed);
        const stalled: net.Socket[] = [];
        try {
            for (let i = 0; i < 30; i++) {
                stalled.push(await stalledEvents(server.url));
            }
            await waitUntil(() => feed.stats().clients === 30, "30 clients");
            // Let the sockets fill: whatever the kernel does not take stays in the server's process.
            await new Promise((resolve) => setTimeout(resolve, 200));
            const perClient = server.responses[0]!.writableHighWaterMark + 31_000;
            const { unsentBytes } = feed.stats();
            expect(
                unsentBytes,
                `unsent bytes held for 30 stalled clients (${(unsentBytes / 1e6).toFixed(1)} MB)`,
            ).to.be.at.most(30 * perClient);
            // Each one still gets the events, once it reads.
            const reader = stalled[0]!;
            let tail = "";
            reader.on("data", (chunk: Buffer) => (tail = (tail + chunk.toString("latin1")).slice(-200)));
            reader.resume();
            await waitUntil(() => tail.includes("event: ready"), "the replay of a client that reads again");
        } finally {
            stalled.forEach((socket) => socket.destroy());
            await server.close();
        }
    });

    it("a connect writes at most about one socket buffer before it returns; a reader still gets every kept event once, in order, then live ones (issue 18)", async () => {
        const feed = new RequestFeed();
        // A 2.5 MB replay: written whole, in one go, it would keep the server from its requests.
        fillRing(feed, 5_000);
        const server = await feedServer(feed);
        try {
            const connects = await Promise.all(Array.from({ length: 20 }, () => openEvents(server.url)));
            try {
                // Events that come while the replays are being written go after them, to everyone.
                const during = [
                    feed.record({ method: "GET", path: "/v1/during", status: 200, latencyMs: 1, requestId: "during" }),
                ];
                await Promise.all(connects.map((c) => c.waitFor((e) => e.type === "ready", "ready")));
                const after = feed.record({
                    method: "GET",
                    path: "/v1/after",
                    status: 200,
                    latencyMs: 1,
                    requestId: "after",
                });
                await Promise.all(
                    connects.map((c) =>
                        c.waitFor((e) => e.type === "request" && e.data.requestId === "after", "the live event"),
                    ),
                );
                const limit = server.responses[0]!.writableHighWaterMark + 6_000;
                expect(Math.max(...server.writtenOnConnect), "bytes one connect wrote before returning").to.be.at.most(
                    limit,
                );
                // Nor later: a socket that takes everything at once says `drain` before the event loop
                // moves on, and the replay must not chain write after write there.
                expect(
                    server.maxPerTurn(),
                    "bytes one client was written between two turns of the event loop",
                ).to.be.at.most(2 * (BYTES_PER_TURN + 6_000));
                // Every event, once and in order: the ring's first events were written on connect,
                // before the new ones pushed them out of the ring.
                const replayed = Array.from({ length: during[0]!.seq }, (_, i) => i + 1);
                for (const c of connects) {
                    expect(c.received.map((e) => e.type)[0]).to.equal("hello");
                    const seqs = c.received.filter((e) => e.type === "request").map((e) => e.data.seq as number);
                    expect(seqs).to.deep.equal([...replayed, after.seq]);
                    // After the replay (`during` may come just before or after it), before anything later.
                    expect(
                        c.received.findIndex((e) => e.type === "ready"),
                        "ready once caught up",
                    ).to.be.within(EVENT_LIMIT + 1, replayed.length + 1);
                }
            } finally {
                connects.forEach((c) => c.close());
            }
        } finally {
            await server.close();
        }
    });

    it("normalizes the console path and refuses one that is not plain segments or is the control plane's", () => {
        expect(normalizeConsolePath()).to.equal("/_local/");
        expect(normalizeConsolePath("console")).to.equal("/console/");
        expect(normalizeConsolePath("/a/b/")).to.equal("/a/b/");
        for (const bad of ["/", "", "/../x/", "/a b/", "/.aws/", "/.aws/console/", "/x?y/"]) {
            expect(() => normalizeConsolePath(bad), bad).to.throw(/console path/);
        }
    });
});

describe("local cloud: a stage named like the console's path", function () {
    const programDir = path.join(process.cwd(), ".local", "fixtures", `console-clash-${process.pid}`);
    const stateDirs: string[] = [];
    const start = (options: Partial<Parameters<typeof startTestCloud>[0]> = {}) => {
        const stateDir = tempStateDir("console-clash");
        stateDirs.push(stateDir);
        return startTestCloud({
            stack: "v1",
            projectDir: programDir,
            stateDir,
            config: { "consoled:extraStage": "_local" },
            ...options,
        });
    };

    before(() => {
        writeTestProgram(programDir, "consoled", PROGRAM);
    });

    after(() => {
        stateDirs.forEach(removeStateDir);
        fs.rmSync(programDir, { recursive: true, force: true });
    });

    it("refuses to start, naming --no-console and --console-path", async () => {
        const err = await start().then(
            () => undefined,
            (e: Error) => e,
        );
        expect(err?.name).to.equal("LocalCloudError");
        expect(err?.message)
            .to.include('Stage "_local"')
            .and.include("/_local/")
            .and.include("--no-console")
            .and.include("--console-path");
    });

    it("a reload that adds such a stage fails, and the last good version keeps serving", async () => {
        const stateDir = tempStateDir("console-clash");
        stateDirs.push(stateDir);
        const cloud = await startTestCloud({ stack: "v1", projectDir: programDir, stateDir });
        const stackFile = path.join(programDir, "Pulumi.v1.yaml");
        const original = fs.readFileSync(stackFile, "utf8");
        try {
            fs.writeFileSync(stackFile, `${original}  consoled:extraStage: _local\n`);
            const report = await cloud.reload();
            expect(report.ok).to.equal(false);
            expect(String((report.error as Error)?.message)).to.include("--no-console");
            expect(Object.keys(cloud.stageUrls)).not.to.include("_local");
            expect((await call(`${cloud.consoleUrl}api/overview`)).json.warnings.join("\n")).to.include(
                "reload failed",
            );
        } finally {
            fs.writeFileSync(stackFile, original);
            await cloud.close();
        }
    });

    it("starts with the console off, and the stage answers there", async () => {
        const cloud = await start({ console: false });
        try {
            expect(cloud.consoleUrl).to.equal(undefined);
            const r = await call(`${cloud.stageUrls["_local"]}hello`, {
                headers: { "x-api-key": cloud.apiKeys["member"]! },
            });
            expect(r.status).to.equal(200);
            expect(r.json).to.deep.equal({ ok: true });
        } finally {
            await cloud.close();
        }
    });

    it("starts with the console moved, and both answer", async () => {
        const cloud = await start({ console: { path: "/console/" } });
        try {
            expect(cloud.consoleUrl).to.equal(`${cloud.url}/console/`);
            expect((await call(`${cloud.url}/console/`)).status).to.equal(200);
            expect(
                (await call(`${cloud.url}/_local/hello`, { headers: { "x-api-key": cloud.apiKeys["member"]! } })).json,
            ).to.deep.equal({ ok: true });
            // Without a console, its path is an unknown stage to the gateway: API Gateway's 403.
            expect((await call(`${cloud.url}/elsewhere/`)).status).to.equal(403);
        } finally {
            await cloud.close();
        }
    });
});
