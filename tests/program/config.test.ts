// Bad stack settings stop the program with a message naming the key and the problem.
import { expect } from "chai";
import { parseStackConfig, validateApiKeyValues } from "../../config/stackConfig";
import { ofType, programWith, TYPES } from "../support/program";

/* eslint-disable @typescript-eslint/no-explicit-any */

const validPlans = () => ({
    standard: { throttle: { rateLimit: 10, burstLimit: 20 }, quota: { limit: 1000, period: "DAY" } },
});
const valid = (): Record<string, any> => ({
    plans: validPlans(),
    consumers: [
        { name: "mobile-app", plan: "standard" },
        { name: "partner", plan: "standard", enabled: false },
    ],
});

function expectConfigError(raw: Record<string, unknown>, ...fragments: string[]) {
    expect(() => parseStackConfig("dev", raw))
        .to.throw(Error)
        .that.satisfies((err: Error) => {
            for (const fragment of fragments) {
                expect(err.message).to.include(fragment);
            }
            return true;
        });
}

describe("stack config validation", () => {
    it("accepts the documented shape and fills defaults", () => {
        const config = parseStackConfig("dev", {
            ...valid(),
            plans: { standard: { ...validPlans().standard, throttle: { rateLimit: 0.5, burstLimit: 1 } } },
        });
        expect(config.lambdaTimeout).to.equal(10);
        expect(config.plans["standard"]!.throttle.rateLimit).to.equal(0.5);
        expect(config.plans["standard"]!.quota.offset).to.equal(0);
        expect(config.consumers.map((c) => c.enabled)).to.deep.equal([true, false]);
    });

    it("fills the operations settings' defaults: ERROR execution log, INFO function logs, no tracing, alarms on", () => {
        const config = parseStackConfig("dev", valid());
        expect(config).to.deep.include({
            executionLogLevel: "ERROR",
            functionLogLevel: "INFO",
            tracing: false,
            manageApiGatewayAccount: false,
        });
        expect(config.alarms).to.deep.equal({
            enabled: true,
            emails: [],
            topicArns: [],
            serverErrorRate: 0.01,
            latencyP99Ms: 2500,
            clientErrorRate: 0.25,
            functionErrors: 1,
            functionThrottles: 1,
            periodSeconds: 300,
            evaluationPeriods: 1,
        });
        // A partial alarms object keeps the other defaults.
        expect(parseStackConfig("dev", { ...valid(), alarms: { enabled: false } }).alarms).to.deep.include({
            enabled: false,
            serverErrorRate: 0.01,
        });
    });

    const cases: Array<[string, (raw: Record<string, any>) => void, string[]]> = [
        [
            "a consumer references an unknown plan",
            (r) => {
                r.consumers[0].plan = "gold";
            },
            ["posts-api:consumers[0].plan", 'unknown plan "gold"'],
        ],
        [
            "two consumers share a name",
            (r) => {
                r.consumers[1].name = "mobile-app";
            },
            ["posts-api:consumers[1].name", "duplicate consumer name"],
        ],
        [
            "there are no consumers",
            (r) => {
                r.consumers = [];
            },
            ["posts-api:consumers", "at least one consumer"],
        ],
        [
            "consumers is missing",
            (r) => {
                delete r.consumers;
            },
            ["posts-api:consumers", "required"],
        ],
        [
            "rateLimit is zero",
            (r) => {
                r.plans.standard.throttle.rateLimit = 0;
            },
            ["posts-api:plans.standard.throttle.rateLimit", "greater than 0"],
        ],
        [
            "rateLimit is negative",
            (r) => {
                r.plans.standard.throttle.rateLimit = -1;
            },
            ["posts-api:plans.standard.throttle.rateLimit", "greater than 0"],
        ],
        [
            "burstLimit is zero",
            (r) => {
                r.plans.standard.throttle.burstLimit = 0;
            },
            ["posts-api:plans.standard.throttle.burstLimit", "greater than 0"],
        ],
        [
            "burstLimit is fractional",
            (r) => {
                r.plans.standard.throttle.burstLimit = 1.5;
            },
            ["posts-api:plans.standard.throttle.burstLimit", "whole number"],
        ],
        [
            "the quota period is not DAY/WEEK/MONTH",
            (r) => {
                r.plans.standard.quota.period = "YEAR";
            },
            ["posts-api:plans.standard.quota.period", "DAY, WEEK, MONTH"],
        ],
        [
            "the quota offset is not 0",
            (r) => {
                r.plans.standard.quota.offset = 1;
            },
            ["posts-api:plans.standard.quota.offset", "offset must be 0"],
        ],
        [
            "a consumer is renamed from a name still in the list",
            (r) => {
                r.consumers[0].renamedFrom = "partner";
            },
            ["posts-api:consumers[0].renamedFrom", '"partner" is still a consumer'],
        ],
        [
            "two consumers are renamed from one name",
            (r) => {
                r.consumers[0].renamedFrom = "old";
                r.consumers[1].renamedFrom = "old";
            },
            ["posts-api:consumers[1].renamedFrom", 'two consumers are renamed from "old"'],
        ],
        [
            "renamedFrom is not a consumer name",
            (r) => {
                r.consumers[0].renamedFrom = "Old App";
            },
            ["posts-api:consumers[0].renamedFrom", "lowercase letters"],
        ],
        [
            "lambdaTimeout is over 29",
            (r) => {
                r.lambdaTimeout = 30;
            },
            ["posts-api:lambdaTimeout", "at most 29"],
        ],
        [
            "a plan has an unknown key",
            (r) => {
                r.plans.standard.burst = 5;
            },
            ["posts-api:plans.standard.burst", "unknown key"],
        ],
        [
            "a throttle has an unknown key",
            (r) => {
                r.plans.standard.throttle.rate = 5;
            },
            ["posts-api:plans.standard.throttle.rate", "unknown key"],
        ],
        [
            "a top-level key is misspelt",
            (r) => {
                r.lambdaTimout = 5;
            },
            ["posts-api:lambdaTimout", "unknown key"],
        ],
        [
            "a method throttle key is malformed",
            (r) => {
                r.plans.standard.methodThrottles = { "POST /posts": { rateLimit: 1, burstLimit: 1 } };
            },
            ["posts-api:plans.standard.methodThrottles", "/posts/POST"],
        ],
        [
            "logRetentionDays is not a CloudWatch value",
            (r) => {
                r.logRetentionDays = 10;
            },
            ["posts-api:logRetentionDays", "must be one of"],
        ],
        [
            "corsAllowOrigin is a list",
            (r) => {
                r.corsAllowOrigin = "https://a.com,https://b.com";
            },
            ["posts-api:corsAllowOrigin"],
        ],
        [
            "executionLogLevel is not OFF/ERROR/INFO",
            (r) => {
                r.executionLogLevel = "DEBUG";
            },
            ["posts-api:executionLogLevel", "OFF, ERROR, INFO"],
        ],
        [
            "functionLogLevel is not DEBUG/INFO/WARN/ERROR",
            (r) => {
                r.functionLogLevel = "TRACE";
            },
            ["posts-api:functionLogLevel", "DEBUG, INFO, WARN, ERROR"],
        ],
        [
            "tracing is not a boolean",
            (r) => {
                r.tracing = "yes";
            },
            ["posts-api:tracing", "true or false"],
        ],
        [
            "manageApiGatewayAccount is not a boolean",
            (r) => {
                r.manageApiGatewayAccount = 1;
            },
            ["posts-api:manageApiGatewayAccount", "true or false"],
        ],
        [
            "an alarm e-mail is not an address",
            (r) => {
                r.alarms = { emails: ["ops"] };
            },
            ["posts-api:alarms.emails[0]", "e-mail addresses"],
        ],
        [
            "an alarm e-mail is listed twice",
            (r) => {
                r.alarms = { emails: ["ops@example.com", "ops@example.com"] };
            },
            ["posts-api:alarms.emails", "twice"],
        ],
        [
            "an alarm rate is over 1",
            (r) => {
                r.alarms = { serverErrorRate: 5 };
            },
            ["posts-api:alarms.serverErrorRate", "between 0 and 1"],
        ],
        [
            "the p99 latency threshold is fractional",
            (r) => {
                r.alarms = { latencyP99Ms: 2.5 };
            },
            ["posts-api:alarms.latencyP99Ms", "whole number"],
        ],
        [
            "the alarm period is not whole minutes",
            (r) => {
                r.alarms = { periodSeconds: 90 };
            },
            ["posts-api:alarms.periodSeconds", "multiple of 60"],
        ],
        [
            "an alarm topic is not an SNS topic ARN",
            (r) => {
                r.alarms = { topicArns: ["arn:aws:sqs:us-east-1:123456789012:oncall"] };
            },
            ["posts-api:alarms.topicArns[0]", "SNS topic ARNs"],
        ],
        [
            "alarms has an unknown key",
            (r) => {
                r.alarms = { emial: [] };
            },
            ["posts-api:alarms.emial", "unknown key"],
        ],
    ];
    for (const [what, breakIt, fragments] of cases) {
        it(`refuses config where ${what}`, () => {
            const raw = valid();
            breakIt(raw);
            expectConfigError(raw, ...fragments);
        });
    }

    it("refuses a stack name API Gateway cannot use as a stage name", () => {
        expect(() => parseStackConfig("feat.x", valid())).to.throw(
            'Stack name "feat.x" cannot be an API Gateway stage name',
        );
    });

    it("lists every problem at once", () => {
        const raw = valid();
        raw.plans.standard.throttle.rateLimit = 0;
        raw.lambdaTimeout = 99;
        expectConfigError(raw, "rateLimit", "lambdaTimeout");
    });

    it("refuses configured key values outside 20-128 characters or for unknown consumers", () => {
        const names = new Set(["mobile-app"]);
        expect(validateApiKeyValues({ "mobile-app": "x".repeat(40) }, names)).to.deep.equal({
            "mobile-app": "x".repeat(40),
        });
        expect(() => validateApiKeyValues({ "mobile-app": "short" }, names)).to.throw(
            "posts-api:apiKeyValues.mobile-app",
        );
        expect(() => validateApiKeyValues({ other: "x".repeat(40) }, names)).to.throw('no live key named "other"');
    });

    it("accepts only what API Gateway does as a key value: 20-128 letters and digits", () => {
        const names = new Set(["app"]);
        for (const good of ["A".repeat(20), "aZ09".repeat(32), "0123456789abcdefABCDEFghij"]) {
            expect(validateApiKeyValues({ app: good }, names), good).to.deep.equal({ app: good });
        }
        const bad = [
            "A".repeat(19),
            "A".repeat(129),
            `${"a".repeat(30)}-${"b".repeat(9)}`,
            `${"a".repeat(30)}_x`,
            `${"a".repeat(30)} x`,
            `${"a".repeat(30)}é`,
            "a".repeat(30) + "\n",
            1234567890123456,
        ];
        for (const value of bad) {
            expect(() => validateApiKeyValues({ app: value }, names), String(value)).to.throw(
                /^posts-api:apiKeyValues\.app: an API key value must be 20-128 letters \(A-Z, a-z\) and digits$/,
            );
        }
    });

    it("refuses one value for two consumers, naming both keys and never the value", () => {
        const value = "SharedValue0123456789abcdef";
        let failure: Error | undefined;
        try {
            validateApiKeyValues({ a: "UniqueValue0123456789xyz", b: value, c: value }, new Set(["a", "b", "c"]));
        } catch (err) {
            failure = err as Error;
        }
        expect(failure?.message).to.equal(
            "posts-api:apiKeyValues.c: the same value as posts-api:apiKeyValues.b; API Gateway needs every key value to be unique",
        );
        expect(failure?.message).not.to.include(value);
    });

    it("fails the whole program on a duplicated key value, naming the key", async () => {
        const value = "DuplicatedValue0123456789";
        let failure: Error | undefined;
        try {
            await programWith({ stack: "dev", config: { "posts-api:apiKeyValues": { developer: value, ci: value } } });
        } catch (err) {
            failure = err as Error;
        }
        expect(failure?.message).to.include(
            "posts-api:apiKeyValues.ci: the same value as posts-api:apiKeyValues.developer",
        );
    });

    it("accepts a quota offset of 0, given or not", () => {
        const raw = valid();
        raw.plans.standard.quota.offset = 0;
        expect(parseStackConfig("dev", raw).plans["standard"]!.quota.offset).to.equal(0);
    });

    it("fails the whole program, naming the key, when a stack's config is bad", async () => {
        let failure: Error | undefined;
        try {
            await programWith({ stack: "dev", config: { "posts-api:lambdaTimeout": 45 } });
        } catch (err) {
            failure = err as Error;
        }
        expect(failure?.message).to.include("posts-api:lambdaTimeout");
    });
});

describe("method throttles", () => {
    it("refuses a throttle on an operation the API does not have", async () => {
        const plans: Record<string, any> = validPlans();
        plans["standard"].methodThrottles = { "/comments/POST": { rateLimit: 1, burstLimit: 1 } };
        let failure: Error | undefined;
        try {
            await programWith({
                stack: "throttles",
                stackConfig: { "posts-api:plans": plans, "posts-api:consumers": [{ name: "a", plan: "standard" }] },
            });
        } catch (err) {
            failure = err as Error;
        }
        expect(failure?.message).to.include(
            'posts-api:plans.standard.methodThrottles."/comments/POST": no such operation',
        );
    });
});

describe("API key identity", () => {
    it("carries a renamed consumer's key and plan attachment over to the new name (renamedFrom -> aliases)", async () => {
        const plans = validPlans();
        const pinned = "PinnedKeyValue0123456789abcdef";
        const before = await programWith({
            stack: "rename",
            stackConfig: {
                "posts-api:plans": plans,
                "posts-api:consumers": [
                    { name: "mobile", plan: "standard" },
                    { name: "web", plan: "standard" },
                ],
                "posts-api:apiKeyValues": { mobile: pinned },
            },
        });
        const after = await programWith({
            stack: "rename",
            stackConfig: {
                "posts-api:plans": plans,
                "posts-api:consumers": [
                    { name: "mobile-app", plan: "standard", renamedFrom: "mobile" },
                    { name: "web", plan: "standard" },
                ],
                "posts-api:apiKeyValues": { "mobile-app": pinned },
            },
        });
        for (const type of [TYPES.apiKey, TYPES.usagePlanKey]) {
            const old = ofType(before, type).find((r) => r.name === "mobile")!;
            const renamed = ofType(after, type).find((r) => r.name === "mobile-app")!;
            // The engine matches the new URN to the old resource: an update, not a create and a delete.
            expect(renamed.urn).to.not.equal(old.urn);
            expect(renamed.aliases, type).to.deep.equal([old.urn]);
            // The untouched consumer keeps its URN and needs no alias.
            const web = ofType(after, type).find((r) => r.name === "web")!;
            expect(web.urn).to.equal(ofType(before, type).find((r) => r.name === "web")!.urn);
            expect(web.aliases).to.deep.equal([]);
        }
        // Same value, same key: nothing for AWS to refuse as a duplicate.
        expect(ofType(after, TYPES.apiKey).find((k) => k.name === "mobile-app")!.inputs["value"]).to.equal(pinned);
    });

    it("keeps every consumer's key when consumers are added, removed or reordered", async () => {
        const plans = validPlans();
        const before = await programWith({
            stack: "keys",
            stackConfig: {
                "posts-api:plans": plans,
                "posts-api:consumers": [
                    { name: "a", plan: "standard" },
                    { name: "b", plan: "standard" },
                    { name: "c", plan: "standard" },
                ],
            },
        });
        const after = await programWith({
            stack: "keys",
            stackConfig: {
                "posts-api:plans": plans,
                "posts-api:consumers": [
                    { name: "new", plan: "standard" },
                    { name: "c", plan: "standard" },
                    { name: "a", plan: "standard" },
                ],
            },
        });
        const urns = (p: typeof before) => Object.fromEntries(ofType(p, TYPES.apiKey).map((k) => [k.name, k.urn]));
        const beforeUrns = urns(before);
        const afterUrns = urns(after);
        expect(afterUrns["a"]).to.equal(beforeUrns["a"]);
        expect(afterUrns["c"]).to.equal(beforeUrns["c"]);
        expect(afterUrns["a"]).to.match(/::a$/);
        // The first consumer's key is the `apiKey` output, whichever consumer that is.
        expect(after.outputs["apiKey"]).to.equal((after.outputs["apiKeys"] as Record<string, string>)["new"]);
    });
});
