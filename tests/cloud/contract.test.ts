// The posts contract over real HTTP, through the local cloud running the real program: gateway
// answers (403, 404, OPTIONS) and the Lambda routes, for a stack defined here. Every answer is
// also held to the OpenAPI document (tests/support/openApiCheck.ts): status, documented headers, body.
import { expect } from "chai";
import type { LocalCloud } from "local-cloud";
import { removeStateDir, startTestCloud, type HttpResult } from "local-cloud/testing";
import { runSmoke } from "../../scripts/smoke";
import { checkedCall } from "../support/openApiCheck";
import { ROOMY_PLAN } from "../support/roomyCloud";

const OTHER_KEY = "o".repeat(40);

describe("local cloud: the posts contract over HTTP", function () {
    let cloud: LocalCloud;
    let key: string;
    const url = (path: string) => `${cloud.stageUrl}${path}`;
    const withKey = (headers: Record<string, string> = {}) => ({ "x-api-key": key, ...headers });
    // `call` of local-cloud/testing, checking every answer against the OpenAPI document.
    const call = checkedCall(() => cloud.stageUrl);

    before(async () => {
        cloud = await startTestCloud({
            stack: "contract",
            stackConfig: {
                "posts-api:plans": { roomy: ROOMY_PLAN },
                "posts-api:consumers": [
                    { name: "app", plan: "roomy" },
                    { name: "retired", plan: "roomy", enabled: false },
                ],
                // A configured key value is used as is.
                "posts-api:apiKeyValues": { retired: OTHER_KEY },
                "posts-api:corsAllowOrigin": "https://blog.example.com",
            },
        });
        key = cloud.apiKeys["app"]!;
    });

    after(async () => {
        await cloud?.close();
        if (cloud) {
            removeStateDir(cloud.stateDir);
        }
    });

    const expectGatewayError = (r: HttpResult, status: number, body: string, errorType: string) => {
        expect(r.status, r.text).to.equal(status);
        expect(r.text).to.equal(body);
        expect(r.headers.get("x-amzn-errortype")).to.equal(errorType);
        expect(r.headers.get("x-amzn-requestid")).to.match(/^[0-9a-f-]{36}$/);
        // The API's DEFAULT_4XX override adds CORS headers to the gateway's own answers.
        expect(r.headers.get("access-control-allow-origin")).to.equal("https://blog.example.com");
    };

    it("serves the stage URL the program outputs, with generated 40-character keys and the configured one", () => {
        expect(cloud.outputs["url"]).to.equal(cloud.stageUrl);
        expect(cloud.stageUrl).to.match(/^http:\/\/127\.0\.0\.1:\d+\/contract\/$/);
        expect(key).to.match(/^[A-Za-z0-9]{40}$/);
        expect(cloud.apiKeys["retired"]).to.equal(OTHER_KEY);
        expect(cloud.outputs["apiKeys"]).to.deep.equal(cloud.apiKeys);
    });

    it("refuses a missing, unknown or disabled key with AWS's 403 body", async () => {
        expectGatewayError(await call(url("posts")), 403, '{"message":"Forbidden"}', "ForbiddenException");
        expectGatewayError(
            await call(url("posts"), { headers: { "x-api-key": "n".repeat(40) } }),
            403,
            '{"message":"Forbidden"}',
            "ForbiddenException",
        );
        expectGatewayError(
            await call(url("posts"), { headers: { "x-api-key": OTHER_KEY } }),
            403,
            '{"message":"Forbidden"}',
            "ForbiddenException",
        );
        expectGatewayError(
            await call(url("posts"), { method: "POST", body: {}, headers: { "X-API-KEY": key.toLowerCase() } }),
            403,
            '{"message":"Forbidden"}',
            "ForbiddenException",
        );
    });

    it("reads the key header case-insensitively", async () => {
        expect((await call(url("posts"), { headers: { "X-Api-Key": key } })).status).to.equal(200);
    });

    it("answers an unknown path or method with the API's MISSING_AUTHENTICATION_TOKEN override, before any key check", async () => {
        expectGatewayError(
            await call(url("nothing-here")),
            404,
            '{"message":"Not found"}',
            "MissingAuthenticationTokenException",
        );
        expectGatewayError(
            await call(url("posts"), { method: "PATCH", headers: withKey(), body: {} }),
            404,
            '{"message":"Not found"}',
            "MissingAuthenticationTokenException",
        );
        expectGatewayError(
            await call(url("posts/a/b"), { headers: withKey() }),
            404,
            '{"message":"Not found"}',
            "MissingAuthenticationTokenException",
        );
    });

    it("answers a path outside any stage with 403 Forbidden and no CORS headers", async () => {
        for (const path of ["/", "/prod/posts", "/Contract/posts"]) {
            const r = await call(`${cloud.url}${path}`, { headers: withKey() });
            expect(r.status, path).to.equal(403);
            expect(r.text).to.equal('{"message":"Forbidden"}');
            expect(r.headers.get("x-amzn-errortype")).to.equal("ForbiddenException");
            expect(r.headers.get("access-control-allow-origin")).to.equal(null);
        }
    });

    it("answers OPTIONS preflights from the MOCK integration without a key and without a Lambda", async () => {
        const before = JSON.stringify(cloud.functionStats());
        const r = await call(url("posts/123"), {
            method: "OPTIONS",
            headers: { Origin: "https://blog.example.com", "Access-Control-Request-Method": "PATCH" },
        });
        expect(r.status).to.equal(204);
        expect(r.text).to.equal("");
        expect(r.headers.get("access-control-allow-origin")).to.equal("https://blog.example.com");
        expect(r.headers.get("access-control-allow-methods")).to.equal("GET,PUT,PATCH,DELETE,OPTIONS");
        expect(r.headers.get("access-control-allow-headers")).to.include("X-Api-Key");
        expect(r.headers.get("x-amzn-requestid")).to.match(/^[0-9a-f-]{36}$/);
        expect(JSON.stringify(cloud.functionStats())).to.equal(before);
    });

    it("runs the whole happy path: create, read, list, update, replace, delete", async () => {
        const created = await call(url("posts"), {
            method: "POST",
            headers: withKey(),
            body: { title: " Hello ", author: "Ada", publicationDate: "2026-11-21" },
        });
        expect(created.status, created.text).to.equal(201);
        const id = created.json.id as string;
        expect(created.headers.get("location")).to.equal(`posts/${id}`);
        expect(created.headers.get("content-type")).to.equal("application/json");
        expect(created.headers.get("access-control-allow-origin")).to.equal("https://blog.example.com");
        expect(created.json).to.include({ title: "Hello", author: "Ada", description: "", version: 1 });

        const read = await call(url(`posts/${id}`), { headers: withKey() });
        expect(read.status).to.equal(200);
        expect(read.headers.get("etag")).to.equal('"1"');
        expect(read.json).to.deep.equal(created.json);

        const list = await call(url("posts?limit=5"), { headers: withKey() });
        expect(list.status).to.equal(200);
        expect(list.json.items.map((p: { id: string }) => p.id)).to.include(id);

        const patched = await call(url(`posts/${id}`), {
            method: "PATCH",
            headers: withKey({ "If-Match": '"1"' }),
            body: { description: "more" },
        });
        expect(patched.status, patched.text).to.equal(200);
        expect(patched.json).to.include({ description: "more", version: 2 });

        const stale = await call(url(`posts/${id}`), {
            method: "PUT",
            headers: withKey({ "If-Match": '"1"' }),
            body: { title: "x", author: "y", publicationDate: "2026-11-21" },
        });
        expect(stale.status).to.equal(412);
        expect(stale.json).to.deep.equal({ message: "Precondition failed" });

        const deleted = await call(url(`posts/${id}`), { method: "DELETE", headers: withKey() });
        expect(deleted.status).to.equal(204);
        expect(deleted.text).to.equal("");
        const gone = await call(url(`posts/${id}`), { headers: withKey() });
        expect(gone.status).to.equal(404);
        expect(gone.json).to.deep.equal({ message: "Post not found" });
    });

    it("passes validation errors and idempotent retries through unchanged", async () => {
        const invalid = await call(url("posts"), {
            method: "POST",
            headers: withKey(),
            body: { title: "", author: "a", publicationDate: "nope", id: "x" },
        });
        expect(invalid.status).to.equal(400);
        expect(invalid.json.errors.map((e: { field: string }) => e.field)).to.include.members([
            "title",
            "publicationDate",
            "id",
        ]);

        const body = { title: "Once", author: "Ada", publicationDate: "2026-11-21" };
        const first = await call(url("posts"), {
            method: "POST",
            headers: withKey({ "Idempotency-Key": "smoke-1" }),
            body,
        });
        const retry = await call(url("posts"), {
            method: "POST",
            headers: withKey({ "Idempotency-Key": "smoke-1" }),
            body,
        });
        expect(first.status).to.equal(201);
        expect(retry.status).to.equal(201);
        expect(retry.json.id).to.equal(first.json.id);
    });

    it("pages through a listing with the cursor and rejects a tampered one", async () => {
        for (let i = 0; i < 5; i++) {
            expect(
                (
                    await call(url("posts"), {
                        method: "POST",
                        headers: withKey(),
                        body: { title: `p${i}`, author: "a", publicationDate: "2026-11-21" },
                    })
                ).status,
            ).to.equal(201);
        }
        const page1 = await call(url("posts?limit=2"), { headers: withKey() });
        expect(page1.json.items).to.have.length(2);
        const page2 = await call(url(`posts?limit=2&cursor=${encodeURIComponent(page1.json.nextCursor)}`), {
            headers: withKey(),
        });
        expect(page2.status).to.equal(200);
        expect(page2.json.items.map((p: { id: string }) => p.id)).to.not.include.members(
            page1.json.items.map((p: { id: string }) => p.id),
        );
        const tampered = await call(
            url(`posts?limit=2&cursor=${encodeURIComponent(page1.json.nextCursor.slice(0, -2) + "xx")}`),
            { headers: withKey() },
        );
        expect(tampered.status).to.equal(400);
    });

    it("passes the smoke command's checks", async () => {
        const steps = await runSmoke({ url: cloud.stageUrl, key });
        expect(
            steps.filter((s) => !s.ok),
            JSON.stringify(steps, null, 1),
        ).to.deep.equal([]);
        expect(steps.length).to.be.greaterThan(8);
    });

    it("checked every answer above against the OpenAPI document", () => {
        // No silent pass: the answers of the tests above went through the check.
        expect(call.checked).to.be.greaterThan(0);
        console.log(`      ${call.checked} answers validated against the OpenAPI document`);
    });
});
