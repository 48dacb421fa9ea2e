// The store refuses in its own words (data/storeErrors.ts); the HTTP adapter alone turns each
// refusal into its status (docs/api.md). No engine: the handlers run against a fake PostsStore,
// and the mapping is also checked in the form Pulumi serializes into the Lambda code.
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from "aws-lambda";
import { handleEvent } from "../../api/http/adapter";
import type { Deps, RouteHandler } from "../../api/http/contract";
import { routes, type RouteDefinition } from "../../api/routes";
import type { PostsStore } from "../../data/postsStore";
import { isStoreError, storeError, type StoreError, type StoreErrorKind } from "../../data/storeErrors";
import { apiEvent, lambdaContext } from "../support/events";

const ALLOW_ORIGIN = "https://blog.example.com";
const POST_ID = "11111111-1111-4111-8111-111111111111";

/** One refusal of each kind, and what the client must get for it (`satisfies`: a new kind
 *  does not compile until it has a row here). */
const CASES = {
    PostNotFound: {
        error: () => storeError("PostNotFound", { postId: POST_ID }),
        status: 404,
        message: "Post not found",
    },
    VersionConflict: {
        error: () => storeError("VersionConflict", { postId: POST_ID }),
        status: 412,
        message: "Precondition failed",
    },
    IdempotencyKeyReused: {
        error: () => storeError("IdempotencyKeyReused", {}),
        status: 422,
        message: "Idempotency-Key was already used with a different request body",
    },
    IdempotencyInProgress: {
        error: () => storeError("IdempotencyInProgress", { retryAfterSeconds: 7 }),
        status: 409,
        message: "A request with this Idempotency-Key is in progress",
        retryAfter: "7",
    },
} satisfies Record<StoreErrorKind, { error: () => StoreError; status: number; message: string; retryAfter?: string }>;

/** A store whose every method throws `error`: what each handler does with a refusal. */
function refusingStore(error: () => Error): PostsStore {
    const refuse = async (): Promise<never> => {
        throw error();
    };
    return {
        getPost: refuse,
        createPost: refuse,
        createPostIdempotent: refuse,
        updatePost: refuse,
        deletePost: refuse,
        listPosts: refuse,
    };
}

/** A valid request for a route, one that reaches the store (POST with a key: the idempotent create). */
function eventFor(route: Pick<RouteDefinition, "method" | "path">): APIGatewayProxyEvent {
    const full = { title: "Hello", description: "", author: "Ada", publicationDate: "2026-11-21" };
    const body =
        route.method === "POST" || route.method === "PUT"
            ? full
            : route.method === "PATCH"
              ? { title: "New" }
              : undefined;
    return apiEvent({
        method: route.method,
        resource: route.path,
        pathParameters: route.path.includes("{id}") ? { id: POST_ID } : null,
        ...(body === undefined ? {} : { body }),
        headers:
            route.method === "POST"
                ? { "Idempotency-Key": "k-1" }
                : route.method === "GET"
                  ? {}
                  : { "If-Match": '"3"' },
    });
}

const GET_POST = { method: "GET", path: "/posts/{id}" } as const;

function expectAnswer(
    result: APIGatewayProxyResult,
    expected: { status: number; message: string; retryAfter?: string },
    label: string,
): void {
    expect(result.statusCode, `${label}: ${result.body}`).to.equal(expected.status);
    expect(JSON.parse(result.body), label).to.deep.equal({ message: expected.message });
    expect(result.headers?.["Content-Type"], label).to.equal("application/json");
    expect(result.headers?.["Access-Control-Allow-Origin"], label).to.equal(ALLOW_ORIGIN);
    expect(result.headers?.["Retry-After"], label).to.equal(expected.retryAfter);
}

describe("store errors and the HTTP adapter", () => {
    for (const [kind, expected] of Object.entries(CASES)) {
        it(`maps ${kind} to ${expected.status} from every route handler, and logs no error (only each request's line)`, async () => {
            const lines: string[] = [];
            const deps: Deps = { store: refusingStore(expected.error), cursorKey: "unit-test-cursor-key" };
            for (const route of routes) {
                const result = await handleEvent(route.handler, eventFor(route), lambdaContext(), deps, {
                    allowOrigin: ALLOW_ORIGIN,
                    log: (line) => lines.push(line),
                });
                expectAnswer(result, expected, `${route.name}, ${kind}`);
            }
            const records = lines.map((line) => JSON.parse(line) as { level: string; status: number });
            expect(records.map((r) => `${r.level} ${r.status}`)).to.deep.equal(
                routes.map(() => `info ${expected.status}`),
            );
        });
    }

    it("a store error is an Error whose name and kind say which, with its details", () => {
        const error = storeError("IdempotencyInProgress", { retryAfterSeconds: 12 });
        expect(error).to.be.instanceOf(Error);
        expect(error).to.include({
            name: "IdempotencyInProgress",
            kind: "IdempotencyInProgress",
            retryAfterSeconds: 12,
        });
        expect(error.stack).to.be.a("string");
        expect(isStoreError(error)).to.equal(true);
        expect(storeError("PostNotFound", { postId: POST_ID }).message).to.include(POST_ID);
    });

    it("an error that only looks like one (same name) is a fault: 500, logged", async () => {
        const impostor = Object.assign(new Error("not from the store"), { name: "PostNotFound", kind: "PostNotFound" });
        expect(isStoreError(impostor)).to.equal(false);
        const lines: string[] = [];
        const deps: Deps = { store: refusingStore(() => impostor), cursorKey: "unit-test-cursor-key" };
        const getPost = routes.find((route) => route.method === GET_POST.method && route.path === GET_POST.path)!;
        const result = await handleEvent(getPost.handler, eventFor(GET_POST), lambdaContext(), deps, {
            allowOrigin: ALLOW_ORIGIN,
            log: (line) => lines.push(line),
        });
        expect(result.statusCode).to.equal(500);
        // The failure's detail, then the request's own line.
        expect(lines.map((line) => (JSON.parse(line) as { level: string }).level)).to.deep.equal(["error", "info"]);
        expect(lines[0]).to.include("not from the store");
    });

    it("maps every kind the same way in the code Pulumi serializes into the Lambda", async function () {
        this.timeout(30_000);
        type Run = (kind: StoreErrorKind, event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;
        const details = {
            PostNotFound: { postId: POST_ID },
            VersionConflict: { postId: POST_ID },
            IdempotencyKeyReused: {},
            IdempotencyInProgress: { retryAfterSeconds: 7 },
        };
        // The same capture path as the functions': handleEvent and storeError by value.
        const run: Run = (kind, event) => {
            const failing: RouteHandler = async () => {
                throw storeError(kind, details[kind] as never);
            };
            return handleEvent(failing, event, { awsRequestId: "serialized" }, {} as Deps, {
                allowOrigin: ALLOW_ORIGIN,
                log: () => undefined,
            });
        };
        const serialized = await pulumi.runtime.serializeFunction(run);
        const loaded: { handler?: Run } = {};
        new Function("exports", "require", serialized.text)(loaded, require);
        expect(loaded.handler, serialized.text.slice(0, 200)).to.be.a("function");
        for (const [kind, expected] of Object.entries(CASES)) {
            const result = await loaded.handler!(kind as StoreErrorKind, eventFor(GET_POST));
            expectAnswer(result, expected, `serialized, ${kind}`);
        }
    });
});
