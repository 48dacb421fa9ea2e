// The embedded DynamoDB's journal (local/dynamoJournal.ts, local/appendLog.ts): what a crash, a
// damaged file or a full disk leaves behind, reproduced deterministically by cutting or changing
// the journal the way a kill or a bad disk would, and by injecting write errors at the storage layer.
import { expect } from "chai";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
    CreateTableCommand,
    DeleteItemCommand,
    DescribeTableCommand,
    GetItemCommand,
    PutItemCommand,
    QueryCommand,
    DynamoDBClient,
} from "@aws-sdk/client-dynamodb";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { StorageFaults } from "../../state/appendLog";
import { startDynamo, type LocalDynamo } from "../../dynamodb/dynamo";
import { JOURNAL_FILE } from "../../dynamodb/dynamoJournal";

const TABLE = "notes";

async function createNotesTable(client: DynamoDBClient) {
    await client.send(
        new CreateTableCommand({
            TableName: TABLE,
            BillingMode: "PAY_PER_REQUEST",
            AttributeDefinitions: [
                { AttributeName: "pk", AttributeType: "S" },
                { AttributeName: "listPk", AttributeType: "S" },
                { AttributeName: "listSk", AttributeType: "S" },
            ],
            KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
            GlobalSecondaryIndexes: [
                {
                    IndexName: "byList",
                    KeySchema: [
                        { AttributeName: "listPk", KeyType: "HASH" },
                        { AttributeName: "listSk", KeyType: "RANGE" },
                    ],
                    Projection: { ProjectionType: "ALL" },
                },
            ],
        }),
    );
    // dynalite flips the table to ACTIVE on a timer of 0 ms.
    await new Promise((resolve) => setTimeout(resolve, 20));
}

const note = (id: string, version: number) => ({
    pk: { S: id },
    listPk: { S: "ALL" },
    listSk: { S: id },
    version: { N: String(version) },
});

async function listed(client: DynamoDBClient): Promise<Record<string, string>> {
    const result = await client.send(
        new QueryCommand({
            TableName: TABLE,
            IndexName: "byList",
            KeyConditionExpression: "listPk = :all",
            ExpressionAttributeValues: { ":all": { S: "ALL" } },
        }),
    );
    return Object.fromEntries((result.Items ?? []).map((i) => [i["pk"]!.S!, i["version"]!.N!]));
}

async function fetched(client: DynamoDBClient, id: string): Promise<string | undefined> {
    const result = await client.send(
        new GetItemCommand({ TableName: TABLE, Key: { pk: { S: id } }, ConsistentRead: true }),
    );
    return result.Item?.["version"]?.N;
}

/** Drops the journal's last `n` lines: what a kill -9 between dynalite's separate writes leaves. */
function dropLastLines(dir: string, n: number) {
    const file = path.join(dir, JOURNAL_FILE);
    const lines = fs
        .readFileSync(file, "utf8")
        .split("\n")
        .filter((l) => l !== "");
    fs.writeFileSync(
        file,
        lines
            .slice(0, lines.length - n)
            .map((l) => `${l}\n`)
            .join(""),
    );
}

/** A `dynamodb/` LevelDB folder as earlier versions wrote it (dynalite's own persistence). */
async function writeLegacyFolder(dir: string, items: ReturnType<typeof note>[]): Promise<string> {
    const legacy = path.join(dir, "dynamodb");
    const dynalite = require("dynalite") as (options: Record<string, unknown>) => Server;
    const old = dynalite({ path: legacy, createTableMs: 0 });
    await new Promise<void>((resolve) => old.listen(0, "127.0.0.1", () => resolve()));
    const client = new DynamoDBClient({
        endpoint: `http://127.0.0.1:${(old.address() as AddressInfo).port}`,
        region: "us-east-1",
        credentials: { accessKeyId: "x", secretAccessKey: "x" },
    });
    await createNotesTable(client);
    for (const item of items) {
        await client.send(new PutItemCommand({ TableName: TABLE, Item: item }));
    }
    client.destroy();
    await new Promise<void>((resolve) => old.close(() => resolve()));
    return legacy;
}

const sha = (file: string) => crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex");

describe("local cloud: the table journal under crashes, damage and full disks", function () {
    this.timeout(30_000);
    let dir: string;
    const open: LocalDynamo[] = [];
    const start = async (faults?: StorageFaults) => {
        const dynamo = await startDynamo(dir, "us-east-1", faults);
        open.push(dynamo);
        return dynamo;
    };

    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "journal-"));
    });
    afterEach(async () => {
        await Promise.all(open.splice(0).map((d) => d.close()));
        fs.rmSync(dir, { recursive: true, force: true });
    });

    it("keeps every write across a restart and reports nothing when nothing needed repair", async () => {
        const first = await start();
        await createNotesTable(first.client);
        for (let i = 0; i < 20; i++) {
            await first.client.send(new PutItemCommand({ TableName: TABLE, Item: note(`n${i}`, 1) }));
        }
        await first.client.send(new DeleteItemCommand({ TableName: TABLE, Key: { pk: { S: "n3" } } }));
        await first.close();
        const second = await start();
        expect(second.report).to.deep.equal([]);
        expect(Object.keys(await listed(second.client))).to.have.length(19);
        expect(await fetched(second.client, "n3")).to.equal(undefined);
        expect(await fetched(second.client, "n4")).to.equal("1");
    });

    it("removes a listed item that does not exist (killed between the index write and the item write)", async () => {
        const first = await start();
        await createNotesTable(first.client);
        await first.client.send(new PutItemCommand({ TableName: TABLE, Item: note("kept", 1) }));
        await first.client.send(new PutItemCommand({ TableName: TABLE, Item: note("ghost", 1) }));
        await first.close();
        dropLastLines(dir, 1); // the item write of "ghost"; its index entry stays
        const second = await start();
        expect(second.report.join("\n")).to.match(
            /table notes: repaired its indexes .*1 stale entries removed, 0 rewritten/,
        );
        expect(await listed(second.client)).to.deep.equal({ kept: "1" });
        expect(await fetched(second.client, "ghost")).to.equal(undefined);
    });

    it("lists the version GET returns when killed between an update's index write and its item write", async () => {
        const first = await start();
        await createNotesTable(first.client);
        await first.client.send(new PutItemCommand({ TableName: TABLE, Item: note("a", 1) }));
        await first.client.send(new PutItemCommand({ TableName: TABLE, Item: note("a", 2) }));
        await first.close();
        dropLastLines(dir, 1);
        const second = await start();
        expect(second.report.join("\n")).to.match(/0 stale entries removed, 1 rewritten/);
        expect(await fetched(second.client, "a")).to.equal("1");
        expect(await listed(second.client)).to.deep.equal({ a: "1" });
    });

    it("relists an item whose delete was cut off after its index entry went", async () => {
        const first = await start();
        await createNotesTable(first.client);
        await first.client.send(new PutItemCommand({ TableName: TABLE, Item: note("b", 1) }));
        await first.client.send(new DeleteItemCommand({ TableName: TABLE, Key: { pk: { S: "b" } } }));
        await first.close();
        dropLastLines(dir, 1);
        const second = await start();
        expect(await fetched(second.client, "b")).to.equal("1");
        expect(await listed(second.client)).to.deep.equal({ b: "1" });
    });

    it("finishes a table left CREATING by a kill during the first start", async () => {
        const first = await start();
        await createNotesTable(first.client);
        await first.close();
        dropLastLines(dir, 1); // the put that marks the table ACTIVE
        const second = await start();
        expect(second.report.join("\n")).to.match(/table notes: was left CREATING by a crash; now ACTIVE/);
        const table = (await second.client.send(new DescribeTableCommand({ TableName: TABLE }))).Table!;
        expect(table.TableStatus).to.equal("ACTIVE");
        expect(table.GlobalSecondaryIndexes![0]!.IndexStatus).to.equal("ACTIVE");
        await second.client.send(new PutItemCommand({ TableName: TABLE, Item: note("x", 1) }));
        expect(await listed(second.client)).to.deep.equal({ x: "1" });
    });

    it("cuts off an unfinished last line (a write cut short, never acknowledged) and says so", async () => {
        const first = await start();
        await createNotesTable(first.client);
        await first.client.send(new PutItemCommand({ TableName: TABLE, Item: note("a", 1) }));
        await first.close();
        fs.appendFileSync(path.join(dir, JOURNAL_FILE), '0badc0de {"ops":[["item-no');
        const second = await start();
        expect(second.report.join("\n")).to.match(/dropped an unfinished last record/);
        expect(await fetched(second.client, "a")).to.equal("1");
    });

    it("refuses to start over a damaged journal, naming the file and the way out, and leaves it as it was", async () => {
        const first = await start();
        await createNotesTable(first.client);
        for (let i = 0; i < 5; i++) {
            await first.client.send(new PutItemCommand({ TableName: TABLE, Item: note(`n${i}`, 1) }));
        }
        await first.close();
        const file = path.join(dir, JOURNAL_FILE);
        const bytes = fs.readFileSync(file);
        const at = Math.floor(bytes.length / 2);
        bytes.writeUInt32BE(bytes.readUInt32BE(at) ^ 0x01010101, at); // a 4-byte flip in the middle
        fs.writeFileSync(file, bytes);
        const before = sha(file);
        let error: Error | undefined;
        await start().catch((err) => (error = err));
        expect(error?.name).to.equal("LocalCloudError");
        expect(error?.message).to.match(new RegExp(`${JOURNAL_FILE} is damaged at line \\d+ .*move it aside \\(mv `));
        expect(error?.message.split("\n")).to.have.length(1);
        expect(sha(file)).to.equal(before);
    });

    it("refuses to start empty when a used folder lost its journal", async () => {
        const first = await start();
        await createNotesTable(first.client);
        await first.close();
        fs.writeFileSync(path.join(dir, "keys.json"), JSON.stringify({ apiKeys: {} }));
        fs.rmSync(path.join(dir, JOURNAL_FILE));
        let error: Error | undefined;
        await start().catch((err) => (error = err));
        expect(error?.message).to.match(/dynamodb\.log is missing, but .* has been used before/);
        expect(fs.existsSync(path.join(dir, JOURNAL_FILE))).to.equal(false);
    });

    it("answers a failed write with DynamoDB's 500, keeps serving reads, and writes again once space returns", async () => {
        let diskFull = false;
        const dynamo = await start({
            beforeWrite: () => {
                if (diskFull) {
                    throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
                }
            },
        });
        await createNotesTable(dynamo.client);
        await dynamo.client.send(new PutItemCommand({ TableName: TABLE, Item: note("before", 1) }));
        diskFull = true;
        let failure: { name?: string; $metadata?: { httpStatusCode?: number } } | undefined;
        await dynamo.client
            .send(new PutItemCommand({ TableName: TABLE, Item: note("during", 1) }))
            .catch((err) => (failure = err));
        expect(failure?.name).to.equal("InternalServerError");
        expect(failure?.$metadata?.httpStatusCode).to.equal(500);
        expect(await fetched(dynamo.client, "before")).to.equal("1");
        expect(await listed(dynamo.client)).to.deep.equal({ before: "1" });
        diskFull = false;
        await dynamo.client.send(new PutItemCommand({ TableName: TABLE, Item: note("after", 1) }));
        await dynamo.close();
        const second = await start();
        expect(second.report).to.deep.equal([]);
        expect(await listed(second.client)).to.deep.equal({ before: "1", after: "1" });
    });

    it("moves the LevelDB folder of an earlier version into the journal and keeps the folder aside", async () => {
        const legacy = await writeLegacyFolder(dir, [note("old", 7)]);

        const dynamo = await start();
        expect(dynamo.report.join("\n")).to.match(/migrated \d+ entries from the LevelDB folder/);
        expect(await fetched(dynamo.client, "old")).to.equal("7");
        expect(await listed(dynamo.client)).to.deep.equal({ old: "7" });
        expect(fs.existsSync(`${legacy}.leveldb-migrated`)).to.equal(true);
    });

    it("refuses a LevelDB folder of an earlier version that lost CURRENT, and deletes none of its files", async () => {
        const legacy = await writeLegacyFolder(dir, []);
        fs.rmSync(path.join(legacy, "CURRENT"));
        // LevelDB's own info log (LOG, LOG.old) rotates on every open attempt; data files must not change.
        const dataFiles = () =>
            fs
                .readdirSync(legacy)
                .filter((f) => !/^LOG/.test(f))
                .sort();
        const files = dataFiles();
        let error: Error | undefined;
        await start().catch((err) => (error = err));
        expect(error?.message).to.match(/cannot be read .*it is left untouched/);
        expect(dataFiles()).to.deep.equal(files);
        expect(fs.existsSync(path.join(dir, JOURNAL_FILE))).to.equal(false);
    });
});
