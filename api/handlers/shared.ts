// Request parsing shared by the route handlers: path id, If-Match, limit, Idempotency-Key, JSON
// body. Each function either returns a clean value or throws the HttpError the contract asks for.
import type { HttpRequest, HttpResponse } from "../http/contract";
import { badRequest, postNotFound } from "../http/errors";
import type { Post, VersionCondition } from "../../data/postsStore";

// Ids are lower-case v4 UUIDs from crypto.randomUUID; anything else cannot be a post, so it is
// a 404 without a database call.
const POST_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
// One strong entity tag of ours: a quoted positive integer without leading zeros.
const OUR_ETAG = /^"([1-9][0-9]{0,14})"$/;
// Any well-formed entity tag (RFC 9110 §8.8.3), weak or strong.
const ANY_ETAG = /^(?:W\/)?"[\x21\x23-\x7e\x80-\xff]*"$/;
// 1–100, digits only, no sign, no leading zero, no exponent or decimals.
const LIMIT = /^(?:[1-9][0-9]?|100)$/;
// 1–128 visible ASCII characters.
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,128}$/;

export const DEFAULT_LIMIT = 20;

export function etag(version: number): string {
    return `"${version}"`;
}

export function postIdFrom(request: HttpRequest): string {
    const id = request.pathParameters.id;
    if (id === undefined || !POST_ID.test(id)) {
        throw postNotFound();
    }
    return id;
}

/**
 * If-Match → the version condition for the write.
 * - absent or `*`: no version check (the post must exist, as for every update);
 * - `"N"`: version must be N;
 * - any other well-formed tag (`W/"3"`, `"abc"`, `"03"`, a list): can never match under the
 *   strong comparison If-Match requires, so 412 (404 if the post does not exist);
 * - anything that is not an entity tag at all (`3`, `"3`, empty): 400.
 */
export function parseIfMatch(request: HttpRequest): VersionCondition {
    const header = request.headers["if-match"];
    if (header === undefined) {
        return { kind: "none" };
    }
    const value = header.trim();
    if (value === "*") {
        return { kind: "none" };
    }
    const ours = OUR_ETAG.exec(value);
    if (ours?.[1] !== undefined) {
        return { kind: "version", version: Number(ours[1]) };
    }
    const tags = value.split(",").map((tag) => tag.trim());
    if (tags.every((tag) => ANY_ETAG.test(tag))) {
        const versions = tags.map((tag) => OUR_ETAG.exec(tag)?.[1]).filter((v) => v !== undefined);
        if (tags.length > 1 && versions.length > 0) {
            throw badRequest('If-Match must be a single entity tag such as "3" (lists are not supported)');
        }
        return { kind: "never" };
    }
    throw badRequest('If-Match must be an entity tag such as "3" (the ETag of the post) or *');
}

/** A query parameter given at most once; a repeated one is refused rather than guessed at. */
export function singleQueryValue(request: HttpRequest, name: string): string | undefined {
    const all = request.multiValueQuery?.[name];
    if (all !== undefined && all.length > 1) {
        throw badRequest(`Query parameter ${name} must be given at most once`);
    }
    return request.query[name];
}

export function parseLimit(request: HttpRequest): number {
    const raw = singleQueryValue(request, "limit");
    if (raw === undefined) {
        return DEFAULT_LIMIT;
    }
    if (!LIMIT.test(raw)) {
        throw badRequest("limit must be an integer from 1 to 100", [
            { field: "limit", message: "must be an integer from 1 to 100" },
        ]);
    }
    return Number(raw);
}

/** The Idempotency-Key header, or null when the client sent none. */
export function parseIdempotencyKey(request: HttpRequest): string | null {
    const key = request.headers["idempotency-key"];
    if (key === undefined) {
        return null;
    }
    if (!IDEMPOTENCY_KEY.test(key)) {
        throw badRequest("Idempotency-Key must be 1 to 128 visible ASCII characters");
    }
    return key;
}

/** The body as a JSON object, or a 400 that says what is wrong with it. */
export function parseJsonObject(body: string | null): Record<string, unknown> {
    if (body === null || body.trim() === "") {
        throw badRequest("Request body is required");
    }
    let value: unknown;
    try {
        value = JSON.parse(body);
    } catch {
        throw badRequest("Request body is not valid JSON");
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
        throw badRequest("Request body must be a JSON object");
    }
    return value as Record<string, unknown>;
}

export function postResponse(statusCode: number, post: Post, headers: Record<string, string> = {}): HttpResponse {
    return { statusCode, headers: { ETag: etag(post.version), ...headers }, body: post };
}
