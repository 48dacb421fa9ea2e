// The embedded DynamoDB: dynalite (DynamoDB's API) with its tables journaled in the stack folder
// (local/dynamoJournal.ts), every recorded table created on first start and left alone afterwards
// (its items are the state that must survive restarts).
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
    CreateTableCommand,
    DescribeTableCommand,
    DynamoDBClient,
    ResourceNotFoundException,
    type CreateTableCommandInput,
    type KeySchemaElement,
    type Projection,
} from "@aws-sdk/client-dynamodb";
import type { StorageFaults } from "../state/appendLog";
import { attachCapacityMeter, CapacityMeter, type CapacityOptions } from "./dynamoCapacity";
import { createDynalite, openJournal, type OpenedJournal } from "./dynamoJournal";
import type { TableModel } from "../program/model";

export interface LocalDynamo {
    endpoint: string;
    client: DynamoDBClient;
    /** What the start repaired or migrated in the stack's tables, one line each (usually none). */
    report: string[];
    /**
     * Consumed read and write units per table, index and partition (dynamoCapacity.ts); throttles when given a scale.
     */
    capacity: CapacityMeter;
    close(): Promise<void>;
}

/** Dummy credentials: dynalite checks that requests are signed, not by whom. */
export const LOCAL_CREDENTIALS = { accessKeyId: "local", secretAccessKey: "local" };

/**
 * Starts dynalite on a loopback port. With a state folder, its tables live in memory and every
 * write is journaled there first (local/dynamoJournal.ts); without one, they live in memory only.
 */
export async function startDynamo(
    stateDir: string | undefined,
    region: string,
    faults: StorageFaults = {},
    capacityOptions: CapacityOptions = {},
): Promise<LocalDynamo> {
    // This client is the local cloud's own (the functions' SDKs have their own setting): Lambda
    // runs a newer Node than this machine may, so the SDK's "upgrade Node" notice is noise here.
    process.env["AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED"] ??= "true";
    const { server, store } = createDynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
    const capacity = new CapacityMeter(capacityOptions);
    attachCapacityMeter(store, capacity);
    if (faults.dynamoAnswerDelayMs) {
        holdAnswers(server, faults.dynamoAnswerDelayMs);
    }
    let journal: OpenedJournal | undefined;
    if (stateDir) {
        journal = await openJournal(store, stateDir, faults);
    }
    await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => resolve());
    });
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const client = new DynamoDBClient({ endpoint, region, credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });
    let closing: Promise<void> | undefined;
    const close = () =>
        (closing ??= (async () => {
            client.destroy();
            await new Promise<void>((resolve) => server.close(() => resolve()));
            journal?.close();
        })());
    return { endpoint, client, report: journal?.report ?? [], capacity, close };
}

/** Test fault (StorageFaults.dynamoAnswerDelayMs): each answer leaves `delayMs(operation)` late. */
function holdAnswers(server: import("node:http").Server, delayMs: (operation: string) => number): void {
    const listeners = server.listeners("request") as ((req: IncomingMessage, res: ServerResponse) => void)[];
    server.removeAllListeners("request");
    server.on("request", (req: IncomingMessage, res: ServerResponse) => {
        const ms = delayMs(
            String(req.headers["x-amz-target"] ?? "")
                .split(".")
                .pop() ?? "",
        );
        if (ms > 0) {
            const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
            res.end = ((...args: unknown[]) => {
                setTimeout(() => end(...args), ms);
                return res;
            }) as ServerResponse["end"];
        }
        listeners.forEach((listener) => listener(req, res));
    });
}

function projection(index: { projectionType?: string; nonKeyAttributes?: string[] }): Projection {
    return {
        ProjectionType: (index.projectionType ?? "ALL") as Projection["ProjectionType"],
        ...(index.nonKeyAttributes?.length ? { NonKeyAttributes: index.nonKeyAttributes } : {}),
    };
}

function keySchema(hashKey: string, rangeKey?: string): KeySchemaElement[] {
    return [
        { AttributeName: hashKey, KeyType: "HASH" },
        ...(rangeKey ? [{ AttributeName: rangeKey, KeyType: "RANGE" as const }] : []),
    ];
}

export function createTableInput(table: TableModel): CreateTableCommandInput {
    return {
        TableName: table.name,
        BillingMode: "PAY_PER_REQUEST",
        AttributeDefinitions: table.attributes.map((a) => ({
            AttributeName: a.name,
            AttributeType: a.type as "S" | "N" | "B",
        })),
        KeySchema: keySchema(table.hashKey, table.rangeKey),
        ...(table.globalSecondaryIndexes.length
            ? {
                  GlobalSecondaryIndexes: table.globalSecondaryIndexes.map((g) => ({
                      IndexName: g.name,
                      KeySchema: keySchema(g.hashKey, g.rangeKey),
                      Projection: projection(g),
                  })),
              }
            : {}),
        ...(table.localSecondaryIndexes.length
            ? {
                  LocalSecondaryIndexes: table.localSecondaryIndexes.map((l) => ({
                      IndexName: l.name,
                      KeySchema: keySchema(table.hashKey, l.rangeKey),
                      Projection: projection(l),
                  })),
              }
            : {}),
    };
}

/**
 * Creates the tables that do not exist yet. An existing table is kept as it is, items included;
 * when its keys or indexes differ from the program's, the returned warnings say so (on AWS that
 * change would replace the table and lose the data, so the local cloud does not do it silently).
 */
export async function ensureTables(
    client: DynamoDBClient,
    tables: TableModel[],
): Promise<{ created: string[]; warnings: string[] }> {
    const created: string[] = [];
    const warnings: string[] = [];
    for (const table of tables) {
        const wanted = createTableInput(table);
        let existing;
        try {
            existing = (await client.send(new DescribeTableCommand({ TableName: table.name }))).Table;
        } catch (err) {
            if (!(err instanceof ResourceNotFoundException)) {
                throw err;
            }
        }
        if (!existing) {
            await client.send(new CreateTableCommand(wanted));
            created.push(table.name);
            continue;
        }
        const describe = (keys: KeySchemaElement[] | undefined) =>
            JSON.stringify((keys ?? []).map((k) => [k.AttributeName, k.KeyType]));
        const indexes = (list: { IndexName?: string; KeySchema?: KeySchemaElement[] }[] | undefined) =>
            JSON.stringify((list ?? []).map((i) => [i.IndexName, describe(i.KeySchema)]).sort());
        if (
            describe(existing.KeySchema) !== describe(wanted.KeySchema) ||
            indexes(existing.GlobalSecondaryIndexes) !== indexes(wanted.GlobalSecondaryIndexes) ||
            indexes(existing.LocalSecondaryIndexes) !== indexes(wanted.LocalSecondaryIndexes)
        ) {
            warnings.push(
                `Table ${table.name} (${table.logicalName}) was created locally with other keys or indexes than the program now defines; ` +
                    "it is kept with its data. Delete the stack's .local folder to recreate it.",
            );
        }
    }
    return { created, warnings };
}
