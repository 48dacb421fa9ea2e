// Idempotent POST, one bad ordering at a time (data/postsStore.ts, "Idempotent create"). The
// store's step seam (`idempotencySteps` in the store's deps) runs a duplicate, a DELETE or a crash (a throw) in each
// gap of the first request's steps (reserve → write the post → complete), and a fake clock ends
// leases without waiting. Handler mode against dynalite: the orderings need the seam, which only
// injected deps can carry; tests/idempotency-load.test.ts races the serialized code and the local
// cloud without it.
import { expect } from "chai";
import { dumpTable, localDocumentClient, startTestDynamo, type TestDynamo } from "../support/dynamo";
import { apiClient, testClock, testDeps, validPost, type ApiCall, type ApiResult } from "../support/client";
import { TEST_API_KEY_ID } from "../support/events";
import { idempotencyKey } from "../../data/tableDesign";
import { LEASE_MARGIN_SECONDS, type IdempotencySteps } from "../../data/postsStore";
import type { DynamoDBDocument } from "@aws-sdk/lib-dynamodb";

type PostBody = { id: string; version: number; createdAt: string; title: string };

/** The function timeout the tests' deps carry (FUNCTION_TIMEOUT_SECONDS on a stack). */
const TIMEOUT_SECONDS = 10;
const LEASE_MS = (TIMEOUT_SECONDS + LEASE_MARGIN_SECONDS) * 1000;
const IN_PROGRESS_MESSAGE = "A request with this Idempotency-Key is in progress";
const CRASH = "simulated crash between steps";

/** What a step hook is told: the attempt holding the record and the post id it reserved. */
interface Holder {
    owner: string;
    postId: string;
}

describe("idempotent POST: each ordering of retries, DELETEs and crashes (store step seam, dynalite)", () => {
    let dynamo: TestDynamo;
    let db: DynamoDBDocument;
    let tableName: string;
    let clock: ReturnType<typeof testClock>;
    /** The first request's client: its deps carry the step hooks of the test. */
    let first: (steps: IdempotencySteps) => ApiCall;
    /** Everyone else (duplicates, DELETE, GET): no hooks, and the pause between reads is instant. */
    let other: ApiCall;
    /** The first request's error log lines (a simulated crash is one). */
    let logged: string[];

    before(async () => {
        dynamo = await startTestDynamo();
        db = localDocumentClient(dynamo.endpoint);
    });

    after(async () => {
        db.destroy();
        await dynamo.close();
    });

    beforeEach(async () => {
        tableName = await dynamo.createTable();
        clock = testClock();
        const deps = (steps: IdempotencySteps) =>
            testDeps(db, tableName, clock, { functionTimeoutSeconds: TIMEOUT_SECONDS, idempotencySteps: steps });
        logged = [];
        first = (steps) => apiClient(deps(steps), { log: (line) => logged.push(line) });
        other = apiClient(deps({ sleep: async () => {} }));
    });

    const headers = (key: string) => ({ "Idempotency-Key": key });
    const create = (call: ApiCall, key: string, overrides: Record<string, unknown> = {}) =>
        call("createPost", { body: validPost(overrides), headers: headers(key) });
    const posts = async () => (await dumpTable(db, tableName)).filter((item) => String(item.pk).startsWith("POST#"));
    const record = async (key: string) =>
        (await db.get({ TableName: tableName, Key: idempotencyKey(TEST_API_KEY_ID, key), ConsistentRead: true })).Item;
    const getStatus = async (id: string) => (await other("getPost", { id })).statusCode;

    function expectCreated(result: ApiResult | undefined): PostBody {
        expect(result?.statusCode, result?.rawBody).to.equal(201);
        const body = result!.body as PostBody;
        expect(result!.headers.Location).to.equal(`posts/${body.id}`);
        return body;
    }

    function expectInProgress(result: ApiResult | undefined, retryAfter: number): void {
        expect(result?.statusCode, result?.rawBody).to.equal(409);
        expect(result!.body).to.deep.equal({ message: IN_PROGRESS_MESSAGE });
        expect(result!.headers["Retry-After"]).to.equal(String(retryAfter));
        expect(result!.headers["Access-Control-Expose-Headers"]).to.include("Retry-After");
    }

    describe("a duplicate while the first is in progress", () => {
        it("between reserve and post write: 409 with Retry-After (the lease left), and it writes no post", async () => {
            let duplicate: ApiResult | undefined;
            let postsMeanwhile = -1;
            const result = await create(
                first({
                    afterReserve: async () => {
                        duplicate = await create(other, "k");
                        postsMeanwhile = (await posts()).length;
                    },
                }),
                "k",
            );

            expectInProgress(duplicate, TIMEOUT_SECONDS + LEASE_MARGIN_SECONDS);
            expect(postsMeanwhile, "posts written by the duplicate").to.equal(0);
            const post = expectCreated(result);
            expect((await create(other, "k")).rawBody).to.equal(result.rawBody);
            expect((await posts()).map((p) => p.id)).to.deep.equal([post.id]);
        });

        it("between post write and completion: 409 if the first does not finish while it waits", async () => {
            let duplicate: ApiResult | undefined;
            const result = await create(
                first({
                    afterPostWrite: async () => {
                        duplicate = await create(other, "k");
                    },
                }),
                "k",
            );

            expectInProgress(duplicate, TIMEOUT_SECONDS + LEASE_MARGIN_SECONDS);
            expectCreated(result);
            expect(await posts()).to.have.length(1);
        });

        it("between post write and completion: the original 201 once the first completes during the wait", async () => {
            let firstDone: Promise<ApiResult> = Promise.resolve(undefined as unknown as ApiResult);
            let duplicate: Promise<ApiResult> | undefined;
            let waiting!: () => void;
            const duplicateWaits = new Promise<void>((resolve) => {
                waiting = resolve;
            });
            // The duplicate's first pause lets the first request finish, then reads again.
            const patient = apiClient(
                testDeps(db, tableName, clock, {
                    functionTimeoutSeconds: TIMEOUT_SECONDS,
                    idempotencySteps: {
                        sleep: async () => {
                            waiting();
                            await firstDone;
                        },
                    },
                }),
            );
            firstDone = create(
                first({
                    afterPostWrite: async () => {
                        duplicate = create(patient, "k");
                        await duplicateWaits;
                    },
                }),
                "k",
            );

            const result = await firstDone;
            const replay = await duplicate!;

            expectCreated(result);
            expect(replay.statusCode).to.equal(201);
            expect(replay.rawBody).to.equal(result.rawBody);
            expect(replay.headers.Location).to.equal(result.headers.Location);
            expect(replay.headers.ETag).to.equal(result.headers.ETag);
            expect(await posts()).to.have.length(1);
        });

        it("with another body: 422, even while the first is in progress", async () => {
            let duplicate: ApiResult | undefined;
            await create(
                first({
                    afterReserve: async () => {
                        duplicate = await create(other, "k", { title: "other" });
                    },
                }),
                "k",
            );

            expect(duplicate?.statusCode).to.equal(422);
        });

        it("keeps the lease to the function's timeout plus the margin, and the owner token, on the record", async () => {
            let during: Record<string, unknown> | undefined;
            let holder: Holder | undefined;
            const result = await create(
                first({
                    afterReserve: async (h) => {
                        holder = h;
                        during = await record("k");
                    },
                }),
                "k",
            );
            const post = expectCreated(result);
            const after = await record("k");

            expect(during).to.include({ status: "IN_PROGRESS", owner: holder!.owner, postId: post.id });
            expect(Number(during!.inProgressExpiresAt) - Date.parse(post.createdAt)).to.equal(LEASE_MS);
            expect(after).to.include({ status: "COMPLETED", owner: holder!.owner, postId: post.id });
            expect(after!.response).to.deep.equal(result.body);
        });
    });

    describe("a DELETE in each gap", () => {
        it("between reserve and post write: 404 (nothing to delete yet); the create completes", async () => {
            let deleted: ApiResult | undefined;
            const result = await create(
                first({
                    afterReserve: async (h) => {
                        deleted = await other("deletePost", { id: h.postId });
                    },
                }),
                "k",
            );

            expect(deleted?.statusCode).to.equal(404);
            const post = expectCreated(result);
            expect(await getStatus(post.id)).to.equal(200);
        });

        it("between post write and completion, then a retry: the post stays deleted and the replay is the original 201", async () => {
            let deleted: ApiResult | undefined;
            let retry: ApiResult | undefined;
            const result = await create(
                first({
                    afterPostWrite: async (h) => {
                        deleted = await other("deletePost", { id: h.postId });
                        retry = await create(other, "k");
                    },
                }),
                "k",
            );
            const post = expectCreated(result);
            const replay = await create(other, "k");

            expect(deleted?.statusCode).to.equal(204);
            expectInProgress(retry, TIMEOUT_SECONDS + LEASE_MARGIN_SECONDS);
            expect(replay.rawBody).to.equal(result.rawBody);
            expect(await getStatus(post.id)).to.equal(404);
            expect(await posts()).to.deep.equal([]);
        });

        it("after completion, then a replay: the stored 201, and the post stays deleted", async () => {
            const result = await create(other, "k");
            const post = expectCreated(result);

            expect((await other("deletePost", { id: post.id })).statusCode).to.equal(204);
            const replay = await create(other, "k");

            expect(replay.statusCode).to.equal(201);
            expect(replay.rawBody).to.equal(result.rawBody);
            expect(await getStatus(post.id)).to.equal(404);
            expect(await posts()).to.deep.equal([]);
        });
    });

    describe("a crash between steps, then retries", () => {
        it("after reserve: 409 until the lease ends, then the retry restarts under a new id", async () => {
            let holder: Holder | undefined;
            const crashed = await create(
                first({
                    afterReserve: async (h) => {
                        holder = h;
                        throw new Error(CRASH);
                    },
                }),
                "k",
            );
            expect(crashed.statusCode).to.equal(500);
            expect(logged.join()).to.include(CRASH);

            expectInProgress(await create(other, "k"), TIMEOUT_SECONDS + LEASE_MARGIN_SECONDS);
            clock.advance(5000);
            expectInProgress(await create(other, "k"), TIMEOUT_SECONDS + LEASE_MARGIN_SECONDS - 5);
            clock.advance(LEASE_MS - 5000);
            const retry = await create(other, "k");
            const again = await create(other, "k");

            const post = expectCreated(retry);
            expect(post.id).not.to.equal(holder!.postId);
            expect(again.rawBody).to.equal(retry.rawBody);
            expect((await posts()).map((p) => p.id)).to.deep.equal([post.id]);
            expect(await record("k"))
                .to.include({ status: "COMPLETED", postId: post.id })
                .and.not.include({ owner: holder!.owner });
        });

        it("after post write: the retry after the lease adopts that post and answers its original 201, writing nothing", async () => {
            let holder: Holder | undefined;
            const crashed = await create(
                first({
                    afterPostWrite: async (h) => {
                        holder = h;
                        throw new Error(CRASH);
                    },
                }),
                "k",
            );
            expect(crashed.statusCode).to.equal(500);
            // Someone found the post in the list and edited it: the adoption must not undo that.
            const patched = await other("updatePost", { id: holder!.postId, body: { title: "edited" } });
            expect(patched.statusCode).to.equal(200);

            clock.advance(LEASE_MS + 1);
            const retry = await create(other, "k");

            const post = expectCreated(retry);
            expect(post).to.include({ id: holder!.postId, version: 1, title: validPost().title });
            expect((await other("getPost", { id: post.id })).body).to.include({ version: 2, title: "edited" });
            expect(await posts()).to.have.length(1);
            expect((await create(other, "k")).rawBody).to.equal(retry.rawBody);
        });

        it("after post write, with a DELETE in the gap: the deleted post stays deleted; the retry creates one new post", async () => {
            let holder: Holder | undefined;
            await create(
                first({
                    afterPostWrite: async (h) => {
                        holder = h;
                        throw new Error(CRASH);
                    },
                }),
                "k",
            );
            expect((await other("deletePost", { id: holder!.postId })).statusCode).to.equal(204);

            clock.advance(LEASE_MS + 1);
            const retry = await create(other, "k");

            const post = expectCreated(retry);
            expect(post.id).not.to.equal(holder!.postId);
            expect(await getStatus(holder!.postId)).to.equal(404);
            expect(await getStatus(post.id)).to.equal(200);
            expect((await posts()).map((p) => p.id)).to.deep.equal([post.id]);
        });

        it("several retries at once after the lease: one takes the record over, one post, every answer 201 or 409", async () => {
            await create(
                first({
                    afterReserve: async () => {
                        throw new Error(CRASH);
                    },
                }),
                "k",
            );
            clock.advance(LEASE_MS + 1);

            const results = await Promise.all(Array.from({ length: 8 }, () => create(other, "k")));

            const created = results.filter((r) => r.statusCode === 201);
            expect(
                results.every((r) => r.statusCode === 201 || r.statusCode === 409),
                results.map((r) => r.statusCode).join(),
            ).to.equal(true);
            expect(created.length).to.be.greaterThan(0);
            expect(new Set(created.map((r) => r.rawBody)).size).to.equal(1);
            expect(await posts()).to.have.length(1);
        });
    });

    describe("only the owner completes the record", () => {
        it("a stale owner whose record was restarted by a taker: its completion fails, it removes its orphan and answers the taker's 201", async () => {
            let holder: Holder | undefined;
            let taker: ApiResult | undefined;
            const stale = await create(
                first({
                    afterReserve: async (h) => {
                        holder = h;
                        clock.advance(LEASE_MS + 1); // this attempt outlived its lease
                        taker = await create(other, "k");
                    },
                }),
                "k",
            );

            const post = expectCreated(taker);
            expect(post.id).not.to.equal(holder!.postId);
            expect(stale.rawBody).to.equal(taker!.rawBody);
            expect(await getStatus(holder!.postId)).to.equal(404);
            expect((await posts()).map((p) => p.id)).to.deep.equal([post.id]);
            expect((await record("k"))?.owner).not.to.equal(holder!.owner);
        });

        it("a stale owner whose post was adopted by a taker answers the same 201", async () => {
            let taker: ApiResult | undefined;
            const stale = await create(
                first({
                    afterPostWrite: async () => {
                        clock.advance(LEASE_MS + 1);
                        taker = await create(other, "k");
                    },
                }),
                "k",
            );

            expectCreated(taker);
            expect(stale.rawBody).to.equal(taker!.rawBody);
            expect(await posts()).to.have.length(1);
        });
    });

    describe("records of the previous version", () => {
        const hash = async () => {
            // The hash of validPost() as the store computes it, read back from a record it wrote.
            await create(other, "probe");
            return String((await record("probe"))?.requestHash);
        };

        it("a 'completed' record replays its stored response", async () => {
            const response = {
                id: "22222222-2222-4222-8222-222222222222",
                title: "t",
                description: "",
                author: "a",
                publicationDate: "2026-11-21",
                createdAt: "2026-11-21T09:00:00.000Z",
                updatedAt: "2026-11-21T09:00:00.000Z",
                version: 1,
            };
            await db.put({
                TableName: tableName,
                Item: {
                    ...idempotencyKey(TEST_API_KEY_ID, "old"),
                    status: "completed",
                    postId: response.id,
                    createdAt: response.createdAt,
                    requestHash: await hash(),
                    expiresAt: Math.floor(clock.now().getTime() / 1000) + 3600,
                    response,
                },
            });

            const replay = await create(other, "old");

            expect(replay.statusCode).to.equal(201);
            expect(replay.body).to.deep.equal(response);
        });
    });
});
