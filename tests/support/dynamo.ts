// A real DynamoDB engine for tests: dynalite (DynamoDB's API over an in-memory LevelDB), started
// in-process on a free port. Tests get the same table design the stack deploys
// (data/tableDesign.ts) and talk to it with the same SDK calls the Lambda makes.
import type { AddressInfo } from "node:net";
import * as http from "node:http";
import { randomUUID } from "node:crypto";
import {
    CreateTableCommand,
    DescribeTableCommand,
    DynamoDBClient,
    type CreateTableCommandInput,
} from "@aws-sdk/client-dynamodb";
import { DynamoDBDocument, ScanCommand } from "@aws-sdk/lib-dynamodb";
import { returnOldItemOnConditionFailure } from "local-cloud/dynamoConditionItem";
import { POSTS_INDEX, keyAttributes } from "../../data/tableDesign";

export interface TestDynamo {
    /** http://127.0.0.1:{port} */
    endpoint: string;
    db: DynamoDBDocument;
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

/**
 * A document client for a local endpoint: dummy credentials, fixed region, no retries to hide
 * errors. The full DynamoDBDocument (get/put/update/delete/query methods), as Deps.db requires.
 */
export function localDocumentClient(endpoint: string): DynamoDBDocument {
    const client = new DynamoDBClient({
        endpoint,
        region: "us-east-1",
        credentials: { accessKeyId: "local", secretAccessKey: "local" },
        maxAttempts: 1,
    });
    return DynamoDBDocument.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

/** Creates a uniquely named posts table and waits until it is ACTIVE. */
export async function createPostsTable(db: DynamoDBDocument, tableName = `posts-${randomUUID()}`): Promise<string> {
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
export async function startTestDynamo(): Promise<TestDynamo> {
    returnOldItemOnConditionFailure(); // DynamoDB's ALL_OLD on a failed condition, as the local cloud's engine
    const dynalite = require("dynalite") as (options: Record<string, unknown>) => http.Server;
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
export async function dumpTable(db: DynamoDBDocument, tableName: string): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
        const page = await db.send(
            new ScanCommand({ TableName: tableName, ConsistentRead: true, ExclusiveStartKey: startKey }),
        );
        items.push(...(page.Items ?? []));
        startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
    return items.sort((a, b) => String(a.pk).localeCompare(String(b.pk)));
}

/** One DynamoDB API call seen by a DynamoProxy. */
export interface ProxiedCall {
    /** The operation, e.g. "Query", "GetItem" (from X-Amz-Target). */
    operation: string;
    request: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    status: number;
    response: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export interface DynamoProxy {
    /** Point an SDK (a test client, or a serialized Lambda via AWS_ENDPOINT_URL_DYNAMODB) here. */
    endpoint: string;
    /** Every call answered since the last reset, in the order the answers went out. */
    calls: ProxiedCall[];
    /** Items DynamoDB itself reports having read by Query and Scan (sum of ScannedCount) since the last reset. */
    itemsRead(): number;
    reset(): void;
    close(): Promise<void>;
}

export interface DynamoProxyOptions {
    /** Holds each request, and then its answer, back a random 0..`jitterMs` ms, as a network
     *  would, so racing requests interleave at the database in orders an in-process engine alone
     *  would rarely produce (tests/idempotency-load.test.ts). */
    jitterMs?: number;
    /** Holds the answer to a call this many ms after the engine answered it (0: none), as a slow
     *  network would: past the client's per-attempt timeout, the write has committed and the
     *  client retries it (tests/contract/write-retries.test.ts). */
    holdAnswerMs?: (operation: string) => number;
    /** False: keep no list of calls (long load tests). Default true. */
    recordCalls?: boolean;
}

/**
 * An HTTP proxy in front of the engine that records every DynamoDB call and its answer. It
 * measures what the code under test did at the wire, so it works the same for the handlers
 * called directly and for the serialized Lambda code, which cannot be handed a wrapped client.
 */
export async function startDynamoProxy(target: string, options: DynamoProxyOptions = {}): Promise<DynamoProxy> {
    const calls: ProxiedCall[] = [];
    async function forward(
        req: http.IncomingMessage,
        body: Buffer,
    ): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
        return new Promise((resolve, reject) => {
            const upstream = http.request(
                `${target}${req.url ?? "/"}`,
                { method: req.method, headers: req.headers },
                (answer) => {
                    const chunks: Buffer[] = [];
                    answer.on("data", (chunk: Buffer) => chunks.push(chunk));
                    answer.on("end", () =>
                        resolve({
                            status: answer.statusCode ?? 500,
                            headers: answer.headers,
                            body: Buffer.concat(chunks),
                        }),
                    );
                    answer.on("error", reject);
                },
            );
            upstream.on("error", reject);
            upstream.end(body);
        });
    }

    const jitter = async () => {
        if (options.jitterMs !== undefined) {
            await new Promise((resolve) => setTimeout(resolve, Math.random() * options.jitterMs!));
        }
    };

    const parse = (buffer: Buffer): Record<string, unknown> => {
        try {
            return JSON.parse(buffer.toString("utf8") || "{}") as Record<string, unknown>;
        } catch {
            return {};
        }
    };

    const server = http.createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (chunk: Buffer) => chunks.push(chunk));
        req.on("end", () => {
            const body = Buffer.concat(chunks);
            void (async () => {
                const operation =
                    String(req.headers["x-amz-target"] ?? "")
                        .split(".")
                        .pop() ?? "";
                const request = parse(body);
                await jitter();
                const answer = await forward(req, body);
                const response = parse(answer.body);
                if (options.recordCalls !== false) {
                    calls.push({ operation, request, status: answer.status, response });
                }
                await jitter();
                const holdMs = options.holdAnswerMs?.(operation) ?? 0;
                if (holdMs > 0) {
                    await new Promise((resolve) => setTimeout(resolve, holdMs));
                }
                res.writeHead(answer.status, answer.headers);
                res.end(answer.body);
            })().catch((error: unknown) => {
                res.writeHead(502, { "content-type": "text/plain" });
                res.end(String(error));
            });
        });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    return {
        endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        calls,
        itemsRead: () => calls.reduce((sum, call) => sum + Number(call.response.ScannedCount ?? 0), 0),
        reset: () => {
            calls.length = 0;
        },
        close: async () => {
            server.closeAllConnections();
            await new Promise<void>((resolve) => server.close(() => resolve()));
        },
    };
}
