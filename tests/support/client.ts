// Calls route handlers the way API Gateway and the Lambda runtime would: an event from the
// factory, a Lambda context, through handleEvent. Responses come back with the JSON parsed.
import { randomUUID } from "node:crypto";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
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

export function testDeps(db: DynamoDBDocumentClient, tableName: string, clock = testClock()): Deps {
    return { db, tableName, now: clock.now, newId: () => randomUUID(), cursorKey: CURSOR_KEY };
}

export type CallOptions = Omit<ApiEventOptions, "method"> & { id?: string };

export function apiClient(deps: Deps, options: Partial<AdapterOptions> = {}) {
    const adapterOptions: AdapterOptions = { allowOrigin: ALLOW_ORIGIN, ...options };
    return async function call(route: RouteName, callOptions: CallOptions = {}): Promise<ApiResult> {
        const { id, ...eventOptions } = callOptions;
        const { method, resource } = ROUTES[route];
        const event = apiEvent({
            method,
            resource,
            ...(id === undefined ? {} : { pathParameters: { id }, path: `/posts/${id}` }),
            ...eventOptions,
        });
        const context = lambdaContext();
        const result = await handleEvent(handlers[route], event, context, deps, adapterOptions);
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(result.headers ?? {})) {
            headers[name] = String(value);
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

export type ApiCall = ReturnType<typeof apiClient>;

export function validPost(overrides: Record<string, unknown> = {}): Record<string, unknown> {
    return {
        title: "Hello, world",
        description: "First post",
        author: "Ada",
        publicationDate: "2026-11-21",
        ...overrides,
    };
}
