// The embedded DynamoDB's capacity model (local-cloud/dynamodb/dynamoCapacity.ts): units counted as DynamoDB
// computes them, per table, index and partition, and a partition throttled past its scaled limit
// with DynamoDB's error. Only the engine is started (no program, no gateway).
import { expect } from "chai";
import { CreateTableCommand, DynamoDBClient, type CreateTableCommandInput } from "@aws-sdk/client-dynamodb";
import {
    DeleteCommand,
    DynamoDBDocumentClient,
    GetCommand,
    PutCommand,
    QueryCommand,
    UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { LOCAL_CREDENTIALS, startDynamo, type LocalDynamo } from "../../dynamodb/dynamo";
import { CliError, parseThrottleScale } from "../../cli";
import { CapacityMeter, type PartitionUsage } from "../../dynamodb/dynamoCapacity";

/** A rejected SDK call's error, with the members DynamoDB sent (throttlingReasons, ...). */
type SdkError = Error & { $metadata: { httpStatusCode?: number } } & Record<string, unknown>;
const rejection = (e: unknown) => e as SdkError;
type Reasons = { reason: string; resource: string }[];

const TABLE = "notes";
const INDEX = "byList";

/** pk (partition), sk (sort); a global index on listPk/listSk projecting `projection`. */
function notesTable(
    projection: "ALL" | "KEYS_ONLY",
    billing: "PAY_PER_REQUEST" | "PROVISIONED" = "PAY_PER_REQUEST",
): CreateTableCommandInput {
    return {
        TableName: TABLE,
        BillingMode: billing,
        ...(billing === "PROVISIONED"
            ? { ProvisionedThroughput: { ReadCapacityUnits: 5, WriteCapacityUnits: 5 } }
            : {}),
        AttributeDefinitions: ["pk", "sk", "listPk", "listSk"].map((name) => ({
            AttributeName: name,
            AttributeType: "S" as const,
        })),
        KeySchema: [
            { AttributeName: "pk", KeyType: "HASH" },
            { AttributeName: "sk", KeyType: "RANGE" },
        ],
        GlobalSecondaryIndexes: [
            {
                IndexName: INDEX,
                KeySchema: [
                    { AttributeName: "listPk", KeyType: "HASH" },
                    { AttributeName: "listSk", KeyType: "RANGE" },
                ],
                Projection: { ProjectionType: projection },
                ...(billing === "PROVISIONED"
                    ? { ProvisionedThroughput: { ReadCapacityUnits: 5, WriteCapacityUnits: 5 } }
                    : {}),
            },
        ],
    };
}

/** An item of exactly `size` bytes as DynamoDB counts them (attribute names plus values). */
function itemOfSize(
    size: number,
    key: { pk: string; sk: string },
    extra: Record<string, string> = {},
): Record<string, string> {
    const fixed = { ...key, ...extra };
    const used =
        Object.entries(fixed).reduce((sum, [name, value]) => sum + name.length + value.length, 0) + "body".length;
    return { ...fixed, body: "x".repeat(size - used) };
}

describe("local cloud: DynamoDB capacity (units and partition throttling)", function () {
    let dynamo: LocalDynamo;
    let doc: DynamoDBDocumentClient;
    let clock: number;

    async function start(
        options: {
            throttleScale?: number;
            projection?: "ALL" | "KEYS_ONLY";
            billing?: "PAY_PER_REQUEST" | "PROVISIONED";
        } = {},
    ) {
        clock = 1_000_000;
        dynamo = await startDynamo(
            undefined,
            "us-east-1",
            {},
            { throttleScale: options.throttleScale, now: () => clock },
        );
        doc = DynamoDBDocumentClient.from(dynamo.client);
        await dynamo.client.send(new CreateTableCommand(notesTable(options.projection ?? "ALL", options.billing)));
        await new Promise((resolve) => setTimeout(resolve, 20)); // dynalite turns the table ACTIVE on a 0 ms timer
    }

    afterEach(async () => {
        await dynamo?.close();
    });

    /** Units so far on one partition of the table (or of the index). */
    function partition(value: string, index?: string): PartitionUsage {
        const table = dynamo.capacity.snapshot(1000).tables.find((t) => t.table === TABLE)!;
        const resource = index === undefined ? table : table.indexes.find((i) => i.index === index);
        return (
            resource?.hottest.find((p) => p.partition === value) ?? {
                partition: value,
                readUnits: 0,
                writeUnits: 0,
                throttledReads: 0,
                throttledWrites: 0,
                peakReadUnitsPerSecond: 0,
                peakWriteUnitsPerSecond: 0,
            }
        );
    }

    /** Write units a call adds on a table partition. */
    async function writeUnitsOf(pk: string, call: () => Promise<unknown>): Promise<number> {
        const before = partition(pk).writeUnits;
        await call();
        return partition(pk).writeUnits - before;
    }

    describe("units", () => {
        beforeEach(() => start());

        it("a put costs one write unit per started KB: 1 KB → 1, 4 KB → 4, 4.1 KB → 5", async () => {
            expect(
                await writeUnitsOf("a", () =>
                    doc.send(new PutCommand({ TableName: TABLE, Item: itemOfSize(1024, { pk: "a", sk: "1" }) })),
                ),
            ).to.equal(1);
            expect(
                await writeUnitsOf("a", () =>
                    doc.send(new PutCommand({ TableName: TABLE, Item: itemOfSize(4096, { pk: "a", sk: "2" }) })),
                ),
            ).to.equal(4);
            expect(
                await writeUnitsOf("a", () =>
                    doc.send(new PutCommand({ TableName: TABLE, Item: itemOfSize(4200, { pk: "a", sk: "3" }) })),
                ),
            ).to.equal(5);
        });

        it("an update costs the larger of the item before and after (growing 1 KB → 3 KB: 3; shrinking back: 3)", async () => {
            await doc.send(new PutCommand({ TableName: TABLE, Item: itemOfSize(1000, { pk: "u", sk: "1" }) }));
            const grow = () =>
                doc.send(
                    new UpdateCommand({
                        TableName: TABLE,
                        Key: { pk: "u", sk: "1" },
                        UpdateExpression: "SET body = :b",
                        ExpressionAttributeValues: { ":b": "y".repeat(3000) },
                    }),
                );
            expect(await writeUnitsOf("u", grow)).to.equal(3);
            const shrink = () =>
                doc.send(
                    new UpdateCommand({
                        TableName: TABLE,
                        Key: { pk: "u", sk: "1" },
                        UpdateExpression: "SET body = :b",
                        ExpressionAttributeValues: { ":b": "z" },
                    }),
                );
            expect(await writeUnitsOf("u", shrink)).to.equal(3);
        });

        it("a GetItem costs ceil(size / 4 KB), halved when eventually consistent; a missing item still costs the minimum", async () => {
            await doc.send(new PutCommand({ TableName: TABLE, Item: itemOfSize(5000, { pk: "g", sk: "1" }) }));
            const read = async (consistent: boolean, sk = "1") => {
                const before = partition("g").readUnits;
                await doc.send(new GetCommand({ TableName: TABLE, Key: { pk: "g", sk }, ConsistentRead: consistent }));
                return partition("g").readUnits - before;
            };
            expect(await read(true)).to.equal(2);
            expect(await read(false)).to.equal(1);
            expect(await read(false, "missing")).to.equal(0.5);
        });

        it("a Query sums the sizes of the items it read, then rounds (three 1.5 KB items: 2 units, not 3)", async () => {
            for (const sk of ["1", "2", "3"]) {
                await doc.send(new PutCommand({ TableName: TABLE, Item: itemOfSize(1536, { pk: "q", sk }) }));
            }
            const before = partition("q").readUnits;
            const page = await doc.send(
                new QueryCommand({
                    TableName: TABLE,
                    KeyConditionExpression: "pk = :pk",
                    ExpressionAttributeValues: { ":pk": "q" },
                    ConsistentRead: true,
                }),
            );
            expect(page.Items).to.have.length(3);
            expect(page.ConsumedCapacity, "not asked for, not returned").to.equal(undefined);
            expect(partition("q").readUnits - before).to.equal(2);
            const eventual = await doc.send(
                new QueryCommand({
                    TableName: TABLE,
                    KeyConditionExpression: "pk = :pk",
                    ExpressionAttributeValues: { ":pk": "q" },
                    ReturnConsumedCapacity: "TOTAL",
                }),
            );
            expect(eventual.ConsumedCapacity).to.deep.equal({ CapacityUnits: 1, TableName: TABLE });
            expect(partition("q").readUnits - before).to.equal(3);
        });

        it("index writes: a put into the index, a delete plus a put when its key moves, a delete when the item goes; charged to the index partition", async () => {
            const key = { pk: "i", sk: "1" };
            await doc.send(
                new PutCommand({ TableName: TABLE, Item: itemOfSize(2000, key, { listPk: "A", listSk: "1" }) }),
            );
            expect(partition("A", INDEX).writeUnits, "insert: one put of the projected (whole) item").to.equal(2);
            await doc.send(
                new UpdateCommand({
                    TableName: TABLE,
                    Key: key,
                    UpdateExpression: "SET listPk = :p",
                    ExpressionAttributeValues: { ":p": "B" },
                }),
            );
            expect(partition("A", INDEX).writeUnits, "key moved: a delete on the old partition").to.equal(4);
            expect(partition("B", INDEX).writeUnits, "key moved: a put on the new one").to.equal(2);
            await doc.send(new DeleteCommand({ TableName: TABLE, Key: key }));
            expect(partition("B", INDEX).writeUnits, "delete: the old entry").to.equal(4);
            await doc.send(new PutCommand({ TableName: TABLE, Item: itemOfSize(2000, { pk: "i", sk: "2" }) }));
            const index = dynamo.capacity.snapshot().tables[0]!.indexes.find((i) => i.index === INDEX)!;
            expect(index.writeUnits, "an item without the index key writes nothing there").to.equal(8);
            expect(partition("i").writeUnits, "the table: 2 + 2 + 2 + 2").to.equal(8);
        });

        it("a write asked for its consumed capacity reports the index's units too, as DynamoDB does", async () => {
            const answer = await doc.send(
                new PutCommand({
                    TableName: TABLE,
                    Item: itemOfSize(2000, { pk: "r", sk: "1" }, { listPk: "A", listSk: "1" }),
                    ReturnConsumedCapacity: "INDEXES",
                }),
            );
            expect(answer.ConsumedCapacity).to.deep.equal({
                CapacityUnits: 4,
                TableName: TABLE,
                Table: { CapacityUnits: 2 },
                GlobalSecondaryIndexes: { [INDEX]: { CapacityUnits: 2 } },
            });
            const total = await doc.send(
                new UpdateCommand({
                    TableName: TABLE,
                    Key: { pk: "r", sk: "1" },
                    UpdateExpression: "SET listPk = :p",
                    ExpressionAttributeValues: { ":p": "B" },
                    ReturnConsumedCapacity: "TOTAL",
                }),
            );
            expect(total.ConsumedCapacity, "the table, and a delete plus a put on the index").to.deep.equal({
                CapacityUnits: 6,
                TableName: TABLE,
            });
        });

        it("a failed condition costs the stored item's size (1 when there is none), and writes nothing to the index", async () => {
            await doc.send(
                new PutCommand({
                    TableName: TABLE,
                    Item: itemOfSize(3000, { pk: "c", sk: "1" }, { listPk: "L", listSk: "1" }),
                }),
            );
            const indexBefore = partition("L", INDEX).writeUnits;
            const conflict = () =>
                doc
                    .send(
                        new PutCommand({
                            TableName: TABLE,
                            Item: { pk: "c", sk: "1", listPk: "L", listSk: "2" },
                            ConditionExpression: "attribute_not_exists(pk)",
                        }),
                    )
                    .then(
                        () => expect.fail("the condition should fail"),
                        (err: Error) => expect(err.name).to.equal("ConditionalCheckFailedException"),
                    );
            expect(await writeUnitsOf("c", conflict)).to.equal(3);
            const missing = () =>
                doc
                    .send(
                        new UpdateCommand({
                            TableName: TABLE,
                            Key: { pk: "c", sk: "none" },
                            UpdateExpression: "SET body = :b",
                            ConditionExpression: "attribute_exists(pk)",
                            ExpressionAttributeValues: { ":b": "v" },
                        }),
                    )
                    .then(
                        () => expect.fail("the condition should fail"),
                        (err: Error) => expect(err.name).to.equal("ConditionalCheckFailedException"),
                    );
            expect(await writeUnitsOf("c", missing)).to.equal(1);
            expect(partition("L", INDEX).writeUnits).to.equal(indexBefore);
        });

        it("with a KEYS_ONLY index, an update of an attribute it does not project writes nothing there", async () => {
            await dynamo.close();
            await start({ projection: "KEYS_ONLY" });
            const key = { pk: "k", sk: "1" };
            await doc.send(
                new PutCommand({ TableName: TABLE, Item: itemOfSize(3000, key, { listPk: "K", listSk: "1" }) }),
            );
            expect(partition("K", INDEX).writeUnits, "the keys only: under 1 KB").to.equal(1);
            await doc.send(
                new UpdateCommand({
                    TableName: TABLE,
                    Key: key,
                    UpdateExpression: "SET body = :b",
                    ExpressionAttributeValues: { ":b": "changed" },
                }),
            );
            expect(partition("K", INDEX).writeUnits).to.equal(1);
        });
    });

    describe("throttling at a scaled per-partition limit (scale 0.01: 10 write and 30 read units a second)", () => {
        const put = (pk: string, sk: string, extra: Record<string, string> = {}) =>
            doc.send(new PutCommand({ TableName: TABLE, Item: itemOfSize(1000, { pk, sk }, extra) }));

        it("a hot table partition gets DynamoDB's ThrottlingException (HTTP 400) while another partition is unaffected, and recovers after a second", async () => {
            await start({ throttleScale: 0.01 });
            for (let i = 0; i < 10; i++) {
                await put("hot", String(i));
            }
            const err = await put("hot", "10").then(() => undefined, rejection);
            expect(err, "the 11th unit in the same second").to.not.equal(undefined);
            expect(err!.name).to.equal("ThrottlingException");
            expect(err!.$metadata.httpStatusCode).to.equal(400);
            expect(err!.message).to.match(
                /^Throughput exceeds the current capacity of your table or index\. .*hot key/,
            );
            expect(err!["throttlingReasons"]).to.deep.equal([
                {
                    reason: "TableWriteKeyRangeThroughputExceeded",
                    resource: `arn:aws:dynamodb:us-east-1:000000000000:table/${TABLE}`,
                },
            ]);
            expect(
                (
                    await doc.send(
                        new GetCommand({ TableName: TABLE, Key: { pk: "hot", sk: "10" }, ConsistentRead: true }),
                    )
                ).Item,
                "a throttled write writes nothing",
            ).to.equal(undefined);
            await put("cold", "1");
            expect(partition("hot").throttledWrites).to.equal(1);
            expect(partition("hot").writeUnits).to.equal(10);
            clock += 1000;
            await put("hot", "10");
            expect(partition("hot").writeUnits).to.equal(11);
        });

        it("a table write whose index partition is past its limit is throttled (index back-pressure), with the index in the reason", async () => {
            await start({ throttleScale: 0.01 });
            for (let i = 0; i < 10; i++) {
                await put(`post-${i}`, "1", { listPk: "POSTS", listSk: String(i) });
            }
            const err = await put("post-10", "1", { listPk: "POSTS", listSk: "10" }).then(() => undefined, rejection);
            expect(err?.name).to.equal("ThrottlingException");
            expect(err!["throttlingReasons"]).to.deep.equal([
                {
                    reason: "IndexWriteKeyRangeThroughputExceeded",
                    resource: `arn:aws:dynamodb:us-east-1:000000000000:table/${TABLE}/index/${INDEX}`,
                },
            ]);
            expect(partition("POSTS", INDEX).throttledWrites).to.equal(1);
            await put("post-11", "1", { listPk: "OTHER", listSk: "11" });
            expect(partition("post-11").writeUnits, "another index partition takes writes").to.equal(1);
        });

        it("reads: a partition past 30 read units a second is refused with TableReadKeyRangeThroughputExceeded", async () => {
            await start({ throttleScale: 0.01 });
            await put("r", "1");
            for (let i = 0; i < 30; i++) {
                await doc.send(new GetCommand({ TableName: TABLE, Key: { pk: "r", sk: "1" }, ConsistentRead: true }));
            }
            const err = await doc
                .send(new GetCommand({ TableName: TABLE, Key: { pk: "r", sk: "1" }, ConsistentRead: true }))
                .then(() => undefined, rejection);
            expect(err?.name).to.equal("ThrottlingException");
            expect((err!["throttlingReasons"] as Reasons)[0]!.reason).to.equal("TableReadKeyRangeThroughputExceeded");
            const query = await doc
                .send(
                    new QueryCommand({
                        TableName: TABLE,
                        KeyConditionExpression: "pk = :pk",
                        ExpressionAttributeValues: { ":pk": "r" },
                    }),
                )
                .then(
                    () => undefined,
                    (e: unknown) => e as Error,
                );
            expect(query?.name, "a Query of the same partition too").to.equal("ThrottlingException");
        });

        it("the AWS SDK takes the answer for throttling and retries it: a call with its retry strategy gets through once the partition refills", async () => {
            dynamo = await startDynamo(undefined, "us-east-1", {}, { throttleScale: 0.01 }); // the real clock: the SDK's backoff lets it refill
            doc = DynamoDBDocumentClient.from(dynamo.client);
            await dynamo.client.send(new CreateTableCommand(notesTable("ALL")));
            await new Promise((resolve) => setTimeout(resolve, 20));
            // 12 units into a bucket of 10: in deficit for about 0.2 s of the real clock.
            await doc.send(new PutCommand({ TableName: TABLE, Item: itemOfSize(12 * 1024, { pk: "hot", sk: "big" }) }));
            // The SDK's own retry strategy (standard mode), with room for its random backoff to pass 0.2 s.
            const retrying = DynamoDBDocumentClient.from(
                new DynamoDBClient({
                    endpoint: dynamo.endpoint,
                    region: "us-east-1",
                    credentials: LOCAL_CREDENTIALS,
                    maxAttempts: 10,
                }),
            );
            try {
                const answer = await retrying.send(
                    new PutCommand({ TableName: TABLE, Item: itemOfSize(1000, { pk: "hot", sk: "10" }) }),
                );
                expect(answer.$metadata.attempts, "refused first, retried by the SDK").to.be.greaterThan(1);
                expect(partition("hot").throttledWrites).to.be.greaterThan(0);
            } finally {
                retrying.destroy();
            }
        });

        it("a provisioned table answers ProvisionedThroughputExceededException", async () => {
            await start({ throttleScale: 0.01, billing: "PROVISIONED" });
            for (let i = 0; i < 10; i++) {
                await put("hot", String(i));
            }
            const err = await put("hot", "10").then(() => undefined, rejection);
            expect(err?.name).to.equal("ProvisionedThroughputExceededException");
            expect((err!["ThrottlingReasons"] as Reasons)[0]!.reason).to.equal("TableWriteKeyRangeThroughputExceeded");
        });

        it("a scale must be a fraction of the limits: --throttle-partitions and the option refuse anything else with a clear message", () => {
            expect(parseThrottleScale("0.01")).to.equal(0.01);
            expect(parseThrottleScale(undefined)).to.equal(undefined);
            for (const bad of ["0", "-1", "2", "abc", "", "Infinity"]) {
                expect(() => parseThrottleScale(bad), bad).to.throw(
                    CliError,
                    /--throttle-partitions must be a number above 0 and at most 1/,
                );
            }
            expect(() => new CapacityMeter({ throttleScale: 0 })).to.throw(
                RangeError,
                /throttleScale must be a positive number/,
            );
        });

        it("without a scale nothing is throttled", async () => {
            await start();
            for (let i = 0; i < 40; i++) {
                await put("hot", String(i));
            }
            expect(partition("hot").writeUnits).to.equal(40);
            expect(dynamo.capacity.snapshot().limits).to.equal(null);
        });
    });
});
