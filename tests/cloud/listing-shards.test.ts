// The sharded listing index end to end: the serialized functions of a stack with
// `posts-api:listShards: 8` in a local cloud. Creates spread over the index partitions, and a
// walk through the API lists every post once, newest first (tests/contract/listing-shards.test.ts
// holds the store to the same with generated cases).
import { expect } from "chai";
import { ScanCommand } from "@aws-sdk/lib-dynamodb";
import type { LocalCloud } from "local-cloud";
import { call } from "local-cloud/testing";
import { localDocumentClient } from "../support/dynamo";
import { startRoomyCloud, stopCloud } from "../support/roomyCloud";

const POSTS = 30;

describe("local cloud: the listing index over 8 shards", function () {
    let cloud: LocalCloud;
    let headers: Record<string, string>;
    const url = (path: string) => `${cloud.stageUrl}${path}`;

    before(async () => {
        cloud = await startRoomyCloud("shards", { "posts-api:listShards": 8 });
        headers = { "x-api-key": cloud.apiKeys["app"]! };
    });

    after(() => stopCloud(cloud));

    it("spreads new posts over the shards and walks them all, newest first, each once", async () => {
        const created: { id: string; createdAt: string }[] = [];
        for (let i = 0; i < POSTS; i += 6) {
            const batch = await Promise.all(
                Array.from({ length: Math.min(6, POSTS - i) }, (_, j) =>
                    call(url("posts"), {
                        method: "POST",
                        headers,
                        body: { title: `post ${i + j}`, description: "", author: "Ada", publicationDate: "2026-12-06" },
                    }),
                ),
            );
            for (const r of batch) {
                expect(r.status, r.text).to.equal(201);
                created.push({ id: r.json.id, createdAt: r.json.createdAt });
            }
        }

        const seen: { id: string; createdAt: string }[] = [];
        let cursor: string | null = "";
        for (let page = 0; cursor !== null && page < 50; page++) {
            const r = await call(url(`posts?limit=4${cursor === "" ? "" : `&cursor=${encodeURIComponent(cursor)}`}`), {
                headers,
            });
            expect(r.status, r.text).to.equal(200);
            expect(r.json.items.length).to.be.at.most(4);
            seen.push(
                ...r.json.items.map((p: { id: string; createdAt: string }) => ({ id: p.id, createdAt: p.createdAt })),
            );
            cursor = r.json.nextCursor;
        }
        const newestFirst = [...created].sort((a, b) => (`${b.createdAt}#${b.id}` < `${a.createdAt}#${a.id}` ? -1 : 1));
        expect(seen).to.deep.equal(newestFirst);

        const db = localDocumentClient(cloud.dynamoEndpoint);
        try {
            const table = cloud.model.functions.find((f) => f.logicalName === "createPost")!.environment["TABLE_NAME"]!;
            const items = (await db.send(new ScanCommand({ TableName: table }))).Items ?? [];
            const partitions = new Set(
                items.filter((item) => item.listPk !== undefined).map((item) => String(item.listPk)),
            );
            expect(partitions.size, [...partitions].join(", ")).to.be.greaterThan(4);
            expect(items.find((item) => item.pk === "META#listing")).to.deep.equal({
                pk: "META#listing",
                readShards: 8,
            });
        } finally {
            db.destroy();
        }
    });
});
