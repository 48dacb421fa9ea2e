// GET /posts: newest first, pagination without gaps or duplicates, tamper-evident cursors, and a
// page cost that follows `limit`, not the table size. Against dynalite, in both modes (the
// handlers directly, and the serialized closures: see loadApiUnderTest in tests/support/lambdas.ts). What
// each page costs is measured at the wire by a proxy in front of the engine (DynamoDB's own
// ScannedCount), so the same test holds for code that cannot be handed a wrapped client.
import { expect } from "chai";
import { startTestDynamo, startDynamoProxy, type DynamoProxy, type TestDynamo } from "../support/dynamo";
import { CURSOR_KEY, MODES, nextMillisecond, validPost, type ApiCall, type ApiResult } from "../support/client";
import { loadApiUnderTest, type ContractApi } from "../support/lambdas";
import { encodeCursor } from "../../api/cursor";

interface Page {
    items: { id: string; createdAt: string; title: string }[];
    nextCursor: string | null;
}

for (const mode of MODES)
    describe(`GET /posts (dynalite, ${mode})`, () => {
        const TOTAL = 45;
        let dynamo: TestDynamo;
        let proxy: DynamoProxy;
        let api: ContractApi;
        let call: ApiCall;
        let createdIds: string[];

        before(async () => {
            dynamo = await startTestDynamo();
            proxy = await startDynamoProxy(dynamo.endpoint);
            // One table and one cold start for the whole block: these tests only read.
            api = await loadApiUnderTest(mode, { endpoint: proxy.endpoint, tableName: dynamo.tableName });
            call = api.call;
            createdIds = [];
            for (let i = 0; i < TOTAL; i++) {
                // Closures read the real clock: one post per millisecond keeps createdAt distinct, so
                // the expected newest-first order is the creation order reversed.
                await nextMillisecond();
                const result = await call("createPost", { body: validPost({ title: `post ${i}` }) });
                createdIds.push((result.body as { id: string }).id);
            }
            await nextMillisecond();
            // An idempotency record lives in the same table; it must never show up in a listing.
            await call("createPost", {
                body: validPost({ title: "post 45" }),
                headers: { "Idempotency-Key": "list-test" },
            });
        });

        after(async () => {
            api.close();
            await proxy.close();
            await dynamo.close();
        });

        beforeEach(() => {
            proxy.reset();
        });

        async function page(query: Record<string, string | string[]>): Promise<ApiResult & { body: Page }> {
            const result = await call("listPosts", { query });
            expect(result.statusCode, result.rawBody).to.equal(200);
            return result as ApiResult & { body: Page };
        }

        it("walks every page: newest first, no duplicates, no gaps, no idempotency records, no empty last page", async () => {
            const seen: Page["items"] = [];
            const sizes: number[] = [];
            let cursor: string | null = null;
            do {
                const result: ApiResult & { body: Page } = await page(
                    cursor === null ? { limit: "10" } : { limit: "10", cursor },
                );
                sizes.push(result.body.items.length);
                seen.push(...result.body.items);
                cursor = result.body.nextCursor;
            } while (cursor !== null);

            expect(sizes).to.deep.equal([10, 10, 10, 10, 6]);
            const ids = seen.map((post) => post.id);
            expect(new Set(ids).size).to.equal(TOTAL + 1);
            expect(ids.slice(1)).to.deep.equal([...createdIds].reverse());
            expect(seen[0]?.title).to.equal("post 45");
            const createdAts = seen.map((post) => post.createdAt);
            expect(createdAts).to.deep.equal([...createdAts].sort().reverse());
        });

        it("defaults to 20 items and accepts 1 and 100", async () => {
            expect((await page({})).body.items).to.have.length(20);
            const one = await page({ limit: "1" });
            expect(one.body.items).to.have.length(1);
            expect(one.body.nextCursor).to.be.a("string");
            const hundred = await page({ limit: "100" });
            expect(hundred.body.items).to.have.length(TOTAL + 1);
            expect(hundred.body.nextCursor).to.equal(null);
        });

        it("gives a last page of exactly `limit` items and no cursor", async () => {
            const first = await page({ limit: "40" });
            const last = await page({ limit: "6", cursor: first.body.nextCursor as string });

            expect(last.body.items).to.have.length(6);
            expect(last.body.nextCursor).to.equal(null);
        });

        it("treats an empty `cursor=` as the first page (what Postman's default import sends)", async () => {
            const first = await page({ limit: "5" });
            const empty = await page({ limit: "5", cursor: "" });

            expect(empty.body).to.deep.equal(first.body);
        });

        it("reads about `limit` items per page with one Query on the index (one shard), never a Scan", async () => {
            await page({ limit: "10" });

            // The listing record first (how many shards writers used: one here), then the shard.
            expect(proxy.calls.map((c) => c.operation)).to.deep.equal(["GetItem", "Query"]);
            expect(proxy.calls[0]!.request).to.deep.include({
                Key: { pk: { S: "META#listing" } },
                ConsistentRead: true,
            });
            const query = proxy.calls[1]!;
            expect(query.request).to.include({ IndexName: "byCreatedAt", ScanIndexForward: false });
            expect(query.request.Limit).to.be.at.most(11);
            expect(query.response.ScannedCount).to.be.at.most(11);
            expect(query.response.Count).to.be.at.most(11);
            expect(proxy.itemsRead()).to.be.at.most(11);
        });

        for (const limit of [
            "0",
            "101",
            "-1",
            "+5",
            "1e1",
            "10.0",
            " 5",
            "5 ",
            "05",
            "",
            "abc",
            "0x10",
            "1_0",
            "١٠",
            "Infinity",
            "NaN",
        ]) {
            it(`400s limit=${JSON.stringify(limit)}`, async () => {
                const result = await call("listPosts", { query: { limit } });

                expect(result.statusCode).to.equal(400);
                expect((result.body as { message: string }).message).to.equal("limit must be an integer from 1 to 100");
            });
        }

        it("400s a repeated limit or cursor instead of picking one", async () => {
            const limits = await call("listPosts", { query: { limit: ["10", "20"] } });
            const first = await page({ limit: "5" });
            const cursors = await call("listPosts", {
                query: { cursor: [first.body.nextCursor as string, first.body.nextCursor as string] },
            });

            expect(limits.statusCode).to.equal(400);
            expect(cursors.statusCode).to.equal(400);
        });

        describe("cursors", () => {
            let cursor: string;

            before(async () => {
                cursor = (await page({ limit: "5" })).body.nextCursor as string;
            });

            function expectInvalid(result: ApiResult): void {
                expect(result.statusCode, result.rawBody).to.equal(400);
                expect(result.body).to.deep.equal({ message: "Invalid cursor" });
            }

            it("is opaque: no table keys visible in it", async () => {
                expect(cursor).to.match(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
                expect(cursor).not.to.include("POST");
            });

            it("rejects every single-character change", async () => {
                const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
                for (let i = 0; i < cursor.length; i++) {
                    const original = cursor[i] as string;
                    const replacement = alphabet[(alphabet.indexOf(original) + 1) % alphabet.length] as string;
                    const altered = cursor.slice(0, i) + (original === "." ? "A" : replacement) + cursor.slice(i + 1);

                    expectInvalid(await call("listPosts", { query: { cursor: altered } }));
                }
            });

            it("rejects truncation, extension, swapped parts, garbage and foreign signatures", async () => {
                const [payload, signature] = cursor.split(".") as [string, string];
                const variants = [
                    cursor.slice(0, -1),
                    cursor + "A",
                    `${signature}.${payload}`,
                    payload,
                    `${payload}.`,
                    `.${signature}`,
                    `${payload}.${signature}.${signature}`,
                    "garbage",
                    "a.b",
                    " " + cursor,
                    cursor + "=",
                    Buffer.from(JSON.stringify({ pk: "POST#x", listPk: "POSTS", listSk: "x" })).toString("base64url"),
                    encodeCursor({ pk: "POST#x", listPk: "POSTS", listSk: "x" }, "another-key"),
                    `${Buffer.from(JSON.stringify({ pk: "IDEMPOTENCY#a#b", listPk: "POSTS", listSk: "x" })).toString("base64url")}.${signature}`,
                    "x".repeat(5000),
                ];

                for (const variant of variants) {
                    expectInvalid(await call("listPosts", { query: { cursor: variant } }));
                }
            });

            it("rejects a validly signed cursor whose key is not a listing key (defence in depth)", async () => {
                const signedButWrong = [
                    encodeCursor(
                        { pk: "IDEMPOTENCY#a#b", listPk: "POSTS", listSk: "2026-11-21T09:30:00.000Z#x" },
                        CURSOR_KEY,
                    ),
                    encodeCursor(
                        {
                            pk: "POST#00000000-0000-4000-8000-000000000000",
                            listPk: "OTHER",
                            listSk: "2026-11-21T09:30:00.000Z#00000000-0000-4000-8000-000000000000",
                        },
                        CURSOR_KEY,
                    ),
                ];

                for (const variant of signedButWrong) {
                    expectInvalid(await call("listPosts", { query: { cursor: variant } }));
                }
                expect(proxy.calls.filter((c) => c.operation === "Query")).to.have.length(0);
            });

            it("is accepted unchanged and continues where the previous page ended", async () => {
                const first = await page({ limit: "5" });
                const second = await page({ limit: "5", cursor: first.body.nextCursor as string });

                expect(first.body.nextCursor).to.equal(cursor);
                expect(String(second.body.items[0]?.createdAt) < String(first.body.items[4]?.createdAt)).to.equal(true);
            });
        });

        it("follows DynamoDB's 1 MB page limit with a cursor instead of silently dropping items; a page still reads about `limit` items", async () => {
            const big = await loadApiUnderTest(mode, {
                endpoint: proxy.endpoint,
                tableName: await dynamo.createTable(),
            });
            const bigCall = big.call;
            try {
                const BIG = 120;
                for (let i = 0; i < BIG; i += 20) {
                    // dynalite sizes strings in characters: 120 × 10 000 characters is over 1 MB.
                    const results = await Promise.all(
                        Array.from({ length: 20 }, (_, j) =>
                            bigCall("createPost", {
                                body: validPost({ title: `big ${i + j}`, description: "€".repeat(10_000) }),
                            }),
                        ),
                    );
                    expect(results.map((result) => result.statusCode)).to.deep.equal(Array(20).fill(201));
                }

                // The cost of a page follows `limit`, not the table: the same as on the 46-post table.
                proxy.reset();
                expect((await bigCall("listPosts", { query: { limit: "10" } })).statusCode).to.equal(200);
                expect(proxy.itemsRead()).to.be.at.most(11);

                const sizes: number[] = [];
                const ids = new Set<string>();
                let cursor: string | null = null;
                do {
                    const result: ApiResult = await bigCall("listPosts", {
                        query: cursor === null ? { limit: "100" } : { limit: "100", cursor },
                    });
                    const body = result.body as Page;
                    sizes.push(body.items.length);
                    body.items.forEach((post) => ids.add(post.id));
                    cursor = body.nextCursor;
                } while (cursor !== null);

                expect(sizes.length).to.be.greaterThan(1);
                expect(sizes[0]).to.be.below(BIG);
                expect(ids.size).to.equal(BIG);
            } finally {
                big.close();
            }
        });
    });
