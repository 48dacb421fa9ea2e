// The local gateway's rules in isolation (no HTTP, no program): gateway-response fallbacks and
// templates, quota periods, per-method throttle keys, binary media types, answer validation.
import { expect } from "chai";
import { gatewayResponse, renderTemplate, type TemplateContext } from "../../apigateway/gatewayResponses";
import type { UsagePlanModel } from "../../program/model";
import { isBinary, mapProxyResult, parseQuery } from "../../apigateway/proxyEvent";
import { periodStart, UsageLimiter } from "../../apigateway/usage";

const ctx: TemplateContext = {
    context: { requestId: "req-1", stage: "dev", identity: { sourceIp: "198.51.100.1" } },
    request: { headers: { Origin: "https://a.example" }, query: {}, path: {} },
};

describe("local gateway rules", () => {
    describe("gateway responses", () => {
        it("uses AWS's defaults when the API overrides nothing (4XX bodies without a space, 5XX with one)", () => {
            expect(gatewayResponse("INVALID_API_KEY", {}, ctx)).to.deep.include({
                status: 403,
                body: '{"message":"Forbidden"}',
                errorType: "ForbiddenException",
            });
            expect(gatewayResponse("MISSING_AUTHENTICATION_TOKEN", {}, ctx)).to.deep.include({
                status: 403,
                body: '{"message":"Missing Authentication Token"}',
            });
            expect(gatewayResponse("DEFAULT_5XX", {}, ctx)).to.deep.include({
                status: 502,
                body: '{"message": "Internal server error"}',
            });
            expect(gatewayResponse("INTEGRATION_TIMEOUT", {}, ctx)).to.deep.include({
                status: 504,
                body: '{"message": "Endpoint request timed out"}',
            });
        });

        it("falls back to DEFAULT_4XX, whose statusCode (when set) applies to the whole class", () => {
            const overrides = {
                DEFAULT_4XX: {
                    statusCode: 400,
                    responseParameters: { "gatewayresponse.header.X-Origin": "method.request.header.origin" },
                },
            };
            const r = gatewayResponse("THROTTLED", overrides, ctx);
            expect(r).to.deep.include({
                status: 400,
                body: '{"message":"Too Many Requests"}',
                errorType: "TooManyRequestsException",
            });
            expect(r.headers["X-Origin"]).to.equal("https://a.example");
            expect(gatewayResponse("DEFAULT_5XX", overrides, ctx).status).to.equal(502);
        });

        it("prefers the type's own override and renders its template", () => {
            const overrides = {
                DEFAULT_4XX: { statusCode: 400 },
                QUOTA_EXCEEDED: {
                    statusCode: 429,
                    responseTemplates: {
                        "application/json":
                            '{"error":$context.error.messageString,"id":"$context.requestId","type":"${context.error.responseType}"}',
                    },
                },
            };
            const r = gatewayResponse("QUOTA_EXCEEDED", overrides, ctx);
            expect(r.status).to.equal(429);
            expect(JSON.parse(r.body)).to.deep.equal({ error: "Limit Exceeded", id: "req-1", type: "QUOTA_EXCEEDED" });
        });

        it("renders unknown template references as empty text", () => {
            expect(renderTemplate("[$context.nope.deeper|$input.body|${context.stage}]", ctx)).to.equal("[||dev]");
        });
    });

    describe("usage plans", () => {
        it("starts quota periods at 00:00Z, on Mondays and on the 1st", () => {
            const sunday = Date.UTC(2026, 10, 22, 23, 59, 59);
            expect(new Date(periodStart("DAY", sunday)).toISOString()).to.equal("2026-11-22T00:00:00.000Z");
            expect(new Date(periodStart("WEEK", sunday)).toISOString()).to.equal("2026-11-16T00:00:00.000Z");
            expect(new Date(periodStart("WEEK", Date.UTC(2026, 10, 23))).toISOString()).to.equal(
                "2026-11-23T00:00:00.000Z",
            );
            expect(new Date(periodStart("MONTH", sunday)).toISOString()).to.equal("2026-11-01T00:00:00.000Z");
        });

        it("keys method throttles by resource path and method, with * for every method and //GET for the root", () => {
            let now = 0;
            const limiter = new UsageLimiter(() => now);
            const plan: UsagePlanModel = {
                logicalName: "p",
                id: "p1",
                keyIds: ["k"],
                apiStages: [
                    {
                        apiId: "a",
                        stage: "dev",
                        throttles: {
                            "/items/*": { rateLimit: 1, burstLimit: 1 },
                            "//GET": { rateLimit: 1, burstLimit: 2 },
                        },
                    },
                ],
                throttle: { rateLimit: 100, burstLimit: 100 },
            };
            expect([
                limiter.admit(plan, "k", "dev", "/items/DELETE"),
                limiter.admit(plan, "k", "dev", "/items/DELETE"),
            ]).to.deep.equal(["OK", "THROTTLED"]);
            // "*" gives each method of the resource those limits, in a bucket of its own.
            expect([
                limiter.admit(plan, "k", "dev", "/items/GET"),
                limiter.admit(plan, "k", "dev", "/items/GET"),
            ]).to.deep.equal(["OK", "THROTTLED"]);
            expect([1, 2, 3].map(() => limiter.admit(plan, "k", "dev", "//GET"))).to.deep.equal([
                "OK",
                "OK",
                "THROTTLED",
            ]);
            expect(limiter.admit(plan, "k", "dev", "/other/GET")).to.equal("OK");
            now += 1000;
            expect(limiter.admit(plan, "k", "dev", "/items/GET")).to.equal("OK");
        });

        it("counts a quota from saved per-day records (tests/cloud/usage.test.ts covers the log)", () => {
            const now = Date.UTC(2026, 10, 18);
            const plan: UsagePlanModel = {
                logicalName: "p",
                id: "p1",
                keyIds: ["k"],
                apiStages: [],
                quota: { limit: 2, period: "DAY", offset: 0 },
            };
            const limiter = new UsageLimiter(() => now, {
                records: [{ plan: "p", key: "k", day: "2026-11-18", count: 2 }],
            });
            expect(limiter.admit(plan, "k", "dev", "/x/GET")).to.equal("QUOTA_EXCEEDED");
        });
    });

    describe("requests and answers", () => {
        it("matches binary media types like API Gateway (no Content-Type counts as application/json)", () => {
            expect(isBinary("text/plain", ["*/*"])).to.equal(true);
            expect(isBinary(undefined, ["*/*"])).to.equal(true);
            expect(isBinary("image/png; q=1", ["image/*"])).to.equal(true);
            expect(isBinary("application/json", ["image~1png"])).to.equal(false);
            expect(isBinary("application/json", [])).to.equal(false);
        });

        it("decodes query values, keeps the last one in the single map and null when empty", () => {
            expect(parseQuery("")).to.deep.equal({ single: null, multi: null });
            expect(parseQuery("a=1&a=%20two&b")).to.deep.equal({
                single: { a: " two", b: "" },
                multi: { a: ["1", " two"], b: [""] },
            });
        });

        it("accepts {} and numeric-string status codes; refuses what API Gateway refuses", () => {
            expect(mapProxyResult("{}")).to.deep.include({ status: 200 });
            expect(mapProxyResult('{"statusCode":"404"}')).to.deep.include({ status: 404 });
            expect(mapProxyResult('{"headers":{"a":{}}}')).to.have.property("malformed");
            expect(mapProxyResult('{"statusCode":200,"body":5}')).to.have.property("malformed");
            expect(mapProxyResult("null")).to.have.property("malformed");
            const merged = mapProxyResult(
                '{"headers":{"Set-Cookie":"c"},"multiValueHeaders":{"set-cookie":["a","b"]}}',
            );
            expect(merged).to.deep.include({
                headers: { "set-cookie": ["a", "b", "c"], "Content-Type": ["application/json"] },
            });
            const remapped = mapProxyResult(
                '{"headers":{"Server":"mine","Content-Length":"999","Connection":"close"},"body":"ok"}',
            );
            expect(remapped).to.deep.include({
                headers: {
                    "X-Amzn-Remapped-Server": ["mine"],
                    "X-Amzn-Remapped-Connection": ["close"],
                    "Content-Type": ["application/json"],
                },
            });
        });
    });
});
