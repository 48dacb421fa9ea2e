// The order of the gateway's steps, proven without a cloud: a Gateway over a model built by hand and
// a fake function, where two checks would both refuse and the earlier one must answer.
import { expect } from "chai";
import { Gateway } from "../../apigateway/gateway";
import type { FunctionPool } from "../../lambda/lambdaPool";
import type { RestApiModel } from "../../program/model";
import { UsageLimiter } from "../../apigateway/usage";
import { api, key, op, plan, request } from "./context";

describe("gateway steps: their order", () => {
    const mock = {
        type: "MOCK",
        requestTemplates: { "application/json": '{"statusCode": 200}' },
        responses: { default: { statusCode: "200", responseTemplates: { "application/json": '{"mock":true}' } } },
    };
    const make = (restApi: RestApiModel) => {
        const invoked: string[] = [];
        const pool = {
            name: "f",
            version: "$LATEST",
            invoke: async (event: string) => {
                invoked.push(event);
                return { kind: "result", payload: JSON.stringify({ statusCode: 200, body: "fn" }) };
            },
        } as unknown as FunctionPool;
        const gateway = new Gateway({
            model: {
                region: "us-east-1",
                tables: [],
                functions: [],
                restApis: [restApi],
                apiKeys: [key()],
                usagePlans: [plan({ throttle: { rateLimit: 1, burstLimit: 1 } })],
                permissions: [],
            },
            pools: new Map(),
            resolveFunction: (arn) => ({ pool, version: "$LATEST", invokedArn: arn }),
            limiter: new UsageLimiter(() => Date.UTC(2026, 0, 1)),
            integrationTimeoutMs: 1000,
            now: () => Date.UTC(2026, 0, 1),
            log: () => undefined,
        });
        return { gateway, invoked };
    };
    const withKey = { "x-api-key": key().value };

    it("checks the size before the route, and the route before the key", async () => {
        const { gateway } = make(api([op("GET", "/items", { apiKeyRequired: true })]));
        expect((await gateway.handle({ ...request("GET", "/stage/nothing"), tooLarge: true })).status).to.equal(413);
        const unrouted = await gateway.handle(request("GET", "/stage/nothing"));
        expect(unrouted.refusal).to.equal("MISSING_AUTHENTICATION_TOKEN");
        expect((await gateway.handle(request("GET", "/stage/items"))).refusal).to.equal("INVALID_API_KEY");
    });

    it("throttles before a MOCK answers", async () => {
        const { gateway } = make(api([op("GET", "/mock", { apiKeyRequired: true, integration: mock })]));
        const first = await gateway.handle(request("GET", "/stage/mock", withKey));
        expect(first.status).to.equal(200);
        expect(first.body.toString()).to.equal('{"mock":true}');
        expect(first.consumer).to.equal("partner");
        expect((await gateway.handle(request("GET", "/stage/mock", withKey))).refusal).to.equal("THROTTLED");
    });

    it("checks Lambda's resource policy before building or sending the event", async () => {
        const { gateway, invoked } = make(api([op("GET", "/items")]));
        const answer = await gateway.handle(request("GET", "/stage/items"));
        expect(answer.refusal).to.equal("API_CONFIGURATION_ERROR");
        expect(invoked).to.deep.equal([]);
    });
});
