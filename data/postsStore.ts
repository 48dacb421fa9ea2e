// Every DynamoDB access of the posts API, behind one interface: `PostsStore` says what the API
// may do with posts, `dynamoPostsStore(deps)` does it on the table. Handlers speak in posts and
// versions; this module speaks in keys and conditions, and refuses in its own words
// (data/storeErrors.ts: PostNotFound, VersionConflict, IdempotencyKeyReused,
// IdempotencyInProgress), which only the HTTP adapter turns into status codes. Nothing here
// imports from api/ (tests/repo/layers.test.ts checks it). Rules it keeps:
// - creating is a conditional put (never overwrites), updating a conditional update (never
//   creates), and If-Match is a DynamoDB condition on `version`, never read-then-write;
// - listing is a Query on the sparse index, newest first, reading about `limit` items (no Scan);
// - a write whose first attempt committed but whose answer was lost or late (the SDK retried it)
//   answers as that attempt: each write recognises its own earlier attempt in the old item
//   DynamoDB returns with a failed condition (ReturnValuesOnConditionCheckFailure: ALL_OLD), by a
//   write token on posts and the owner token on idempotency records; a DELETE by the post being
//   gone after a retried attempt (docs/decisions/0017-writes-answer-their-own-retries.md);
// - storage keys (pk, listPk, listSk) never leave this module: items are mapped field by field
//   (a ListKey leaves only as the next page's start, which api/cursor.ts signs).
// No Pulumi import: this runs inside the Lambda. No runtime import of the AWS SDK either: it
// calls the DynamoDBDocument methods on `deps.db` (get/put/update/delete/query), so Pulumi's
// serializer never captures the SDK module. A captured `@aws-sdk/lib-dynamodb` module is emitted
// as `require("@aws-sdk/lib-dynamodb/dist-cjs/index.js")` (the package has no `exports` map),
// which ties the archive to the SDK's internal file layout; tests/program/closures.test.ts guards this.
// The store is a plain object of closures over `deps`, built at cold start by the Lambda factory
// (api/routeFunction.ts): no class and no `this`, which Pulumi's serializer would mangle. Its
// helpers are nested inside the three functions that build it (`dynamoPostsStore`, and the
// listing and the idempotent create it builds: `shardedListing`, `idempotentCreate`), not at
// module scope: every route's function captures the whole store, and Pulumi serializes each
// module-level function a closure reaches on its own (an inspector look-up per name it captures).
// Nested, the store is a few functions to serialize, about 2.5 times faster than the same code at
// module scope (docs/decisions/0006-data-layer-speaks-its-own-language.md). Only `toPost` and
// `newPost`, which all three share, are at module scope.
import { createHash } from "node:crypto";
import type { DynamoDBDocument } from "@aws-sdk/lib-dynamodb";
import { storeError, type PostNotFound, type VersionConflict } from "./storeErrors";
import {
    LIST_PARTITION,
    POSTS_INDEX,
    RECENT_WRITE_ATTRIBUTES,
    idempotencyKey,
    listPartition,
    listShardOf,
    listSortKey,
    listingKey,
    postKey,
    type ListKey,
} from "./tableDesign";

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

/** The client fields of a post: a validated POST or PUT body (api/schema.ts builds it). */
export interface PostInput {
    title: string;
    description: string;
    author: string;
    publicationDate: string;
}

/** A validated PATCH body: the client fields to change (at least one, which the schema checks). */
export type PostPatch = { [K in keyof PostInput]?: PostInput[K] | undefined };

/** Which version an update or delete requires (from If-Match). */
export type VersionCondition =
    | { kind: "none" } // no If-Match, or `If-Match: *` (the post must exist, which every update requires anyway)
    | { kind: "version"; version: number } // `If-Match: "N"`
    | { kind: "never" }; // a well-formed entity tag that can never match ours, e.g. W/"3": VersionConflict unless PostNotFound

export interface PostPage {
    items: Post[];
    /** Where the next page starts, or null on the last page. */
    nextKey: ListKey | null;
}

/**
 * What the API may do with posts. Each method either answers or throws a StoreError
 * (data/storeErrors.ts) for a refusal the client caused; anything else thrown is a fault.
 */
export interface PostsStore {
    /** A consistent read, so a client sees its own writes. Throws PostNotFound. */
    getPost(id: string): Promise<Post>;
    /** A new post under a fresh id: every call creates one. */
    createPost(input: PostInput): Promise<Post>;
    /**
     * One post per (scope, key) for 24 hours: a retry gets the same post back. `scope` keeps two
     * callers' keys apart (the API key id). Throws IdempotencyKeyReused (the key came with another
     * body) and IdempotencyInProgress (another request holds the key and did not finish meanwhile).
     */
    createPostIdempotent(scope: string, key: string, input: PostInput): Promise<Post>;
    /** Sets the given fields, bumps the version; never creates. Throws PostNotFound, VersionConflict. */
    updatePost(id: string, fields: PostInput | PostPatch, condition: VersionCondition): Promise<Post>;
    /** Throws PostNotFound, VersionConflict. */
    deletePost(id: string, condition: VersionCondition): Promise<void>;
    /** One page, newest first, starting after `startKey` (null: the first page). */
    listPosts(limit: number, startKey: ListKey | null): Promise<PostPage>;
}

/** What the DynamoDB store needs, injected so tests control time, ids and the client. */
export interface PostsStoreDeps {
    /** The full document client (its get/put/update/delete/query methods): a type, never a
     *  runtime import of the SDK (see the note at the top). */
    db: DynamoDBDocument;
    tableName: string;
    now: () => Date;
    newId: () => string;
    /** The function's configured timeout in seconds (FUNCTION_TIMEOUT_SECONDS): bounds how long an
     *  idempotency record stays in progress. Absent (tests): the longest timeout a stack allows. */
    functionTimeoutSeconds?: number;
    /** How many listing-index shards new posts spread over (LIST_SHARDS; absent: 1). Readers do
     *  not use it: they read how many shards were ever used from the listing record. */
    listShards?: number;
    /** Tests only: the seam between the steps of an idempotent create (IdempotencySteps below). */
    idempotencySteps?: IdempotencySteps;
}

export const IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60;

const CONDITIONAL_CHECK_FAILED = "ConditionalCheckFailedException";

/** A failed condition as the SDK throws it: the old item (if asked for and one exists) and the attempts made. */
type ConditionFailure = Error & { Item?: Record<string, unknown> | null; $metadata?: { attempts?: number } };

// ---------------------------------------------------------------------------------------------
// Idempotent create: the design of Powertools for AWS Lambda's idempotency utility (not its
// package: the archives stay small), built from single-item conditional writes only, because
// dynalite (the local engine) has no TransactWriteItems.
//
// The record {pk: IDEMPOTENCY#<API key id>#<key>} is in one of three states:
// - IN_PROGRESS: one attempt holds it. `owner` is that attempt's random token and
//   `inProgressExpiresAt` (epoch ms) ends its lease: reservation time + the function's timeout +
//   a margin, so once it has passed that attempt has stopped for good (Lambda ends an invocation
//   at its timeout; the margin covers clock skew between instances and a write still on the
//   wire). The record also fixes the post's id and createdAt and, through the request hash, its
//   fields: the post answered is a function of the record and the (same) body.
// - COMPLETED: `response` holds the post as first answered. Replays answer it and write nothing.
// - EXPIRED: `expiresAt` (epoch s, 24 h, the table's TTL attribute) has passed. TTL deletion
//   lags, so an expired record counts as absent and a new reservation overwrites it.
//
// The owner's steps: (1) reserve: put an IN_PROGRESS record unless a live one exists; (2) put
// the post with `attribute_not_exists(pk)`; (3) complete, on `owner = :me AND status =
// IN_PROGRESS`. Only an owner writes a post, once, under an id no earlier attempt used. That is
// the invariant that keeps a deleted post deleted: a put never overwrites, so a post can only
// come back from a second put of its id after a DELETE.
//
// A request that finds a live record instead: another body → IdempotencyKeyReused; COMPLETED →
// the stored post; IN_PROGRESS with a live lease → wait (consistent reads, about 1 s in all) for
// it to complete, else IdempotencyInProgress with retryAfterSeconds = what is left of the lease
// (the adapter makes these 422, 201 and 409 with Retry-After). It never writes the post. (The
// previous version "finished" a pending record itself: after a DELETE that put recreated the
// post, and the read-back that followed a failed put could find nothing, a 500.)
//
// IN_PROGRESS with an expired lease: the owner died somewhere between (1) and (3). Without a
// transaction, "(2) never ran" and "(2) ran, then a client deleted the post" (its id shows in the
// list) look the same: no post. So the taker reads the post, consistently (its writer is gone):
// - it exists → (2) ran: adopt it. Complete the record with the body the owner would have sent,
//   conditioned on the owner token the taker read, so of several takers exactly one wins. The
//   post is not written.
// - it does not → restart: a conditional update (again on the old token) makes the taker the
//   owner with a new lease and a NEW post id and createdAt, then (2) and (3). The old id is never
//   written again, so a post deleted in the gap stays deleted, and if (2) never ran nothing is
//   lost. The key then answers with the new post, and only with it.
// The token also makes a stale owner harmless (it cannot outlive its lease on Lambda, but clocks
// lie): its (3) fails, and it reads the record. The same post id means a taker adopted its post
// (the same post: answer it). Another id means a taker restarted, so the post it wrote is an
// orphan no response ever named: it deletes it and answers like any duplicate.
// An error inside the owner's steps leaves the record IN_PROGRESS. Releasing the lease early
// would let a retry restart while a write that failed on the client side may still land; retries
// get IdempotencyInProgress until the lease ends and then take over as above.
// Records written by the previous version (status "pending" or "completed", no owner, no lease)
// read as IN_PROGRESS with an expired lease, and as COMPLETED.
// ---------------------------------------------------------------------------------------------

const IN_PROGRESS = "IN_PROGRESS";
const COMPLETED = "COMPLETED";
const LEGACY_COMPLETED = "completed";

/** Added to the function's timeout for the lease: clock skew between instances, a write in flight. */
export const LEASE_MARGIN_SECONDS = 5;
/** The longest Lambda timeout a stack may set (config/stackConfig.ts, which Lambda code cannot import). */
const MAX_FUNCTION_TIMEOUT_SECONDS = 29;
/** Pauses between reads while another request holds the key: about 1 s in all, then IdempotencyInProgress. */
export const IN_PROGRESS_WAITS_MS = [100, 200, 300, 400];

/**
 * The pauses a request may spend waiting for another: IN_PROGRESS_WAITS_MS, cut to at most a
 * quarter of the function's timeout so that the 409 always arrives before Lambda stops the
 * function (at a 1 s timeout a full second of waiting would turn the 409 into API Gateway's 502).
 */
export function inProgressWaits(functionTimeoutSeconds: number | undefined): number[] {
    const budgetMs =
        functionTimeoutSeconds !== undefined && Number.isFinite(functionTimeoutSeconds) && functionTimeoutSeconds > 0
            ? (functionTimeoutSeconds * 1000) / 4
            : Infinity;
    const waits: number[] = [];
    let total = 0;
    for (const wait of IN_PROGRESS_WAITS_MS) {
        if (total + wait > budgetMs) {
            break;
        }
        waits.push(wait);
        total += wait;
    }
    return waits;
}

interface IdempotencyRecord {
    /** IN_PROGRESS or COMPLETED; "pending"/"completed" in records of the previous version. */
    status: string;
    /** The token of the attempt holding the lease (absent in records of the previous version). */
    owner?: string;
    /** Epoch milliseconds: the lease's end. */
    inProgressExpiresAt?: number;
    postId: string;
    createdAt: string;
    requestHash: string;
    /** Epoch seconds: the TTL. */
    expiresAt: number;
    /** COMPLETED: the post as first answered. */
    response?: Record<string, unknown>;
}

/**
 * Test seam (tests/contract/idempotency.test.ts, through PostsStoreDeps.idempotencySteps): called
 * between the owner's steps (after a reservation or a restart, and after the post write), so a
 * test can run a duplicate, a DELETE or a crash (a throw) in each gap, and replace the pause
 * between reads of an in-progress record. Nothing sets it outside tests.
 */
export interface IdempotencySteps {
    afterReserve?: (record: { owner: string; postId: string }) => Promise<void>;
    afterPostWrite?: (record: { owner: string; postId: string }) => Promise<void>;
    sleep?: (ms: number) => Promise<void>;
}

/** sha256 of the validated body in a fixed field order: same meaning, same hash. */
export function requestHash(input: PostInput): string {
    const canonical = JSON.stringify([input.title, input.description, input.author, input.publicationDate]);
    return createHash("sha256").update(canonical).digest("hex");
}

/** The public shape of a post item, built field by field so storage attributes cannot leak. */
function toPost(item: Record<string, unknown>): Post {
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

/** The posts store on the DynamoDB table `deps.tableName` (key design: data/tableDesign.ts). */
export function dynamoPostsStore(deps: PostsStoreDeps): PostsStore {
    // First, before any function that uses them: Pulumi's serializer resolves a nested function's
    // free variables against the declarations above it.
    /** How many listing shards this writer spreads new posts over. */
    const writeShards =
        deps.listShards !== undefined && Number.isInteger(deps.listShards) && deps.listShards > 1 ? deps.listShards : 1;
    /** The shard count this instance has seen announced (it only ever grows). */
    let announced = 1;

    function isConditionFailure(error: unknown): error is ConditionFailure {
        return error instanceof Error && error.name === CONDITIONAL_CHECK_FAILED;
    }

    /** A value in DynamoDB's wire form ({S: "…"}, {N: "…"}, {M: {…}}, …) as a plain value. */
    function plainValue(value: unknown): unknown {
        if (value === null || typeof value !== "object" || Object.keys(value).length !== 1) {
            return value; // already plain (an SDK that unmarshalls the item itself)
        }
        const [type, inner] = Object.entries(value as Record<string, unknown>)[0]!;
        switch (type) {
            case "S":
                return inner;
            case "N":
                return Number(inner);
            case "BOOL":
                return inner;
            case "NULL":
                return null;
            case "L":
                return (inner as unknown[]).map(plainValue);
            case "M":
                return plainItem(inner as Record<string, unknown>);
            default:
                return value;
        }
    }

    function plainItem(item: Record<string, unknown>): Record<string, unknown> {
        return Object.fromEntries(Object.entries(item).map(([name, value]) => [name, plainValue(value)]));
    }

    /**
     * The item as it stood when a conditional write failed: DynamoDB returns it with the failure
     * (ReturnValuesOnConditionCheckFailure: ALL_OLD, no extra read, no read units), and
     * lib-dynamodb leaves it in the wire form. Null when no item exists.
     */
    function itemAtFailure(error: ConditionFailure): Record<string, unknown> | null {
        return error.Item === undefined || error.Item === null ? null : plainItem(error.Item);
    }

    /** Whether the SDK sent this call more than once (an earlier attempt may have committed). */
    function wasRetried(error: ConditionFailure): boolean {
        return (error.$metadata?.attempts ?? 1) > 1;
    }

    /** Whether one of the item's recent writes carries `token` (data/tableDesign.ts). */
    function writtenWith(item: Record<string, unknown> | null, token: string): item is Record<string, unknown> {
        return item !== null && RECENT_WRITE_ATTRIBUTES.some((name) => item[name] === token);
    }

    function toItem(post: Post, writeToken: string): Record<string, unknown> {
        return {
            ...postKey(post.id),
            [RECENT_WRITE_ATTRIBUTES[0]]: writeToken,
            listPk: listPartition(listShardOf(post.id, writeShards)),
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

    /** A consistent read: the post, or null when there is none. */
    async function readPost(id: string): Promise<Post | null> {
        const result = await deps.db.get({ TableName: deps.tableName, Key: postKey(id), ConsistentRead: true });
        return result.Item === undefined ? null : toPost(result.Item);
    }

    /**
     * Writes a new post (never over an existing item). A failed condition whose item carries this
     * call's write token is this call's own earlier attempt (the SDK retried a put whose answer was
     * lost): the post is stored. Any other item under the id is a collision: fail loudly.
     */
    async function putNewPost(post: Post): Promise<void> {
        await announceWriteShards();
        const writeToken = deps.newId();
        try {
            await deps.db.put({
                TableName: deps.tableName,
                Item: toItem(post, writeToken),
                ConditionExpression: "attribute_not_exists(pk)",
                ReturnValuesOnConditionCheckFailure: "ALL_OLD",
            });
        } catch (error) {
            if (isConditionFailure(error) && writtenWith(itemAtFailure(error), writeToken)) {
                return;
            }
            if (isConditionFailure(error)) {
                throw new Error(`Post id collision on create: ${post.id}`, { cause: error });
            }
            throw error;
        }
    }

    /** Creates a post with a fresh id. Without an Idempotency-Key every call creates one. */
    async function createPost(input: PostInput): Promise<Post> {
        const post = newPost(deps.newId(), deps.now().toISOString(), input);
        await putNewPost(post);
        return post;
    }

    /**
     * After a conditional write failed, not by this call's own earlier attempt: PostNotFound when
     * no item exists, else VersionConflict (the item exists, so its version did not match). The
     * old item comes with the failure (ALL_OLD), from DynamoDB and from the local engine alike.
     */
    function conditionFailure(id: string, item: Record<string, unknown> | null): PostNotFound | VersionConflict {
        return item === null
            ? storeError("PostNotFound", { postId: id })
            : storeError("VersionConflict", { postId: id });
    }

    function versionCondition(condition: VersionCondition): { expression: string; values: Record<string, unknown> } {
        switch (condition.kind) {
            case "none":
                return { expression: "attribute_exists(pk)", values: {} };
            case "version":
                return {
                    expression: "attribute_exists(pk) AND #version = :expected",
                    values: { ":expected": condition.version },
                };
            case "never":
                // Versions start at 1, so 0 never matches: the write fails and conditionFailure tells
                // PostNotFound from VersionConflict.
                return { expression: "attribute_exists(pk) AND #version = :expected", values: { ":expected": 0 } };
        }
    }

    /**
     * PUT and PATCH: sets the given client fields, bumps the version and updatedAt, all in one
     * conditional UpdateItem. Never creates: a missing post is PostNotFound, a version mismatch
     * VersionConflict. The write token goes into the item's recent writes and the condition refuses
     * it, so an SDK retry of an attempt that committed never steps the version twice: it fails, and
     * the old item, which carries the token, is this update's answer.
     */
    async function updatePost(id: string, fields: PostInput | PostPatch, condition: VersionCondition): Promise<Post> {
        const writeToken = deps.newId();
        const names: Record<string, string> = { "#version": "version", "#updatedAt": "updatedAt" };
        const values: Record<string, unknown> = {
            ":one": 1,
            ":updatedAt": deps.now().toISOString(),
            ":writeToken": writeToken,
            ":noWrite": "",
        };
        const sets = ["#updatedAt = :updatedAt", "#version = #version + :one"];
        for (const [field, value] of Object.entries(fields)) {
            if (value === undefined) {
                continue;
            }
            names[`#${field}`] = field;
            values[`:${field}`] = value;
            sets.push(`#${field} = :${field}`);
        }
        // Shift the recent writes down one (the oldest drops out), the newest first.
        const slots = RECENT_WRITE_ATTRIBUTES.map((name, i) => {
            names[`#recentWrite${i}`] = name;
            return `#recentWrite${i}`;
        });
        for (let i = slots.length - 1; i > 0; i--) {
            sets.push(`${slots[i]} = if_not_exists(${slots[i - 1]}, :noWrite)`);
        }
        sets.push(`${slots[0]} = :writeToken`);
        const notThisWrite = slots
            .map((slot) => `(attribute_not_exists(${slot}) OR ${slot} <> :writeToken)`)
            .join(" AND ");
        const check = versionCondition(condition);
        try {
            const result = await deps.db.update({
                TableName: deps.tableName,
                Key: postKey(id),
                UpdateExpression: `SET ${sets.join(", ")}`,
                ConditionExpression: `${check.expression} AND ${notThisWrite}`,
                ExpressionAttributeNames: names,
                ExpressionAttributeValues: { ...values, ...check.values },
                ReturnValues: "ALL_NEW",
                ReturnValuesOnConditionCheckFailure: "ALL_OLD",
            });
            return toPost(result.Attributes ?? {});
        } catch (error) {
            if (!isConditionFailure(error)) {
                throw error;
            }
            const item = itemAtFailure(error);
            if (writtenWith(item, writeToken)) {
                return toPost(item); // our own earlier attempt committed: the post as it stands
            }
            throw conditionFailure(id, item);
        }
    }

    /**
     * A DELETE leaves no item to carry a token. A failed condition with no item after the SDK
     * retried means the post is gone, most likely by this call's own first attempt: the client
     * asked for it gone and it is, so that is success (a 204), never a 404 for a delete that was
     * made (docs/decisions/0017-writes-answer-their-own-retries.md).
     */
    async function deletePost(id: string, condition: VersionCondition): Promise<void> {
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
            if (!isConditionFailure(error)) {
                throw error;
            }
            const item = itemAtFailure(error);
            if (item === null && wasRetried(error)) {
                return;
            }
            throw conditionFailure(id, item);
        }
    }

    /**
     * Runs a conditional write on an idempotency record (or the listing record): true when it was
     * made, by this attempt or by an earlier attempt of the same call whose answer was lost (the SDK
     * retried, the retry failed its condition, and the record DynamoDB returns with the failure is
     * as that attempt left it: `madeIt`). False when the condition failed for another reason.
     */
    async function conditionally(
        write: () => Promise<unknown>,
        madeIt: (record: Record<string, unknown> | null) => boolean,
    ): Promise<boolean> {
        try {
            await write();
            return true;
        } catch (error) {
            if (isConditionFailure(error)) {
                return madeIt(itemAtFailure(error));
            }
            throw error;
        }
    }

    // Listing: the index is sharded (data/tableDesign.ts). Writers announce how many shards they
    // use in the listing record before writing into them; readers query every shard ever announced.

    /** Raises the listing record's `readShards` to this writer's count, once per instance. */
    async function announceWriteShards(): Promise<void> {
        if (writeShards <= announced) {
            return;
        }
        await conditionally(
            () =>
                deps.db.update({
                    TableName: deps.tableName,
                    Key: listingKey(),
                    UpdateExpression: "SET #readShards = :shards",
                    ConditionExpression: "attribute_not_exists(#readShards) OR #readShards < :shards",
                    ExpressionAttributeNames: { "#readShards": "readShards" },
                    ExpressionAttributeValues: { ":shards": writeShards },
                }),
            () => true,
        ); // failed: already as high or higher, which is all a writer needs
        announced = writeShards;
    }

    return {
        getPost: async (id) => {
            const post = await readPost(id);
            if (post === null) {
                throw storeError("PostNotFound", { postId: id });
            }
            return post;
        },
        createPost,
        createPostIdempotent: idempotentCreate(deps, { putNewPost, readPost, conditionally }),
        updatePost,
        deletePost,
        listPosts: shardedListing(deps),
    };
}

/**
 * The store's listPosts: every shard of the listing index any writer announced, merged newest first.
 * Its helpers are nested, as the store's are (see the note at the top of this file).
 */
function shardedListing(deps: PostsStoreDeps): PostsStore["listPosts"] {
    /** How many shards any writer ever used: a consistent read, so no announced shard is missed. */
    async function readShards(): Promise<number> {
        const result = await deps.db.get({ TableName: deps.tableName, Key: listingKey(), ConsistentRead: true });
        const shards = Number(result.Item?.readShards ?? 1);
        return Number.isInteger(shards) && shards > 1 ? shards : 1;
    }

    /** One shard's progress in a page: items read and not yet placed, where it stopped, whether it is done. */
    interface ShardCursor {
        listPk: string;
        unplaced: Record<string, unknown>[];
        /** The sort key of the last item read (the shard can only hold older ones unread). */
        frontier: string | null;
        startKey: Record<string, unknown> | undefined;
        done: boolean;
    }

    async function readShard(shard: ShardCursor, bound: string | null, count: number): Promise<number> {
        const result = await deps.db.query({
            TableName: deps.tableName,
            IndexName: POSTS_INDEX,
            KeyConditionExpression: bound === null ? "#listPk = :listPk" : "#listPk = :listPk AND #listSk < :bound",
            ExpressionAttributeNames: { "#listPk": "listPk", ...(bound === null ? {} : { "#listSk": "listSk" }) },
            ExpressionAttributeValues: { ":listPk": shard.listPk, ...(bound === null ? {} : { ":bound": bound }) },
            ScanIndexForward: false,
            Limit: count,
            ...(shard.startKey === undefined ? {} : { ExclusiveStartKey: shard.startKey }),
        });
        const found = result.Items ?? [];
        shard.unplaced.push(...found);
        const last = found[found.length - 1];
        if (last !== undefined) {
            shard.frontier = String(last.listSk);
        }
        shard.startKey = result.LastEvaluatedKey;
        shard.done = result.LastEvaluatedKey === undefined;
        return found.length;
    }

    /**
     * One page, newest first: a k-way merge of the shards below one bound (the cursor's sort key;
     * every shard is ordered by it). Each shard first gives about limit/shards items; then only the
     * shard that holds back the merge (the one whose last read item is newest: older items of
     * other shards cannot be placed before it has shown what it holds above them) is read further,
     * a share of what is still missing at a time. So a page reads at most 2 × limit + shards
     * items, not shards × limit. It places `limit + 1` items when it can: the extra one only tells
     * that another page exists, so the last page never comes with a cursor to an empty page.
     */
    async function listPosts(limit: number, startKey: ListKey | null): Promise<PostPage> {
        const shardCount = await readShards();
        const bound = startKey === null ? null : startKey.listSk;
        const shards: ShardCursor[] = Array.from({ length: shardCount }, (_, shard) => ({
            listPk: listPartition(shard),
            unplaced: [],
            frontier: null,
            startKey: undefined,
            done: false,
        }));
        const wanted = limit + 1;
        let budget = 2 * limit + shardCount;
        const first = shardCount === 1 ? wanted : Math.ceil(limit / shardCount);
        const counts = await Promise.all(shards.map((shard) => readShard(shard, bound, first)));
        budget -= counts.reduce((sum, n) => sum + n, 0);
        const placed: Record<string, unknown>[] = [];
        for (;;) {
            placeReadyItems(shards, placed, wanted);
            const open = shards.filter((shard) => !shard.done);
            if (placed.length >= wanted || open.length === 0) {
                break;
            }
            const missing = wanted - placed.length;
            const count = Math.min(Math.ceil(Math.min(missing, limit) / open.length), budget);
            if (count <= 0) {
                break; // the read budget is spent: a shorter page, with a cursor
            }
            budget -= await readShard(holdingBack(open), bound, count);
        }
        const items = placed.slice(0, limit).map(toPost);
        const last = items[items.length - 1];
        const more = placed.length > limit || shards.some((shard) => !shard.done || shard.unplaced.length > 0);
        // The cursor keeps the shape it had before sharding (its listPk is shard 0's): only its
        // sort key is the bound, and a cursor from before sharding still works.
        const nextKey =
            more && last !== undefined
                ? { ...postKey(last.id), listPk: LIST_PARTITION, listSk: listSortKey(last.createdAt, last.id) }
                : null;
        return { items, nextKey };
    }

    /** The open shard whose last read item is the newest (an open shard that read nothing yet first). */
    function holdingBack(open: ShardCursor[]): ShardCursor {
        return open.reduce((a, b) =>
            a.frontier === null || (b.frontier !== null && a.frontier >= b.frontier) ? a : b,
        );
    }

    /**
     * Moves read items into `placed`, newest first, while they are certainly next: no open shard
     * can still hold a newer one (each open shard's unread items are older than its frontier).
     */
    function placeReadyItems(shards: ShardCursor[], placed: Record<string, unknown>[], wanted: number): void {
        const open = shards.filter((shard) => !shard.done);
        const limitKey =
            open.length === 0
                ? null
                : open.some((shard) => shard.frontier === null)
                  ? "\uffff"
                  : holdingBack(open).frontier;
        while (placed.length < wanted) {
            let newest: ShardCursor | undefined;
            for (const shard of shards) {
                const head = shard.unplaced[0];
                if (
                    head !== undefined &&
                    (newest === undefined || String(head.listSk) > String(newest.unplaced[0]!.listSk))
                ) {
                    newest = shard;
                }
            }
            if (newest === undefined || (limitKey !== null && String(newest.unplaced[0]!.listSk) < limitKey)) {
                return;
            }
            placed.push(newest.unplaced.shift()!);
        }
    }

    return listPosts;
}

/** What the idempotent create uses of the store: its post write and read, and its conditional writes. */
interface StoreWrites {
    putNewPost(post: Post): Promise<void>;
    readPost(id: string): Promise<Post | null>;
    conditionally(
        write: () => Promise<unknown>,
        madeIt: (record: Record<string, unknown> | null) => boolean,
    ): Promise<boolean>;
}

/**
 * The store's createPostIdempotent: the design in the note above IN_PROGRESS. Its helpers are nested,
 * as the store's are (see the note at the top of this file).
 */
function idempotentCreate(deps: PostsStoreDeps, store: StoreWrites): PostsStore["createPostIdempotent"] {
    // First, before the functions that use them (as in dynamoPostsStore).
    const { putNewPost, readPost, conditionally } = store;

    function epochSeconds(date: Date): number {
        return Math.floor(date.getTime() / 1000);
    }

    function leaseMs(): number {
        const timeout = deps.functionTimeoutSeconds;
        const seconds =
            timeout !== undefined && Number.isFinite(timeout) && timeout > 0 ? timeout : MAX_FUNCTION_TIMEOUT_SECONDS;
        return (seconds + LEASE_MARGIN_SECONDS) * 1000;
    }

    const isCompleted = (record: IdempotencyRecord) =>
        (record.status === COMPLETED || record.status === LEGACY_COMPLETED) && record.response !== undefined;

    /** A record of the previous version has no lease: it reads as expired. */
    const leaseEnd = (record: IdempotencyRecord) => record.inProgressExpiresAt ?? 0;

    async function readRecord(key: { pk: string }): Promise<IdempotencyRecord | null> {
        const result = await deps.db.get({ TableName: deps.tableName, Key: key, ConsistentRead: true });
        return result.Item === undefined ? null : (result.Item as unknown as IdempotencyRecord);
    }

    /** Step 1: a new IN_PROGRESS record, unless a live (unexpired) one exists. */
    function reserve(key: { pk: string }, record: IdempotencyRecord, now: Date): Promise<boolean> {
        return conditionally(
            () =>
                deps.db.put({
                    TableName: deps.tableName,
                    Item: { ...key, ...record },
                    ConditionExpression: "attribute_not_exists(pk) OR #expiresAt < :now",
                    ExpressionAttributeNames: { "#expiresAt": "expiresAt" },
                    ExpressionAttributeValues: { ":now": epochSeconds(now) },
                    ReturnValuesOnConditionCheckFailure: "ALL_OLD",
                }),
            (found) => found?.owner === record.owner,
        ); // the owner token is this attempt's own
    }

    /** The condition "the record is still exactly as `seen` left it": its status, post and owner. */
    function unchangedSince(seen: IdempotencyRecord) {
        return {
            expression: `#status = :seenStatus AND #postId = :seenPostId AND ${seen.owner === undefined ? "attribute_not_exists(#owner)" : "#owner = :seenOwner"}`,
            names: { "#status": "status", "#postId": "postId", "#owner": "owner" },
            values: {
                ":seenStatus": seen.status,
                ":seenPostId": seen.postId,
                ...(seen.owner === undefined ? {} : { ":seenOwner": seen.owner }),
            },
        };
    }

    /** Step 3, or a taker's adoption: COMPLETED with the post, if the record is still as `seen`. */
    function complete(key: { pk: string }, seen: IdempotencyRecord, post: Post): Promise<boolean> {
        const condition = unchangedSince(seen);
        return conditionally(
            () =>
                deps.db.update({
                    TableName: deps.tableName,
                    Key: key,
                    UpdateExpression: "SET #status = :completed, #response = :response",
                    ConditionExpression: condition.expression,
                    ExpressionAttributeNames: { ...condition.names, "#response": "response" },
                    ExpressionAttributeValues: { ...condition.values, ":completed": COMPLETED, ":response": post },
                    ReturnValuesOnConditionCheckFailure: "ALL_OLD",
                }),
            (found) => found?.status === COMPLETED && found.postId === post.id,
        ); // completed with this very post
    }

    /** A taker's restart: it becomes the owner of `seen`'s record, with a new lease and post id. */
    function restart(key: { pk: string }, seen: IdempotencyRecord, next: IdempotencyRecord): Promise<boolean> {
        const condition = unchangedSince(seen);
        return conditionally(
            () =>
                deps.db.update({
                    TableName: deps.tableName,
                    Key: key,
                    UpdateExpression:
                        "SET #status = :inProgress, #owner = :owner, #inProgressExpiresAt = :lease, #postId = :postId, #createdAt = :createdAt",
                    ConditionExpression: condition.expression,
                    ExpressionAttributeNames: {
                        ...condition.names,
                        "#inProgressExpiresAt": "inProgressExpiresAt",
                        "#createdAt": "createdAt",
                    },
                    ExpressionAttributeValues: {
                        ...condition.values,
                        ":inProgress": IN_PROGRESS,
                        ":owner": next.owner,
                        ":lease": next.inProgressExpiresAt,
                        ":postId": next.postId,
                        ":createdAt": next.createdAt,
                    },
                    ReturnValuesOnConditionCheckFailure: "ALL_OLD",
                }),
            (found) => found?.owner === next.owner,
        ); // the new owner token is this attempt's own
    }

    /**
     * Steps 2 and 3 for the record this call owns. Returns the post, or null when the record was
     * taken over meanwhile and the caller must answer from the record instead.
     */
    async function runAsOwner(key: { pk: string }, record: IdempotencyRecord, input: PostInput): Promise<Post | null> {
        const steps = deps.idempotencySteps;
        const holder = { owner: String(record.owner), postId: record.postId };
        await steps?.afterReserve?.(holder);
        const post = newPost(record.postId, record.createdAt, input);
        await putNewPost(post); // nobody else ever writes this id; a lost answer is recognised inside

        await steps?.afterPostWrite?.(holder);
        if (await complete(key, record, post)) {
            return post;
        }
        // Our lease ended and another request took the record over (or it expired and was reserved anew).
        const current = await readRecord(key);
        if (current !== null && current.postId === record.postId) {
            return post; // adopted: the record answers with this very post
        }
        // The record moved on to another post: ours is an orphan no response named. Remove it.
        await deps.db.delete({ TableName: deps.tableName, Key: postKey(post.id) });
        return null;
    }

    /**
     * POST with an Idempotency-Key: one post per (caller, key) for 24 hours. `scope` is the API key
     * id (so two clients cannot collide on a key) or "anonymous".
     */
    async function createPostIdempotent(scope: string, idempotencyKeyValue: string, input: PostInput): Promise<Post> {
        const key = idempotencyKey(scope, idempotencyKeyValue);
        const hash = requestHash(input);
        const sleep =
            deps.idempotencySteps?.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
        const fresh = (now: Date): IdempotencyRecord => ({
            status: IN_PROGRESS,
            owner: deps.newId(),
            inProgressExpiresAt: now.getTime() + leaseMs(),
            postId: deps.newId(),
            createdAt: now.toISOString(),
            requestHash: hash,
            expiresAt: epochSeconds(now) + IDEMPOTENCY_TTL_SECONDS,
        });
        const pauses = inProgressWaits(deps.functionTimeoutSeconds);
        let waits = 0;
        let seen: IdempotencyRecord | null = null;
        // Bounded: each round either answers, waits (at most IN_PROGRESS_WAITS_MS.length times), or
        // lost a race for the record to a request that now holds it.
        for (let round = 0; round < IN_PROGRESS_WAITS_MS.length + 6; round++) {
            if (seen === null) {
                const now = deps.now();
                const record = fresh(now);
                if (await reserve(key, record, now)) {
                    const post = await runAsOwner(key, record, input);
                    if (post !== null) {
                        return post;
                    }
                }
                seen = await readRecord(key);
                if (seen === null) {
                    continue; // TTL deleted it between our condition check and this read
                }
            }
            const now = deps.now();
            if (seen.expiresAt < epochSeconds(now)) {
                seen = null; // EXPIRED: reserve anew
                continue;
            }
            if (seen.requestHash !== hash) {
                throw storeError("IdempotencyKeyReused", {});
            }
            if (isCompleted(seen)) {
                return toPost(seen.response as Record<string, unknown>);
            }
            if (leaseEnd(seen) > now.getTime()) {
                const wait = pauses[waits++];
                if (wait === undefined) {
                    throw storeError("IdempotencyInProgress", {
                        retryAfterSeconds: Math.max(1, Math.ceil((leaseEnd(seen) - now.getTime()) / 1000)),
                    });
                }
                await sleep(wait);
                seen = await readRecord(key);
                continue;
            }
            // The lease is over: its owner is gone. Adopt its post, or restart under a new id.
            if ((await readPost(seen.postId)) !== null) {
                const post = newPost(seen.postId, seen.createdAt, input);
                if (await complete(key, seen, post)) {
                    return post;
                }
            } else {
                const next = { ...fresh(now), expiresAt: seen.expiresAt };
                if (await restart(key, seen, next)) {
                    const post = await runAsOwner(key, next, input);
                    if (post !== null) {
                        return post;
                    }
                }
            }
            seen = await readRecord(key); // another request won the record: see what it did
        }
        throw new Error("Idempotency record kept changing; giving up");
    }

    return createPostIdempotent;
}
