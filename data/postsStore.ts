// Every DynamoDB access of the posts API. Handlers speak in posts and versions; this module
// speaks in keys and conditions. Rules it keeps:
// - creating is a conditional put (never overwrites), updating a conditional update (never
//   creates), and If-Match is a DynamoDB condition on `version`, never read-then-write;
// - listing is a Query on the sparse index, newest first, reading about `limit` items (no Scan);
// - storage keys (pk, listPk, listSk) never leave this module: items are mapped field by field.
// No Pulumi import: this runs inside the Lambda. No runtime import of the AWS SDK either: it
// calls the DynamoDBDocument methods on `deps.db` (get/put/update/delete/query), so Pulumi's
// serializer never captures the SDK module. A captured `@aws-sdk/lib-dynamodb` module is emitted
// as `require("@aws-sdk/lib-dynamodb/dist-cjs/index.js")` (the package has no `exports` map),
// which ties the archive to the SDK's internal file layout; tests/closures.test.ts guards this.
import { createHash } from "node:crypto";
import type { Deps } from "../api/http/contract";
import { idempotencyKeyReused, postNotFound, preconditionFailed } from "../api/http/errors";
import type { ListKey } from "../api/cursor";
import type { PostInput, PostPatch } from "../api/schema";
import { LIST_PARTITION, POSTS_INDEX, idempotencyKey, listSortKey, postKey } from "./tableDesign";

/** A post as the API returns it. */
export interface Post {
    id: string;
    title: string;
    description: string;
    author: string;
    publicationDate: string;
    createdAt: string;
    updatedAt: string;
    version: number;
}

/** Which version an update or delete requires (from If-Match). */
export type VersionCondition =
    | { kind: "none" } // no If-Match, or `If-Match: *` (the post must exist, which every update requires anyway)
    | { kind: "version"; version: number } // `If-Match: "N"`
    | { kind: "never" }; // a well-formed entity tag that can never match ours, e.g. W/"3": 412 unless 404

export const IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60;

const CONDITIONAL_CHECK_FAILED = "ConditionalCheckFailedException";

function isConditionFailure(error: unknown): error is Error & { Item?: unknown } {
    return error instanceof Error && error.name === CONDITIONAL_CHECK_FAILED;
}

/** The public shape of a post item, built field by field so storage attributes cannot leak. */
export function toPost(item: Record<string, unknown>): Post {
    return {
        id: String(item.id),
        title: String(item.title),
        description: String(item.description),
        author: String(item.author),
        publicationDate: String(item.publicationDate),
        createdAt: String(item.createdAt),
        updatedAt: String(item.updatedAt),
        version: Number(item.version),
    };
}

function toItem(post: Post): Record<string, unknown> {
    return {
        ...postKey(post.id),
        listPk: LIST_PARTITION,
        listSk: listSortKey(post.createdAt, post.id),
        id: post.id,
        title: post.title,
        description: post.description,
        author: post.author,
        publicationDate: post.publicationDate,
        createdAt: post.createdAt,
        updatedAt: post.updatedAt,
        version: post.version,
    };
}

function newPost(id: string, createdAt: string, input: PostInput): Post {
    return {
        id,
        title: input.title,
        description: input.description,
        author: input.author,
        publicationDate: input.publicationDate,
        createdAt,
        updatedAt: createdAt,
        version: 1,
    };
}

export async function getPost(deps: Deps, id: string, consistent = false): Promise<Post | null> {
    const result = await deps.db.get({ TableName: deps.tableName, Key: postKey(id), ConsistentRead: consistent });
    return result.Item === undefined ? null : toPost(result.Item);
}

/** Writes a new post; false when an item with that id already exists (nothing is overwritten). */
async function putNewPost(deps: Deps, post: Post): Promise<boolean> {
    try {
        await deps.db.put({
            TableName: deps.tableName,
            Item: toItem(post),
            ConditionExpression: "attribute_not_exists(pk)",
        });
        return true;
    } catch (error) {
        if (isConditionFailure(error)) {
            return false;
        }
        throw error;
    }
}

/** Creates a post with a fresh id. Without an Idempotency-Key every call creates one. */
export async function createPost(deps: Deps, input: PostInput): Promise<Post> {
    const post = newPost(deps.newId(), deps.now().toISOString(), input);
    if (!(await putNewPost(deps, post))) {
        // Only a duplicate UUID gets here; never overwrite, fail loudly instead.
        throw new Error(`Post id collision on create: ${post.id}`);
    }
    return post;
}

/**
 * After a conditional write failed: 404 if the post does not exist, else 412. Without a version
 * condition only a missing post fails. With one, real DynamoDB returns the old item
 * (ReturnValuesOnConditionCheckFailure), which proves existence; dynalite (the local engine)
 * returns nothing, so a consistent read decides. That read happens only on AWS's 404 path, and
 * it needs dynamodb:GetItem in the route's role.
 */
async function conditionFailure(
    deps: Deps,
    id: string,
    condition: VersionCondition,
    error: Error & { Item?: unknown },
): Promise<Error> {
    if (condition.kind === "none") {
        return postNotFound();
    }
    if (error.Item !== undefined && error.Item !== null) {
        return preconditionFailed();
    }
    return (await getPost(deps, id, true)) === null ? postNotFound() : preconditionFailed();
}

function versionCondition(condition: VersionCondition): { expression: string; values: Record<string, unknown> } {
    switch (condition.kind) {
        case "none":
            return { expression: "attribute_exists(pk)", values: {} };
        case "version":
            return { expression: "attribute_exists(pk) AND #version = :expected", values: { ":expected": condition.version } };
        case "never":
            // Versions start at 1, so 0 never matches: the write fails and conditionFailure tells 404 from 412.
            return { expression: "attribute_exists(pk) AND #version = :expected", values: { ":expected": 0 } };
    }
}

/**
 * PUT and PATCH: sets the given client fields, bumps the version and updatedAt, all in one
 * conditional UpdateItem. Never creates: a missing post is 404, a version mismatch 412.
 */
export async function updatePost(
    deps: Deps,
    id: string,
    fields: PostInput | PostPatch,
    condition: VersionCondition,
): Promise<Post> {
    const names: Record<string, string> = { "#version": "version", "#updatedAt": "updatedAt" };
    const values: Record<string, unknown> = { ":one": 1, ":updatedAt": deps.now().toISOString() };
    const sets = ["#updatedAt = :updatedAt", "#version = #version + :one"];
    for (const [field, value] of Object.entries(fields)) {
        if (value === undefined) {
            continue;
        }
        names[`#${field}`] = field;
        values[`:${field}`] = value;
        sets.push(`#${field} = :${field}`);
    }
    const check = versionCondition(condition);
    try {
        const result = await deps.db.update({
            TableName: deps.tableName,
            Key: postKey(id),
            UpdateExpression: `SET ${sets.join(", ")}`,
            ConditionExpression: check.expression,
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: { ...values, ...check.values },
            ReturnValues: "ALL_NEW",
            ReturnValuesOnConditionCheckFailure: "ALL_OLD",
        });
        return toPost(result.Attributes ?? {});
    } catch (error) {
        if (isConditionFailure(error)) {
            throw await conditionFailure(deps, id, condition, error);
        }
        throw error;
    }
}

export async function deletePost(deps: Deps, id: string, condition: VersionCondition): Promise<void> {
    const check = versionCondition(condition);
    const usesVersion = condition.kind !== "none";
    try {
        await deps.db.delete({
            TableName: deps.tableName,
            Key: postKey(id),
            ConditionExpression: check.expression,
            ...(usesVersion ? { ExpressionAttributeNames: { "#version": "version" } } : {}),
            ...(usesVersion ? { ExpressionAttributeValues: check.values } : {}),
            ReturnValuesOnConditionCheckFailure: "ALL_OLD",
        });
    } catch (error) {
        if (isConditionFailure(error)) {
            throw await conditionFailure(deps, id, condition, error);
        }
        throw error;
    }
}

export interface PostPage {
    items: Post[];
    /** Where the next page starts, or null on the last page. */
    nextKey: ListKey | null;
}

/**
 * One page, newest first, from the listing index. It asks for `limit + 1` items: the extra one
 * only tells whether another page exists, so the last page never comes with a cursor to an
 * empty page. If DynamoDB stops early at its 1 MB page size, LastEvaluatedKey still gives the
 * next page, so nothing is silently dropped.
 */
export async function listPosts(deps: Deps, limit: number, startKey: ListKey | null): Promise<PostPage> {
    const result = await deps.db.query({
        TableName: deps.tableName,
        IndexName: POSTS_INDEX,
        KeyConditionExpression: "#listPk = :listPk",
        ExpressionAttributeNames: { "#listPk": "listPk" },
        ExpressionAttributeValues: { ":listPk": LIST_PARTITION },
        ScanIndexForward: false,
        Limit: limit + 1,
        ...(startKey === null ? {} : { ExclusiveStartKey: { ...startKey } }),
    });
    const found = result.Items ?? [];
    const items = found.slice(0, limit).map(toPost);
    const last = items[items.length - 1];
    let nextKey: ListKey | null = null;
    if (found.length > limit && last !== undefined) {
        nextKey = { ...postKey(last.id), listPk: LIST_PARTITION, listSk: listSortKey(last.createdAt, last.id) };
    } else if (result.LastEvaluatedKey !== undefined && found.length < limit + 1 && last !== undefined) {
        nextKey = {
            pk: String(result.LastEvaluatedKey.pk),
            listPk: String(result.LastEvaluatedKey.listPk),
            listSk: String(result.LastEvaluatedKey.listSk),
        };
    }
    return { items, nextKey };
}

// ---------------------------------------------------------------------------------------------
// Idempotent create.
//
// dynalite (the local engine) has no TransactWriteItems, so the protocol uses only single-item
// conditional writes and is safe under crashes and races at every step:
//
// 1. Reserve: conditional put of the record {pk: IDEMPOTENCY#<scope>#<key>, status: pending,
//    postId, createdAt, requestHash, expiresAt} if no live record exists
//    (`attribute_not_exists(pk) OR expiresAt < :now`; TTL deletion lags, so an expired record
//    counts as absent). The record alone fixes the post's id and createdAt, and the hash fixes
//    its fields, so whoever finishes the creation writes the very same post.
// 2. Create: conditional put of the post with the reserved id (never overwrites).
// 3. Complete: update the record to completed with the 201 body, only if still pending.
//
// When step 1 finds a live record (a retry, or a concurrent request with the same key):
// - a different requestHash → 422;
// - completed → the stored 201 body;
// - pending → the caller before us crashed or is still running: finish step 2 ourselves with the
//   reserved id. If that put finds the post already there, the other caller created it: read it
//   and return it. Either way both callers answer with the same post.
// A crash between 2 and 3 leaves a pending record whose post exists; the next retry returns it.
// ---------------------------------------------------------------------------------------------

interface IdempotencyRecord {
    status: "pending" | "completed";
    postId: string;
    createdAt: string;
    requestHash: string;
    expiresAt: number;
    response?: Post;
}

export interface IdempotentCreateResult {
    post: Post;
    /** True when this call created nothing and answered from an earlier request. */
    replayed: boolean;
}

/** sha256 of the validated body in a fixed field order: same meaning, same hash. */
export function requestHash(input: PostInput): string {
    const canonical = JSON.stringify([input.title, input.description, input.author, input.publicationDate]);
    return createHash("sha256").update(canonical).digest("hex");
}

function epochSeconds(date: Date): number {
    return Math.floor(date.getTime() / 1000);
}

async function readRecord(deps: Deps, key: { pk: string }): Promise<IdempotencyRecord | null> {
    const result = await deps.db.get({ TableName: deps.tableName, Key: key, ConsistentRead: true });
    return result.Item === undefined ? null : (result.Item as unknown as IdempotencyRecord);
}

async function reserve(deps: Deps, key: { pk: string }, record: IdempotencyRecord, now: number): Promise<boolean> {
    try {
        await deps.db.put({
            TableName: deps.tableName,
            Item: { ...key, ...record },
            ConditionExpression: "attribute_not_exists(pk) OR #expiresAt < :now",
            ExpressionAttributeNames: { "#expiresAt": "expiresAt" },
            ExpressionAttributeValues: { ":now": now },
        });
        return true;
    } catch (error) {
        if (isConditionFailure(error)) {
            return false;
        }
        throw error;
    }
}

async function complete(deps: Deps, key: { pk: string }, post: Post): Promise<void> {
    try {
        await deps.db.update({
            TableName: deps.tableName,
            Key: key,
            UpdateExpression: "SET #status = :completed, #response = :response",
            ConditionExpression: "#status = :pending AND #postId = :postId",
            ExpressionAttributeNames: { "#status": "status", "#response": "response", "#postId": "postId" },
            ExpressionAttributeValues: {
                ":completed": "completed",
                ":pending": "pending",
                ":response": post,
                ":postId": post.id,
            },
        });
    } catch (error) {
        // Someone else completed it (same post) or the record expired and was re-reserved:
        // either way there is nothing left for this call to record.
        if (!isConditionFailure(error)) {
            throw error;
        }
    }
}

/** Steps 2 and 3 for a reserved record: create the post (or find the one a racer created). */
async function finish(deps: Deps, key: { pk: string }, record: IdempotencyRecord, input: PostInput): Promise<Post> {
    const wanted = newPost(record.postId, record.createdAt, input);
    let post: Post | null = wanted;
    if (!(await putNewPost(deps, wanted))) {
        post = await getPost(deps, record.postId, true);
        if (post === null) {
            // The put found the item but the read did not: it was deleted in between.
            throw new Error(`Idempotent create lost post ${record.postId} between write and read`);
        }
    }
    await complete(deps, key, post);
    return post;
}

/**
 * POST with an Idempotency-Key: one post per (caller, key) for 24 hours. `scope` is the API key
 * id (so two clients cannot collide on a key) or "anonymous".
 */
export async function createPostIdempotent(
    deps: Deps,
    scope: string,
    idempotencyKeyValue: string,
    input: PostInput,
): Promise<IdempotentCreateResult> {
    const key = idempotencyKey(scope, idempotencyKeyValue);
    const hash = requestHash(input);
    // Bounded: each round either reserves or finds a live record (the condition and the
    // expiry both use this round's `now`); only a TTL deletion between our failed put and our
    // read sends us round again.
    for (let attempt = 0; attempt < 3; attempt++) {
        const now = deps.now();
        const nowEpoch = epochSeconds(now);
        const record: IdempotencyRecord = {
            status: "pending",
            postId: deps.newId(),
            createdAt: now.toISOString(),
            requestHash: hash,
            expiresAt: nowEpoch + IDEMPOTENCY_TTL_SECONDS,
        };
        if (await reserve(deps, key, record, nowEpoch)) {
            return { post: await finish(deps, key, record, input), replayed: false };
        }
        const existing = await readRecord(deps, key);
        if (existing === null) {
            // TTL deleted it between our condition check and this read: reserve again.
            continue;
        }
        if (existing.requestHash !== hash) {
            throw idempotencyKeyReused();
        }
        if (existing.status === "completed" && existing.response !== undefined) {
            return { post: toPost(existing.response as unknown as Record<string, unknown>), replayed: true };
        }
        return { post: await finish(deps, key, existing, input), replayed: true };
    }
    throw new Error("Idempotency record kept changing; giving up");
}
