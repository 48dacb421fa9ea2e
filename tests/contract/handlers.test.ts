// The HTTP contract (shared/docs/posts-api.md), route by route, with realistic API Gateway
// events, against a real DynamoDB engine (dynalite; no mocks). Every test runs twice: against the
// TypeScript handlers through handleEvent ("handler") and against each function's serialized
// `__index.js` from the program recorded under mocks, loaded as Lambda would ("closure"); see
// loadApiUnderTest in tests/support/lambdas.ts. A few tests swap an injected dependency (a broken or
// counting document client) and so run in handler mode only; each says so, and has a
// closure-mode counterpart that gets the same effect from outside (a proxy, a missing table).
import { expect } from "chai";
import { startTestDynamo, startDynamoProxy, dumpTable, type TestDynamo } from "../support/dynamo";
import {
    ALLOW_ORIGIN,
    MODES,
    apiClient,
    nextMillisecond,
    testDeps,
    validPost,
    type ApiCall,
    type ApiResult,
} from "../support/client";
import { loadApiUnderTest, type ContractApi } from "../support/lambdas";
import { apiEvent, lambdaContext } from "../support/events";
import { handleEvent } from "../../api/http/adapter";
import { postKey } from "../../data/tableDesign";
import type { DynamoDBDocument } from "@aws-sdk/lib-dynamodb";
import type { Deps } from "../../api/http/contract";

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const STORAGE_KEYS = ["pk", "listPk", "listSk", "expiresAt", "requestHash", "status", "postId"];

function expectCors(result: ApiResult): void {
    expect(result.headers["Access-Control-Allow-Origin"]).to.equal(ALLOW_ORIGIN);
    expect(result.headers["Access-Control-Allow-Headers"]).to.include("Idempotency-Key");
    expect(result.headers["Access-Control-Allow-Headers"]).to.include("If-Match");
    expect(result.headers["Access-Control-Allow-Headers"]).to.include("X-Api-Key");
    expect(result.headers["Access-Control-Expose-Headers"]).to.include("ETag");
    expect(result.headers["Access-Control-Expose-Headers"]).to.include("Location");
}

function expectJsonError(result: ApiResult, status: number, message?: string): void {
    expect(result.statusCode, result.rawBody).to.equal(status);
    expect(result.headers["Content-Type"]).to.equal("application/json");
    expectCors(result);
    const body = result.body as { message?: unknown };
    expect(body.message).to.be.a("string");
    if (message !== undefined) {
        expect(body.message).to.equal(message);
    }
}

function noStorageKeys(value: unknown): void {
    const text = JSON.stringify(value);
    for (const key of STORAGE_KEYS) {
        expect(text).not.to.include(`"${key}"`);
    }
    expect(text).not.to.include("POST#");
    expect(text).not.to.include("IDEMPOTENCY#");
}

type PostBody = Record<string, unknown> & { id: string; version: number };

/** Captures console.error lines (where the adapter logs, in both modes) while `run` runs. */
async function capturingErrors<T>(run: () => Promise<T>): Promise<{ result: T; lines: string[] }> {
    const lines: string[] = [];
    const originalError = console.error;
    console.error = (line: string) => lines.push(line);
    try {
        return { result: await run(), lines };
    } finally {
        console.error = originalError;
    }
}

for (const mode of MODES)
    describe(`posts API contract (dynalite, ${mode})`, () => {
        let dynamo: TestDynamo;
        let api: ContractApi;
        let call: ApiCall;
        let tableName: string;

        before(async () => {
            dynamo = await startTestDynamo();
        });

        after(async () => {
            await dynamo.close();
        });

        // A fresh table per test; in closure mode also a fresh cold start of every function, since
        // the serialized factory reads TABLE_NAME when the module loads.
        beforeEach(async () => {
            api = await loadApiUnderTest(mode, { endpoint: dynamo.endpoint, tableName: await dynamo.createTable() });
            call = api.call;
            tableName = api.tableName;
        });

        afterEach(() => {
            api.close();
        });

        async function create(overrides: Record<string, unknown> = {}): Promise<PostBody> {
            const result = await call("createPost", { body: validPost(overrides) });
            expect(result.statusCode, result.rawBody).to.equal(201);
            return result.body as PostBody;
        }

        describe("POST /posts", () => {
            it("creates a post: 201, Location, ETag, server fields, CORS", async () => {
                const result = await call("createPost", { body: validPost() });

                expect(result.statusCode).to.equal(201);
                const post = result.body as PostBody;
                expect(post.id).to.match(UUID_V4);
                expect(result.headers.Location).to.equal(`posts/${post.id}`);
                expect(result.headers.ETag).to.equal('"1"');
                expect(result.headers["Content-Type"]).to.equal("application/json");
                expectCors(result);
                expect(post).to.deep.equal({
                    id: post.id,
                    title: "Hello, world",
                    description: "First post",
                    author: "Ada",
                    publicationDate: "2026-11-21",
                    createdAt: post.createdAt,
                    updatedAt: post.createdAt,
                    version: 1,
                });
                expect(post.createdAt).to.match(ISO_UTC);
            });

            it("stores what it returned, with keys that put it in the listing index", async () => {
                const post = await create();

                const stored = await dynamo.db.get({ TableName: tableName, Key: postKey(post.id) });

                expect(stored.Item).to.include({
                    pk: `POST#${post.id}`,
                    listPk: "POSTS",
                    title: "Hello, world",
                    version: 1,
                });
                expect(stored.Item?.listSk).to.equal(`${post.createdAt as string}#${post.id}`);
            });

            it("trims title and author, defaults description to empty, keeps publicationDate as sent", async () => {
                const withoutDescription = validPost({
                    title: "  Spaced  ",
                    author: "\tAda\n",
                    publicationDate: "2026-11-21T09:30:00.5+05:30",
                });
                delete withoutDescription.description;

                const post = (await call("createPost", { body: withoutDescription })).body as PostBody;

                expect(post.title).to.equal("Spaced");
                expect(post.author).to.equal("Ada");
                expect(post.description).to.equal("");
                expect(post.publicationDate).to.equal("2026-11-21T09:30:00.5+05:30");
            });

            it("accepts the boundaries: 200-character title (emoji count once), 10 000-char description, 100-char author", async () => {
                const result = await call("createPost", {
                    body: validPost({
                        title: "😀".repeat(200),
                        description: "d".repeat(10_000),
                        author: "a".repeat(100),
                    }),
                });

                expect(result.statusCode, result.rawBody).to.equal(201);
            });

            it("rejects one past each boundary, listing every problem", async () => {
                const result = await call("createPost", {
                    body: {
                        title: "t".repeat(201),
                        description: "d".repeat(10_001),
                        author: "a".repeat(101),
                        publicationDate: "2026-02-30",
                    },
                });

                expectJsonError(result, 400, "Request body is invalid");
                const errors = (result.body as { errors: { field: string; message: string }[] }).errors;
                expect(errors.map((error) => error.field)).to.have.members([
                    "title",
                    "description",
                    "author",
                    "publicationDate",
                ]);
                for (const error of errors) {
                    expect(error.message).to.be.a("string");
                    expect(error.message.length).to.be.greaterThan(0);
                }
            });

            it("rejects blank title and author (empty after trimming) and missing fields by name", async () => {
                const blank = await call("createPost", { body: validPost({ title: "   ", author: "" }) });
                const missing = await call("createPost", { body: { description: "x" } });

                expectJsonError(blank, 400);
                expect((blank.body as { errors: { field: string }[] }).errors.map((e) => e.field)).to.have.members([
                    "title",
                    "author",
                ]);
                expectJsonError(missing, 400);
                const missingErrors = (missing.body as { errors: { field: string; message: string }[] }).errors;
                expect(missingErrors.map((e) => e.field)).to.have.members(["title", "author", "publicationDate"]);
                expect(missingErrors.find((e) => e.field === "title")?.message).to.equal("title is required");
            });

            it("names every unknown field, storage keys and prototype keys included, next to other errors", async () => {
                const body =
                    '{"title":5,"author":"A","publicationDate":"2026-11-21","id":"x","pk":"POST#x","version":9,"createdAt":"x","__proto__":{"admin":true},"constructor":{}}';

                const result = await call("createPost", { body });

                expectJsonError(result, 400);
                const fields = (result.body as { errors: { field: string }[] }).errors.map((e) => e.field);
                expect(fields).to.have.members([
                    "title",
                    "id",
                    "pk",
                    "version",
                    "createdAt",
                    "__proto__",
                    "constructor",
                ]);
                expect(await dumpTable(dynamo.db, tableName)).to.deep.equal([]);
            });

            for (const [date, ok] of [
                ["2026-11-21", true],
                ["2024-02-29", true],
                ["2026-11-21T09:30:00Z", true],
                ["2026-11-21T09:30:00-08:00", true],
                ["2026-02-29", false],
                ["2026-04-31", false],
                ["2026-11-21T09:30:00", false],
                ["2026-11-21T25:00:00Z", false],
                ["21/11/2026", false],
                ["2026-11-21 ", false],
            ] as const) {
                it(`publicationDate ${JSON.stringify(date)} is ${ok ? "accepted" : "a 400"}`, async () => {
                    const result = await call("createPost", { body: validPost({ publicationDate: date }) });

                    expect(result.statusCode, result.rawBody).to.equal(ok ? 201 : 400);
                });
            }

            it("400s a missing body, invalid JSON and non-object JSON with clear messages", async () => {
                expectJsonError(await call("createPost", {}), 400, "Request body is required");
                expectJsonError(await call("createPost", { body: "{not json" }), 400, "Request body is not valid JSON");
                for (const body of ["[]", "null", "42", '"text"', "true"]) {
                    expectJsonError(await call("createPost", { body }), 400, "Request body must be a JSON object");
                }
            });

            it("decodes base64 bodies, and also takes plain ones", async () => {
                const encoded = await call("createPost", { body: validPost({ title: "Grüße 👋" }), base64: true });
                const plain = await call("createPost", { body: validPost({ title: "Grüße 👋" }), base64: false });

                expect((encoded.body as PostBody).title).to.equal("Grüße 👋");
                expect((plain.body as PostBody).title).to.equal("Grüße 👋");
            });

            it("400s a body that is not UTF-8", async () => {
                const result = await call("createPost", { body: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]) });

                expectJsonError(result, 400, "Request body is not valid UTF-8");
            });

            it("413s a body over 64 KiB after decoding, and accepts exactly 64 KiB", async () => {
                const exactly = JSON.stringify(validPost({ description: "" }));
                const padded = exactly.slice(0, -1) + " ".repeat(65_536 - Buffer.byteLength(exactly)) + "}";
                expect(Buffer.byteLength(padded)).to.equal(65_536);

                const atLimit = await call("createPost", { body: padded });
                const overLimit = await call("createPost", { body: padded + " " });

                expect(atLimit.statusCode, atLimit.rawBody).to.equal(201);
                expectJsonError(overLimit, 413);
                expect(await dumpTable(dynamo.db, tableName)).to.have.length(1);
            });

            it("creates a new post for every POST without Idempotency-Key", async () => {
                const first = await create();
                const second = await create();

                expect(first.id).not.to.equal(second.id);
                expect(await dumpTable(dynamo.db, tableName)).to.have.length(2);
            });
        });

        describe("GET /posts/{id}", () => {
            it("returns the post with ETag and CORS", async () => {
                const created = await create();

                const result = await call("getPost", { id: created.id });

                expect(result.statusCode).to.equal(200);
                expect(result.body).to.deep.equal(created);
                expect(result.headers.ETag).to.equal('"1"');
                expectCors(result);
            });

            it("404s an unknown id and a non-UUID id; a non-UUID id never reaches DynamoDB", async () => {
                // Every DynamoDB call is counted at the wire, by a proxy in front of the engine.
                const proxy = await startDynamoProxy(dynamo.endpoint);
                const watched = await loadApiUnderTest(mode, { endpoint: proxy.endpoint, tableName });
                try {
                    for (const id of ["nope", "../etc", "1234", "A0000000-0000-4000-8000-000000000000", "%2e%2e"]) {
                        expectJsonError(await watched.call("getPost", { id }), 404, "Post not found");
                    }
                    expect(proxy.calls).to.deep.equal([]);

                    expectJsonError(
                        await watched.call("getPost", { id: "00000000-0000-4000-8000-000000000000" }),
                        404,
                        "Post not found",
                    );
                    expect(proxy.calls.map((c) => c.operation)).to.deep.equal(["GetItem"]);
                } finally {
                    watched.close();
                    await proxy.close();
                }
            });
        });

        describe("PUT /posts/{id}", () => {
            it("replaces every client field, bumps version and updatedAt, keeps id and createdAt", async () => {
                const created = await create();
                // Closures read the real clock: make sure it has moved on by at least a millisecond.
                await nextMillisecond();

                const result = await call("replacePost", {
                    id: created.id,
                    body: { title: "New", author: "Bob", publicationDate: "2027-01-01T00:00:00Z" },
                });

                expect(result.statusCode, result.rawBody).to.equal(200);
                const post = result.body as PostBody;
                expect(post).to.include({ id: created.id, title: "New", author: "Bob", description: "", version: 2 });
                expect(post.createdAt).to.equal(created.createdAt);
                expect(String(post.updatedAt) > String(created.updatedAt)).to.equal(true);
                expect(result.headers.ETag).to.equal('"2"');
                expect((await call("getPost", { id: created.id })).body).to.deep.equal(post);
            });

            it("validates like create (all fields required, unknown fields named)", async () => {
                const created = await create();

                const result = await call("replacePost", { id: created.id, body: { title: "Only", version: 5 } });

                expectJsonError(result, 400);
                const fields = (result.body as { errors: { field: string }[] }).errors.map((e) => e.field);
                expect(fields).to.have.members(["author", "publicationDate", "version"]);
            });

            it("never creates: 404 for an unknown id, table unchanged", async () => {
                const result = await call("replacePost", {
                    id: "00000000-0000-4000-8000-000000000000",
                    body: validPost(),
                });

                expectJsonError(result, 404, "Post not found");
                expect(await dumpTable(dynamo.db, tableName)).to.deep.equal([]);
            });
        });

        describe("PATCH /posts/{id}", () => {
            it("changes only the fields sent", async () => {
                const created = await create({ description: "keep me" });

                const result = await call("updatePost", { id: created.id, body: { title: "Patched" } });

                expect(result.statusCode, result.rawBody).to.equal(200);
                expect(result.body).to.include({ title: "Patched", description: "keep me", author: "Ada", version: 2 });
                expect(result.headers.ETag).to.equal('"2"');
            });

            it("400s an empty patch and names unknown fields", async () => {
                const created = await create();

                const empty = await call("updatePost", { id: created.id, body: {} });
                const unknown = await call("updatePost", { id: created.id, body: { title: "ok", listSk: "x" } });

                expectJsonError(empty, 400);
                expect((empty.body as { errors: { field: string }[] }).errors[0]?.field).to.equal("body");
                expectJsonError(unknown, 400);
                expect((unknown.body as { errors: { field: string }[] }).errors.map((e) => e.field)).to.deep.equal([
                    "listSk",
                ]);
                expect((await call("getPost", { id: created.id })).body).to.deep.equal(created);
            });

            it("never creates: 404 for an unknown id", async () => {
                const result = await call("updatePost", {
                    id: "00000000-0000-4000-8000-000000000000",
                    body: { title: "x" },
                });

                expectJsonError(result, 404, "Post not found");
                expect(await dumpTable(dynamo.db, tableName)).to.deep.equal([]);
            });
        });

        describe("DELETE /posts/{id}", () => {
            it("204 with an empty body and no Content-Type, then 404", async () => {
                const created = await create();

                const deleted = await call("deletePost", { id: created.id });
                const again = await call("deletePost", { id: created.id });
                const read = await call("getPost", { id: created.id });

                expect(deleted.statusCode).to.equal(204);
                expect(deleted.rawBody).to.equal("");
                expect(deleted.headers["Content-Type"]).to.equal(undefined);
                expectCors(deleted);
                expectJsonError(again, 404, "Post not found");
                expectJsonError(read, 404, "Post not found");
            });
        });

        describe("storage keys", () => {
            it("never appear in any response", async () => {
                const created = await create();
                const responses = [
                    await call("getPost", { id: created.id }),
                    await call("replacePost", { id: created.id, body: validPost() }),
                    await call("updatePost", { id: created.id, body: { title: "x" } }),
                    await call("listPosts"),
                    await call("createPost", { body: validPost(), headers: { "Idempotency-Key": "k1" } }),
                    await call("createPost", { body: validPost(), headers: { "Idempotency-Key": "k1" } }),
                ];

                for (const response of responses) {
                    expect(response.statusCode).to.be.below(300);
                    noStorageKeys(response.body);
                }
            });
        });

        describe("unexpected failures", () => {
            it("500 with only the request id when DynamoDB fails (a table that does not exist); the detail goes to one JSON log line", async () => {
                const missingTable = `missing-table-${Date.now()}`;
                const broken = await loadApiUnderTest(mode, { endpoint: dynamo.endpoint, tableName: missingTable });
                let result: ApiResult;
                let lines: string[];
                try {
                    ({ result, lines } = await capturingErrors(() => broken.call("createPost", { body: validPost() })));
                } finally {
                    broken.close();
                }

                expectJsonError(result, 500, "Internal server error");
                expect(result.body).to.deep.equal({ message: "Internal server error", requestId: result.requestId });
                expect(result.rawBody).not.to.include(missingTable);
                expect(result.rawBody).not.to.include("ResourceNotFound");
                expect(lines).to.have.length(1);
                const log = JSON.parse(lines[0] as string);
                expect(log).to.include({ level: "error", requestId: result.requestId, route: "POST /posts" });
                expect(log.error.name).to.equal("ResourceNotFoundException");
                expect(log.error.stack).to.be.a("string");
            });

            // Handler mode only: needs a document client that throws a chosen error.
            if (mode === "handler")
                it("500 for any failure: the error's message reaches the log, never the client", async () => {
                    const brokenDb = new Proxy(
                        {},
                        {
                            get: () => async () => {
                                throw new Error("db exploded: secret-table-arn");
                            },
                        },
                    ) as unknown as DynamoDBDocument;
                    const broken = testDeps(brokenDb, api.tableName);
                    const { result, lines } = await capturingErrors(() =>
                        apiClient(broken)("createPost", { body: validPost() }),
                    );

                    expectJsonError(result, 500, "Internal server error");
                    expect(result.body).to.deep.equal({
                        message: "Internal server error",
                        requestId: result.requestId,
                    });
                    expect(result.rawBody).not.to.include("secret");
                    expect(lines).to.have.length(1);
                    const log = JSON.parse(lines[0] as string);
                    expect(log).to.include({ level: "error", requestId: result.requestId, route: "POST /posts" });
                    expect(log.error).to.include({ name: "Error", message: "db exploded: secret-table-arn" });
                    expect(log.error.stack).to.be.a("string");
                });

            // Handler mode only (as is "the adapter" below): handleEvent with a made-up route handler.
            if (mode === "handler")
                it("logs through options.log when given, and a thrown non-Error still becomes a 500", async () => {
                    const lines: string[] = [];
                    const event = apiEvent({ method: "GET", resource: "/posts", path: "/posts" });
                    const context = lambdaContext();

                    const result = await handleEvent(
                        async () => {
                            throw "a string";
                        },
                        event,
                        context,
                        api.deps as Deps,
                        { allowOrigin: ALLOW_ORIGIN, log: (line) => lines.push(line) },
                    );

                    expect(result.statusCode).to.equal(500);
                    expect(JSON.parse(result.body)).to.deep.equal({
                        message: "Internal server error",
                        requestId: context.awsRequestId,
                    });
                    expect(JSON.parse(lines[0] as string).error).to.deep.equal({ name: "string", message: "a string" });
                });
        });

        if (mode === "handler")
            describe("the adapter", () => {
                it("lower-cases header names and maps null maps to empty objects", async () => {
                    let seen: unknown;
                    const event = apiEvent({
                        method: "GET",
                        resource: "/posts",
                        path: "/posts",
                        headers: { "IF-MATCH": '"1"' },
                    });

                    await handleEvent(
                        async (request) => {
                            seen = request;
                            return { statusCode: 200, body: {} };
                        },
                        event,
                        lambdaContext({ awsRequestId: "req-1" }),
                        api.deps as Deps,
                        { allowOrigin: ALLOW_ORIGIN },
                    );

                    expect(seen).to.deep.include({
                        method: "GET",
                        resource: "/posts",
                        pathParameters: {},
                        query: {},
                        body: null,
                        requestId: "req-1",
                        apiKeyId: "testkeyid01",
                    });
                    expect((seen as { headers: Record<string, string> }).headers["if-match"]).to.equal('"1"');
                });
            });
    });
