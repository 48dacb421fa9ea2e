// The route table: one row per operation of the HTTP contract (docs/api.md), and the
// only list of routes in the repository. Everything else is derived from it:
// - api/postsApi.ts: one Lambda function per row (api/routeFunction.ts) behind its method and
//   path, and an OPTIONS preflight for each path;
// - api/lambdaRole.ts: each function's role, allowed exactly the row's DynamoDB actions;
// - api/keys.ts: the operations a usage plan's per-method throttles may name;
// - api/release.ts, api/stageCache.ts: the routes a stack may pin, canary, keep warm or cache;
// - api/openapi.ts: one documented operation per row, from the row's `docs`;
// - api/handlers/index.ts and tests/support/client.ts: route name → handler, method and resource.
// To add or change a route, edit its row here and its handler file (api/handlers/<name>.ts,
// exporting a function named after the route); nothing else.
import type { RouteHandler } from "./http/contract";
import type { DynamoDbAction } from "./lambdaRole";
import type { OperationDocs } from "./openapi";
import { IDEMPOTENCY_KEYS_PATTERN, LISTING_KEY_PATTERN, POST_KEYS_PATTERN } from "../data/tableDesign";
import { listPosts } from "./handlers/listPosts";
import { createPost } from "./handlers/createPost";
import { getPost } from "./handlers/getPost";
import { replacePost } from "./handlers/replacePost";
import { updatePost } from "./handlers/updatePost";
import { deletePost } from "./handlers/deletePost";

export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export interface RouteDefinition<Name extends string = string> {
    /**
     * Logical name of the route's function, role and log group (keep it stable), its OpenAPI
     * operationId, and the name of its handler: the function `name` exported by api/handlers/<name>.ts.
     */
    readonly name: Name;
    readonly method: HttpMethod;
    /** Resource path template relative to the stage, e.g. `/posts/{id}`. */
    readonly path: string;
    readonly handler: RouteHandler;
    /** Exactly the DynamoDB actions the handler performs on the table's items… */
    readonly tableActions: readonly DynamoDbAction[];
    /** …and on the listing index. */
    readonly indexActions: readonly DynamoDbAction[];
    /** The partition keys the table actions may touch (IAM `dynamodb:LeadingKeys`). */
    readonly leadingKeys: readonly string[];
    /** What the OpenAPI document says beyond the zod schemas: summary, parameters, statuses. */
    readonly docs: OperationDocs;
    /**
     * True only where the contract lets an answer be up to the stage cache's TTL old (GET routes
     * the contract calls eventually consistent): only these may be listed in a stack's
     * `posts-api:cache.routes` (api/stageCache.ts). Absent: never cached.
     */
    readonly cacheable?: boolean;
}

const TABLE = [
    {
        // Query on the listing index, one per shard; GetItem of the listing record only (how many shards).
        name: "listPosts",
        method: "GET",
        path: "/posts",
        handler: listPosts,
        tableActions: ["dynamodb:GetItem"],
        indexActions: ["dynamodb:Query"],
        leadingKeys: [LISTING_KEY_PATTERN],
        docs: {
            summary: "List posts, newest first",
            description:
                "One page of at most `limit` posts, newest `createdAt` first. Pass `nextCursor` back as `cursor` for the next page; it is `null` on the last page. The list is eventually consistent.",
            tags: ["posts"],
            parameters: ["Limit", "Cursor"],
            success: { status: "200", description: "A page of posts", schema: "PostList" },
            errors: ["BadRequest"],
        },
        // docs/api.md: the list is eventually consistent, so a page may be served from the cache.
        cacheable: true,
    },
    {
        // Idempotent create: reserve the key (PutItem), write the post (PutItem), record the answer
        // (UpdateItem); a retry reads the record and the post (GetItem); an attempt that outlived its
        // lease removes the post it wrote after another took over (DeleteItem: no more power over
        // posts than PutItem already gives); it raises the listing record's shard count (UpdateItem).
        name: "createPost",
        method: "POST",
        path: "/posts",
        handler: createPost,
        tableActions: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
        indexActions: [],
        leadingKeys: [POST_KEYS_PATTERN, IDEMPOTENCY_KEYS_PATTERN, LISTING_KEY_PATTERN],
        docs: {
            summary: "Create a post",
            description:
                "With an `Idempotency-Key`, a retry with the same body within 24 hours returns the original 201 and creates nothing (a post deleted since stays deleted); the same key with a different body is 422. A retry that arrives while the first request with its key is still running waits briefly for its 201, else gets 409 with `Retry-After`.",
            tags: ["posts"],
            parameters: ["IdempotencyKey"],
            body: "PostInput",
            success: { status: "201", description: "The new post", schema: "Post", headers: ["ETag", "Location"] },
            errors: ["BadRequest", "IdempotencyInProgress", "IdempotencyKeyReused"],
        },
    },
    {
        // Never cacheable: GET by id is read-your-writes and its ETag feeds If-Match (docs/api.md).
        name: "getPost",
        method: "GET",
        path: "/posts/{id}",
        handler: getPost,
        tableActions: ["dynamodb:GetItem"],
        indexActions: [],
        leadingKeys: [POST_KEYS_PATTERN],
        docs: {
            summary: "Get a post",
            tags: ["posts"],
            parameters: ["PostId"],
            success: { status: "200", description: "The post", schema: "Post", headers: ["ETag"] },
            errors: ["NotFound"],
        },
    },
    // Conditional writes that ask for the old item on a failed condition (ALL_OLD): it tells 404
    // from 412 and a retry's own earlier attempt from a conflict, with no second read. GetItem stays
    // in their roles: returning the item is a read of it, and AWS does not document whether IAM
    // checks GetItem for it; without it every 412 could become a 500
    // (docs/decisions/0017-writes-answer-their-own-retries.md).
    {
        name: "replacePost",
        method: "PUT",
        path: "/posts/{id}",
        handler: replacePost,
        tableActions: ["dynamodb:UpdateItem", "dynamodb:GetItem"],
        indexActions: [],
        leadingKeys: [POST_KEYS_PATTERN],
        docs: {
            summary: "Replace a post",
            description: 'Replaces every client field (an omitted `description` becomes ""). Never creates a post.',
            tags: ["posts"],
            parameters: ["PostId", "IfMatch"],
            body: "PostInput",
            success: { status: "200", description: "The updated post", schema: "Post", headers: ["ETag"] },
            errors: ["BadRequest", "NotFound", "PreconditionFailed"],
        },
    },
    {
        name: "updatePost",
        method: "PATCH",
        path: "/posts/{id}",
        handler: updatePost,
        tableActions: ["dynamodb:UpdateItem", "dynamodb:GetItem"],
        indexActions: [],
        leadingKeys: [POST_KEYS_PATTERN],
        docs: {
            summary: "Update some fields of a post",
            description: "Changes only the fields sent (at least one). Never creates a post.",
            tags: ["posts"],
            parameters: ["PostId", "IfMatch"],
            body: "PostPatch",
            success: { status: "200", description: "The updated post", schema: "Post", headers: ["ETag"] },
            errors: ["BadRequest", "NotFound", "PreconditionFailed"],
        },
    },
    {
        name: "deletePost",
        method: "DELETE",
        path: "/posts/{id}",
        handler: deletePost,
        tableActions: ["dynamodb:DeleteItem", "dynamodb:GetItem"],
        indexActions: [],
        leadingKeys: [POST_KEYS_PATTERN],
        docs: {
            summary: "Delete a post",
            tags: ["posts"],
            parameters: ["PostId", "IfMatch"],
            success: { status: "204", description: "Deleted; no body" },
            errors: ["BadRequest", "NotFound", "PreconditionFailed"],
        },
    },
] as const satisfies readonly RouteDefinition[];

/** A route's name, as the table spells it: the key of everything derived per route. */
export type RouteName = (typeof TABLE)[number]["name"];

export const routes: readonly RouteDefinition<RouteName>[] = TABLE;

/** The row of a route, by name; an unknown name is a programming error. */
export function routeNamed(name: string): RouteDefinition<RouteName> {
    const route = routes.find((r) => r.name === name);
    if (route === undefined) {
        throw new Error(`No route named "${name}" in api/routes.ts (routes: ${routes.map((r) => r.name).join(", ")})`);
    }
    return route;
}
