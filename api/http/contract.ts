// The shapes every route handler speaks. Plain data, no AWS or Pulumi types, so a handler is a
// function of (request, deps) that tests can call directly.
import type { DynamoDBDocument } from "@aws-sdk/lib-dynamodb";

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

/** What a handler needs from the outside world, injected so tests control time, ids and storage. */
export interface Deps {
    /** The full document client (its get/put/update/delete/query methods), so data/postsStore.ts
     *  needs no runtime import of the SDK (see the note there). */
    db: DynamoDBDocument;
    tableName: string;
    now: () => Date;
    newId: () => string;
    /** HMAC key that makes list cursors tamper-evident. */
    cursorKey: string;
    /** The function's configured timeout in seconds (FUNCTION_TIMEOUT_SECONDS): bounds how long an
     *  idempotency record stays in progress. Absent (tests): the longest timeout a stack allows. */
    functionTimeoutSeconds?: number;
}

export type RouteHandler = (request: HttpRequest, deps: Deps) => Promise<HttpResponse>;
