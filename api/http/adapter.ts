// The thin layer between API Gateway (REST, Lambda proxy payload 1.0) and a RouteHandler:
// event → HttpRequest, HttpResponse or thrown error → Lambda result. It is the one place that
// maps errors to responses (the store's refusals included: `httpErrorOf`), the one place that
// adds CORS and Content-Type headers, so every response, errors included, carries them, and the
// one place that logs: one line per request, and an unexpected failure's detail.
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from "aws-lambda";
import { isStoreError, type StoreError } from "../../data/storeErrors";
import type { Deps, HttpRequest, HttpResponse, RouteHandler } from "./contract";
import { CORS_ALLOW_HEADERS, corsHeaders } from "./cors";
import {
    badRequest,
    errorBody,
    idempotencyInProgress,
    idempotencyKeyReused,
    isHttpError,
    payloadTooLarge,
    postNotFound,
    preconditionFailed,
    type HttpError,
} from "./errors";

/** Bodies larger than this (after base64 decoding) are refused with 413. */
export const MAX_BODY_BYTES = 64 * 1024;

/** Methods the Lambda routes serve, echoed on every response for clients that read them. */
export const CORS_ALLOW_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

export interface AdapterOptions {
    /** The origin allowed to call the API from a browser (or `*`), from CORS_ALLOW_ORIGIN. */
    allowOrigin: string;
    /** Defaults to MAX_BODY_BYTES. */
    maxBodyBytes?: number;
    /**
     * Where the log records go, each as one JSON text (tests capture them here): the line every
     * request gets, and an unexpected failure's detail. Without it they go to the console
     * (`writeLog`), which Lambda sends to the function's log group.
     */
    log?: (line: string) => void;
}

/** One log record: the per-request line ("info") or an unexpected failure's detail ("error"). */
export interface LogRecord {
    level: "info" | "error";
    message: string;
    /** The Lambda request id (context.awsRequestId): what a 500's body shows the caller. */
    requestId: string;
    [field: string]: unknown;
}

/**
 * Writes a record through `options.log` when given, else to the console at its level. Under the
 * function's JSON log format (Lambda then sets AWS_LAMBDA_LOG_FORMAT=JSON) the runtime writes each
 * console call with one argument as {"timestamp", "level", "requestId", "message": <argument>}: an
 * object stays an object there, so its fields can be queried (message.status, message.route), where
 * a JSON text would arrive as one escaped string. Under the Text format (and in the local cloud)
 * the record goes out as one JSON text after the runtime's prefix, as it always did.
 */
export function writeLog(record: LogRecord, options: Pick<AdapterOptions, "log">): void {
    if (options.log) {
        options.log(JSON.stringify(record));
        return;
    }
    const entry = process.env["AWS_LAMBDA_LOG_FORMAT"]?.toUpperCase() === "JSON" ? record : JSON.stringify(record);
    if (record.level === "error") {
        console.error(entry);
    } else {
        console.info(entry);
    }
}

/** The CORS headers on every Lambda response, errors included (api/http/cors.ts is the source). */
export function responseCorsHeaders(allowOrigin: string): Record<string, string> {
    return {
        ...corsHeaders(allowOrigin),
        "Access-Control-Allow-Headers": CORS_ALLOW_HEADERS.join(","),
        "Access-Control-Allow-Methods": CORS_ALLOW_METHODS.join(","),
    };
}

function lowerCaseKeys(map: Record<string, string | undefined> | null | undefined): Record<string, string> {
    const result: Record<string, string> = {};
    for (const [name, value] of Object.entries(map ?? {})) {
        if (value !== undefined && value !== null) {
            result[name.toLowerCase()] = value;
        }
    }
    return result;
}

function copyMap(map: Record<string, string | undefined> | null | undefined): Record<string, string> {
    const result: Record<string, string> = {};
    for (const [name, value] of Object.entries(map ?? {})) {
        if (value !== undefined && value !== null) {
            result[name] = value;
        }
    }
    return result;
}

function copyMultiMap(map: Record<string, string[] | undefined> | null | undefined): Record<string, string[]> {
    const result: Record<string, string[]> = {};
    for (const [name, values] of Object.entries(map ?? {})) {
        if (Array.isArray(values)) {
            result[name] = [...values];
        }
    }
    return result;
}

/** Decodes the body to text, refusing oversize bodies and bytes that are not UTF-8. */
export function decodeBody(
    event: Pick<APIGatewayProxyEvent, "body" | "isBase64Encoded">,
    maxBytes: number,
): string | null {
    if (event.body === null || event.body === undefined) {
        return null;
    }
    const bytes = event.isBase64Encoded ? Buffer.from(event.body, "base64") : Buffer.from(event.body, "utf8");
    if (bytes.length > maxBytes) {
        throw payloadTooLarge(maxBytes);
    }
    try {
        return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    } catch {
        throw badRequest("Request body is not valid UTF-8");
    }
}

/** API Gateway proxy event → the HttpRequest handlers see. */
export function toHttpRequest(
    event: APIGatewayProxyEvent,
    context: Pick<Context, "awsRequestId">,
    maxBodyBytes = MAX_BODY_BYTES,
): HttpRequest {
    return {
        method: event.httpMethod,
        resource: event.resource,
        pathParameters: copyMap(event.pathParameters),
        query: copyMap(event.queryStringParameters),
        multiValueQuery: copyMultiMap(event.multiValueQueryStringParameters),
        headers: lowerCaseKeys(event.headers),
        body: decodeBody(event, maxBodyBytes),
        requestId: context.awsRequestId,
        apiKeyId: event.requestContext?.identity?.apiKeyId ?? null,
    };
}

/** HttpResponse → Lambda proxy result: JSON body (none for 204), CORS and Content-Type headers. */
export function toLambdaResult(response: HttpResponse, allowOrigin: string): APIGatewayProxyResult {
    const headers: Record<string, string> = { ...responseCorsHeaders(allowOrigin), ...(response.headers ?? {}) };
    if (response.statusCode === 204) {
        return { statusCode: 204, headers, body: "" };
    }
    headers["Content-Type"] = "application/json";
    return { statusCode: response.statusCode, headers, body: JSON.stringify(response.body ?? {}) };
}

/** The store's refusals in HTTP terms (docs/api.md): the only place that knows their statuses. */
export function httpErrorOf(error: StoreError): HttpError {
    switch (error.kind) {
        case "PostNotFound":
            return postNotFound(); // 404
        case "VersionConflict":
            return preconditionFailed(); // 412: If-Match named another version
        case "IdempotencyKeyReused":
            return idempotencyKeyReused(); // 422
        case "IdempotencyInProgress":
            return idempotencyInProgress(error.retryAfterSeconds); // 409 with Retry-After
    }
}

function errorDetail(error: unknown): { name: string; message: string; stack?: string } {
    if (error instanceof Error) {
        return {
            name: error.name,
            message: error.message,
            ...(error.stack === undefined ? {} : { stack: error.stack }),
        };
    }
    return { name: typeof error, message: String(error) };
}

/**
 * Runs one route for one event and logs one line for it: requestId, API Gateway's request id (the
 * access log's `requestId`), route, status, latencyMs and the caller's apiKeyId (never the key, a
 * header or a body).
 */
export async function handleEvent(
    handler: RouteHandler,
    event: APIGatewayProxyEvent,
    context: Pick<Context, "awsRequestId">,
    deps: Deps,
    options: AdapterOptions,
): Promise<APIGatewayProxyResult> {
    const started = Date.now();
    const result = await respond(handler, event, context, deps, options);
    writeLog(
        {
            level: "info",
            message: "Request",
            requestId: context.awsRequestId,
            apiGatewayRequestId: event.requestContext?.requestId ?? null,
            route: `${event.httpMethod} ${event.resource}`,
            status: result.statusCode,
            latencyMs: Date.now() - started,
            apiKeyId: event.requestContext?.identity?.apiKeyId ?? null,
        },
        options,
    );
    return result;
}

/**
 * The response to one event. 4xx HttpErrors and the store's refusals become their JSON; anything
 * else becomes a generic 500 carrying only the request id, with the detail logged as one record
 * under the same id.
 */
async function respond(
    handler: RouteHandler,
    event: APIGatewayProxyEvent,
    context: Pick<Context, "awsRequestId">,
    deps: Deps,
    options: AdapterOptions,
): Promise<APIGatewayProxyResult> {
    const requestId = context.awsRequestId;
    try {
        const request = toHttpRequest(event, context, options.maxBodyBytes ?? MAX_BODY_BYTES);
        return toLambdaResult(await handler(request, deps), options.allowOrigin);
    } catch (thrown) {
        const error = isStoreError(thrown) ? httpErrorOf(thrown) : thrown;
        if (isHttpError(error) && error.statusCode < 500) {
            return toLambdaResult(
                { statusCode: error.statusCode, headers: error.headers, body: errorBody(error) },
                options.allowOrigin,
            );
        }
        writeLog(
            {
                level: "error",
                message: "Unhandled error",
                requestId,
                apiGatewayRequestId: event.requestContext?.requestId ?? null,
                route: `${event.httpMethod} ${event.resource}`,
                error: errorDetail(error),
            },
            options,
        );
        return toLambdaResult(
            { statusCode: 500, body: { message: "Internal server error", requestId } },
            options.allowOrigin,
        );
    }
}
