// The OpenAPI check of tests/support/openApiCheck.ts, shown to work both ways against a real local
// cloud: real answers of every kind pass (success, 4xx of the function and of the gateway, the
// preflights, undescribed paths, unknown stages), and answers the document does not allow fail
// with a message naming the operation, the status and what did not match: an undocumented status,
// a body that breaks the schema, a missing or malformed documented header, a body on a 204, a
// 500 without its requestId, a wrong 404 body on an undescribed path, and a wrong answer outside
// the stage. The broken answers are real ones with one thing changed, so each shows one rule.
import { expect } from "chai";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import type { LocalCloud } from "local-cloud";
import { startTestCloud, type HttpResult } from "local-cloud/testing";
import { checkedCall, checkResponse, OpenApiMismatchError, type CheckOutcome } from "../support/openApiCheck";
import { ROOMY_PLAN, stopCloud } from "../support/roomyCloud";

/** One request a day: the second is the gateway's 429. */
const ONE_A_DAY = { throttle: { rateLimit: 10_000, burstLimit: 5_000 }, quota: { limit: 1, period: "DAY" } };
const POST = { title: "Checked", description: "Against the document", author: "Ada", publicationDate: "2026-11-21" };

/** A copy of a real answer with one thing changed. */
function changed(
    result: HttpResult,
    change: { status?: number; drop?: string[]; set?: Record<string, string>; text?: string },
): HttpResult {
    const headers = new Headers(result.headers);
    for (const name of change.drop ?? []) {
        headers.delete(name);
    }
    for (const [name, value] of Object.entries(change.set ?? {})) {
        headers.set(name, value);
    }
    const text = change.text ?? result.text;
    let json: unknown;
    try {
        json = text === "" ? undefined : JSON.parse(text);
    } catch {
        json = undefined;
    }
    return { status: change.status ?? result.status, headers, text, json };
}

/** The mismatch a check must report. */
async function mismatch(check: Promise<unknown>): Promise<OpenApiMismatchError> {
    try {
        await check;
    } catch (err) {
        expect(err).to.be.instanceOf(OpenApiMismatchError);
        return err as OpenApiMismatchError;
    }
    expect.fail("the check passed an answer the document does not allow");
}

describe("OpenAPI response check: real answers pass, answers the document does not allow fail", function () {
    let cloud: LocalCloud;
    let key: string;
    const url = (path: string) => `${cloud.stageUrl}${path}`;
    const withKey = (headers: Record<string, string> = {}) => ({ "x-api-key": key, ...headers });
    const call = checkedCall(() => cloud.stageUrl);
    const check = (method: string, path: string, result: HttpResult): Promise<CheckOutcome> =>
        checkResponse(cloud.stageUrl, { method, url: url(path) }, result);
    /** Real answers, kept for the negative tests. */
    const real: Record<string, HttpResult> = {};
    let id: string;

    before(async () => {
        cloud = await startTestCloud({
            stack: "openapi",
            stackConfig: {
                "posts-api:plans": { roomy: ROOMY_PLAN, "one-a-day": ONE_A_DAY },
                "posts-api:consumers": [
                    { name: "app", plan: "roomy" },
                    { name: "sparing", plan: "one-a-day" },
                ],
            },
        });
        key = cloud.apiKeys["app"]!;
        const created = await call(url("posts"), { method: "POST", headers: withKey(), body: POST });
        expect(created.status, created.text).to.equal(201);
        id = created.json.id;
        real["created"] = created;
    });

    after(() => stopCloud(cloud));

    describe("real answers pass", () => {
        it("the function's successes: 201 with ETag and Location, 200 with ETag, the list, 204", async () => {
            const read = await call(url(`posts/${id}`), { headers: withKey() });
            expect(read.status).to.equal(200);
            expect(read.headers.get("etag")).to.equal('"1"');
            real["read"] = read;
            expect((await call(url("posts?limit=5"), { headers: withKey() })).status).to.equal(200);
            const patched = await call(url(`posts/${id}`), {
                method: "PATCH",
                headers: withKey({ "If-Match": '"1"' }),
                body: { title: "Patched" },
            });
            expect(patched.status, patched.text).to.equal(200);
            const replaced = await call(url(`posts/${id}`), { method: "PUT", headers: withKey(), body: POST });
            expect(replaced.status, replaced.text).to.equal(200);
            const other = await call(url("posts"), { method: "POST", headers: withKey(), body: POST });
            const deleted = await call(url(`posts/${other.json.id}`), { method: "DELETE", headers: withKey() });
            expect(deleted.status).to.equal(204);
            real["deleted"] = deleted;
        });

        it("the function's refusals: 400, 404, 412, 413, 422", async () => {
            expect((await call(url("posts?limit=0"), { headers: withKey() })).status).to.equal(400);
            expect(
                (await call(url("posts"), { method: "POST", headers: withKey(), body: { title: "" } })).status,
            ).to.equal(400);
            const missing = await call(url("posts/9b2f6c1e-3d4a-4f5b-8c7d-1e2f3a4b5c6d"), { headers: withKey() });
            expect(missing.status).to.equal(404);
            real["missing"] = missing;
            expect(
                (await call(url(`posts/${id}`), { method: "DELETE", headers: withKey({ "If-Match": '"99"' }) })).status,
            ).to.equal(412);
            const big = await call(url("posts"), {
                method: "POST",
                headers: withKey(),
                body: { ...POST, description: "x".repeat(70 * 1024) },
            });
            expect(big.status, big.text).to.equal(413);
            const first = await call(url("posts"), {
                method: "POST",
                headers: withKey({ "Idempotency-Key": "reused" }),
                body: POST,
            });
            expect(first.status).to.equal(201);
            expect(
                (
                    await call(url("posts"), {
                        method: "POST",
                        headers: withKey({ "Idempotency-Key": "reused" }),
                        body: { ...POST, title: "Other" },
                    })
                ).status,
            ).to.equal(422);
        });

        it("the gateway's own answers: 403 without a key, 429 over the quota, the OPTIONS preflights", async () => {
            expect((await call(url("posts"))).status).to.equal(403);
            const sparing = { "x-api-key": cloud.apiKeys["sparing"]! };
            expect((await call(url("posts"), { headers: sparing })).status).to.equal(200);
            const over = await call(url("posts"), { headers: sparing });
            expect(over.status).to.equal(429);
            expect(over.json).to.deep.equal({ message: "Limit Exceeded" });
            for (const path of ["posts", `posts/${id}`]) {
                const preflight = await call(url(path), {
                    method: "OPTIONS",
                    headers: { Origin: "https://example.com", "Access-Control-Request-Method": "GET" },
                });
                expect(preflight.status).to.equal(204);
                real[`preflight ${path}`] = preflight;
            }
        });

        it("undescribed paths and methods get the promised 404, unknown stages the promised 403", async () => {
            const undescribed = await call(url("posts/a/b"), { headers: withKey() });
            expect(undescribed.status).to.equal(404);
            real["undescribed"] = undescribed;
            expect((await call(url("posts"), { method: "DELETE", headers: withKey() })).status).to.equal(404);
            expect((await call(`${cloud.url}/prod/posts`, { headers: withKey() })).status).to.equal(403);
        });

        it("says what each answer was checked against, and counts it", async () => {
            expect(await check("GET", `posts/${id}`, real["read"]!)).to.deep.equal({
                kind: "operation",
                operationId: "getPost",
                status: 200,
            });
            expect(await check("DELETE", `posts/${id}`, real["deleted"]!)).to.deep.equal({
                kind: "operation",
                operationId: "deletePost",
                status: 204,
            });
            expect(await check("GET", "posts/a/b", real["undescribed"]!)).to.deep.equal({
                kind: "undescribed",
                status: 404,
            });
            expect(await checkResponse(cloud.stageUrl, { url: cloud.dynamoEndpoint }, real["read"]!)).to.deep.equal({
                kind: "unchecked",
            });
            expect(call.checked).to.be.greaterThan(20);
            console.log(`      ${call.checked} real answers validated against the OpenAPI document`);
        });
    });

    describe("answers the document does not allow fail", () => {
        it("an undocumented status (a 418 in place of a real 200)", async () => {
            const error = await mismatch(check("GET", `posts/${id}`, changed(real["read"]!, { status: 418 })));
            expect(error.message).to.include(`GET /openapi/posts/${id} (getPost: GET /posts/{id}) answered 418`);
            expect(error.message).to.include(
                "status 418 is not documented for getPost (documented: 200, 403, 404, 413, 429, 500, 502, 504)",
            );
        });

        it("a body that breaks the schema: a wrong type, an undocumented field, a missing field, not JSON", async () => {
            const post = real["read"]!.json as Record<string, unknown>;
            const wrong = await mismatch(
                check(
                    "GET",
                    `posts/${id}`,
                    changed(real["read"]!, { text: JSON.stringify({ ...post, version: "1", secret: true }) }),
                ),
            );
            expect(wrong.problems).to.include.members([
                "body/version must be integer",
                "body must NOT have additional properties (secret)",
            ]);
            const untitled = Object.fromEntries(Object.entries(post).filter(([field]) => field !== "title"));
            const missingField = await mismatch(
                check("GET", `posts/${id}`, changed(real["read"]!, { text: JSON.stringify(untitled) })),
            );
            expect(missingField.problems).to.deep.equal(["body must have required property 'title'"]);
            const notJson = await mismatch(
                check("GET", `posts/${id}`, changed(real["read"]!, { text: "<html>oops</html>" })),
            );
            expect(notJson.problems.join()).to.include("body is not JSON");
            const errorBody = await mismatch(
                check(
                    "GET",
                    "posts/x",
                    changed(real["missing"]!, { text: JSON.stringify({ error: "Post not found" }) }),
                ),
            );
            expect(errorBody.message).to.include("(getPost: GET /posts/{id}) answered 404");
            expect(errorBody.problems).to.include("body must have required property 'message'");
        });

        it("a documented header missing (ETag removed from a real 200, Location from a real 201) or not matching its schema", async () => {
            const noEtag = await mismatch(check("GET", `posts/${id}`, changed(real["read"]!, { drop: ["ETag"] })));
            expect(noEtag.problems).to.deep.equal(["headers must have required property 'etag'"]);
            const noLocation = await mismatch(
                check(
                    "POST",
                    "posts",
                    changed(real["created"]!, { drop: ["location", "access-control-allow-origin"] }),
                ),
            );
            expect(noLocation.problems).to.have.members([
                "headers must have required property 'location'",
                "headers must have required property 'access-control-allow-origin'",
            ]);
            const noMaxAge = await mismatch(
                check("OPTIONS", "posts", changed(real["preflight posts"]!, { drop: ["Access-Control-Max-Age"] })),
            );
            expect(noMaxAge.message).to.include("(preflightPosts: OPTIONS /posts) answered 204");
            expect(noMaxAge.problems).to.deep.equal(["headers must have required property 'access-control-max-age'"]);
            // A 409 of POST /posts documents an integer Retry-After.
            const conflict = changed(real["missing"]!, {
                status: 409,
                set: { "Retry-After": "soon" },
                text: JSON.stringify({ message: "A request with this Idempotency-Key is in progress" }),
            });
            const badRetry = await mismatch(check("POST", "posts", conflict));
            expect(badRetry.problems).to.deep.equal(["header retry-after must be integer"]);
            expect(await check("POST", "posts", changed(conflict, { set: { "Retry-After": "3" } }))).to.deep.equal({
                kind: "operation",
                operationId: "createPost",
                status: 409,
            });
        });

        it("transport and tracing headers are never required, and header names are compared case-insensitively", async () => {
            const bare = changed(real["read"]!, {
                drop: [
                    "date",
                    "connection",
                    "keep-alive",
                    "content-length",
                    "x-amzn-requestid",
                    "x-amz-apigw-id",
                    "x-amzn-trace-id",
                ],
            });
            expect(await check("GET", `posts/${id}`, bare)).to.deep.equal({
                kind: "operation",
                operationId: "getPost",
                status: 200,
            });
            const shouting = changed(bare, { drop: ["etag"], set: { ETAG: '"1"' } });
            expect(await check("GET", `posts/${id}`, shouting)).to.deep.equal({
                kind: "operation",
                operationId: "getPost",
                status: 200,
            });
        });

        it("a body on a 204, a content type the document does not give, a 500 without its requestId", async () => {
            const bodied = await mismatch(check("DELETE", `posts/${id}`, changed(real["deleted"]!, { text: "{}" })));
            expect(bodied.problems).to.deep.equal(["status 204 has no documented body, got 2 characters"]);
            const html = await mismatch(
                check("GET", `posts/${id}`, changed(real["read"]!, { set: { "Content-Type": "text/html" } })),
            );
            expect(html.problems).to.deep.equal([
                'Content-Type "text/html" is not documented (documented: application/json)',
            ]);
            const anonymous500 = await mismatch(
                check(
                    "GET",
                    `posts/${id}`,
                    changed(real["missing"]!, { status: 500, text: '{"message":"Internal server error"}' }),
                ),
            );
            expect(anonymous500.problems).to.deep.equal(["body must have required property 'requestId'"]);
        });

        it("an undescribed path without the promised 404 body, an unknown stage without the promised 403", async () => {
            const wrong404 = await mismatch(
                check("GET", "posts/a/b", changed(real["undescribed"]!, { text: '{"message":"Post not found"}' })),
            );
            expect(wrong404.problems).to.deep.equal([
                'GET /posts/a/b is not an operation of the document: the document promises the body {"message":"Not found"}',
            ]);
            const wrongStatus = await mismatch(check("PATCH", "posts", changed(real["undescribed"]!, { status: 405 })));
            expect(wrongStatus.problems).to.deep.equal([
                "PATCH /posts is not an operation of the document: the document promises 404, got 405",
            ]);
            const stage = await mismatch(
                checkResponse(cloud.stageUrl, { url: `${cloud.url}/prod/posts` }, changed(real["undescribed"]!, {})),
            );
            expect(stage.problems.join()).to.include("the document promises 403, got 404");
        });

        it("a checked call rejects a server whose answer the document does not allow", async () => {
            const server = http.createServer((_req, res) => {
                res.writeHead(200, {
                    "Content-Type": "application/json",
                    "Access-Control-Allow-Origin": "*",
                    "Access-Control-Expose-Headers": "ETag",
                });
                res.end(JSON.stringify({ items: [], nextCursor: 7 }));
            });
            await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
            try {
                const stageUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/dev/`;
                const strictCall = checkedCall(stageUrl);
                const error = await mismatch(strictCall(`${stageUrl}posts`));
                expect(error.message).to.include("GET /dev/posts (listPosts: GET /posts) answered 200");
                expect(error.problems).to.deep.equal(["body/nextCursor must be string"]);
                expect(strictCall.checked).to.equal(0);
            } finally {
                server.closeAllConnections();
                await new Promise((resolve) => server.close(resolve));
            }
        });
    });
});
