// The route table: one row per operation of the HTTP contract (shared/docs/posts-api.md).
// A row names its handler and exactly the DynamoDB actions that handler performs; the role of
// the route's Lambda function is built from that list and nothing else (api/lambdaRole.ts).
// Adding or changing a route touches only its row and its handler file.
import type { RouteHandler } from "./http/contract";
import type { DynamoDbAction } from "./lambdaRole";
import { IDEMPOTENCY_KEYS_PATTERN, POST_KEYS_PATTERN } from "../data/tableDesign";
import { listPosts } from "./handlers/listPosts";
import { createPost } from "./handlers/createPost";
import { getPost } from "./handlers/getPost";
import { replacePost } from "./handlers/replacePost";
import { updatePost } from "./handlers/updatePost";
import { deletePost } from "./handlers/deletePost";

export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export interface RouteDefinition {
    /** Logical name of the route's function, role and log group: keep it stable. */
    name: string;
    method: HttpMethod;
    /** Resource path template relative to the stage, e.g. `/posts/{id}`. */
    path: string;
    handler: RouteHandler;
    tableActions: DynamoDbAction[];
    indexActions: DynamoDbAction[];
    /** The partition keys the table actions may touch (IAM `dynamodb:LeadingKeys`). */
    leadingKeys: string[];
}

export const routes: RouteDefinition[] = [
    { name: "listPosts", method: "GET", path: "/posts", handler: listPosts, tableActions: [], indexActions: ["dynamodb:Query"], leadingKeys: [] },
    // Idempotent create: reserve the key (PutItem), write the post (PutItem), record the answer
    // (UpdateItem); a retry reads the record and the post (GetItem); an attempt that outlived its
    // lease removes the post it wrote after another took over (DeleteItem: no more power over
    // posts than PutItem already gives).
    { name: "createPost", method: "POST", path: "/posts", handler: createPost, tableActions: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"], indexActions: [], leadingKeys: [POST_KEYS_PATTERN, IDEMPOTENCY_KEYS_PATTERN] },
    { name: "getPost", method: "GET", path: "/posts/{id}", handler: getPost, tableActions: ["dynamodb:GetItem"], indexActions: [], leadingKeys: [POST_KEYS_PATTERN] },
    // Conditional writes; when the condition fails and DynamoDB returns no old item, a consistent
    // GetItem tells 404 (gone) from 412 (stale If-Match).
    { name: "replacePost", method: "PUT", path: "/posts/{id}", handler: replacePost, tableActions: ["dynamodb:UpdateItem", "dynamodb:GetItem"], indexActions: [], leadingKeys: [POST_KEYS_PATTERN] },
    { name: "updatePost", method: "PATCH", path: "/posts/{id}", handler: updatePost, tableActions: ["dynamodb:UpdateItem", "dynamodb:GetItem"], indexActions: [], leadingKeys: [POST_KEYS_PATTERN] },
    { name: "deletePost", method: "DELETE", path: "/posts/{id}", handler: deletePost, tableActions: ["dynamodb:DeleteItem", "dynamodb:GetItem"], indexActions: [], leadingKeys: [POST_KEYS_PATTERN] },
];
