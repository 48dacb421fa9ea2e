// The service limits the gateway enforces (AWS's "Amazon API Gateway quotas" and Lambda's payload quota).
export const LIMITS = {
    /** API Gateway's request payload limit. */
    gatewayRequestBytes: 10 * 1024 * 1024,
    /** Lambda's synchronous invocation payload limits (6 MB; the response may be 100 bytes more). */
    lambdaRequestBytes: 6 * 1024 * 1024,
    lambdaResponseBytes: 6 * 1024 * 1024 + 100,
    /** API Gateway's default (and maximum) integration timeout. */
    integrationTimeoutMs: 29_000,
} as const;
