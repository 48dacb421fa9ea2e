// The one error vocabulary of the API. Handlers throw these; the store throws its own
// (data/storeErrors.ts), which the adapter (api/http/adapter.ts) translates into these. The
// adapter is the only place that turns either into responses.
//
// Plain functions and plain Error objects tagged with a marker, not a class hierarchy: the
// Lambda code is serialized by Pulumi, which does not capture methods reached through `this`,
// and a marker check keeps working even if two copies of this module ever end up in one bundle
// (where `instanceof` would not).

export interface FieldError {
    /** The request body field the problem is about (`body` for the body as a whole). */
    field: string;
    message: string;
}

export interface HttpError extends Error {
    readonly isHttpError: true;
    readonly statusCode: number;
    readonly errors?: FieldError[];
    /** Response headers the answer needs besides the usual ones (e.g. Retry-After on a 409). */
    readonly headers?: Record<string, string>;
}

/** The JSON body of every error response. */
export interface ErrorBody {
    message: string;
    errors?: FieldError[];
}

export function httpError(statusCode: number, message: string, errors?: FieldError[]): HttpError {
    const error = new Error(message) as Error & { isHttpError: true; statusCode: number; errors?: FieldError[] };
    error.name = "HttpError";
    error.isHttpError = true;
    error.statusCode = statusCode;
    if (errors !== undefined) {
        error.errors = errors;
    }
    return error;
}

export function isHttpError(value: unknown): value is HttpError {
    return (
        value instanceof Error &&
        (value as Partial<HttpError>).isHttpError === true &&
        typeof (value as Partial<HttpError>).statusCode === "number"
    );
}

export function errorBody(error: HttpError): ErrorBody {
    return error.errors === undefined ? { message: error.message } : { message: error.message, errors: error.errors };
}

export function badRequest(message: string, errors?: FieldError[]): HttpError {
    return httpError(400, message, errors);
}

export function postNotFound(): HttpError {
    return httpError(404, "Post not found");
}

export function preconditionFailed(): HttpError {
    return httpError(412, "Precondition failed");
}

export function payloadTooLarge(maxBytes: number): HttpError {
    return httpError(413, `Request body is larger than ${maxBytes} bytes`);
}

export function idempotencyKeyReused(): HttpError {
    return httpError(422, "Idempotency-Key was already used with a different request body");
}

/**
 * Another request with this Idempotency-Key holds it and did not finish while we waited.
 * `retryAfterSeconds`: when its lease ends, by which time it has completed or can be taken over.
 */
export function idempotencyInProgress(retryAfterSeconds: number): HttpError {
    const error = httpError(409, "A request with this Idempotency-Key is in progress") as HttpError & {
        headers: Record<string, string>;
    };
    error.headers = { "Retry-After": String(retryAfterSeconds) };
    return error;
}
