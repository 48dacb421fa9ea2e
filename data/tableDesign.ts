// The posts table's key design, shared by the Pulumi table (data/postsTable.ts), the store that
// reads and writes it (data/postsStore.ts) and the tests. No Pulumi import: Lambda code uses it.
//
// One table, one partition key:
// - a post is `pk = "POST#<id>"`; it also carries `listPk`/`listSk`, which put it in the sparse
//   `byCreatedAt` index so GET /posts is a Query on that index, newest first, reading `limit` items;
// - an idempotency record is `pk = "IDEMPOTENCY#<apiKeyId>#<key>"` with `expiresAt` (epoch
//   seconds), which DynamoDB's TTL deletes after 24 h. It has no `listPk`, so it never appears in
//   the index.
// - the listing index is sharded: a post's `listPk` is one of `listShards` partitions, chosen from
//   its id (`listPartition(listShardOf(id, n))`), so index writes spread over n partitions (each
//   takes at most 1 000 write units a second). Shard 0 keeps the name every post had before
//   sharding ("POSTS"). A page queries every shard from one bound and merges them newest first
//   (data/postsStore.ts listPosts);
// - the listing record `pk = "META#listing"` keeps `readShards`: how many shards any writer has
//   ever used. Writers raise it (never lower it) before writing into a new shard; readers read it
//   on every page. The shard count thus lives with the data, so readers of any version see every
//   shard a writer of any version used, and lowering `listShards` never hides posts
//   (docs/decisions/0023-listing-index-shards.md).

export const POSTS_INDEX = "byCreatedAt";
/** The most listing shards a stack may set: each page queries every shard ever used. */
export const MAX_LIST_SHARDS = 32;
export const TTL_ATTRIBUTE = "expiresAt";
export const LIST_PARTITION = "POSTS";

export const keyAttributes = {
    partitionKey: "pk",
    listPartitionKey: "listPk",
    listSortKey: "listSk",
} as const;

/** IAM `dynamodb:LeadingKeys` patterns: which partition keys a function may touch. */
export const POST_KEYS_PATTERN = "POST#*";
export const IDEMPOTENCY_KEYS_PATTERN = "IDEMPOTENCY#*";
/** The listing record's key, exactly (a pattern with no wildcard). */
export const LISTING_KEY_PATTERN = "META#listing";

export const postKey = (id: string) => ({ pk: `POST#${id}` });
export const listingKey = () => ({ pk: LISTING_KEY_PATTERN });
/** The listing index partition of shard `shard`: shard 0 is the one partition of unsharded tables. */
export const listPartition = (shard: number) => (shard === 0 ? LIST_PARTITION : `${LIST_PARTITION}#${shard}`);
/** The shard of a post among `shards`: FNV-1a of its id, so any id (not only random ones) spreads evenly. */
export function listShardOf(id: string, shards: number): number {
    let hash = 0x811c9dc5;
    for (let i = 0; i < id.length; i++) {
        hash ^= id.charCodeAt(i);
        hash = Math.imul(hash, 0x01000193) >>> 0;
    }
    return hash % shards;
}
export const idempotencyKey = (scope: string, key: string) => ({ pk: `IDEMPOTENCY#${scope}#${key}` });
/**
 * A post remembers the write tokens of its last few writes (newest first): every create and
 * update sets one, and every update's condition refuses a token already there. An SDK retry of a
 * write whose first attempt committed (its answer was lost or late) then fails its condition,
 * and the old item DynamoDB returns with the failure shows the token: "my own earlier attempt"
 * (data/postsStore.ts). Four, so up to three other writes may land between an attempt and its
 * retry (a second or two) and the retry is still recognised. Never returned to clients.
 */
export const RECENT_WRITE_ATTRIBUTES = ["recentWrite1", "recentWrite2", "recentWrite3", "recentWrite4"] as const;

/** Sort key in the listing index: createdAt first so the index orders newest-first, id to break ties. */
export const listSortKey = (createdAt: string, id: string) => `${createdAt}#${id}`;

/** Where a page of the listing index starts or ends: a post's table key plus its index keys (a
 *  Query's LastEvaluatedKey on that index). List cursors (api/cursor.ts) carry one, signed. */
export interface ListKey {
    pk: string;
    listPk: string;
    listSk: string;
}
