// The CORS headers, in one place for the three things that answer browsers: the Lambda adapter,
// the OPTIONS preflight (a MOCK integration) and API Gateway's own error responses (403, 429, ...).
// No Pulumi import: the Lambda code uses it too.

export const CORS_ALLOW_HEADERS = ["Content-Type", "X-Api-Key", "If-Match", "Idempotency-Key"];
// Retry-After: a browser client of POST /posts must be able to read it on a 409.
export const CORS_EXPOSE_HEADERS = ["ETag", "Location", "x-amzn-RequestId", "Retry-After"];
/** Browsers may cache a preflight this long (seconds), sparing an OPTIONS round trip per call. */
export const CORS_MAX_AGE_SECONDS = 600;

/** Headers for an ordinary (non-preflight) response. */
export function corsHeaders(allowOrigin: string): Record<string, string> {
    const headers: Record<string, string> = {
        "Access-Control-Allow-Origin": allowOrigin,
        "Access-Control-Expose-Headers": CORS_EXPOSE_HEADERS.join(","),
    };
    // With one specific origin the answer still varies by request for caches in between.
    if (allowOrigin !== "*") {
        headers["Vary"] = "Origin";
    }
    return headers;
}

/** Headers for a preflight answer on a path that serves `methods`. */
export function preflightHeaders(allowOrigin: string, methods: string[]): Record<string, string> {
    return {
        ...corsHeaders(allowOrigin),
        "Access-Control-Allow-Methods": [...methods, "OPTIONS"].join(","),
        "Access-Control-Allow-Headers": CORS_ALLOW_HEADERS.join(","),
        "Access-Control-Max-Age": String(CORS_MAX_AGE_SECONDS),
    };
}
