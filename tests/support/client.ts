// Calls the posts API the way API Gateway and the Lambda runtime would: an event from the
// factory, a Lambda context, and the response with its JSON parsed. Two clients with one
// signature: `apiClient` runs the TypeScript handlers through handleEvent with injected deps,
// `closureClient` runs the serialized Lambda handlers (tests/support/lambdas.ts).
import { randomUUID } from "node:crypto";
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from "aws-lambda";
import type { DynamoDBDocument } from "@aws-sdk/lib-dynamodb";
import type { Deps } from "../../api/http/contract";
import { handleEvent, type AdapterOptions } from "../../api/http/adapter";
import { handlers, type RouteName } from "../../api/handlers";
import { apiEvent, lambdaContext, type ApiEventOptions } from "./events";

export const ROUTES: Record<RouteName, { method: string; resource: string }> = {
    listPosts: { method: "GET", resource: "/posts" },
    createPost: { method: "POST", resource: "/posts" },
    getPost: { method: "GET", resource: "/posts/{id}" },
    replacePost: { method: "PUT", resource: "/posts/{id}" },
    updatePost: { method: "PATCH", resource: "/posts/{id}" },
    deletePost: { method: "DELETE", resource: "/posts/{id}" },
};

/** How a contract test reaches the code: the handlers directly, or the serialized closures. */
export type Mode = "handler" | "closure";
export const MODES: readonly Mode[] = ["handler", "closure"];

export const ALLOW_ORIGIN = "https://blog.example.com";
export const CURSOR_KEY = "test-cursor-key-0123456789abcdef";

export interface ApiResult {
    statusCode: number;
    headers: Record<string, string>;
    /** Parsed JSON, or null for an empty body. */
    body: unknown;
    rawBody: string;
    requestId: string;
}

/** A deterministic clock: every now() is 1 ms after the previous one; `advance` jumps ahead. */
export function testClock(start = "2026-11-21T09:30:00.000Z") {
    let current = Date.parse(start);
    return {
        now: () => new Date(current++),
        advance: (ms: number) => {
            current += ms;
        },
    };
}

export function testDeps(db: DynamoDBDocument, tableName: string, clock = testClock()): Deps {
    return { db, tableName, now: clock.now, newId: () => randomUUID(), cursorKey: CURSOR_KEY };
}

/** Resolves once Date.now() has moved past the current millisecond (for code on the real clock). */
export async function nextMillisecond(): Promise<void> {
    const start = Date.now();
    while (Date.now() === start) {
        await new Promise((resolve) => setImmediate(resolve));
    }
}

export type CallOptions = Omit<ApiEventOptions, "method"> & { id?: string };

export type ApiCall = (route: RouteName, options?: CallOptions) => Promise<ApiResult>;

type Invoke = (route: RouteName, event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

/** Builds the event for a route, invokes, and parses the result: shared by both clients. */
function caller(invoke: Invoke): ApiCall {
    return async function call(route, callOptions = {}) {
        const { id, ...eventOptions } = callOptions;
        const { method, resource } = ROUTES[route];
        const event = apiEvent({
            method,
            resource,
            ...(id === undefined ? {} : { pathParameters: { id }, path: `/posts/${id}` }),
            ...eventOptions,
        });
        const context = lambdaContext({ functionName: `posts-api-test-${route}` });
        const result = await invoke(route, event, context);
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(result.headers ?? {})) {
            headers[name] = String(value);
        }
        if (typeof result.body !== "string") {
            throw new Error(`${route}: the Lambda result's body is not a string: ${JSON.stringify(result).slice(0, 200)}`);
        }
        return {
            statusCode: result.statusCode,
            headers,
            body: result.body === "" ? null : JSON.parse(result.body),
            rawBody: result.body,
            requestId: context.awsRequestId,
        };
    };
}

/** The TypeScript handlers, called through handleEvent with the given deps. */
export function apiClient(deps: Deps, options: Partial<AdapterOptions> = {}): ApiCall {
    const adapterOptions: AdapterOptions = { allowOrigin: ALLOW_ORIGIN, ...options };
    return caller((route, event, context) => handleEvent(handlers[route], event, context, deps, adapterOptions));
}

/** The serialized Lambda handlers (`handler(event, context)` of each route's `__index.js`). */
export function closureClient(lambdas: Record<RouteName, (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>>): ApiCall {
    return caller((route, event, context) => {
        const handler = lambdas[route];
        if (typeof handler !== "function") {
            throw new Error(`no serialized function for route ${route}`);
        }
        return handler(event, context);
    });
}

export function validPost(overrides: Record<string, unknown> = {}): Record<string, unknown> {
    return {
        title: "Hello, world",
        description: "First post",
        author: "Ada",
        publicationDate: "2026-11-21",
        ...overrides,
    };
}
