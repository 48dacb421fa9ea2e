// A real DynamoDB engine for tests: dynalite (DynamoDB's API over an in-memory LevelDB), started
// in-process on a free port. Tests get the same table design the stack deploys
// (data/tableDesign.ts) and talk to it with the same SDK calls the Lambda makes.
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { randomUUID } from "node:crypto";
import {
    CreateTableCommand,
    DescribeTableCommand,
    DynamoDBClient,
    type CreateTableCommandInput,
} from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, ScanCommand } from "@aws-sdk/lib-dynamodb";
import { POSTS_INDEX, keyAttributes } from "../../data/tableDesign";

export interface LocalDynamo {
    /** http://127.0.0.1:{port} */
    endpoint: string;
    db: DynamoDBDocumentClient;
    /** A posts table created for this instance. */
    tableName: string;
    /** Creates one more empty posts table (unique name) on the same engine. */
    createTable(): Promise<string>;
    close(): Promise<void>;
}

/** The CreateTable request for the posts table design: what data/postsTable.ts deploys. */
export function postsTableInput(tableName: string): CreateTableCommandInput {
    return {
        TableName: tableName,
        BillingMode: "PAY_PER_REQUEST",
        AttributeDefinitions: [
            { AttributeName: keyAttributes.partitionKey, AttributeType: "S" },
            { AttributeName: keyAttributes.listPartitionKey, AttributeType: "S" },
            { AttributeName: keyAttributes.listSortKey, AttributeType: "S" },
        ],
        KeySchema: [{ AttributeName: keyAttributes.partitionKey, KeyType: "HASH" }],
        GlobalSecondaryIndexes: [
            {
                IndexName: POSTS_INDEX,
                KeySchema: [
                    { AttributeName: keyAttributes.listPartitionKey, KeyType: "HASH" },
                    { AttributeName: keyAttributes.listSortKey, KeyType: "RANGE" },
                ],
                Projection: { ProjectionType: "ALL" },
            },
        ],
    };
}

/** A document client for a local endpoint: dummy credentials, fixed region, no retries to hide errors. */
export function localDocumentClient(endpoint: string): DynamoDBDocumentClient {
    const client = new DynamoDBClient({
        endpoint,
        region: "us-east-1",
        credentials: { accessKeyId: "local", secretAccessKey: "local" },
        maxAttempts: 1,
    });
    return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

/** Creates a uniquely named posts table and waits until it is ACTIVE. */
export async function createPostsTable(db: DynamoDBDocumentClient, tableName = `posts-${randomUUID()}`): Promise<string> {
    await db.send(new CreateTableCommand(postsTableInput(tableName)));
    for (let attempt = 0; attempt < 200; attempt++) {
        const { Table } = await db.send(new DescribeTableCommand({ TableName: tableName }));
        const indexesActive = (Table?.GlobalSecondaryIndexes ?? []).every((index) => index.IndexStatus === "ACTIVE");
        if (Table?.TableStatus === "ACTIVE" && indexesActive) {
            return tableName;
        }
        await new Promise((resolve) => setTimeout(resolve, 5));
    }
    throw new Error(`Table ${tableName} did not become ACTIVE`);
}

/** Starts dynalite on a free port with one posts table. Call close() in an `after` hook. */
export async function startLocalDynamo(): Promise<LocalDynamo> {
    const dynalite = require("dynalite") as (options: Record<string, unknown>) => Server;
    const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
    await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    const endpoint = `http://127.0.0.1:${port}`;
    const db = localDocumentClient(endpoint);
    const tableName = await createPostsTable(db);
    return {
        endpoint,
        db,
        tableName,
        createTable: () => createPostsTable(db),
        close: async () => {
            db.destroy();
            await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
        },
    };
}

/** Every item of a table, sorted by pk: for before/after comparisons in tests only (a Scan). */
export async function dumpTable(db: DynamoDBDocumentClient, tableName: string): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
        const page = await db.send(new ScanCommand({ TableName: tableName, ConsistentRead: true, ExclusiveStartKey: startKey }));
        items.push(...(page.Items ?? []));
        startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
    return items.sort((a, b) => String(a.pk).localeCompare(String(b.pk)));
}
