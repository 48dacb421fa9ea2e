// The public contract as an OpenAPI 3.0 document (shared/docs/posts-api.md, in a form Postman and
// client generators read). A pure function of the stage URL, the route table and the JSON Schemas
// generated from the zod schemas the handlers validate with (api/schema.ts `postJsonSchemas`):
// bodies are never described twice. What zod cannot know (status codes, headers, parameters) is
// described per route below, keyed by the route's name; a route without a description is an error,
// so a new route cannot ship undocumented.
import { CORS_EXPOSE_HEADERS } from "./http/cors";
import { MAX_BODY_BYTES } from "./http/adapter";
import type { postJsonSchemas } from "./schema";

/* eslint-disable @typescript-eslint/no-explicit-any */

export type JsonSchemas = ReturnType<typeof postJsonSchemas>;

/** The parts of a route (api/routes.ts RouteDefinition) the document needs. */
export interface OpenApiRoute {
    name: string;
    method: string;
    path: string;
}

export interface OpenApiOptions {
    /** The stage URL, e.g. `https://abc123.execute-api.us-east-1.amazonaws.com/dev/` (the `url` output). */
    serverUrl: string;
    routes: readonly OpenApiRoute[];
    /** `postJsonSchemas({ target: "openapi-3.0" })`. */
    schemas: JsonSchemas;
    /** The API's version (package.json `version`). */
    version: string;
    /** Shown as the server's description, e.g. the stack name. */
    serverDescription?: string;
}

export type OpenApiDocument = Record<string, any> & { openapi: string; paths: Record<string, Record<string, any>> };

const ref = (kind: "schemas" | "parameters" | "responses" | "headers", name: string) => ({ $ref: `#/components/${kind}/${name}` });
const json = (schema: unknown, example?: unknown) => ({ "application/json": { schema, ...(example === undefined ? {} : { example }) } });

/** CORS headers the Lambda adapter and the gateway responses put on every answer. */
const CORS_HEADERS = { "Access-Control-Allow-Origin": ref("headers", "AccessControlAllowOrigin"), "Access-Control-Expose-Headers": ref("headers", "AccessControlExposeHeaders") };

interface OperationSpec {
    summary: string;
    description?: string;
    tags: string[];
    parameters: string[];
    /** Component schema of the JSON request body (required when present). */
    body?: "PostInput" | "PostPatch";
    success: { status: string; description: string; schema?: string; headers?: string[] };
    /** Error responses (component names) besides the ones every operation has. */
    errors: string[];
}

/** Answers every operation can give: API Gateway's key check and limits, and an unexpected failure. */
const COMMON_ERRORS = ["Forbidden", "TooManyRequests", "InternalError"];

/** What zod cannot say about each route, keyed by route name (api/routes.ts). */
const OPERATIONS: Record<string, OperationSpec> = {
    listPosts: {
        summary: "List posts, newest first",
        description: "One page of at most `limit` posts, newest `createdAt` first. Pass `nextCursor` back as `cursor` for the next page; it is `null` on the last page. The list is eventually consistent.",
        tags: ["posts"],
        parameters: ["Limit", "Cursor"],
        success: { status: "200", description: "A page of posts", schema: "PostList" },
        errors: ["BadRequest"],
    },
    createPost: {
        summary: "Create a post",
        description: "With an `Idempotency-Key`, a retry with the same body within 24 hours returns the original 201 and creates nothing (a post deleted since stays deleted); the same key with a different body is 422. A retry that arrives while the first request with its key is still running waits briefly for its 201, else gets 409 with `Retry-After`.",
        tags: ["posts"],
        parameters: ["IdempotencyKey"],
        body: "PostInput",
        success: { status: "201", description: "The new post", schema: "Post", headers: ["ETag", "Location"] },
        errors: ["BadRequest", "IdempotencyInProgress", "PayloadTooLarge", "IdempotencyKeyReused"],
    },
    getPost: {
        summary: "Get a post",
        tags: ["posts"],
        parameters: ["PostId"],
        success: { status: "200", description: "The post", schema: "Post", headers: ["ETag"] },
        errors: ["NotFound"],
    },
    replacePost: {
        summary: "Replace a post",
        description: "Replaces every client field (an omitted `description` becomes \"\"). Never creates a post.",
        tags: ["posts"],
        parameters: ["PostId", "IfMatch"],
        body: "PostInput",
        success: { status: "200", description: "The updated post", schema: "Post", headers: ["ETag"] },
        errors: ["BadRequest", "NotFound", "PreconditionFailed", "PayloadTooLarge"],
    },
    updatePost: {
        summary: "Update some fields of a post",
        description: "Changes only the fields sent (at least one). Never creates a post.",
        tags: ["posts"],
        parameters: ["PostId", "IfMatch"],
        body: "PostPatch",
        success: { status: "200", description: "The updated post", schema: "Post", headers: ["ETag"] },
        errors: ["BadRequest", "NotFound", "PreconditionFailed", "PayloadTooLarge"],
    },
    deletePost: {
        summary: "Delete a post",
        tags: ["posts"],
        parameters: ["PostId", "IfMatch"],
        success: { status: "204", description: "Deleted; no body" },
        errors: ["BadRequest", "NotFound", "PreconditionFailed"],
    },
};

const STATUS_OF: Record<string, string> = {
    BadRequest: "400",
    Forbidden: "403",
    NotFound: "404",
    IdempotencyInProgress: "409",
    PreconditionFailed: "412",
    PayloadTooLarge: "413",
    IdempotencyKeyReused: "422",
    TooManyRequests: "429",
    InternalError: "500",
};

function components(schemas: JsonSchemas) {
    const error = schemas.Error as any;
    // A 500 also carries the request id to quote to support; derived from the generated Error
    // schema so the two cannot drift apart.
    const internalError = {
        ...error,
        properties: { ...error.properties, requestId: { type: "string", description: "Id of the request in the API's logs" } },
        required: [...(error.required ?? []), "requestId"],
    };
    const errorResponse = (description: string, example: unknown, schema = ref("schemas", "Error")) =>
        ({ description, headers: CORS_HEADERS, content: json(schema, example) });
    return {
        securitySchemes: {
            api_key: { type: "apiKey", in: "header", name: "x-api-key", description: "An API key issued for this stage (`pulumi stack output --show-secrets apiKey`)." },
        },
        schemas: { ...schemas, InternalError: internalError },
        parameters: {
            PostId: { name: "id", in: "path", required: true, description: "The post's id (a UUID v4); anything else is 404.", schema: { type: "string", format: "uuid" } },
            Limit: { name: "limit", in: "query", required: false, description: "Page size.", schema: { type: "integer", minimum: 1, maximum: 100, default: 20 } },
            Cursor: { name: "cursor", in: "query", required: false, description: "`nextCursor` of the previous page, unchanged (an altered cursor is 400).", schema: { type: "string" } },
            IfMatch: { name: "If-Match", in: "header", required: false, description: "The post's `ETag` (e.g. `\"3\"`) or `*`: the change happens only if the post is still at that version, else 412.", schema: { type: "string" }, example: "\"1\"" },
            IdempotencyKey: { name: "Idempotency-Key", in: "header", required: false, description: "1-128 visible ASCII characters; makes a retried create safe for 24 hours.", schema: { type: "string", pattern: "^[\\x21-\\x7e]{1,128}$" } },
        },
        headers: {
            ETag: { description: "The post's version as a strong entity tag; send it back in `If-Match`.", schema: { type: "string", example: "\"1\"" } },
            Location: { description: "The new post, relative to the stage URL: `posts/{id}`.", schema: { type: "string" } },
            RetryAfter: { description: "Seconds to wait before retrying: by then the first request has finished or its hold on the key has lapsed.", schema: { type: "integer", minimum: 1, example: 15 } },
            AccessControlAllowOrigin: { description: "The origin browsers may call from (stack config `corsAllowOrigin`).", schema: { type: "string" } },
            AccessControlExposeHeaders: { description: "Response headers a browser script may read.", schema: { type: "string", example: CORS_EXPOSE_HEADERS.join(",") } },
        },
        responses: {
            BadRequest: errorResponse("Invalid request: bad body, unknown or invalid fields (each listed in `errors`), bad `limit`/`cursor` or a malformed header.", {
                message: "Request body is invalid", errors: [{ field: "title", message: "title is required" }],
            }),
            Forbidden: errorResponse("Answered by API Gateway: no API key, an unknown or disabled key, or a key not in a usage plan of this stage.", { message: "Forbidden" }),
            NotFound: errorResponse("No post with this id.", { message: "Post not found" }),
            PreconditionFailed: errorResponse("`If-Match` does not match the post's current version; nothing changed.", { message: "Precondition failed" }),
            PayloadTooLarge: errorResponse(`The request body is larger than ${MAX_BODY_BYTES} bytes.`, { message: `Request body is larger than ${MAX_BODY_BYTES} bytes` }),
            IdempotencyInProgress: {
                ...errorResponse("Another request with this `Idempotency-Key` is still in progress and did not finish within about a second; retry after `Retry-After` seconds. Nothing was created.", { message: "A request with this Idempotency-Key is in progress" }),
                headers: { "Retry-After": ref("headers", "RetryAfter"), ...CORS_HEADERS },
            },
            IdempotencyKeyReused: errorResponse("This `Idempotency-Key` was already used with a different body.", { message: "Idempotency-Key was already used with a different request body" }),
            TooManyRequests: {
                description: "Answered by API Gateway: over the usage plan's rate or burst (`Too Many Requests`) or its quota for the period (`Limit Exceeded`).",
                headers: CORS_HEADERS,
                content: {
                    "application/json": {
                        schema: ref("schemas", "Error"),
                        examples: { throttled: { value: { message: "Too Many Requests" } }, quota: { value: { message: "Limit Exceeded" } } },
                    },
                },
            },
            InternalError: errorResponse("Unexpected failure; quote `requestId` when reporting it.", { message: "Internal server error", requestId: "c6af9ac6-7b61-11e6-9a41-93e8deadbeef" }, ref("schemas", "InternalError")),
        },
    };
}

function operation(route: OpenApiRoute, spec: OperationSpec) {
    const success: Record<string, unknown> = {
        description: spec.success.description,
        headers: { ...Object.fromEntries((spec.success.headers ?? []).map((h) => [h, ref("headers", h)])), ...CORS_HEADERS },
    };
    if (spec.success.schema !== undefined) {
        success["content"] = json(ref("schemas", spec.success.schema));
    }
    const errors = [...spec.errors, ...COMMON_ERRORS];
    return {
        operationId: route.name,
        summary: spec.summary,
        ...(spec.description === undefined ? {} : { description: spec.description }),
        tags: spec.tags,
        security: [{ api_key: [] }],
        parameters: spec.parameters.map((p) => ref("parameters", p)),
        ...(spec.body === undefined ? {} : { requestBody: { required: true, content: json(ref("schemas", spec.body)) } }),
        responses: {
            [spec.success.status]: success,
            ...Object.fromEntries(errors.map((e) => [STATUS_OF[e] ?? "default", ref("responses", e)])),
        },
    };
}

export function openApiDocument(options: OpenApiOptions): OpenApiDocument {
    const paths: Record<string, Record<string, unknown>> = {};
    for (const route of options.routes) {
        const spec = OPERATIONS[route.name];
        if (spec === undefined) {
            throw new Error(`No OpenAPI description for route "${route.name}" (${route.method} ${route.path}): add it to OPERATIONS in api/openapi.ts`);
        }
        paths[route.path] = { ...(paths[route.path] ?? {}), [route.method.toLowerCase()]: operation(route, spec) };
    }
    return {
        openapi: "3.0.3",
        info: {
            title: "posts-api",
            version: options.version,
            description: "A posts REST API. Every operation needs an API key in the `x-api-key` header. " +
                "Responses are JSON (except 204) and carry CORS headers; `OPTIONS` preflights are answered by API Gateway without a key.",
        },
        // Paths are appended to the server URL, so it must not end with a slash.
        servers: [{ url: options.serverUrl.replace(/\/+$/, ""), ...(options.serverDescription ? { description: options.serverDescription } : {}) }],
        security: [{ api_key: [] }],
        tags: [{ name: "posts" }],
        paths,
        components: components(options.schemas),
    };
}
