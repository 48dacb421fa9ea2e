// Calls the posts API the way API Gateway and the Lambda runtime would: an event from the
// factory, a Lambda context, and the response with its JSON parsed. Two clients with one
// signature: `apiClient` runs the TypeScript handlers through handleEvent with injected deps,
// `closureClient` runs the serialized Lambda handlers (tests/support/lambdas.ts). A call names a
// route; its method, resource and handler come from that route's row in api/routes.ts.
import { randomUUID } from "node:crypto";
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from "aws-lambda";
import type { DynamoDBDocument } from "@aws-sdk/lib-dynamodb";
import type { Deps } from "../../api/http/contract";
import { dynamoPostsStore, type PostsStoreDeps } from "../../data/postsStore";
import { handleEvent, type AdapterOptions } from "../../api/http/adapter";
import { routeNamed, type RouteName } from "../../api/routes";
import { handlers } from "../../api/handlers";
import { apiEvent, lambdaContext, type ApiEventOptions } from "./events";

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

/** Handler deps: the DynamoDB store on `tableName` with the test clock; `store` adds to (or
 *  replaces) what the store is built from, e.g. the idempotency step seam or a broken client. */
export function testDeps(
    db: DynamoDBDocument,
    tableName: string,
    clock = testClock(),
    store: Partial<PostsStoreDeps> = {},
): Deps {
    return {
        store: dynamoPostsStore({ db, tableName, now: clock.now, newId: () => randomUUID(), ...store }),
        cursorKey: CURSOR_KEY,
    };
}

/** Resolves once Date.now() has moved past the current millisecond (for code on the real clock). */
export async function nextMillisecond(): Promise<void> {
    const start = Date.now();
    while (Date.now() === start) {
        await new Promise((resolve) => setImmediate(resolve));
    }
}

/** The event's options, less what the route's row decides (method, resource); `id` fills `{id}`. */
export type CallOptions = Omit<ApiEventOptions, "method" | "resource"> & { id?: string };

export type ApiCall = (route: RouteName, options?: CallOptions) => Promise<ApiResult>;

type Invoke = (route: RouteName, event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

/** The event API Gateway would send to a route: the row's method and resource, the path filled in. */
export function routeEvent(route: RouteName, callOptions: CallOptions = {}): APIGatewayProxyEvent {
    const { id, ...eventOptions } = callOptions;
    const row = routeNamed(route);
    if (id !== undefined && !row.path.includes("{id}")) {
        throw new Error(`${route} (${row.method} ${row.path}) takes no id`);
    }
    return apiEvent({
        method: row.method,
        resource: row.path,
        ...(id === undefined ? {} : { pathParameters: { id } }),
        ...eventOptions,
    });
}

/** Builds the event for a route, invokes, and parses the result: shared by both clients. */
function caller(invoke: Invoke): ApiCall {
    return async function call(route, callOptions = {}) {
        const event = routeEvent(route, callOptions);
        const context = lambdaContext({ functionName: `posts-api-test-${route}` });
        const result = await invoke(route, event, context);
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(result.headers ?? {})) {
            headers[name] = String(value);
        }
        if (typeof result.body !== "string") {
            throw new Error(
                `${route}: the Lambda result's body is not a string: ${JSON.stringify(result).slice(0, 200)}`,
            );
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
/**
 * The adapter writes one "info" record per request (api/http/adapter.ts `writeLog`): thousands in
 * a contract run. Tests that look at records pass their own `log`; otherwise the per-request
 * records are dropped and anything else (an unexpected failure's "error" record) still prints.
 */
const isRequestRecord = (line: unknown) =>
    typeof line === "string" && line.startsWith('{"level":"info","message":"Request"');
const quietLog = (line: string) => {
    if (!isRequestRecord(line)) {
        console.error(line);
    }
};

/** The serialized code logs through the console (as on Lambda): drop only its per-request records. */
let consoleQuieted = false;
function quietRequestRecordsOnConsole(): void {
    if (consoleQuieted || process.env["TEST_REQUEST_LOGS"]) {
        return;
    }
    consoleQuieted = true;
    const info = console.info.bind(console);
    console.info = (...args: unknown[]) => {
        if (!isRequestRecord(args[0])) {
            info(...args);
        }
    };
}

export function apiClient(deps: Deps, options: Partial<AdapterOptions> = {}): ApiCall {
    const adapterOptions: AdapterOptions = {
        allowOrigin: ALLOW_ORIGIN,
        log: process.env["TEST_REQUEST_LOGS"] ? undefined : quietLog,
        ...options,
    };
    return caller((route, event, context) => handleEvent(handlers[route], event, context, deps, adapterOptions));
}

/** The serialized Lambda handlers (`handler(event, context)` of each route's `__index.js`). */
export function closureClient(
    lambdas: Record<RouteName, (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>>,
): ApiCall {
    quietRequestRecordsOnConsole();
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
