// List cursors: opaque to clients, tamper-evident for us.
//
// A cursor is `<payload>.<signature>`: the payload is the base64url JSON of the listing index's
// last evaluated key, the signature is base64url HMAC-SHA256 over the payload *text* with
// deps.cursorKey. Signing the text (not the decoded key) and comparing the signature text means
// any change to any character is rejected, including base64 variants that decode to the same
// bytes. The decoded key is also checked for shape, so even a leaked signing key cannot make the
// Query start from an idempotency record or another partition.
import { createHmac, timingSafeEqual } from "node:crypto";
import { badRequest, type HttpError } from "./http/errors";
import { LIST_PARTITION, type ListKey } from "../data/tableDesign";

const MAX_CURSOR_LENGTH = 1024;
const CURSOR_PATTERN = /^[A-Za-z0-9_-]{1,1000}\.[A-Za-z0-9_-]{43}$/;
const UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";
const POST_PK = new RegExp(`^POST#(${UUID})$`);
const LIST_SK = new RegExp(`^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z#(${UUID})$`);

function invalidCursor(): HttpError {
    return badRequest("Invalid cursor");
}

function sign(payload: string, secret: string): string {
    return createHmac("sha256", secret).update(`cursor.v1.${payload}`).digest("base64url");
}

/** True when `value` is exactly a listing-index key of a post (and nothing else). */
export function isListKey(value: unknown): value is ListKey {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
        return false;
    }
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record).sort();
    if (keys.length !== 3 || keys[0] !== "listPk" || keys[1] !== "listSk" || keys[2] !== "pk") {
        return false;
    }
    const { pk, listPk, listSk } = record;
    if (typeof pk !== "string" || typeof listPk !== "string" || typeof listSk !== "string") {
        return false;
    }
    const id = POST_PK.exec(pk)?.[1];
    return listPk === LIST_PARTITION && id !== undefined && LIST_SK.exec(listSk)?.[1] === id;
}

export function encodeCursor(key: ListKey, secret: string): string {
    const payload = Buffer.from(JSON.stringify({ pk: key.pk, listPk: key.listPk, listSk: key.listSk })).toString(
        "base64url",
    );
    return `${payload}.${sign(payload, secret)}`;
}

/**
 * Where a listing starts: the first page for a request without a cursor or with an empty one
 * (`cursor=`, what Postman's default import of the OpenAPI document sends: its `default` is ""),
 * otherwise the key the cursor stands for (400 "Invalid cursor" for anything altered).
 */
export function listStartKey(cursor: string | undefined, secret: string): ListKey | null {
    return cursor === undefined || cursor === "" ? null : decodeCursor(cursor, secret);
}

/** Returns the key a cursor stands for, or throws 400 "Invalid cursor" for anything altered. */
export function decodeCursor(cursor: string, secret: string): ListKey {
    if (cursor.length > MAX_CURSOR_LENGTH || !CURSOR_PATTERN.test(cursor)) {
        throw invalidCursor();
    }
    const dot = cursor.indexOf(".");
    const payload = cursor.slice(0, dot);
    const given = Buffer.from(cursor.slice(dot + 1), "utf8");
    const expected = Buffer.from(sign(payload, secret), "utf8");
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        throw invalidCursor();
    }
    let key: unknown;
    try {
        key = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
    } catch {
        throw invalidCursor();
    }
    if (!isListKey(key)) {
        throw invalidCursor();
    }
    return key;
}
