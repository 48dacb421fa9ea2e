// The state folder's steps. `openState` locks the folder and reads keys.json (nothing is written but
// the lock, which goes again if the start fails; access.log is opened on its first line); `openStore` opens what the
// program's data lives in
// (dynamodb.log, usage.log) once the program has run; `provisionTables` creates the tables the
// program defines and does not have yet. See stateDir.ts for the folder's files.
import * as fs from "node:fs";
import * as path from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { AccessLogFile } from "../apigateway/accessLog";
import { ensureTables, LOCAL_CREDENTIALS, startDynamo, type LocalDynamo } from "../dynamodb/dynamo";
import { FunctionVersions } from "../lambda/functionVersions";
import type { TableModel } from "../program/model";
import { KeyStore, writeJsonFile } from "./stateDir";
import { lockStateDir } from "./stateLock";
import { UsageLimiter } from "../apigateway/usage";
import type { Settings } from "../types";

export interface StateFolder {
    dir: string;
    /** Generated API key values and secrets; `save()` once the start (or a reload) has worked. */
    keys: KeyStore;
    /** Published functions' version numbers (`functions/versions.json`); `save()` with the keys. */
    versions: FunctionVersions;
    /** `access.log`: the stages' access-log lines (accessLog.ts), created with its first line. */
    accessLog: AccessLogFile;
    /**
     * `server.json`: where the last start served, so scripts find a running local cloud for a stack
     * (`npm run outputs` reads `url`; an SDK client takes `controlPlane` as its endpoint), and the
     * program's non-secret outputs (the ids to ask the control plane about).
     */
    saveServer(info: { url: string; controlPlane: string; outputs: Record<string, unknown> }): void;
    /** Unlocks; a folder this start created and left empty goes too. */
    close(): void;
}

/** Locks the folder (before reading keys.json: two starts must not both generate keys) and reads its keys. */
export function openState(settings: Pick<Settings, "stateDir" | "warn">, owner: string): StateFolder {
    const dir = settings.stateDir;
    const created = !fs.existsSync(dir);
    const unlock = lockStateDir(dir, owner, settings.warn);
    let keys: KeyStore;
    let versions: FunctionVersions;
    try {
        keys = new KeyStore(dir);
        versions = new FunctionVersions(dir);
    } catch (err) {
        unlock();
        throw err;
    }
    const accessLog = new AccessLogFile(path.join(dir, "access.log"), settings.warn);
    return {
        dir,
        keys,
        versions,
        accessLog,
        saveServer: (info) => writeJsonFile(path.join(dir, "server.json"), info),
        close: () => {
            accessLog.close();
            unlock();
            if (created && fs.existsSync(dir) && fs.readdirSync(dir).length === 0) {
                // A first start that failed leaves no empty folder behind.
                fs.rmdirSync(dir);
            }
        },
    };
}

export interface Store {
    dynamo: LocalDynamo;
    /** The region the tables were opened in (the program's at the start). */
    region: string;
    /** Throttles and quota counts; admitted requests are written ahead to usage.log (usage.ts). */
    usage: UsageLimiter;
    close(): Promise<void>;
}

/** Opens the tables' journal (dynamodb.log, repaired or migrated as needed) and usage.log. */
export async function openStore(
    settings: Pick<Settings, "stateDir" | "now" | "warn" | "faults" | "throttlePartitions">,
    region: string,
): Promise<Store> {
    const dynamo = await startDynamo(settings.stateDir, region, settings.faults, {
        throttleScale: settings.throttlePartitions,
        now: settings.now,
    });
    dynamo.report.forEach(settings.warn);
    let usage: UsageLimiter;
    try {
        usage = UsageLimiter.open(settings.stateDir, {
            now: settings.now,
            warn: settings.warn,
            faults: settings.faults,
        });
    } catch (err) {
        await dynamo.close();
        throw err;
    }
    return {
        dynamo,
        region,
        usage,
        close: async () => {
            usage.close();
            await dynamo.close();
        },
    };
}

/**
 * Creates the program's tables that do not exist yet (never drops or changes one); returns the new
 * ones' names. A client of its own: a reload comes after any idle time, and the store's client may
 * hold a keep-alive connection the engine has closed meanwhile (ECONNRESET on its first request).
 */
export async function provisionTables(
    store: Store,
    tables: TableModel[],
    warn: (message: string) => void,
): Promise<string[]> {
    const client = new DynamoDBClient({
        endpoint: store.dynamo.endpoint,
        region: store.region,
        credentials: LOCAL_CREDENTIALS,
        maxAttempts: 1,
    });
    try {
        const result = await ensureTables(client, tables);
        result.warnings.forEach(warn);
        return result.created;
    } finally {
        client.destroy();
    }
}
