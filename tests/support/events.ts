// API Gateway (REST, proxy payload 1.0) test events, shaped like the ones the gateway sends
// (shared/docs/apigateway.md): absent maps are null, header names keep the client's casing, and
// bodies are base64 by default because the awsx API declares `*/*` a binary media type.
import { randomUUID } from "node:crypto";
import type { APIGatewayProxyEvent, Context } from "aws-lambda";

export interface ApiEventOptions {
    method: string;
    /** Route template, e.g. `/posts/{id}` (the `path` of a row in api/routes.ts). */
    resource: string;
    /** Path without the stage, e.g. `/posts/123`; defaults to `resource` with `pathParameters` filled in. */
    path?: string;
    pathParameters?: Record<string, string> | null;
    /** Single values, or arrays for a repeated parameter (the single map then holds the last). */
    query?: Record<string, string | string[]> | null;
    headers?: Record<string, string> | null;
    /**
     * A string is sent as is, a Uint8Array as raw bytes (always base64), anything else as JSON. `undefined`/null: no
     * body.
     */
    body?: unknown;
    /** Defaults to true, as on AWS behind the awsx API. */
    base64?: boolean;
    /** Defaults to a fixed test key id; null for a method without a required key. */
    apiKeyId?: string | null;
    stage?: string;
}

export const TEST_API_KEY_ID = "testkeyid01";
const STAGE = "test";

function requestTime(date: Date): string {
    const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    const pad = (n: number) => String(n).padStart(2, "0");
    return `${pad(date.getUTCDate())}/${months[date.getUTCMonth()]}/${date.getUTCFullYear()}:${pad(date.getUTCHours())}:${pad(
        date.getUTCMinutes(),
    )}:${pad(date.getUTCSeconds())} +0000`;
}

/** `/posts/{id}` + `{ id: "123" }` → `/posts/123`; a parameter without a value stays as it is. */
function fillTemplate(resource: string, pathParameters: Record<string, string> | null): string {
    return resource.replace(/\{([^}]+)\}/g, (placeholder, name: string) => pathParameters?.[name] ?? placeholder);
}

export function apiEvent(options: ApiEventOptions): APIGatewayProxyEvent {
    const pathParameters = options.pathParameters ?? null;
    const resource = options.resource;
    const path = options.path ?? fillTemplate(resource, pathParameters);
    const stage = options.stage ?? STAGE;
    const apiKeyId = options.apiKeyId === undefined ? TEST_API_KEY_ID : options.apiKeyId;
    const base64 = options.base64 ?? true;

    let body: string | null = null;
    if (options.body !== undefined && options.body !== null) {
        if (options.body instanceof Uint8Array) {
            // Raw bytes (e.g. not UTF-8) can only travel base64-encoded.
            body = Buffer.from(options.body).toString("base64");
        } else {
            const text = typeof options.body === "string" ? options.body : JSON.stringify(options.body);
            body = base64 ? Buffer.from(text, "utf8").toString("base64") : text;
        }
    }

    const headers: Record<string, string> = {
        Accept: "application/json",
        Host: "abc123.execute-api.us-east-1.amazonaws.com",
        "User-Agent": "posts-api-tests",
        "X-Amzn-Trace-Id": `Root=1-${randomUUID().slice(0, 8)}-${randomUUID().replace(/-/g, "").slice(0, 24)}`,
        "X-Forwarded-For": "203.0.113.7",
        "X-Forwarded-Port": "443",
        "X-Forwarded-Proto": "https",
        ...(apiKeyId === null ? {} : { "x-api-key": "k".repeat(40) }),
        ...(body === null ? {} : { "Content-Type": "application/json" }),
        ...(options.headers ?? {}),
    };

    let query: Record<string, string> | null = null;
    let multiQuery: Record<string, string[]> | null = null;
    if (options.query) {
        query = {};
        multiQuery = {};
        for (const [name, value] of Object.entries(options.query)) {
            const values = Array.isArray(value) ? value : [value];
            multiQuery[name] = values;
            const last = values[values.length - 1];
            if (last !== undefined) {
                query[name] = last;
            }
        }
    }

    const now = new Date();
    return {
        resource,
        path,
        httpMethod: options.method,
        headers,
        multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, [value]])),
        queryStringParameters: query,
        multiValueQueryStringParameters: multiQuery,
        pathParameters,
        stageVariables: null,
        body,
        isBase64Encoded: body !== null && (base64 || options.body instanceof Uint8Array),
        requestContext: {
            accountId: "123456789012",
            apiId: "abc123",
            authorizer: null,
            domainName: "abc123.execute-api.us-east-1.amazonaws.com",
            domainPrefix: "abc123",
            extendedRequestId: randomUUID().slice(0, 16),
            httpMethod: options.method,
            path: `/${stage}${path}`,
            protocol: "HTTP/1.1",
            requestId: randomUUID(),
            requestTime: requestTime(now),
            requestTimeEpoch: now.getTime(),
            resourceId: "res123",
            resourcePath: resource,
            stage,
            identity: {
                accessKey: null,
                accountId: null,
                apiKey: apiKeyId === null ? null : "k".repeat(40),
                apiKeyId,
                caller: null,
                clientCert: null,
                cognitoAuthenticationProvider: null,
                cognitoAuthenticationType: null,
                cognitoIdentityId: null,
                cognitoIdentityPoolId: null,
                principalOrgId: null,
                sourceIp: "203.0.113.7",
                user: null,
                userAgent: "posts-api-tests",
                userArn: null,
            },
        },
    };
}

/** A Lambda context like the Node.js runtime passes; `awsRequestId` is fresh unless given. */
export function lambdaContext(overrides: Partial<Context> = {}): Context {
    const functionName = overrides.functionName ?? "posts-api-test-route";
    return {
        callbackWaitsForEmptyEventLoop: true,
        functionName,
        functionVersion: "$LATEST",
        invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
        memoryLimitInMB: "256",
        awsRequestId: randomUUID(),
        logGroupName: `/aws/lambda/${functionName}`,
        logStreamName: "2026/11/21/[$LATEST]0123456789abcdef0123456789abcdef",
        getRemainingTimeInMillis: () => 10_000,
        done: () => undefined,
        fail: () => undefined,
        succeed: () => undefined,
        ...overrides,
    };
}
