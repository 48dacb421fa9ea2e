// The shapes every route handler speaks. Plain data, no AWS or Pulumi types, so a handler is a
// function of (request, deps) that tests can call directly.
import type { PostsStore } from "../../data/postsStore";

/** An HTTP request after the Lambda adapter decoded it (base64 body decoded, header names lower-cased). */
export interface HttpRequest {
    method: string;
    /** The route template, e.g. `/posts/{id}`. */
    resource: string;
    pathParameters: Record<string, string>;
    query: Record<string, string>;
    /** Every value of every query parameter (API Gateway's multi-value map), so a repeated
     *  parameter can be refused instead of silently taking the last one. Absent when unknown. */
    multiValueQuery?: Record<string, string[]>;
    /** Header names in lower case. */
    headers: Record<string, string>;
    body: string | null;
    requestId: string;
    /** API Gateway's id of the API key that called, when the route required one. */
    apiKeyId: string | null;
}

export interface HttpResponse {
    statusCode: number;
    headers?: Record<string, string>;
    /** Serialized to JSON by the adapter; absent for 204. */
    body?: unknown;
}

/** What a handler needs from the outside world, injected so tests control storage (and, through
 *  the store's own deps, time and ids). */
export interface Deps {
    /** Posts, behind their interface; it throws the store's errors, which the adapter maps. */
    store: PostsStore;
    /** HMAC key that makes list cursors tamper-evident. */
    cursorKey: string;
}

export type RouteHandler = (request: HttpRequest, deps: Deps) => Promise<HttpResponse>;
