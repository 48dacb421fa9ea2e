// Concurrency and retries: If-Match (412, races) and Idempotency-Key (replay, 422, races, crash
// recovery, expiry). Against dynalite, so the conditions are DynamoDB's own. Every test runs in
// both modes (the handlers directly, and the serialized closures: see loadApiUnderTest in
// tests/support/lambdas.ts), the races included: in closure mode the racing requests go through
// the Lambda code and its own SDK client to the engine. Two tests jump a fake clock 24 hours
// ahead and so run in handler mode only; their closure-mode counterparts age the stored record
// instead.
import { expect } from "chai";
import { startTestDynamo, startDynamoProxy, dumpTable, type TestDynamo } from "../support/dynamo";
import { MODES, testClock, validPost, type ApiCall, type ApiResult } from "../support/client";
import { loadApiUnderTest, type ContractApi } from "../support/lambdas";
import { TEST_API_KEY_ID } from "../support/events";
import { idempotencyKey } from "../../data/tableDesign";
import { IDEMPOTENCY_TTL_SECONDS, requestHash } from "../../data/postsStore";
import { postSchemas } from "../../api/schema";

type PostBody = Record<string, unknown> & { id: string; version: number; createdAt: string };

const epochSeconds = (date: Date) => Math.floor(date.getTime() / 1000);

for (const mode of MODES)
    describe(`concurrency and retries (dynalite, ${mode})`, () => {
        let dynamo: TestDynamo;
        /** Handler mode's injected clock (closures read the real one). */
        let clock: ReturnType<typeof testClock>;
        let api: ContractApi;
        let call: ApiCall;
        let tableName: string;

        before(async () => {
            dynamo = await startTestDynamo();
        });

        after(async () => {
            await dynamo.close();
        });

        beforeEach(async () => {
            clock = testClock();
            api = await loadApiUnderTest(mode, {
                endpoint: dynamo.endpoint,
                tableName: await dynamo.createTable(),
                clock,
            });
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

        function expectError(result: ApiResult, status: number, message: string): void {
            expect(result.statusCode, result.rawBody).to.equal(status);
            expect((result.body as { message: string }).message).to.equal(message);
        }

        describe("If-Match", () => {
            it("PUT, PATCH and DELETE succeed with the current ETag", async () => {
                const post = await create();

                const put = await call("replacePost", {
                    id: post.id,
                    body: validPost({ title: "v2" }),
                    headers: { "If-Match": '"1"' },
                });
                const patch = await call("updatePost", {
                    id: post.id,
                    body: { title: "v3" },
                    headers: { "If-Match": put.headers.ETag as string },
                });
                const del = await call("deletePost", {
                    id: post.id,
                    headers: { "If-Match": patch.headers.ETag as string },
                });

                expect([put.statusCode, patch.statusCode, del.statusCode]).to.deep.equal([200, 200, 204]);
                expect(put.headers.ETag).to.equal('"2"');
                expect(patch.headers.ETag).to.equal('"3"');
            });

            for (const route of ["replacePost", "updatePost", "deletePost"] as const) {
                it(`${route}: a stale version is 412 and changes nothing`, async () => {
                    const post = await create();
                    await call("updatePost", { id: post.id, body: { title: "v2" } });
                    const before = await dumpTable(dynamo.db, tableName);

                    const result = await call(route, {
                        id: post.id,
                        headers: { "If-Match": '"1"' },
                        ...(route === "deletePost" ? {} : { body: validPost({ title: "lost" }) }),
                    });

                    expectError(result, 412, "Precondition failed");
                    expect(result.body).to.deep.equal({ message: "Precondition failed" });
                    expect(await dumpTable(dynamo.db, tableName)).to.deep.equal(before);
                });

                it(`${route}: If-Match on a missing post is 404, not 412`, async () => {
                    const result = await call(route, {
                        id: "00000000-0000-4000-8000-000000000000",
                        headers: { "If-Match": '"1"' },
                        ...(route === "deletePost" ? {} : { body: validPost() }),
                    });

                    expectError(result, 404, "Post not found");
                });
            }

            it("tells 412 from 404 by the old item the engine returns with the failure, with no second read", async () => {
                const post = await create();
                await call("updatePost", { id: post.id, body: { title: "v2" } });
                // DynamoDB, and the local engine like it (local-cloud/dynamodb/dynamoConditionItem.ts), attach the
                // old item to the failure (ReturnValuesOnConditionCheckFailure): one call decides.
                const proxy = await startDynamoProxy(dynamo.endpoint);
                const api = await loadApiUnderTest(mode, { endpoint: proxy.endpoint, tableName });
                try {
                    const stale = await api.call("updatePost", {
                        id: post.id,
                        body: { title: "x" },
                        headers: { "If-Match": '"1"' },
                    });

                    expectError(stale, 412, "Precondition failed");
                    expect(proxy.calls.map((c) => c.operation)).to.deep.equal(["UpdateItem"]);
                    expect(proxy.calls[0]?.request.ReturnValuesOnConditionCheckFailure).to.equal("ALL_OLD");
                    expect(proxy.calls[0]?.response.Item).to.deep.include({ pk: { S: `POST#${post.id}` } });

                    proxy.reset();
                    const staleDelete = await api.call("deletePost", { id: post.id, headers: { "If-Match": '"1"' } });
                    expectError(staleDelete, 412, "Precondition failed");
                    expect(proxy.calls.map((c) => c.operation)).to.deep.equal(["DeleteItem"]);

                    proxy.reset();
                    const missing = await api.call("deletePost", {
                        id: "00000000-0000-4000-8000-000000000000",
                        headers: { "If-Match": '"1"' },
                    });
                    expectError(missing, 404, "Post not found");
                    expect(proxy.calls.map((c) => c.operation)).to.deep.equal(["DeleteItem"]);
                    expect(proxy.calls[0]?.response).to.not.have.property("Item");
                } finally {
                    api.close();
                    await proxy.close();
                }
            });

            it("two concurrent updates with the same If-Match: exactly one 200 and one 412, nothing lost", async () => {
                // The second writer is a separate instance: in closure mode its own cold start, module
                // and SDK client, as two Lambda instances would be.
                const other = await loadApiUnderTest(mode, { endpoint: dynamo.endpoint, tableName });
                try {
                    for (let round = 0; round < 6; round++) {
                        const post = await create();
                        const byB =
                            round % 2 === 0
                                ? other.call("replacePost", {
                                      id: post.id,
                                      body: validPost({ title: "from B" }),
                                      headers: { "If-Match": '"1"' },
                                  })
                                : other.call("updatePost", {
                                      id: post.id,
                                      body: { title: "from B" },
                                      headers: { "If-Match": '"1"' },
                                  });

                        const results = await Promise.all([
                            call("updatePost", {
                                id: post.id,
                                body: { title: "from A" },
                                headers: { "If-Match": '"1"' },
                            }),
                            byB,
                        ]);

                        const statuses = results.map((result) => result.statusCode).sort();
                        expect(statuses).to.deep.equal([200, 412]);
                        const winner = results.find((result) => result.statusCode === 200) as ApiResult;
                        const stored = (await call("getPost", { id: post.id })).body as PostBody;
                        expect(stored.version).to.equal(2);
                        expect(stored.title).to.equal((winner.body as PostBody).title);
                    }
                } finally {
                    other.close();
                }
            });

            it("ten concurrent updates without If-Match all apply: version goes up by ten", async () => {
                const post = await create();

                const results = await Promise.all(
                    Array.from({ length: 10 }, (_, i) => call("updatePost", { id: post.id, body: { title: `t${i}` } })),
                );

                expect(results.every((result) => result.statusCode === 200)).to.equal(true);
                expect(((await call("getPost", { id: post.id })).body as PostBody).version).to.equal(11);
            });

            it('accepts "*" (any version), treats weak and foreign tags as never matching, 400s malformed values', async () => {
                const post = await create();

                const star = await call("updatePost", {
                    id: post.id,
                    body: { title: "star" },
                    headers: { "If-Match": "*" },
                });
                const weak = await call("updatePost", {
                    id: post.id,
                    body: { title: "weak" },
                    headers: { "If-Match": 'W/"2"' },
                });
                const foreign = await call("updatePost", {
                    id: post.id,
                    body: { title: "foreign" },
                    headers: { "If-Match": '"02"' },
                });
                const list = await call("updatePost", {
                    id: post.id,
                    body: { title: "list" },
                    headers: { "If-Match": '"1", "2"' },
                });
                const malformed = await Promise.all(
                    ["2", '"2', "", "W/2", "abc"].map((value) =>
                        call("updatePost", { id: post.id, body: { title: "bad" }, headers: { "If-Match": value } }),
                    ),
                );

                expect(star.statusCode).to.equal(200);
                expectError(weak, 412, "Precondition failed");
                expectError(foreign, 412, "Precondition failed");
                expect(list.statusCode).to.equal(400);
                expect(malformed.map((result) => result.statusCode)).to.deep.equal([400, 400, 400, 400, 400]);
                expect(((await call("getPost", { id: post.id })).body as PostBody).title).to.equal("star");
            });
        });

        describe("Idempotency-Key", () => {
            const headers = (key: string) => ({ "Idempotency-Key": key });

            it("a retry with the same key and body returns the original 201 and creates nothing", async () => {
                const first = await call("createPost", { body: validPost(), headers: headers("retry-1") });
                const second = await call("createPost", { body: validPost(), headers: headers("retry-1") });

                expect(first.statusCode).to.equal(201);
                expect(second.statusCode).to.equal(201);
                expect(second.rawBody).to.equal(first.rawBody);
                expect(second.headers.Location).to.equal(first.headers.Location);
                expect(second.headers.ETag).to.equal(first.headers.ETag);
                const posts = (await dumpTable(dynamo.db, tableName)).filter((item) =>
                    String(item.pk).startsWith("POST#"),
                );
                expect(posts).to.have.length(1);
            });

            it("replays the original response even after the post changed", async () => {
                const first = await call("createPost", { body: validPost(), headers: headers("retry-2") });
                await call("updatePost", { id: (first.body as PostBody).id, body: { title: "changed" } });

                const retry = await call("createPost", { body: validPost(), headers: headers("retry-2") });

                expect(retry.rawBody).to.equal(first.rawBody);
            });

            it("the same key with a different body is 422 and creates nothing", async () => {
                await call("createPost", { body: validPost(), headers: headers("reused") });
                const before = await dumpTable(dynamo.db, tableName);

                const result = await call("createPost", {
                    body: validPost({ title: "different" }),
                    headers: headers("reused"),
                });

                expect(result.statusCode).to.equal(422);
                expect((result.body as { message: string }).message).to.include("Idempotency-Key");
                expect(await dumpTable(dynamo.db, tableName)).to.deep.equal(before);
            });

            it("the same body means the same validated body: extra whitespace in title does not make it different", async () => {
                const first = await call("createPost", {
                    body: validPost({ title: "Same" }),
                    headers: headers("canonical"),
                });
                const second = await call("createPost", {
                    body: validPost({ title: "  Same " }),
                    headers: headers("canonical"),
                });

                expect(second.statusCode).to.equal(201);
                expect(second.rawBody).to.equal(first.rawBody);
            });

            it("keys are scoped per API key: two clients with the same key get two posts", async () => {
                const a = await call("createPost", {
                    body: validPost(),
                    headers: headers("shared"),
                    apiKeyId: "client-a",
                });
                const b = await call("createPost", {
                    body: validPost({ title: "other" }),
                    headers: headers("shared"),
                    apiKeyId: "client-b",
                });

                expect([a.statusCode, b.statusCode]).to.deep.equal([201, 201]);
                expect((a.body as PostBody).id).not.to.equal((b.body as PostBody).id);
            });

            it("concurrent POSTs with one key create one post and answer identical 201s", async () => {
                // Four separate instances (in closure mode: four cold starts of createPost).
                const others = await Promise.all(
                    [1, 2, 3].map(() => loadApiUnderTest(mode, { endpoint: dynamo.endpoint, tableName })),
                );
                try {
                    const callers = [call, ...others.map((other) => other.call)];
                    for (let round = 0; round < 5; round++) {
                        const key = `race-${round}`;

                        const results = await Promise.all(
                            callers.map((caller) => caller("createPost", { body: validPost(), headers: headers(key) })),
                        );

                        for (const result of results) {
                            expect(result.statusCode, result.rawBody).to.equal(201);
                            expect(result.rawBody).to.equal(results[0]?.rawBody);
                            expect(result.headers.Location).to.equal(results[0]?.headers.Location);
                        }
                    }
                } finally {
                    others.forEach((other) => other.close());
                }
                const posts = (await dumpTable(dynamo.db, tableName)).filter((item) =>
                    String(item.pk).startsWith("POST#"),
                );
                expect(posts).to.have.length(5);
            });

            /** Moves a stored idempotency record's expiry to `secondsFromNow` (negative: in the past). */
            async function age(key: string, secondsFromNow: number): Promise<void> {
                await dynamo.db.update({
                    TableName: tableName,
                    Key: idempotencyKey(TEST_API_KEY_ID, key),
                    UpdateExpression: "SET #expiresAt = :expiresAt",
                    ConditionExpression: "attribute_exists(pk)",
                    ExpressionAttributeNames: { "#expiresAt": "expiresAt" },
                    ExpressionAttributeValues: { ":expiresAt": epochSeconds(api.now()) + secondsFromNow },
                });
            }

            it("stores the record with a DynamoDB TTL 24 hours ahead", async () => {
                const before = epochSeconds(api.now());
                await call("createPost", { body: validPost(), headers: headers("ttl") });
                const after = epochSeconds(api.now());

                const { Item } = await dynamo.db.get({
                    TableName: tableName,
                    Key: idempotencyKey(TEST_API_KEY_ID, "ttl"),
                });

                expect(Item?.expiresAt).to.be.within(before + IDEMPOTENCY_TTL_SECONDS, after + IDEMPOTENCY_TTL_SECONDS);
            });

            it("once the record's expiry has passed the key is free again, even before TTL deletes the record", async () => {
                const first = await call("createPost", { body: validPost(), headers: headers("aged") });
                await age("aged", -1);

                const different = await call("createPost", {
                    body: validPost({ title: "new day" }),
                    headers: headers("aged"),
                });
                const replay = await call("createPost", {
                    body: validPost({ title: "new day" }),
                    headers: headers("aged"),
                });

                expect(different.statusCode).to.equal(201);
                expect((different.body as PostBody).id).not.to.equal((first.body as PostBody).id);
                expect(replay.rawBody).to.equal(different.rawBody);
            });

            it("until the record's expiry the key is held", async () => {
                await call("createPost", { body: validPost(), headers: headers("aging") });
                await age("aging", 5);

                const result = await call("createPost", {
                    body: validPost({ title: "other" }),
                    headers: headers("aging"),
                });

                expect(result.statusCode).to.equal(422);
            });

            // Handler mode only: these jump the injected clock; the two tests above are their
            // closure-mode counterparts.
            if (mode === "handler")
                it("after 24 hours the key is free again, even before TTL deletes the record", async () => {
                    const first = await call("createPost", { body: validPost(), headers: headers("expiring") });
                    clock.advance((IDEMPOTENCY_TTL_SECONDS + 2) * 1000);

                    const different = await call("createPost", {
                        body: validPost({ title: "new day" }),
                        headers: headers("expiring"),
                    });
                    const replay = await call("createPost", {
                        body: validPost({ title: "new day" }),
                        headers: headers("expiring"),
                    });

                    expect(different.statusCode).to.equal(201);
                    expect((different.body as PostBody).id).not.to.equal((first.body as PostBody).id);
                    expect(replay.rawBody).to.equal(different.rawBody);
                });

            if (mode === "handler")
                it("within 24 hours the key is still held", async () => {
                    await call("createPost", { body: validPost(), headers: headers("held") });
                    clock.advance((IDEMPOTENCY_TTL_SECONDS - 5) * 1000);

                    const result = await call("createPost", {
                        body: validPost({ title: "other" }),
                        headers: headers("held"),
                    });

                    expect(result.statusCode).to.equal(422);
                });

            describe("crash recovery", () => {
                async function pendingRecord(key: string, postId: string, createdAt: string): Promise<void> {
                    const input = postSchemas().create.parse(validPost());
                    await dynamo.db.put({
                        TableName: tableName,
                        Item: {
                            ...idempotencyKey(TEST_API_KEY_ID, key),
                            status: "pending",
                            postId,
                            createdAt,
                            requestHash: requestHash(input),
                            expiresAt: epochSeconds(api.now()) + IDEMPOTENCY_TTL_SECONDS,
                        },
                    });
                }

                // These records have the previous version's shape (no owner, no lease: read as an
                // expired lease). tests/idempotency.test.ts covers every gap with the current one.
                it("a crash after reserving: the retry creates the post, under a new id (the reserved one may have been deleted)", async () => {
                    const postId = "11111111-1111-4111-8111-111111111111";
                    await pendingRecord("crash-1", postId, "2026-11-21T09:00:00.000Z");

                    const retry = await call("createPost", { body: validPost(), headers: headers("crash-1") });
                    const again = await call("createPost", { body: validPost(), headers: headers("crash-1") });

                    expect(retry.statusCode).to.equal(201);
                    expect(retry.body).to.include({ version: 1 });
                    expect((retry.body as PostBody).id).not.to.equal(postId);
                    expect(again.rawBody).to.equal(retry.rawBody);
                    const record = (await dumpTable(dynamo.db, tableName)).find((item) =>
                        String(item.pk).startsWith("IDEMPOTENCY#"),
                    );
                    expect(record?.status).to.equal("COMPLETED");
                });

                it("a crash after writing the post: the retry returns that post and creates nothing", async () => {
                    const original = await create();
                    await pendingRecord("crash-2", original.id, original.createdAt);

                    const retry = await call("createPost", { body: validPost(), headers: headers("crash-2") });

                    expect(retry.statusCode).to.equal(201);
                    expect(retry.body).to.deep.equal(original);
                    expect(retry.headers.Location).to.equal(`posts/${original.id}`);
                    const posts = (await dumpTable(dynamo.db, tableName)).filter((item) =>
                        String(item.pk).startsWith("POST#"),
                    );
                    expect(posts).to.have.length(1);
                });
            });

            it("without the header every POST creates a post", async () => {
                await create();
                await create();

                const posts = (await dumpTable(dynamo.db, tableName)).filter((item) =>
                    String(item.pk).startsWith("POST#"),
                );
                expect(posts).to.have.length(2);
                expect(posts[0]?.id).not.to.equal(posts[1]?.id);
            });

            for (const key of ["", " ", "a b", "x".repeat(129), "tab\there", "ü", "line\nbreak"]) {
                it(`400s Idempotency-Key ${JSON.stringify(key.length > 20 ? `${key.slice(0, 10)}…(${key.length})` : key)}`, async () => {
                    const result = await call("createPost", { body: validPost(), headers: headers(key) });

                    expect(result.statusCode).to.equal(400);
                    expect(await dumpTable(dynamo.db, tableName)).to.deep.equal([]);
                });
            }

            it("accepts 128 visible ASCII characters, including # and quotes", async () => {
                const key = '#"!~'.repeat(32);

                const first = await call("createPost", { body: validPost(), headers: headers(key) });
                const second = await call("createPost", { body: validPost(), headers: headers(key) });

                expect(first.statusCode).to.equal(201);
                expect(second.rawBody).to.equal(first.rawBody);
            });
        });
    });
