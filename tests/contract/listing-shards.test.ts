// The listing index sharded (data/tableDesign.ts, data/postsStore.ts listPosts), against dynalite
// with the real queries. Properties (fast-check, fixed seed): a walk lists every post that existed
// when it began exactly once, newest first, whatever the shard count and page sizes; posts created
// during the walk (by writers whose clocks disagree) appear at most once; a page of `limit` reads
// at most 2 × limit + shards items. And the shard count lives with the data: writers of different
// counts (two versions during a canary), and a count lowered later, never hide a post.
import { expect } from "chai";
import * as fc from "fast-check";
import { randomUUID } from "node:crypto";
import type { DynamoDBDocument } from "@aws-sdk/lib-dynamodb";
import { dynamoPostsStore, type PostsStore } from "../../data/postsStore";
import { LIST_PARTITION, listShardOf, type ListKey } from "../../data/tableDesign";
import {
    dumpTable,
    localDocumentClient,
    startDynamoProxy,
    startTestDynamo,
    type DynamoProxy,
    type TestDynamo,
} from "../support/dynamo";

const BODY = { title: "t", description: "d", author: "a", publicationDate: "2026-12-06" };
const START = Date.parse("2026-12-06T10:00:00.000Z");

/** A store whose clock the test sets (each writer may disagree with the others). */
function storeAt(db: DynamoDBDocument, tableName: string, listShards: number, clock: { ms: number }): PostsStore {
    return dynamoPostsStore({ db, tableName, now: () => new Date(clock.ms), newId: () => randomUUID(), listShards });
}

describe("listing index sharded (dynalite, real queries)", function () {
    let dynamo: TestDynamo;
    let proxy: DynamoProxy;
    let viaProxy: DynamoDBDocument;

    before(async () => {
        dynamo = await startTestDynamo();
        proxy = await startDynamoProxy(dynamo.endpoint);
        viaProxy = localDocumentClient(proxy.endpoint);
    });

    after(async () => {
        viaProxy.destroy();
        await proxy.close();
        await dynamo.close();
    });

    /** Walks every page with the given limits (cycled); `between` runs after each page. */
    async function walk(
        reader: PostsStore,
        limits: number[],
        shards: number,
        between: (page: number) => Promise<void> = async () => {},
    ) {
        const seen: { id: string; createdAt: string }[] = [];
        let start: ListKey | null = null;
        for (let page = 0; page < 1000; page++) {
            const limit = limits[page % limits.length]!;
            proxy.reset();
            const result = await reader.listPosts(limit, start);
            expect(result.items.length).to.be.at.most(limit);
            expect(proxy.itemsRead(), `items read for a page of ${limit} over ${shards} shards`).to.be.at.most(
                2 * limit + shards,
            );
            seen.push(...result.items.map((p) => ({ id: p.id, createdAt: p.createdAt })));
            if (result.nextKey === null) {
                return seen;
            }
            expect(result.nextKey.listPk, "the cursor keeps its pre-sharding shape").to.equal(LIST_PARTITION);
            start = result.nextKey;
            await between(page);
        }
        throw new Error("the walk did not end");
    }

    const newestFirst = (list: { id: string; createdAt: string }[]) =>
        [...list].sort((a, b) => (`${b.createdAt}#${b.id}` < `${a.createdAt}#${a.id}` ? -1 : 1));

    it("a walk lists every post exactly once, newest first, and a page reads at most 2 × limit + shards items", async () => {
        await fc.assert(
            fc.asyncProperty(
                fc.constantFrom(1, 2, 3, 8),
                // ms offsets: ties and disorder
                fc.array(fc.integer({ min: 0, max: 50 }), { minLength: 0, maxLength: 45 }),
                fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 4 }),
                async (shards, offsets, limits) => {
                    const tableName = await dynamo.createTable();
                    const clock = { ms: START };
                    const writer = storeAt(dynamo.db, tableName, shards, clock);
                    const created: { id: string; createdAt: string }[] = [];
                    for (const offset of offsets) {
                        clock.ms = START + offset;
                        const post = await writer.createPost(BODY);
                        created.push({ id: post.id, createdAt: post.createdAt });
                    }
                    const seen = await walk(storeAt(viaProxy, tableName, 1, clock), limits, shards);
                    expect(seen).to.deep.equal(newestFirst(created));
                },
            ),
            { seed: 20261206, numRuns: 30 },
        );
    });

    it("posts created during a walk, by writers whose clocks disagree, appear at most once; the others exactly once", async () => {
        await fc.assert(
            fc.asyncProperty(
                fc.constantFrom(2, 8),
                fc.integer({ min: 5, max: 40 }),
                fc.array(fc.array(fc.integer({ min: -60, max: 60 }), { maxLength: 4 }), { minLength: 1, maxLength: 8 }),
                fc.integer({ min: 1, max: 7 }),
                async (shards, existing, batches, limit) => {
                    const tableName = await dynamo.createTable();
                    const clock = { ms: START };
                    const writer = storeAt(dynamo.db, tableName, shards, clock);
                    const before = new Set<string>();
                    for (let i = 0; i < existing; i++) {
                        clock.ms = START + i;
                        before.add((await writer.createPost(BODY)).id);
                    }
                    const skewed = { ms: START };
                    const concurrent = storeAt(dynamo.db, tableName, shards, skewed);
                    const seen = await walk(storeAt(viaProxy, tableName, 1, clock), [limit], shards, async (page) => {
                        // Concurrent creates (in parallel), some with clocks behind the walk's bound.
                        await Promise.all(
                            (batches[page % batches.length] ?? []).map((skew, n) => {
                                skewed.ms = START + existing / 2 + skew + n;
                                return concurrent.createPost(BODY);
                            }),
                        );
                    });
                    const ids = seen.map((p) => p.id);
                    expect(new Set(ids).size, "no post twice").to.equal(ids.length);
                    expect(
                        ids.filter((id) => before.has(id)).length,
                        "every post that existed when the walk began",
                    ).to.equal(before.size);
                    expect(seen).to.deep.equal(newestFirst(seen));
                },
            ),
            { seed: 611, numRuns: 12 },
        );
    });

    it("writers with different shard counts (two versions), and a count lowered later, never hide a post", async () => {
        const tableName = await dynamo.createTable();
        const clock = { ms: START };
        const ids: string[] = [];
        for (const shards of [1, 8, 3, 8, 1, 2]) {
            const writer = storeAt(dynamo.db, tableName, shards, clock);
            for (let i = 0; i < 10; i++) {
                clock.ms += 1;
                ids.push((await writer.createPost(BODY)).id);
            }
        }
        const seen = await walk(storeAt(viaProxy, tableName, 1, clock), [7], 8);
        expect(seen.map((p) => p.id)).to.deep.equal([...ids].reverse());
        const listing = (
            await dynamo.db.get({ TableName: tableName, Key: { pk: "META#listing" }, ConsistentRead: true })
        ).Item;
        expect(listing, "the count any writer ever used, never lowered").to.deep.equal({
            pk: "META#listing",
            readShards: 8,
        });
    });

    it("with 8 shards the busiest index partition holds at most 1/8 + 10 points of new posts (one shard: all)", async () => {
        const ids = Array.from({ length: 4000 }, () => randomUUID());
        const share = (shards: number) => {
            const counts = new Array<number>(shards).fill(0);
            ids.forEach((id) => counts[listShardOf(id, shards)]!++);
            return Math.max(...counts) / ids.length;
        };
        expect(share(1)).to.equal(1);
        expect(share(8)).to.be.at.most(1 / 8 + 0.1);

        // And on the table: the posts a sharded writer stored, by their index partition.
        const tableName = await dynamo.createTable();
        const writer = storeAt(dynamo.db, tableName, 8, { ms: START });
        for (let i = 0; i < 400; i++) {
            await writer.createPost(BODY);
        }
        const byPartition = new Map<string, number>();
        for (const item of await dumpTable(dynamo.db, tableName)) {
            if (item.listPk !== undefined) {
                byPartition.set(String(item.listPk), (byPartition.get(String(item.listPk)) ?? 0) + 1);
            }
        }
        expect(byPartition.size).to.equal(8);
        const busiest = Math.max(...byPartition.values()) / 400;
        console.log(
            `      busiest of 8 index partitions: ${(busiest * 100).toFixed(1)} % of 400 new posts (4000 ids: ${(share(8) * 100).toFixed(1)} %)`,
        );
        expect(busiest).to.be.at.most(1 / 8 + 0.1);
    });
});
