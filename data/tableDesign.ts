// The posts table's key design, shared by the Pulumi table (data/postsTable.ts), the store that
// reads and writes it (data/postsStore.ts) and the tests. No Pulumi import: Lambda code uses it.
//
// One table, one partition key:
// - a post is `pk = "POST#<id>"`; it also carries `listPk`/`listSk`, which put it in the sparse
//   `byCreatedAt` index so GET /posts is a Query on that index, newest first, reading `limit` items;
// - an idempotency record is `pk = "IDEMPOTENCY#<apiKeyId>#<key>"` with `expiresAt` (epoch
//   seconds), which DynamoDB's TTL deletes after 24 h. It has no `listPk`, so it never appears in
//   the index.
// `listPk` is one constant value: every post lives in one index partition. That keeps
// newest-first listing a single Query; it is the right trade for a blog (index writes scale to
// 1 000 WCU per partition) and is the first thing to shard if a table ever outgrows that.

export const POSTS_INDEX = "byCreatedAt";
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

export const postKey = (id: string) => ({ pk: `POST#${id}` });
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
