// DynamoDB answers a failed conditional write that asked for ReturnValuesOnConditionCheckFailure
// = ALL_OLD with the item as it stood (the exception's `Item`); dynalite 4 accepts the parameter
// and returns nothing. Code that tells "my own earlier attempt already did this" from a real
// conflict by that item (data/postsStore.ts) must run the same way here as on AWS, so the engine
// is taught the behaviour rather than the code given a local-only read.
//
// Two small changes to dynalite's modules, both looked up at call time: its request validation
// keeps only the parameters it knows (it drops this one silently), so the put, update and delete
// validations learn it; and those actions each hold the item's lock, read the stored item and call
// `db.checkConditional(request, storedItem)`, so wrapping that one export adds the item to the
// error's body while the lock is still held (no race with another writer). The patch is DynamoDB's documented
// behaviour, so it is applied process-wide,
// once, to every dynalite in the process (the local cloud's and the tests').

/* eslint-disable @typescript-eslint/no-explicit-any */
import * as path from "node:path";

const PATCHED = Symbol.for("local-cloud.dynalite.returnOldItemOnConditionFailure");

interface DynaliteError extends Error {
    body?: { __type?: string; Item?: unknown };
}

/** Makes every dynalite in this process return the old item on a failed condition when asked. */
export function returnOldItemOnConditionFailure(): void {
    const dir = path.dirname(require.resolve("dynalite/package.json"));
    const db = require(path.join(dir, "db", "index.js")) as any;
    if (db.checkConditional[PATCHED]) {
        return;
    }
    for (const action of ["putItem", "updateItem", "deleteItem"]) {
        const validation = require(path.join(dir, "validations", `${action}.js`)) as { types: Record<string, unknown> };
        validation.types["ReturnValuesOnConditionCheckFailure"] = { type: "String", enum: ["ALL_OLD", "NONE"] };
    }
    const checkConditional = db.checkConditional as (request: any, existing: any) => DynaliteError | null | undefined;
    const patched = (request: any, existing: any) => {
        const error = checkConditional(request, existing);
        if (
            error?.body &&
            existing &&
            request?.ReturnValuesOnConditionCheckFailure === "ALL_OLD" &&
            String(error.body.__type).endsWith("#ConditionalCheckFailedException")
        ) {
            error.body = { ...error.body, Item: existing };
        }
        return error;
    };
    (patched as any)[PATCHED] = true;
    db.checkConditional = patched;
}
