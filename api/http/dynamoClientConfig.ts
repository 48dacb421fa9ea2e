// The DynamoDB client's timeouts and retries, derived from the function's own timeout, so a slow or
// hung database ends in the contract's 500 (with requestId, detail logged) well before Lambda kills
// the invocation (which API Gateway would answer with a 502 and no request id).
//
// No SDK import, not even at run time: these are plain options for `new DynamoDBClient(...)`, which
// accepts the NodeHttpHandler's constructor options as `requestHandler` (@smithy/types
// RequestHandlerParams). Serialized into every function with the factory (api/routeFunction.ts).
//
// What the options do, read in node_modules/@smithy/node-http-handler (4.x) and its history:
// - `connectionTimeout` aborts an attempt whose TCP/TLS connection is not up in time;
// - `requestTimeout` is a wall-clock limit per attempt (connection included) in current handlers,
//   but only a warning unless `throwOnRequestTimeout` is set; handlers before that split treated
//   `requestTimeout` as a socket idle timeout that always threw. Setting both (and `socketTimeout`)
//   gives a thrown TimeoutError under whichever SDK the Lambda runtime ships.
// - the standard retry strategy retries TimeoutError; `maxAttempts` bounds it, and its largest
//   backoff before retry n is 1 s × 2^(n-1) (throttling base delay; transient errors wait less).

export interface DynamoClientTimeouts {
    /** Per attempt: the connection must be up within this. */
    connectionTimeoutMs: number;
    /** Per attempt: the whole request and response, connection included. */
    requestTimeoutMs: number;
    /** Attempts per database call (1 = no retry). */
    maxAttempts: number;
    /** The longest one database call can take: every attempt timing out, plus the largest backoffs. */
    worstCaseMs: number;
}

/** One attempt may take this share of the function's timeout, within the bounds below. */
const REQUEST_TIMEOUT_SHARE = 0.1;
/** DynamoDB answers single-item calls in milliseconds; below this a cold TLS handshake could trip it. */
const MIN_REQUEST_TIMEOUT_MS = 200;
/** A 1 MB Query page is still far below this; more is a database in trouble. */
const MAX_REQUEST_TIMEOUT_MS = 2000;
const MAX_CONNECTION_TIMEOUT_MS = 1000;
/** One database call, all attempts and backoffs included, stays within this share of the timeout. */
const CALL_BUDGET_SHARE = 0.5;
/** The SDK's default; more attempts only if they fit the budget. */
const MAX_ATTEMPTS = 3;
/** The largest backoff the SDK's standard strategy waits before retry `n` (1-based). */
const maxBackoffBeforeRetryMs = (retry: number) => 1000 * 2 ** (retry - 1);

function worstCase(attempts: number, requestTimeoutMs: number): number {
    let total = attempts * requestTimeoutMs;
    for (let retry = 1; retry < attempts; retry++) {
        total += maxBackoffBeforeRetryMs(retry);
    }
    return total;
}

/** Timeouts and attempts for a function whose timeout is `functionTimeoutSeconds`. */
export function dynamoClientTimeouts(functionTimeoutSeconds: number): DynamoClientTimeouts {
    if (!Number.isFinite(functionTimeoutSeconds) || functionTimeoutSeconds <= 0) {
        throw new Error(
            `The function timeout must be a positive number of seconds, got ${String(functionTimeoutSeconds)}`,
        );
    }
    const functionTimeoutMs = functionTimeoutSeconds * 1000;
    const requestTimeoutMs = Math.round(
        Math.min(MAX_REQUEST_TIMEOUT_MS, Math.max(MIN_REQUEST_TIMEOUT_MS, functionTimeoutMs * REQUEST_TIMEOUT_SHARE)),
    );
    const budgetMs = functionTimeoutMs * CALL_BUDGET_SHARE;
    let maxAttempts = 1;
    while (maxAttempts < MAX_ATTEMPTS && worstCase(maxAttempts + 1, requestTimeoutMs) <= budgetMs) {
        maxAttempts++;
    }
    return {
        connectionTimeoutMs: Math.min(requestTimeoutMs, MAX_CONNECTION_TIMEOUT_MS),
        requestTimeoutMs,
        maxAttempts,
        worstCaseMs: worstCase(maxAttempts, requestTimeoutMs),
    };
}

/** The options for `new DynamoDBClient(...)`; an endpoint still comes from the standard settings. */
export function dynamoClientConfig(functionTimeoutSeconds: number) {
    const t = dynamoClientTimeouts(functionTimeoutSeconds);
    return {
        maxAttempts: t.maxAttempts,
        // Fixed, so AWS_RETRY_MODE=adaptive cannot add client-side rate limiting waits to the budget.
        retryMode: "standard",
        requestHandler: {
            connectionTimeout: t.connectionTimeoutMs,
            requestTimeout: t.requestTimeoutMs,
            throwOnRequestTimeout: true,
            socketTimeout: t.requestTimeoutMs,
        },
    };
}
