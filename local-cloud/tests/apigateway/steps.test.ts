// The other steps, each alone on a context built by hand: stage, size, MOCK, integration type,
// stage cache (read and write), function, permission, event limit, invocation and its outcome.
import { expect } from "chai";
import { buildEvent, lambdaRequestLimit } from "../../apigateway/buildEvent";
import { checkPermission } from "../../apigateway/checkPermission";
import type { GatewayDeps, InvocationContext } from "../../apigateway/context";
import { invokeFunction } from "../../apigateway/invokeFunction";
import { LIMITS } from "../../apigateway/limits";
import { mapResponse } from "../../apigateway/mapResponse";
import { matchRoute } from "../../apigateway/matchRoute";
import { mockIntegration } from "../../apigateway/mockIntegration";
import { proxyIntegration } from "../../apigateway/proxyIntegration";
import { checkRequestSize } from "../../apigateway/requestSize";
import { resolveFunction } from "../../apigateway/resolveFunction";
import { resolveStage } from "../../apigateway/resolveStage";
import { stageCacheRead } from "../../apigateway/stageCacheRead";
import { stageCacheWrite } from "../../apigateway/stageCacheWrite";
import { validateApiKey } from "../../apigateway/validateApiKey";
import type { FunctionPool, InvokeOutcome } from "../../lambda/lambdaPool";
import type { Operation, RestApiModel } from "../../program/model";
import { StageCaches } from "../../apigateway/stageCache";
import { api, context, deps, op, refusalOf, request, staged } from "./context";

/* eslint-disable @typescript-eslint/no-explicit-any */

const FN = "arn:aws:lambda:us-east-1:000000000000:function:f";

/** A context past the route and key steps. */
function routed(d: GatewayDeps, method: string, path: string, headers: Record<string, string> = {}): InvocationContext {
    const ctx = staged(d, request(method, path, headers));
    expect(matchRoute(ctx)).to.equal(undefined);
    expect(validateApiKey(ctx, d)).to.equal(undefined);
    return ctx;
}

const fakePool = (outcome: () => Promise<InvokeOutcome>) =>
    ({ name: "f", version: "3", invoke: outcome }) as unknown as FunctionPool;

describe("gateway steps, each on a context built by hand", () => {
    it("resolveStage: the first path segment names the stage; none, or an unknown one, is NO_SUCH_STAGE", () => {
        const restApi = api([op("GET", "/items")], {
            stages: [
                {
                    name: "stage",
                    deploymentId: "d",
                    variables: null,
                    accessLog: { format: "x", destinationArn: "arn" },
                },
            ],
        });
        const d = deps(restApi);
        for (const path of ["/", "", "/nostage/items"]) {
            expect(refusalOf(resolveStage(context(request("GET", path)), d)), path).to.equal("NO_SUCH_STAGE");
        }
        const ctx = context(request("GET", "//stage//items", { Host: "h.example", "User-Agent": "ua" }));
        expect(resolveStage(ctx, d)).to.equal(undefined);
        expect(ctx.pathInStage).to.equal("//items");
        expect(ctx.access).to.include({
            stage: "stage",
            path: "/stage//items",
            domainName: "h.example",
            userAgent: "ua",
            requestId: "req-1",
        });
        expect(ctx.template?.context["path"]).to.equal("/stage//items");
        const bare = context(request("GET", "/stage"));
        expect(resolveStage(bare, d)).to.equal(undefined);
        expect(bare.pathInStage).to.equal("/");
    });

    it("checkRequestSize: refuses a body the server found over 10 MB", () => {
        const ctx = context(request("GET", "/stage/items"));
        expect(checkRequestSize(ctx)).to.equal(undefined);
        expect(refusalOf(checkRequestSize({ ...ctx, request: { ...ctx.request, tooLarge: true } }))).to.equal(
            "REQUEST_TOO_LARGE",
        );
    });

    describe("mockIntegration and proxyIntegration", () => {
        const mock = {
            type: "MOCK",
            requestTemplates: { "application/json": '{"statusCode": 404}' },
            responses: {
                "4\\d{2}": {
                    statusCode: "404",
                    responseTemplates: { "application/json": '{"id":"$context.requestId"}' },
                },
            },
        };
        const restApi = api(
            [
                op("GET", "/mock", { integration: mock }),
                op("GET", "/http", { integration: { type: "HTTP_PROXY" } }),
                op("GET", "/fn"),
            ],
            { binaryMediaTypes: ["image/png"] },
        );
        const d = deps(restApi);

        it("answers a MOCK from its templates, and leaves other integrations to the next steps", () => {
            const ctx = routed(d, "GET", "/stage/mock", { "Content-Type": "application/json" });
            const result = mockIntegration(ctx) as any;
            expect(result.answer.status).to.equal(404);
            expect(result.answer.body.toString()).to.equal('{"id":"req-1"}');
            expect(result.answer).to.have.property("consumer", undefined);
            expect(mockIntegration(routed(d, "GET", "/stage/fn"))).to.equal(undefined);
        });

        it("refuses a binary request to a MOCK, and an integration type the local cloud does not run, with a log line", () => {
            const binary = mockIntegration(routed(d, "GET", "/stage/mock", { "Content-Type": "image/png" })) as any;
            expect(binary.refuse.type).to.equal("API_CONFIGURATION_ERROR");
            expect(binary.refuse.log).to.match(/CONVERT_TO_TEXT/);
            const http = proxyIntegration(routed(d, "GET", "/stage/http")) as any;
            expect(http.refuse.type).to.equal("API_CONFIGURATION_ERROR");
            expect(http.refuse.log).to.equal(
                'GET /http: integration type "HTTP_PROXY" is not supported by the local cloud',
            );
            expect(proxyIntegration(routed(d, "GET", "/stage/fn"))).to.equal(undefined);
        });
    });

    describe("stageCacheRead and stageCacheWrite", () => {
        const setup = (strategy?: string) => {
            const restApi: RestApiModel = api([op("GET", "/items")], {
                stages: [
                    {
                        name: "stage",
                        deploymentId: "d",
                        variables: null,
                        cacheCluster: { sizeGb: "0.5" },
                        methodSettings: {
                            "*/*": {
                                cachingEnabled: true,
                                cacheTtlInSeconds: 60,
                                ...(strategy ? { unauthorizedCacheControlHeaderStrategy: strategy } : {}),
                            },
                        },
                    },
                ],
            });
            const d = deps(restApi);
            const caches = new StageCaches(() => 0);
            caches.sync(d.model);
            return { ...d, caches };
        };
        const answered = (ctx: InvocationContext) => {
            ctx.mapped = {
                status: 200,
                headers: { "Content-Type": ["application/json"] },
                body: Buffer.from('{"a":1}'),
            } as any;
            return stageCacheWrite(ctx) as any;
        };

        it("misses, keeps the answer, then answers the same request from the cache", () => {
            const d = setup();
            const first = routed(d, "GET", "/stage/items");
            expect(stageCacheRead(first, d)).to.equal(undefined);
            expect(first.cache?.verdict).to.equal("miss");
            expect(answered(first).answer.cache).to.equal("miss");
            const hit = stageCacheRead(routed(d, "GET", "/stage/items"), d) as any;
            expect(hit.answer.cache).to.equal("hit");
            expect(hit.answer.body.toString()).to.equal('{"a":1}');
        });

        it("treats an unauthorized Cache-Control: max-age=0 by the method's strategy", () => {
            const refused = setup("FAIL_WITH_403");
            expect(
                refusalOf(
                    stageCacheRead(routed(refused, "GET", "/stage/items", { "Cache-Control": "max-age=0" }), refused),
                ),
            ).to.equal("ACCESS_DENIED");
            const warned = setup();
            const ctx = routed(warned, "GET", "/stage/items", { "Cache-Control": "max-age=0" });
            expect(stageCacheRead(ctx, warned)).to.equal(undefined);
            expect(ctx.cache?.warn).to.equal(true);
            expect(answered(ctx).answer.headers["Warning"]?.[0]).to.match(/^199 /);
        });

        it("reads nothing without the stage's caches", () => {
            const d = deps(api([op("GET", "/items")]));
            const ctx = routed(d, "GET", "/stage/items");
            expect(stageCacheRead(ctx, d)).to.equal(undefined);
            expect(ctx.cache).to.equal(undefined);
            expect(answered(ctx).answer).to.not.have.property("cache");
        });
    });

    describe("resolveFunction, checkPermission, buildEvent", () => {
        const restApi = api([
            op("GET", "/items/{id}", {
                integration: {
                    type: "AWS_PROXY",
                    uri: `arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/${FN}/invocations`,
                },
            } as Partial<Operation>),
        ]);
        const target = {
            pool: fakePool(async () => ({ kind: "result", payload: "{}" })),
            version: "3",
            invokedArn: FN,
        };

        it("resolveFunction: the integration's function, or API_CONFIGURATION_ERROR naming why", () => {
            const none = deps(restApi);
            const refused = resolveFunction(routed(none, "GET", "/stage/items/1"), none) as any;
            expect(refused.refuse.type).to.equal("API_CONFIGURATION_ERROR");
            expect(refused.refuse.log).to.match(
                /^GET \/items\/\{id\}: no local function for integration arn:aws:apigateway:/,
            );
            const found = { ...none, functionTarget: () => target };
            const ctx = routed(found, "GET", "/stage/items/1");
            expect(resolveFunction(ctx, found)).to.equal(undefined);
            expect(ctx.functionArn).to.equal(FN);
            expect(ctx.target).to.equal(target);
        });

        it("checkPermission: refuses an invocation no resource policy allows, allows one that matches", () => {
            const d = deps(restApi);
            const ctx = routed(d, "GET", "/stage/items/1");
            ctx.functionArn = FN;
            const denied = checkPermission(ctx, { model: { ...d.model, permissions: [] } }) as any;
            expect(denied.refuse.type).to.equal("API_CONFIGURATION_ERROR");
            const allowed = {
                logicalName: "p",
                functionArn: FN,
                action: "lambda:InvokeFunction",
                principal: "apigateway.amazonaws.com",
                sourceArn: "arn:aws:execute-api:us-east-1:*:abc123/*/*/*",
            };
            expect(checkPermission(ctx, { model: { ...d.model, permissions: [allowed] } })).to.equal(undefined);
            expect(checkPermission(ctx, d), "a model without permissions is not checked").to.equal(undefined);
        });

        it("buildEvent: the proxy event from the context; lambdaRequestLimit: refuses one over 6 MB without the cache's verdict", () => {
            const d = deps(restApi);
            const ctx = routed(d, "GET", "/stage/items/42");
            expect(buildEvent(ctx)).to.equal(undefined);
            const event = JSON.parse(ctx.event!);
            expect(event).to.include({ resource: "/items/{id}", path: "/items/42", httpMethod: "GET" });
            expect(event.pathParameters).to.deep.equal({ id: "42" });
            expect(event.requestContext).to.include({ requestId: "req-1", stage: "stage", apiId: "abc123" });
            expect(lambdaRequestLimit(ctx)).to.equal(undefined);
            ctx.event = "x".repeat(LIMITS.lambdaRequestBytes + 1);
            expect((lambdaRequestLimit(ctx) as any).refuse).to.deep.equal({
                type: "REQUEST_TOO_LARGE",
                withoutCacheVerdict: true,
            });
        });
    });

    describe("invokeFunction and mapResponse", () => {
        const d = deps(
            api([op("GET", "/items")], {
                stages: [
                    {
                        name: "stage",
                        deploymentId: "d",
                        variables: null,
                        accessLog: { format: "x", destinationArn: "arn" },
                    },
                ],
            }),
        );
        const invoke = async (outcome: () => Promise<InvokeOutcome>, timeoutMs = 1000) => {
            const ctx = routed(d, "GET", "/stage/items");
            ctx.target = { pool: fakePool(outcome), version: "3", invokedArn: FN };
            ctx.event = "{}";
            expect(await invokeFunction(ctx, { integrationTimeoutMs: timeoutMs })).to.equal(undefined);
            return { ctx, result: mapResponse(ctx) as any };
        };

        it("maps a result, and notes the integration in the access log", async () => {
            const { ctx, result } = await invoke(async () => ({
                kind: "result",
                payload: JSON.stringify({ statusCode: 201, body: "ok" }),
            }));
            expect(result).to.equal(undefined);
            expect(ctx.mapped?.status).to.equal(201);
            expect(ctx.functionVersion).to.equal("3");
            expect(ctx.access?.integration).to.include({
                integrationStatus: 200,
                status: 201,
                requestId: ctx.functionRequestId,
            });
        });

        it("refuses a timeout (504), a function error and a malformed answer (502)", async () => {
            const slow = await invoke(() => new Promise(() => undefined), 10);
            expect(slow.ctx.outcome).to.equal("gateway-timeout");
            expect(slow.result.refuse.type).to.equal("INTEGRATION_TIMEOUT");
            const failed = await invoke(async () => ({ kind: "error", errorType: "TypeError", errorMessage: "boom" }));
            expect(failed.result.refuse.type).to.equal("DEFAULT_5XX");
            expect(failed.ctx.access?.integration?.error).to.equal(
                "Lambda execution failed with status 200 due to customer function error: TypeError: boom",
            );
            const malformed = await invoke(async () => ({ kind: "result", payload: "[]" }));
            expect(malformed.result.refuse.type).to.equal("DEFAULT_5XX");
            expect(malformed.result.refuse.log).to.match(/^f: Malformed Lambda proxy response/);
        });
    });
});
