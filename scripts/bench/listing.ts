// Figure: items DynamoDB reads to serve one GET /posts page, at two table sizes, against the
// baseline a naive listing pays (a Scan of the whole table, sorted in memory), same run.
// Reads are counted from DynamoDB's own answers (`ScannedCount`) by a proxy between the SDK and
// the embedded engine, so the figure does not depend on how the store is written.
import { BatchWriteCommand, ScanCommand } from "@aws-sdk/lib-dynamodb";
import { apiClient, testDeps } from "../../tests/support/client";
import { localDocumentClient, startDynamoProxy, startTestDynamo } from "../../tests/support/dynamo";
import { LIST_PARTITION, listSortKey, postKey } from "../../data/tableDesign";

const SIZES = [100, 10_000];
const PAGE = 20;

export async function run(): Promise<void> {
    const dynamo = await startTestDynamo();
    const proxy = await startDynamoProxy(dynamo.endpoint);
    const db = localDocumentClient(proxy.endpoint);
    console.log(`\n## GET /posts?limit=${PAGE}: items read per page (baseline = Scan of the whole table)`);
    console.log("posts     page reads   scan reads   ratio");
    try {
        for (const size of SIZES) {
            const table = await dynamo.createTable();
            const start = Date.parse("2026-01-01T00:00:00.000Z");
            for (let i = 0; i < size; i += 25) {
                const items = Array.from({ length: Math.min(25, size - i) }, (_, j) => {
                    const n = i + j;
                    const id = `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;
                    const createdAt = new Date(start + n * 1000).toISOString();
                    return {
                        ...postKey(id),
                        listPk: LIST_PARTITION,
                        listSk: listSortKey(createdAt, id),
                        id,
                        title: `Post ${n}`,
                        description: "x".repeat(200),
                        author: "Bench",
                        publicationDate: "2026-01-01",
                        createdAt,
                        updatedAt: createdAt,
                        version: 1,
                    };
                });
                await dynamo.db.send(
                    new BatchWriteCommand({
                        RequestItems: { [table]: items.map((Item) => ({ PutRequest: { Item } })) },
                    }),
                );
            }

            const call = apiClient(testDeps(db, table));
            proxy.reset();
            const page = await call("listPosts", { query: { limit: String(PAGE) } });
            if (page.statusCode !== 200) {
                throw new Error(`list answered ${page.statusCode}: ${page.rawBody}`);
            }
            const pageReads = proxy.itemsRead();

            proxy.reset();
            let startKey: Record<string, unknown> | undefined;
            do {
                const result = await db.send(new ScanCommand({ TableName: table, ExclusiveStartKey: startKey }));
                startKey = result.LastEvaluatedKey;
            } while (startKey);
            const scanReads = proxy.itemsRead();
            console.log(
                `${String(size).padStart(6)} ${String(pageReads).padStart(12)} ${String(scanReads).padStart(12)}   ${(pageReads / scanReads).toFixed(4)}`,
            );
        }
    } finally {
        db.destroy();
        await proxy.close();
        await dynamo.close();
    }
}
