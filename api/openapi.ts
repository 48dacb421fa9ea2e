// The public contract as an OpenAPI 3.0 document (shared/docs/posts-api.md, in a form Postman and
// client generators read). A pure function of the stage URL, the route table and the JSON Schemas
// generated from the zod schemas the handlers validate with (api/schema.ts `postJsonSchemas`):
// bodies are never described twice. What zod cannot know (status codes, headers, parameters) is
// the `docs` of each row of the route table (api/routes.ts), written with the vocabulary below
// (parameter, header, schema and response names), so a route is documented where it is declared.
import { CORS_EXPOSE_HEADERS } from "./http/cors";
import { MAX_BODY_BYTES } from "./http/adapter";
import type { postJsonSchemas } from "./schema";

/* eslint-disable @typescript-eslint/no-explicit-any */

export type JsonSchemas = ReturnType<typeof postJsonSchemas>;

const ref = (kind: "schemas" | "parameters" | "responses" | "headers", name: string) => ({ $ref: `#/components/${kind}/${name}` });
const json = (schema: unknown, example?: unknown) => ({ "application/json": { schema, ...(example === undefined ? {} : { example }) } });

/** Request parameters a route's docs may name. */
const PARAMETERS = {
    PostId: { name: "id", in: "path", required: true, description: "The post's id (a UUID v4); anything else is 404.", schema: { type: "string", format: "uuid" } },
    Limit: { name: "limit", in: "query", required: false, description: "Page size.", schema: { type: "integer", minimum: 1, maximum: 100, default: 20 } },
    Cursor: { name: "cursor", in: "query", required: false, description: "`nextCursor` of the previous page, unchanged (an altered cursor is 400).", schema: { type: "string" } },
    IfMatch: { name: "If-Match", in: "header", required: false, description: "The post's `ETag` (e.g. `\"3\"`) or `*`: the change happens only if the post is still at that version, else 412.", schema: { type: "string" }, example: "\"1\"" },
    IdempotencyKey: { name: "Idempotency-Key", in: "header", required: false, description: "1-128 visible ASCII characters; makes a retried create safe for 24 hours.", schema: { type: "string", pattern: "^[\\x21-\\x7e]{1,128}$" } },
} as const;

/** Response headers a route's docs may name. */
const HEADERS = {
    ETag: { description: "The post's version as a strong entity tag; send it back in `If-Match`.", schema: { type: "string", example: "\"1\"" } },
    Location: { description: "The new post, relative to the stage URL: `posts/{id}`.", schema: { type: "string" } },
    RetryAfter: { description: "Seconds to wait before retrying: by then the first request has finished or its hold on the key has lapsed.", schema: { type: "integer", minimum: 1, example: 15 } },
    AccessControlAllowOrigin: { description: "The origin browsers may call from (stack config `corsAllowOrigin`).", schema: { type: "string" } },
    AccessControlExposeHeaders: { description: "Response headers a browser script may read.", schema: { type: "string", example: CORS_EXPOSE_HEADERS.join(",") } },
} as const;

/** Error responses (components below) and their status codes. */
const STATUS_OF = {
    BadRequest: "400",
    Forbidden: "403",
    NotFound: "404",
    IdempotencyInProgress: "409",
    PreconditionFailed: "412",
    PayloadTooLarge: "413",
    IdempotencyKeyReused: "422",
    TooManyRequests: "429",
    InternalError: "500",
} as const;

/** Answers every operation can give: API Gateway's key check and limits, and an unexpected failure. */
const COMMON_ERRORS = ["Forbidden", "TooManyRequests", "InternalError"] as const;

type ParameterName = keyof typeof PARAMETERS;
type HeaderName = keyof typeof HEADERS;
/** Error responses a route names itself (the common ones are added to every operation). */
type ErrorResponseName = Exclude<keyof typeof STATUS_OF, (typeof COMMON_ERRORS)[number]>;
type SchemaName = Exclude<keyof JsonSchemas, "Error">;

/**
 * What the document says about one route beyond what zod knows: the `docs` of its row in
 * api/routes.ts. Names refer to the components of this file.
 */
export interface OperationDocs {
    readonly summary: string;
    readonly description?: string;
    readonly tags: readonly string[];
    readonly parameters: readonly ParameterName[];
    /** Component schema of the JSON request body (required when present). */
    readonly body?: SchemaName;
    readonly success: { readonly status: string; readonly description: string; readonly schema?: SchemaName; readonly headers?: readonly HeaderName[] };
    /** Error responses besides the ones every operation has (COMMON_ERRORS). */
    readonly errors: readonly ErrorResponseName[];
}

/** The parts of a route (api/routes.ts RouteDefinition) the document needs. */
export interface OpenApiRoute {
    name: string;
    method: string;
    path: string;
    docs: OperationDocs;
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

/** CORS headers the Lambda adapter and the gateway responses put on every answer. */
const CORS_HEADERS = { "Access-Control-Allow-Origin": ref("headers", "AccessControlAllowOrigin"), "Access-Control-Expose-Headers": ref("headers", "AccessControlExposeHeaders") };

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
        parameters: PARAMETERS,
        headers: HEADERS,
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

function operation(route: OpenApiRoute) {
    const docs = route.docs;
    const success: Record<string, unknown> = {
        description: docs.success.description,
        headers: { ...Object.fromEntries((docs.success.headers ?? []).map((h) => [h, ref("headers", h)])), ...CORS_HEADERS },
    };
    if (docs.success.schema !== undefined) {
        success["content"] = json(ref("schemas", docs.success.schema));
    }
    const errors = [...docs.errors, ...COMMON_ERRORS];
    return {
        operationId: route.name,
        summary: docs.summary,
        ...(docs.description === undefined ? {} : { description: docs.description }),
        tags: docs.tags,
        security: [{ api_key: [] }],
        parameters: docs.parameters.map((p) => ref("parameters", p)),
        ...(docs.body === undefined ? {} : { requestBody: { required: true, content: json(ref("schemas", docs.body)) } }),
        responses: {
            [docs.success.status]: success,
            ...Object.fromEntries(errors.map((e) => [STATUS_OF[e], ref("responses", e)])),
        },
    };
}

/** A row whose path and documented path parameters disagree would give clients a broken operation. */
function checkPathParameters(route: OpenApiRoute): void {
    const inPath = [...route.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!).sort();
    const documented = route.docs.parameters.map((p) => PARAMETERS[p]).filter((p) => p.in === "path").map((p) => p.name as string).sort();
    if (inPath.join() !== documented.join()) {
        throw new Error(`Route "${route.name}" (${route.method} ${route.path}) has path parameters [${inPath.join(", ")}] but its docs in api/routes.ts declare [${documented.join(", ")}]`);
    }
}

export function openApiDocument(options: OpenApiOptions): OpenApiDocument {
    const paths: Record<string, Record<string, unknown>> = {};
    for (const route of options.routes) {
        checkPathParameters(route);
        paths[route.path] = { ...(paths[route.path] ?? {}), [route.method.toLowerCase()]: operation(route) };
    }
    const tags = [...new Set(options.routes.flatMap((route) => route.docs.tags))];
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
        tags: tags.map((name) => ({ name })),
        paths,
        components: components(options.schemas),
    };
}
