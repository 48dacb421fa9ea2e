// The API key step alone (LocalStack's test_handler_api_key_validation.py is the model): a context
// built by hand, a model with keys and plans, no cloud.
import { expect } from "chai";
import { matchRoute } from "../../apigateway/matchRoute";
import { validateApiKey } from "../../apigateway/validateApiKey";
import { api, deps, key, op, plan, refusalOf, request, staged } from "./context";

describe("gateway step: validateApiKey", () => {
    const restApi = api([op("GET", "/open"), op("GET", "/items", { apiKeyRequired: true })], {
        stages: [
            {
                name: "stage",
                deploymentId: "d",
                variables: null,
                accessLog: { format: "$context.identity.apiKeyId", destinationArn: "arn" },
            },
            { name: "other", deploymentId: "d", variables: null },
        ],
    });
    const keys = [
        key(),
        key({ logicalName: "off", id: "k2", value: "disabled-value-1234567890", enabled: false }),
        key({ logicalName: "planless", id: "k3", value: "planless-value-1234567890" }),
    ];
    const d = deps(restApi, { keys, plans: [plan({ keyIds: ["k1", "k2"] })] });
    const check = (path: string, headers: Record<string, string> = {}) => {
        const ctx = staged(d, request("GET", path, headers));
        expect(matchRoute(ctx)).to.equal(undefined);
        return { ctx, result: validateApiKey(ctx, d) };
    };

    it("lets a method that requires no key through, with no consumer", () => {
        const { ctx, result } = check("/stage/open");
        expect(result).to.equal(undefined);
        expect(ctx).to.have.property("consumer", undefined);
        expect(ctx.key).to.equal(undefined);
    });

    it("takes a valid key in a plan of this API and stage: the consumer and the access log's key", () => {
        const { ctx, result } = check("/stage/items", { "X-API-Key": keys[0]!.value });
        expect(result).to.equal(undefined);
        expect(ctx.consumer).to.equal("partner");
        expect(ctx.plan?.logicalName).to.equal("plan");
        expect(ctx.access?.apiKey).to.equal(keys[0]!.value);
        expect(ctx.access?.apiKeyId).to.equal("k1");
    });

    it("refuses a missing, unknown, disabled or planless key with INVALID_API_KEY, and names no consumer", () => {
        for (const headers of [
            {} as Record<string, string>,
            { "x-api-key": "unknown-value-1234567890" },
            { "x-api-key": keys[1]!.value },
            { "x-api-key": keys[2]!.value },
        ]) {
            const { ctx, result } = check("/stage/items", headers);
            expect(refusalOf(result), JSON.stringify(headers)).to.equal("INVALID_API_KEY");
            expect(ctx).to.not.have.property("consumer");
            expect(ctx.access?.apiKeyId).to.equal(undefined);
        }
    });

    it("refuses a key whose plan is bound to another stage of the API", () => {
        const { result } = check("/other/items", { "x-api-key": keys[0]!.value });
        expect(refusalOf(result)).to.equal("INVALID_API_KEY");
    });
});
