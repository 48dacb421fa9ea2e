// Refusals as values, rendered in one place: what each refusal becomes on the wire, built by hand.
import { expect } from "chai";
import type { StageCache } from "../../apigateway/stageCache";
import { refuse, renderRefusal } from "../../apigateway/refusals";
import { api, context, deps, op, request, staged } from "./context";

describe("gateway refusals: renderRefusal", () => {
    const cors = { "gatewayresponse.header.Access-Control-Allow-Origin": "'*'" };

    it("renders AWS's default for a type the API does not override, with the request's ids", () => {
        const d = deps(api([op("GET", "/items")]));
        const answer = renderRefusal(
            staged(d, request("GET", "/stage/nope")),
            refuse("MISSING_AUTHENTICATION_TOKEN").refuse,
            d,
        );
        expect(answer.status).to.equal(403);
        expect(answer.body.toString()).to.equal('{"message":"Missing Authentication Token"}');
        expect(answer.refusal).to.equal("MISSING_AUTHENTICATION_TOKEN");
        expect(Object.entries(answer.headers)).to.deep.equal([
            ["x-amzn-ErrorType", ["MissingAuthenticationTokenException"]],
            ["Content-Type", ["application/json"]],
            ["x-amzn-RequestId", ["req-1"]],
            ["x-amz-apigw-id", ["ext-1"]],
            ["X-Amzn-Trace-Id", ["Root=1-0-0"]],
        ]);
        expect(answer.requestId).to.equal("req-1");
        expect(answer).to.not.have.property("consumer");
        expect(answer).to.not.have.property("cache");
    });

    it("renders the API's own gateway response (its class default, headers and template)", () => {
        const d = deps(
            api([op("GET", "/items")], {
                gatewayResponses: {
                    DEFAULT_4XX: { responseParameters: cors },
                    THROTTLED: {
                        statusCode: 429,
                        responseParameters: cors,
                        responseTemplates: {
                            "application/json": '{"error":$context.error.messageString,"id":"$context.requestId"}',
                        },
                    },
                },
            }),
        );
        const ctx = staged(d, request("GET", "/stage/items"));
        const invalid = renderRefusal(ctx, refuse("INVALID_API_KEY").refuse, d);
        expect(invalid.status).to.equal(403);
        expect(invalid.headers["Access-Control-Allow-Origin"]).to.deep.equal(["*"]);
        expect(invalid.body.toString()).to.equal('{"message":"Forbidden"}');
        const throttled = renderRefusal(ctx, refuse("THROTTLED").refuse, d);
        expect(throttled.status).to.equal(429);
        expect(throttled.headers["x-amzn-ErrorType"]).to.deep.equal(["TooManyRequestsException"]);
        expect(throttled.body.toString()).to.equal('{"error":"Too Many Requests","id":"req-1"}');
    });

    it("logs the refusal's line once, notes it in the access log, and names the caller and the cache's verdict once known", () => {
        const log: string[] = [];
        const logged = api([op("GET", "/items")], {
            stages: [
                {
                    name: "stage",
                    deploymentId: "d",
                    variables: null,
                    accessLog: { format: "$context.error.responseType", destinationArn: "arn" },
                },
            ],
        });
        const d = deps(logged, { log });
        const ctx = staged(d, request("GET", "/stage/items"));
        ctx.consumer = "partner";
        ctx.cache = {
            store: {} as StageCache,
            settings: { ttlSeconds: 300, requireAuthorization: true, unauthorizedStrategy: "FAIL_WITH_403" },
            key: "k",
            verdict: "miss",
            warn: false,
        };
        const answer = renderRefusal(ctx, refuse("API_CONFIGURATION_ERROR", { log: "GET /items: why" }).refuse, d);
        expect(log).to.deep.equal(["GET /items: why"]);
        expect(answer.status).to.equal(500);
        expect(answer.body.toString()).to.equal('{"message": "Internal server error"}');
        expect(answer.consumer).to.equal("partner");
        expect(answer.cache).to.equal("miss");
        expect(answer.accessLog?.facts.error).to.deep.equal({
            message: "Internal server error",
            responseType: "API_CONFIGURATION_ERROR",
        });
        const beforeCache = renderRefusal(ctx, refuse("REQUEST_TOO_LARGE", { withoutCacheVerdict: true }).refuse, d);
        expect(beforeCache.status).to.equal(413);
        expect(beforeCache).to.not.have.property("cache");
    });

    it("answers no such stage with API Gateway's plain 403, whatever the API overrides", () => {
        const d = deps(
            api([op("GET", "/items")], {
                gatewayResponses: { DEFAULT_4XX: { statusCode: 404, responseParameters: cors } },
            }),
        );
        const answer = renderRefusal(context(request("GET", "/nostage/items")), refuse("NO_SUCH_STAGE").refuse, d);
        expect(answer.status).to.equal(403);
        expect(answer.refusal).to.equal("no such stage");
        expect(answer.body.toString()).to.equal('{"message":"Forbidden"}');
        expect(answer.headers["x-amzn-ErrorType"]).to.deep.equal(["ForbiddenException"]);
        expect(answer.headers["Access-Control-Allow-Origin"]).to.equal(undefined);
        expect(answer.headers["x-amzn-RequestId"]).to.deep.equal(["req-1"]);
    });
});
