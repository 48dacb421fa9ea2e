// The public contract as an OpenAPI 3.0 document (docs/api.md, in a form Postman and
// client generators read). A pure function of the stage URL, the route table and the JSON Schemas
// generated from the zod schemas the handlers validate with (api/schema.ts `postJsonSchemas`):
// bodies are never described twice. What zod cannot know (status codes, headers, parameters) is
// the `docs` of each row of the route table (api/routes.ts), written with the vocabulary below
// (parameter, header, schema and response names), so a route is documented where it is declared.
import { CORS_ALLOW_HEADERS, CORS_EXPOSE_HEADERS, CORS_MAX_AGE_SECONDS } from "./http/cors";
import { MAX_BODY_BYTES } from "./http/adapter";
import type { postJsonSchemas } from "./schema";

/* eslint-disable @typescript-eslint/no-explicit-any */

export type JsonSchemas = ReturnType<typeof postJsonSchemas>;

const ref = (kind: "schemas" | "parameters" | "responses" | "headers", name: string) => ({
    $ref: `#/components/${kind}/${name}`,
});
const json = (schema: unknown, example?: unknown) => ({
    "application/json": { schema, ...(example === undefined ? {} : { example }) },
});

// Examples, valid for the contract, so that a request a tool generates from the document
// (Postman's import with "Example" resolution, Swagger UI's "try it") is valid as sent; the unit
// tests put each one through the handlers' own validation. `cursor` has none on purpose: it is
// signed per stack, so no example could be valid, and without one an import leaves it unticked.
//
// Postman's import with its default options ("Schema" resolution, openapi-to-postmanv2) ignores
// examples: it sends a schema's `default`, else a placeholder such as `<string>` or `<date>`. So
// the values it would otherwise send wrong have a `default` that means what the server does
// anyway: `cursor` "" (the first page, as when it is left out), `If-Match` "*" (any version, as
// when it is left out), and the required `publicationDate` of a new post (IMPORT_DEFAULTS).
export const EXAMPLE_POST_ID = "3f0c5b8e-9d2a-4c1e-8b7f-6a5d4c3b2a19";
export const EXAMPLES = {
    PostInput: {
        title: "Hello, posts API",
        description: "The first post.",
        author: "Ada Lovelace",
        publicationDate: "2026-11-21",
    },
    PostPatch: { title: "Hello again, posts API" },
    Post: {
        id: EXAMPLE_POST_ID,
        title: "Hello, posts API",
        description: "The first post.",
        author: "Ada Lovelace",
        publicationDate: "2026-11-21",
        createdAt: "2026-11-21T09:30:00.000Z",
        updatedAt: "2026-11-21T09:30:00.000Z",
        version: 1,
    },
} as const;
const EXAMPLE_BODIES: Partial<Record<SchemaName, unknown>> = {
    ...EXAMPLES,
    PostList: { items: [EXAMPLES.Post], nextCursor: null },
};

/** Request parameters a route's docs may name. */
const PARAMETERS = {
    // No `format: uuid`: an id that is not a UUID is a valid request that answers 404 (it cannot
    // name a post), and clients refuse to send a value that breaks a declared format.
    PostId: {
        name: "id",
        in: "path",
        required: true,
        description: "The post's id (the UUID v4 the server gave it); any other value is 404.",
        schema: { type: "string" },
        example: EXAMPLE_POST_ID,
    },
    Limit: {
        name: "limit",
        in: "query",
        required: false,
        description:
            "Page size, an integer from 1 to 100. Leave the parameter out for the default; an empty `limit=` is not an integer, so it is 400.",
        schema: { type: "integer", minimum: 1, maximum: 100, default: 20 },
        example: 20,
    },
    Cursor: {
        name: "cursor",
        in: "query",
        required: false,
        description:
            "`nextCursor` of the previous page, unchanged (an altered cursor is 400). Empty or left out: the first page. Signed per stack, so it has no example.",
        schema: { type: "string", default: "" },
    },
    IfMatch: {
        name: "If-Match",
        in: "header",
        required: false,
        description:
            'The post\'s `ETag` (e.g. `"3"`) or `*`: the change happens only if the post is still at that version, else 412. `*` (the default) or left out: any version.',
        schema: { type: "string", default: "*" },
        example: '"1"',
    },
    IdempotencyKey: {
        name: "Idempotency-Key",
        in: "header",
        required: false,
        description:
            "1-128 visible ASCII characters; makes a retried create safe for 24 hours. Use a fresh value (e.g. a UUID) per new post: a reused key replays the first answer.",
        schema: { type: "string", pattern: "^[\\x21-\\x7e]{1,128}$" },
        example: "9a7d6c1e-2b3f-4e5a-8c9d-0e1f2a3b4c5d",
    },
} as const;

/** Response headers a route's docs may name. */
const HEADERS = {
    ETag: {
        description: "The post's version as a strong entity tag; send it back in `If-Match`.",
        schema: { type: "string", example: '"1"' },
    },
    Location: {
        description: "The new post, relative to the stage URL: `posts/{id}`.",
        schema: { type: "string", example: `posts/${EXAMPLE_POST_ID}` },
    },
    RetryAfter: {
        description:
            "Seconds to wait before retrying: by then the first request has finished or its hold on the key has lapsed.",
        schema: { type: "integer", minimum: 1, example: 15 },
    },
    AccessControlAllowOrigin: {
        description: "The origin browsers may call from (stack config `corsAllowOrigin`).",
        schema: { type: "string", example: "*" },
    },
    AccessControlExposeHeaders: {
        description: "Response headers a browser script may read.",
        schema: { type: "string", example: CORS_EXPOSE_HEADERS.join(",") },
    },
    AccessControlAllowMethods: {
        description: "The methods of this path.",
        schema: { type: "string", example: "GET,POST,OPTIONS" },
    },
    AccessControlAllowHeaders: {
        description: "Request headers a browser may send.",
        schema: { type: "string", example: CORS_ALLOW_HEADERS.join(",") },
    },
    AccessControlMaxAge: {
        description: "Seconds a browser may cache this preflight answer.",
        schema: { type: "string", example: String(CORS_MAX_AGE_SECONDS) },
    },
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
    BadGateway: "502",
    GatewayTimeout: "504",
} as const;

/**
 * Answers every keyed operation can give: API Gateway's key check, its request size limit and
 * usage plan limits, an unexpected failure inside the function (500), a function that crashed or
 * answered badly (502) and an integration over API Gateway's timeout (504).
 */
const COMMON_ERRORS = [
    "Forbidden",
    "PayloadTooLarge",
    "TooManyRequests",
    "InternalError",
    "BadGateway",
    "GatewayTimeout",
] as const;

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
    readonly success: {
        readonly status: string;
        readonly description: string;
        readonly schema?: SchemaName;
        readonly headers?: readonly HeaderName[];
    };
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
    /**
     * Where the stage is served. `deployedUrl` is the `url` output of a deployed stack (e.g.
     * `https://abc123.execute-api.us-east-1.amazonaws.com/dev/`); without it the document names
     * the local cloud and an AWS URL template whose API id is an explicit placeholder, never a
     * made-up host.
     */
    servers: { stage: string; region: string; deployedUrl?: string; localPort?: number };
    routes: readonly OpenApiRoute[];
    /** `postJsonSchemas({ target: "openapi-3.0" })`. */
    schemas: JsonSchemas;
    /** The API's version (package.json `version`). */
    version: string;
}

/** `npm start`'s default port (scripts/start.ts). */
export const LOCAL_PORT = 8080;
export const API_ID_PLACEHOLDER = "your-rest-api-id";

/**
 * The servers: one URL template per place the stage runs, its variables given defaults. Tools
 * import the first one as the base URL (Postman: the `baseUrl` collection variable).
 */
function servers(options: OpenApiOptions["servers"]) {
    const stage = { default: options.stage, description: "The stack's stage name." };
    const local = {
        url: "http://127.0.0.1:{port}/{stage}",
        description: "The local cloud (`npm start`).",
        variables: {
            port: {
                default: String(options.localPort ?? LOCAL_PORT),
                description: "The port `npm start` serves on (`--port`).",
            },
            stage,
        },
    };
    // Paths are appended to the server URL, so it must not end with a slash.
    const deployed = options.deployedUrl?.replace(/\/+$/, "");
    const aws =
        deployed !== undefined
            ? { url: deployed, description: `The ${options.stage} stage on AWS.` }
            : {
                  url: "https://{restApiId}.execute-api.{region}.amazonaws.com/{stage}",
                  description:
                      "The stage on AWS. Written before a deploy: replace `restApiId` with the id in `pulumi stack output url`.",
                  variables: {
                      restApiId: {
                          default: API_ID_PLACEHOLDER,
                          description: "The REST API's id, from `pulumi stack output url`.",
                      },
                      region: { default: options.region, description: "The stack's `aws:region`." },
                      stage,
                  },
              };
    return deployed !== undefined ? [aws, local] : [local, aws];
}

export type OpenApiDocument = Record<string, any> & { openapi: string; paths: Record<string, Record<string, any>> };

/** CORS headers the Lambda adapter and the gateway responses put on every answer. */
const CORS_HEADERS = {
    "Access-Control-Allow-Origin": ref("headers", "AccessControlAllowOrigin"),
    "Access-Control-Expose-Headers": ref("headers", "AccessControlExposeHeaders"),
};

/**
 * The body schemas with the `default` Postman's default import sends for a required field whose
 * placeholder the server refuses: `publicationDate` (a date-or-date-time `anyOf`; the older
 * converter sends `<date>`, the newer one a date made up from the pattern). The converters take the
 * first `anyOf` branch's `default` and ignore `example` there. On a required field a default never
 * stands in for a missing value, so it changes nothing the server does.
 */
function withImportDefaults(schemas: JsonSchemas): JsonSchemas {
    const input = structuredClone(schemas.PostInput) as any;
    const firstBranch = input.properties?.publicationDate?.anyOf?.[0];
    if (!firstBranch || !input.required?.includes("publicationDate")) {
        throw new Error(
            "PostInput.publicationDate is no longer a required anyOf: revisit withImportDefaults (api/openapi.ts)",
        );
    }
    firstBranch.default = EXAMPLES.PostInput.publicationDate;
    return { ...schemas, PostInput: input };
}

function components(schemas: JsonSchemas) {
    const error = schemas.Error as any;
    // A 500 also carries the request id to quote to support; derived from the generated Error
    // schema so the two cannot drift apart.
    const internalError = {
        ...error,
        properties: {
            ...error.properties,
            requestId: { type: "string", description: "Id of the request in the API's logs" },
        },
        required: [...(error.required ?? []), "requestId"],
    };
    const errorResponse = (description: string, example: unknown, schema = ref("schemas", "Error")) => ({
        description,
        headers: CORS_HEADERS,
        content: json(schema, example),
    });
    const errorResponses = (description: string, examples: Record<string, unknown>) => ({
        description,
        headers: CORS_HEADERS,
        content: {
            "application/json": {
                schema: ref("schemas", "Error"),
                examples: Object.fromEntries(Object.entries(examples).map(([name, value]) => [name, { value }])),
            },
        },
    });
    return {
        securitySchemes: {
            api_key: {
                type: "apiKey",
                in: "header",
                name: "x-api-key",
                description: "An API key issued for this stage (`pulumi stack output --show-secrets apiKey`).",
            },
        },
        schemas: { ...withImportDefaults(schemas), InternalError: internalError },
        parameters: PARAMETERS,
        headers: HEADERS,
        responses: {
            BadRequest: errorResponse(
                "Invalid request: bad body, unknown or invalid fields (each listed in `errors`), bad `limit`/`cursor` or a malformed header.",
                {
                    message: "Request body is invalid",
                    errors: [{ field: "title", message: "title is required" }],
                },
            ),
            Forbidden: errorResponse(
                "Answered by API Gateway: no API key, an unknown or disabled key, or a key not in a usage plan of this stage.",
                { message: "Forbidden" },
            ),
            NotFound: errorResponse("No post with this id.", { message: "Post not found" }),
            PreconditionFailed: errorResponse(
                "`If-Match` does not match the post's current version; nothing changed.",
                { message: "Precondition failed" },
            ),
            PayloadTooLarge: errorResponses(
                `The request is too large: a body over ${MAX_BODY_BYTES} bytes (the function's limit, on operations with a body) or a request over API Gateway's 10 MB (\`Request Too Long\`, any operation).`,
                {
                    function: { message: `Request body is larger than ${MAX_BODY_BYTES} bytes` },
                    gateway: { message: "Request Too Long" },
                },
            ),
            IdempotencyInProgress: {
                ...errorResponse(
                    "Another request with this `Idempotency-Key` is still in progress and did not finish within about a second; retry after `Retry-After` seconds. Nothing was created.",
                    { message: "A request with this Idempotency-Key is in progress" },
                ),
                headers: { "Retry-After": ref("headers", "RetryAfter"), ...CORS_HEADERS },
            },
            IdempotencyKeyReused: errorResponse("This `Idempotency-Key` was already used with a different body.", {
                message: "Idempotency-Key was already used with a different request body",
            }),
            TooManyRequests: errorResponses(
                "Answered by API Gateway: over the usage plan's rate or burst (`Too Many Requests`) or its quota for the period (`Limit Exceeded`).",
                {
                    throttled: { message: "Too Many Requests" },
                    quota: { message: "Limit Exceeded" },
                },
            ),
            InternalError: errorResponse(
                "Unexpected failure inside the function; quote `requestId` when reporting it.",
                { message: "Internal server error", requestId: "c6af9ac6-7b61-11e6-9a41-93e8deadbeef" },
                ref("schemas", "InternalError"),
            ),
            BadGateway: errorResponse(
                "Answered by API Gateway: the function crashed, timed out on its own limit or answered in a shape API Gateway cannot use.",
                { message: "Internal server error" },
            ),
            GatewayTimeout: errorResponse(
                "Answered by API Gateway: the function did not answer within the integration timeout (29 s).",
                { message: "Endpoint request timed out" },
            ),
        },
    };
}

/**
 * A request body: parsed as JSON whatever its `Content-Type` says (API Gateway hands every body to
 * the function, and curl's `-d` sends `application/x-www-form-urlencoded`), so the document lists
 * `application/json` first, for tools to pick, and any other type with the same schema.
 */
function requestBody(schema: SchemaName) {
    const example = EXAMPLE_BODIES[schema];
    return {
        required: true,
        description: "A JSON object. It is read as JSON whatever the `Content-Type` (send `application/json`).",
        content: {
            "application/json": { schema: ref("schemas", schema), example },
            "*/*": { schema: ref("schemas", schema), example },
        },
    };
}

function operation(route: OpenApiRoute) {
    const docs = route.docs;
    const success: Record<string, unknown> = {
        description: docs.success.description,
        headers: {
            ...Object.fromEntries((docs.success.headers ?? []).map((h) => [h, ref("headers", h)])),
            ...CORS_HEADERS,
        },
    };
    if (docs.success.schema !== undefined) {
        success["content"] = json(ref("schemas", docs.success.schema), EXAMPLE_BODIES[docs.success.schema]);
    }
    const errors = [...docs.errors, ...COMMON_ERRORS];
    return {
        operationId: route.name,
        summary: docs.summary,
        ...(docs.description === undefined ? {} : { description: docs.description }),
        tags: docs.tags,
        security: [{ api_key: [] }],
        parameters: docs.parameters.map((p) => ref("parameters", p)),
        ...(docs.body === undefined ? {} : { requestBody: requestBody(docs.body) }),
        responses: {
            [docs.success.status]: success,
            ...Object.fromEntries(errors.map((e) => [STATUS_OF[e], ref("responses", e)])),
        },
    };
}

/** `/posts/{id}` → `preflightPostsId`: a stable operationId for a path's OPTIONS. */
const preflightId = (path: string) =>
    "preflight" +
    path
        .split("/")
        .filter(Boolean)
        .map((part) => part.replace(/[{}]/g, ""))
        .map((part) => part[0]!.toUpperCase() + part.slice(1))
        .join("");

/**
 * The CORS preflight API Gateway answers itself on every path (api/postsApi.ts): no key, no
 * function, 204 with the CORS headers. Described so that clients know it needs no key.
 */
function preflight(path: string, methods: string[]) {
    return {
        operationId: preflightId(path),
        summary: "CORS preflight",
        description: `Answered by API Gateway without a key and without running any code. Allows ${[...methods, "OPTIONS"].join(", ")}.`,
        tags: ["cors"],
        security: [],
        responses: {
            "204": {
                description: "The CORS headers for this path; no body.",
                headers: {
                    ...CORS_HEADERS,
                    "Access-Control-Allow-Methods": { ...ref("headers", "AccessControlAllowMethods") },
                    "Access-Control-Allow-Headers": ref("headers", "AccessControlAllowHeaders"),
                    "Access-Control-Max-Age": ref("headers", "AccessControlMaxAge"),
                },
            },
        },
    };
}

/**
 * A route's path and query parameters, as its docs name them: what the deployed method declares
 * as its request parameters (api/postsApi.ts) and what a cached answer is keyed on (api/stageCache.ts).
 */
export function requestParameters(docs: OperationDocs): { name: string; in: "path" | "query" }[] {
    return docs.parameters
        .map((p) => PARAMETERS[p])
        .filter(
            (p): p is Extract<(typeof PARAMETERS)[ParameterName], { in: "path" | "query" }> =>
                p.in === "path" || p.in === "query",
        )
        .map((p) => ({ name: p.name, in: p.in }));
}

/** A row whose path and documented path parameters disagree would give clients a broken operation. */
function checkPathParameters(route: OpenApiRoute): void {
    const inPath = [...route.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!).sort();
    const documented = route.docs.parameters
        .map((p) => PARAMETERS[p])
        .filter((p) => p.in === "path")
        .map((p) => p.name as string)
        .sort();
    if (inPath.join() !== documented.join()) {
        throw new Error(
            `Route "${route.name}" (${route.method} ${route.path}) has path parameters [${inPath.join(", ")}] but its docs in api/routes.ts declare [${documented.join(", ")}]`,
        );
    }
}

export function openApiDocument(options: OpenApiOptions): OpenApiDocument {
    const paths: Record<string, Record<string, unknown>> = {};
    for (const route of options.routes) {
        checkPathParameters(route);
        paths[route.path] = { ...(paths[route.path] ?? {}), [route.method.toLowerCase()]: operation(route) };
    }
    for (const [path, operations] of Object.entries(paths)) {
        operations["options"] = preflight(
            path,
            Object.keys(operations).map((m) => m.toUpperCase()),
        );
    }
    const tags = [...new Set(options.routes.flatMap((route) => route.docs.tags)), "cors"];
    return {
        openapi: "3.0.3",
        info: {
            title: "posts-api",
            version: options.version,
            description: [
                "A posts REST API. Every operation except the `OPTIONS` preflights needs an API key in the `x-api-key` header.",
                "Responses are JSON (except 204) and carry CORS headers.",
                'A path or method the API does not define is answered by API Gateway with 404 `{"message":"Not found"}`; an unknown stage with 403 `{"message":"Forbidden"}`.',
                "The HTTP contract, with every rule, is docs/api.md in the repository.",
            ].join("\n\n"),
        },
        servers: servers(options.servers),
        security: [{ api_key: [] }],
        tags: tags.map((name) => ({ name })),
        paths,
        components: components(options.schemas),
    };
}
