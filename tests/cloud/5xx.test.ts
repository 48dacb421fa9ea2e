// The 5xx answers, produced on purpose against a real local cloud running the real program, and
// each held to the OpenAPI document (tests/support/openApiCheck.ts):
// - 500 from the function: the posts table is deleted behind its back (with the AWS SDK, through
//   the local cloud's DynamoDB endpoint), so the handler's store call fails and the adapter
//   answers `{message, requestId}`;
// - 502 from the gateway: a fixture function that outlives its own timeout. A copy of the program
//   whose getPost handler never answers (tests/support/routeFixture.ts `copyProgram`), at the
//   shortest `posts-api:lambdaTimeout` (1 s): Lambda stops it and API Gateway answers 502;
// - not a 502: with that 1 s timeout, a create that retries an Idempotency-Key still held by an
//   attempt that died mid-way (its IN_PROGRESS record, written here, has a live lease) waits only
//   a quarter of the timeout and answers the contract's 409 before Lambda would stop it;
// - 504 from the gateway: that wait (about a second at the default 10 s timeout), on a cloud
//   whose integration timeout is set to 500 ms (`integrationTimeoutMs`, API Gateway's 29 s otherwise);
// - and, outside the contract (not held to the document): 500 from the gateway for a copy of the
//   program whose Lambda permissions lack the `live` qualifier (the integrations invoke the
//   alias), so API Gateway may invoke no function.
import { expect } from "chai";
import { randomUUID } from "node:crypto";
import * as fs from "node:fs";
import { DeleteTableCommand, DescribeTableCommand } from "@aws-sdk/client-dynamodb";
import type { LocalCloud } from "local-cloud";
import { startTestCloud } from "local-cloud/testing";
import { IDEMPOTENCY_TTL_SECONDS, requestHash } from "../../data/postsStore";
import { idempotencyKey } from "../../data/tableDesign";
import { localDocumentClient } from "../support/dynamo";
import { checkedCall } from "../support/openApiCheck";
import { copyProgram } from "../support/routeFixture";
import { ROOMY_PLAN, stopCloud } from "../support/roomyCloud";
import { PROJECT_DIR } from "../../scripts/project";

/** A getPost handler that never answers: the function always outlives its timeout. */
const HANGING_GET_POST = `// Test fixture (tests/cloud/5xx.test.ts): never answers.
import type { RouteHandler } from "../http/contract";

export const getPost: RouteHandler = () => new Promise(() => undefined);
`;

const STACK = {
    "posts-api:plans": { roomy: ROOMY_PLAN },
    "posts-api:consumers": [{ name: "app", plan: "roomy" }],
};
/** A complete, already normalized body: the hash the store computes for it is `requestHash(POST)`. */
const POST = { title: "Five hundred", description: "On purpose", author: "Ada", publicationDate: "2026-11-21" };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function tableOf(cloud: LocalCloud): string {
    const fn = cloud.model.functions.find((f) => f.logicalName === "createPost");
    const table = fn?.environment["TABLE_NAME"];
    if (table === undefined) {
        throw new Error("createPost has no TABLE_NAME");
    }
    return table;
}

/**
 * What an attempt that died between reserving `key` and finishing leaves: an IN_PROGRESS record
 * for POST's body whose lease runs for another minute. A retry with the same key and body waits
 * for it (about 1 s at the default timeout, a quarter of a short one: data/postsStore.ts inProgressWaits), then answers
 * 409.
 */
async function keyHeldByDeadAttempt(cloud: LocalCloud, key: string): Promise<void> {
    const apiKeyId = cloud.model.apiKeys.find((k) => k.logicalName === "app")!.id;
    const db = localDocumentClient(cloud.dynamoEndpoint);
    try {
        const now = new Date();
        await db.put({
            TableName: tableOf(cloud),
            Item: {
                ...idempotencyKey(apiKeyId, key),
                status: "IN_PROGRESS",
                owner: randomUUID(),
                inProgressExpiresAt: now.getTime() + 60_000,
                postId: randomUUID(),
                createdAt: now.toISOString(),
                requestHash: requestHash(POST),
                expiresAt: Math.floor(now.getTime() / 1000) + IDEMPOTENCY_TTL_SECONDS,
            },
        });
    } finally {
        db.destroy();
    }
}

describe("local cloud: 500 on purpose and the 409 that must not become a 502, checked against the OpenAPI document", function () {
    let cloud: LocalCloud;
    let headers: Record<string, string>;
    const url = (path: string) => `${cloud.stageUrl}${path}`;
    const call = checkedCall(() => cloud.stageUrl);

    before(async () => {
        cloud = await startTestCloud({ stack: "fivexx", stackConfig: { ...STACK, "posts-api:lambdaTimeout": 1 } });
        headers = { "x-api-key": cloud.apiKeys["app"]! };
    });

    after(() => stopCloud(cloud));

    it("409, not 502: at a 1 s timeout a create waits for a key held by a dead attempt only as long as the timeout allows", async () => {
        // The route answers within its 1 s timeout when nothing holds it up (Lambda's init is not
        // part of the timeout, here as on AWS).
        const created = await call(url("posts"), { method: "POST", headers, body: POST });
        expect(created.status, created.text).to.equal(201);
        await keyHeldByDeadAttempt(cloud, "held-409");

        const started = Date.now();
        const r = await call(url("posts"), {
            method: "POST",
            headers: { ...headers, "Idempotency-Key": "held-409" },
            body: POST,
        });
        expect(r.status, r.text).to.equal(409);
        expect(r.json).to.deep.equal({ message: "A request with this Idempotency-Key is in progress" });
        expect(Number(r.headers.get("retry-after"))).to.be.greaterThan(0);
        expect(Date.now() - started).to.be.below(1000);
    });

    it("500: the store's table is gone, so every function call fails inside the handler", async () => {
        // Before the fault: the same routes answer normally.
        expect((await call(url(`posts/${randomUUID()}`), { headers })).status).to.equal(404);
        expect((await call(url("posts"), { headers })).status).to.equal(200);

        const db = localDocumentClient(cloud.dynamoEndpoint);
        try {
            await db.send(new DeleteTableCommand({ TableName: tableOf(cloud) }));
            const gone = await db.send(new DescribeTableCommand({ TableName: tableOf(cloud) })).then(
                () => false,
                (err: Error) => err.name === "ResourceNotFoundException",
            );
            expect(gone, "the table is deleted").to.equal(true);
        } finally {
            db.destroy();
        }

        for (const [path, init] of [
            [`posts/${randomUUID()}`, { headers }],
            ["posts", { headers }],
            ["posts", { method: "POST", headers, body: POST }],
        ] as const) {
            const r = await call(url(path), init);
            expect(r.status, r.text).to.equal(500);
            expect(r.json.message).to.equal("Internal server error");
            expect(r.json.requestId).to.match(UUID);
            expect(r.headers.get("access-control-allow-origin")).to.equal("*");
        }
        expect(call.checked).to.be.greaterThan(0);
        console.log(`      ${call.checked} answers validated against the OpenAPI document`);
    });
});

describe("local cloud: 502 on purpose (a fixture function that outlives its timeout), checked against the OpenAPI document", function () {
    let cloud: LocalCloud;
    let fixture: ReturnType<typeof copyProgram>;
    const call = checkedCall(() => cloud.stageUrl);

    before(async () => {
        fixture = copyProgram("hanging-get-post", { "api/handlers/getPost.ts": HANGING_GET_POST });
        cloud = await startTestCloud({
            stack: "fivexx-hang",
            projectDir: fixture.dir,
            stackConfig: { ...STACK, "posts-api:lambdaTimeout": 1 },
        });
    });

    after(async () => {
        await stopCloud(cloud);
        fixture?.remove();
    });

    it("502: GET /posts/{id} whose function never answers is stopped at 1 s; the other routes still answer", async () => {
        const headers = { "x-api-key": cloud.apiKeys["app"]! };
        const started = Date.now();
        const r = await call(`${cloud.stageUrl}posts/${randomUUID()}`, { headers });
        expect(r.status, r.text).to.equal(502);
        expect(r.json).to.deep.equal({ message: "Internal server error" });
        expect(r.headers.get("x-amzn-errortype")).to.equal("InternalServerErrorException");
        expect(Date.now() - started).to.be.at.least(1000);
        expect((await call(`${cloud.stageUrl}posts`, { headers })).status).to.equal(200);
        expect(call.checked).to.equal(2);
    });
});

describe("local cloud: 504 on purpose (a 500 ms integration timeout), checked against the OpenAPI document", function () {
    let cloud: LocalCloud;
    const call = checkedCall(() => cloud.stageUrl);

    before(async () => {
        cloud = await startTestCloud({ stack: "fivexx-gateway", stackConfig: STACK, integrationTimeoutMs: 500 });
    });

    after(() => stopCloud(cloud));

    it("504: the gateway stops waiting for a create that waits for a key held by a dead attempt", async () => {
        await keyHeldByDeadAttempt(cloud, "held-504");
        const started = Date.now();
        const r = await call(`${cloud.stageUrl}posts`, {
            method: "POST",
            headers: { "x-api-key": cloud.apiKeys["app"]!, "Idempotency-Key": "held-504" },
            body: POST,
        });
        const elapsed = Date.now() - started;
        expect(r.status, r.text).to.equal(504);
        expect(r.json).to.deep.equal({ message: "Endpoint request timed out" });
        expect(elapsed).to.be.at.least(500);
        expect(call.checked).to.equal(1);
    });
});

describe("local cloud: 500 from the gateway when a permission does not cover the alias (a copy of the program without `qualifier`; outside the contract, so not held to the document)", function () {
    let cloud: LocalCloud;
    let fixture: ReturnType<typeof copyProgram>;
    // Not held to the OpenAPI document: a misdeployed API is outside the contract, and API
    // Gateway's own 500 carries no requestId (the document's 500 is the function's).
    const call = (url: string, init: { method?: string; headers?: Record<string, string>; body?: unknown }) =>
        fetch(url, {
            method: init.method ?? "GET",
            headers: { "Content-Type": "application/json", ...init.headers },
            body: init.body === undefined ? undefined : JSON.stringify(init.body),
        });
    const gatewayLines: string[] = [];
    const warnings: string[] = [];

    before(async () => {
        // The classic mistake once integrations invoke an alias: the permission left on the function.
        const postsApi = fs.readFileSync(`${PROJECT_DIR}/api/postsApi.ts`, "utf8");
        const unqualified = postsApi.replace(/^[ \t]*qualifier: fn\.alias\.name,\n/m, "");
        expect(unqualified, "api/postsApi.ts no longer sets the permission's qualifier this way").to.not.equal(
            postsApi,
        );
        fixture = copyProgram("unqualified-permission", { "api/postsApi.ts": unqualified });
        cloud = await startTestCloud({
            stack: "fivexx-permission",
            projectDir: fixture.dir,
            stackConfig: STACK,
            onWarning: (message) => warnings.push(message),
            onFunctionLog: (line) => void (line.startsWith("[gateway]") && gatewayLines.push(line)),
        });
    });

    after(async () => {
        await stopCloud(cloud);
        fixture?.remove();
    });

    it("500: every route that invokes a function, with the reason in the gateway's log only; preflights still answer", async () => {
        const headers = { "x-api-key": cloud.apiKeys["app"]! };
        for (const [route, init] of [
            ["posts", { headers }],
            [`posts/${randomUUID()}`, { headers }],
            ["posts", { method: "POST", headers, body: POST }],
        ] as const) {
            const r = await call(`${cloud.stageUrl}${route}`, init);
            expect(r.status, route).to.equal(500);
            expect(await r.json()).to.deep.equal({ message: "Internal server error" });
        }
        expect(gatewayLines.join("\n"))
            .to.include("Invalid permissions on Lambda function")
            .and.to.include('qualifier "live"');
        const preflight = await fetch(`${cloud.stageUrl}posts`, {
            method: "OPTIONS",
            headers: { Origin: "https://example.com", "Access-Control-Request-Method": "GET" },
        });
        expect(preflight.status).to.equal(204);
        // Said at start, once per route, before any call.
        expect(warnings.filter((w) => w.includes("will answer 500"))).to.have.length(6);
    });
});
