// The throttle and quota step alone: a context past the key check, built by hand, and the real
// usage limiter in memory on a clock the test moves; no cloud.
import { expect } from "chai";
import { matchRoute } from "../../apigateway/matchRoute";
import { usageLimits } from "../../apigateway/usageLimits";
import { validateApiKey } from "../../apigateway/validateApiKey";
import type { UsagePlanModel } from "../../program/model";
import { api, deps, key, op, plan, refusalOf, request, staged } from "./context";

describe("gateway step: usageLimits (throttle, then quota)", () => {
    const restApi = api([op("GET", "/items", { apiKeyRequired: true }), op("GET", "/open")]);
    const setup = (limits: Partial<UsagePlanModel>) => {
        let now = Date.UTC(2026, 0, 1, 12);
        const d = deps(restApi, { keys: [key()], plans: [plan(limits)], now: () => now });
        const call = (path = "/stage/items") => {
            const ctx = staged(d, request("GET", path, { "x-api-key": key().value }));
            expect(matchRoute(ctx)).to.equal(undefined);
            expect(validateApiKey(ctx, d)).to.equal(undefined);
            return { ctx, result: usageLimits(ctx, d) };
        };
        return {
            call,
            advance: (ms: number) => {
                now += ms;
            },
        };
    };

    it("throttles past the plan's burst, and admits again once the bucket refills", () => {
        const { call, advance } = setup({ throttle: { rateLimit: 1, burstLimit: 2 } });
        expect(call().result).to.equal(undefined);
        expect(call().result).to.equal(undefined);
        const third = call();
        expect(refusalOf(third.result)).to.equal("THROTTLED");
        // The refusal names the caller: the key was valid.
        expect(third.ctx.consumer).to.equal("partner");
        advance(1000);
        expect(call().result).to.equal(undefined);
    });

    it("refuses past the plan's daily quota with QUOTA_EXCEEDED, and admits again the next UTC day", () => {
        const { call, advance } = setup({ quota: { limit: 2, period: "DAY", offset: 0 } });
        expect(call().result).to.equal(undefined);
        expect(call().result).to.equal(undefined);
        expect(refusalOf(call().result)).to.equal("QUOTA_EXCEEDED");
        advance(12 * 3600 * 1000);
        expect(call().result).to.equal(undefined);
    });

    it("limits nothing for a method that requires no key", () => {
        const { call } = setup({
            throttle: { rateLimit: 0, burstLimit: 0 },
            quota: { limit: 0, period: "DAY", offset: 0 },
        });
        for (let i = 0; i < 3; i++) {
            expect(call("/stage/open").result).to.equal(undefined);
        }
        expect(refusalOf(call().result)).to.not.equal(undefined);
    });
});
