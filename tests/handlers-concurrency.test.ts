// Concurrency and retries: If-Match (412, races) and Idempotency-Key (replay, 422, races, crash
// recovery, expiry). Against dynalite, so the conditions are DynamoDB's own.
import { expect } from "chai";
import { PutCommand } from "@aws-sdk/lib-dynamodb";
import { startLocalDynamo, dumpTable, type LocalDynamo } from "./support/dynamo";
import { apiClient, testClock, testDeps, validPost, type ApiCall, type ApiResult } from "./support/client";
import { TEST_API_KEY_ID } from "./support/events";
import { idempotencyKey } from "../data/tableDesign";
import { IDEMPOTENCY_TTL_SECONDS, requestHash } from "../data/postsStore";
import { postSchemas } from "../api/schema";
import type { Deps } from "../api/http/contract";

type PostBody = Record<string, unknown> & { id: string; version: number; createdAt: string };

describe("concurrency and retries (dynalite)", () => {
    let dynamo: LocalDynamo;
    let clock: ReturnType<typeof testClock>;
    let deps: Deps;
    let call: ApiCall;

    before(async () => {
        dynamo = await startLocalDynamo();
    });

    after(async () => {
        await dynamo.close();
    });

    beforeEach(async () => {
        clock = testClock();
        deps = testDeps(dynamo.db, await dynamo.createTable(), clock);
        call = apiClient(deps);
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

            const put = await call("replacePost", { id: post.id, body: validPost({ title: "v2" }), headers: { "If-Match": '"1"' } });
            const patch = await call("updatePost", { id: post.id, body: { title: "v3" }, headers: { "If-Match": put.headers.ETag as string } });
            const del = await call("deletePost", { id: post.id, headers: { "If-Match": patch.headers.ETag as string } });

            expect([put.statusCode, patch.statusCode, del.statusCode]).to.deep.equal([200, 200, 204]);
            expect(put.headers.ETag).to.equal('"2"');
            expect(patch.headers.ETag).to.equal('"3"');
        });

        for (const route of ["replacePost", "updatePost", "deletePost"] as const) {
            it(`${route}: a stale version is 412 and changes nothing`, async () => {
                const post = await create();
                await call("updatePost", { id: post.id, body: { title: "v2" } });
                const before = await dumpTable(dynamo.db, deps.tableName);

                const result = await call(route, {
                    id: post.id,
                    headers: { "If-Match": '"1"' },
                    ...(route === "deletePost" ? {} : { body: validPost({ title: "lost" }) }),
                });

                expectError(result, 412, "Precondition failed");
                expect(result.body).to.deep.equal({ message: "Precondition failed" });
                expect(await dumpTable(dynamo.db, deps.tableName)).to.deep.equal(before);
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

        it("tells 412 from 404 by the old item DynamoDB returns, reading again only when it is absent", async () => {
            const post = await create();
            await call("updatePost", { id: post.id, body: { title: "v2" } });
            const sent: { name: string; input: Record<string, unknown> }[] = [];
            // Real DynamoDB attaches the old item to the error (ReturnValuesOnConditionCheckFailure);
            // dynalite does not, so this wrapper adds it the way the SDK would.
            const awsLikeDb = {
                send: async (command: { input: Record<string, unknown> }) => {
                    sent.push({ name: command.constructor.name, input: command.input });
                    try {
                        return await dynamo.db.send(command as never);
                    } catch (error) {
                        if (error instanceof Error && error.name === "ConditionalCheckFailedException") {
                            Object.assign(error, { Item: { pk: { S: `POST#${post.id}` } } });
                        }
                        throw error;
                    }
                },
            };
            const awsLike = apiClient({ ...deps, db: awsLikeDb as unknown as Deps["db"] });

            const stale = await awsLike("updatePost", { id: post.id, body: { title: "x" }, headers: { "If-Match": '"1"' } });

            expectError(stale, 412, "Precondition failed");
            expect(sent.map((command) => command.name)).to.deep.equal(["UpdateCommand"]);
            expect(sent[0]?.input.ReturnValuesOnConditionCheckFailure).to.equal("ALL_OLD");
        });

        it("two concurrent updates with the same If-Match: exactly one 200 and one 412, nothing lost", async () => {
            for (let round = 0; round < 5; round++) {
                const post = await create();

                const results = await Promise.all([
                    call("updatePost", { id: post.id, body: { title: "from A" }, headers: { "If-Match": '"1"' } }),
                    call("replacePost", { id: post.id, body: validPost({ title: "from B" }), headers: { "If-Match": '"1"' } }),
                ]);

                const statuses = results.map((result) => result.statusCode).sort();
                expect(statuses).to.deep.equal([200, 412]);
                const winner = results.find((result) => result.statusCode === 200) as ApiResult;
                const stored = (await call("getPost", { id: post.id })).body as PostBody;
                expect(stored.version).to.equal(2);
                expect(stored.title).to.equal((winner.body as PostBody).title);
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

            const star = await call("updatePost", { id: post.id, body: { title: "star" }, headers: { "If-Match": "*" } });
            const weak = await call("updatePost", { id: post.id, body: { title: "weak" }, headers: { "If-Match": 'W/"2"' } });
            const foreign = await call("updatePost", { id: post.id, body: { title: "foreign" }, headers: { "If-Match": '"02"' } });
            const list = await call("updatePost", { id: post.id, body: { title: "list" }, headers: { "If-Match": '"1", "2"' } });
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
            const posts = (await dumpTable(dynamo.db, deps.tableName)).filter((item) => String(item.pk).startsWith("POST#"));
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
            const before = await dumpTable(dynamo.db, deps.tableName);

            const result = await call("createPost", { body: validPost({ title: "different" }), headers: headers("reused") });

            expect(result.statusCode).to.equal(422);
            expect((result.body as { message: string }).message).to.include("Idempotency-Key");
            expect(await dumpTable(dynamo.db, deps.tableName)).to.deep.equal(before);
        });

        it("the same body means the same validated body: extra whitespace in title does not make it different", async () => {
            const first = await call("createPost", { body: validPost({ title: "Same" }), headers: headers("canonical") });
            const second = await call("createPost", { body: validPost({ title: "  Same " }), headers: headers("canonical") });

            expect(second.statusCode).to.equal(201);
            expect(second.rawBody).to.equal(first.rawBody);
        });

        it("keys are scoped per API key: two clients with the same key get two posts", async () => {
            const a = await call("createPost", { body: validPost(), headers: headers("shared"), apiKeyId: "client-a" });
            const b = await call("createPost", { body: validPost({ title: "other" }), headers: headers("shared"), apiKeyId: "client-b" });

            expect([a.statusCode, b.statusCode]).to.deep.equal([201, 201]);
            expect((a.body as PostBody).id).not.to.equal((b.body as PostBody).id);
        });

        it("concurrent POSTs with one key create one post and answer identical 201s", async () => {
            for (let round = 0; round < 5; round++) {
                const key = `race-${round}`;

                const results = await Promise.all(
                    Array.from({ length: 4 }, () => call("createPost", { body: validPost(), headers: headers(key) })),
                );

                for (const result of results) {
                    expect(result.statusCode, result.rawBody).to.equal(201);
                    expect(result.rawBody).to.equal(results[0]?.rawBody);
                    expect(result.headers.Location).to.equal(results[0]?.headers.Location);
                }
            }
            const posts = (await dumpTable(dynamo.db, deps.tableName)).filter((item) => String(item.pk).startsWith("POST#"));
            expect(posts).to.have.length(5);
        });

        it("after 24 hours the key is free again, even before TTL deletes the record", async () => {
            const first = await call("createPost", { body: validPost(), headers: headers("expiring") });
            clock.advance((IDEMPOTENCY_TTL_SECONDS + 2) * 1000);

            const different = await call("createPost", { body: validPost({ title: "new day" }), headers: headers("expiring") });
            const replay = await call("createPost", { body: validPost({ title: "new day" }), headers: headers("expiring") });

            expect(different.statusCode).to.equal(201);
            expect((different.body as PostBody).id).not.to.equal((first.body as PostBody).id);
            expect(replay.rawBody).to.equal(different.rawBody);
        });

        it("within 24 hours the key is still held", async () => {
            await call("createPost", { body: validPost(), headers: headers("held") });
            clock.advance((IDEMPOTENCY_TTL_SECONDS - 5) * 1000);

            const result = await call("createPost", { body: validPost({ title: "other" }), headers: headers("held") });

            expect(result.statusCode).to.equal(422);
        });

        describe("crash recovery", () => {
            async function pendingRecord(key: string, postId: string, createdAt: string): Promise<void> {
                const input = postSchemas().create.parse(validPost());
                await dynamo.db.send(
                    new PutCommand({
                        TableName: deps.tableName,
                        Item: {
                            ...idempotencyKey(TEST_API_KEY_ID, key),
                            status: "pending",
                            postId,
                            createdAt,
                            requestHash: requestHash(input),
                            expiresAt: Math.floor(deps.now().getTime() / 1000) + IDEMPOTENCY_TTL_SECONDS,
                        },
                    }),
                );
            }

            it("a crash after reserving: the retry creates the post with the reserved id", async () => {
                const postId = "11111111-1111-4111-8111-111111111111";
                await pendingRecord("crash-1", postId, "2026-11-21T09:00:00.000Z");

                const retry = await call("createPost", { body: validPost(), headers: headers("crash-1") });
                const again = await call("createPost", { body: validPost(), headers: headers("crash-1") });

                expect(retry.statusCode).to.equal(201);
                expect(retry.body).to.include({ id: postId, createdAt: "2026-11-21T09:00:00.000Z", version: 1 });
                expect(again.rawBody).to.equal(retry.rawBody);
                const record = (await dumpTable(dynamo.db, deps.tableName)).find((item) => String(item.pk).startsWith("IDEMPOTENCY#"));
                expect(record?.status).to.equal("completed");
            });

            it("a crash after writing the post: the retry returns that post and creates nothing", async () => {
                const original = await create();
                await pendingRecord("crash-2", original.id, original.createdAt);

                const retry = await call("createPost", { body: validPost(), headers: headers("crash-2") });

                expect(retry.statusCode).to.equal(201);
                expect(retry.body).to.deep.equal(original);
                expect(retry.headers.Location).to.equal(`posts/${original.id}`);
                const posts = (await dumpTable(dynamo.db, deps.tableName)).filter((item) => String(item.pk).startsWith("POST#"));
                expect(posts).to.have.length(1);
            });
        });

        it("without the header every POST creates a post", async () => {
            await create();
            await create();

            const posts = (await dumpTable(dynamo.db, deps.tableName)).filter((item) => String(item.pk).startsWith("POST#"));
            expect(posts).to.have.length(2);
            expect(posts[0]?.id).not.to.equal(posts[1]?.id);
        });

        for (const key of ["", " ", "a b", "x".repeat(129), "tab\there", "ü", "line\nbreak"]) {
            it(`400s Idempotency-Key ${JSON.stringify(key.length > 20 ? `${key.slice(0, 10)}…(${key.length})` : key)}`, async () => {
                const result = await call("createPost", { body: validPost(), headers: headers(key) });

                expect(result.statusCode).to.equal(400);
                expect(await dumpTable(dynamo.db, deps.tableName)).to.deep.equal([]);
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
