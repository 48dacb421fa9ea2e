// Usage plans over real HTTP: token-bucket throttles (plan-wide and per method) and quotas per
// period, with stacks defined here and a clock the tests move instead of waiting.
import { expect } from "chai";
import type { LocalCloud } from "local-cloud";
import { call, removeStateDir, startTestCloud, type HttpResult } from "local-cloud/testing";

const ROOMY_THROTTLE = { rateLimit: 10_000, burstLimit: 5_000 };
const ROOMY_QUOTA = { limit: 1_000_000, period: "DAY" };
const HOUR = 3_600_000;

const expectThrottled = (r: HttpResult) => {
    expect(r.status, r.text).to.equal(429);
    expect(r.text).to.equal('{"message":"Too Many Requests"}');
    expect(r.headers.get("x-amzn-errortype")).to.equal("TooManyRequestsException");
};
const expectOverQuota = (r: HttpResult) => {
    expect(r.status, r.text).to.equal(429);
    expect(r.text).to.equal('{"message":"Limit Exceeded"}');
    expect(r.headers.get("x-amzn-errortype")).to.equal("LimitExceededException");
};

describe("local cloud: usage plans (stack defined by the test)", function () {
    let cloud: LocalCloud;
    // Wednesday 2026-11-18 12:00Z: the same UTC day, week and month for a while either way.
    let clock = Date.UTC(2026, 10, 18, 12);
    const get = (consumer: string, path = "posts/00000000-0000-4000-8000-000000000000") =>
        call(`${cloud.stageUrl}${path}`, { headers: { "x-api-key": cloud.apiKeys[consumer]! } });
    const post = (consumer: string) =>
        call(`${cloud.stageUrl}posts`, {
            method: "POST",
            headers: { "x-api-key": cloud.apiKeys[consumer]! },
            body: { title: "t", author: "a", publicationDate: "2026-11-21" },
        });
    const statuses = async (n: number, send: () => Promise<HttpResult>) => {
        const result: number[] = [];
        for (let i = 0; i < n; i++) {
            result.push((await send()).status);
        }
        return result;
    };

    before(async () => {
        cloud = await startTestCloud({
            stack: "limits",
            now: () => clock,
            stackConfig: {
                "posts-api:plans": {
                    bursty: { throttle: { rateLimit: 0.5, burstLimit: 3 }, quota: ROOMY_QUOTA },
                    daily: { throttle: ROOMY_THROTTLE, quota: { limit: 3, period: "DAY" } },
                    weekly: { throttle: ROOMY_THROTTLE, quota: { limit: 5, period: "WEEK" } },
                    both: { throttle: { rateLimit: 0.5, burstLimit: 1 }, quota: { limit: 2, period: "DAY" } },
                    writes: {
                        throttle: ROOMY_THROTTLE,
                        quota: ROOMY_QUOTA,
                        methodThrottles: { "/posts/POST": { rateLimit: 1, burstLimit: 2 } },
                    },
                },
                "posts-api:consumers": [
                    { name: "bursty-a", plan: "bursty" },
                    { name: "bursty-b", plan: "bursty" },
                    { name: "daily", plan: "daily" },
                    { name: "weekly", plan: "weekly" },
                    { name: "writer", plan: "writes" },
                    { name: "both", plan: "both" },
                ],
            },
        });
    });

    beforeEach(() => cloud.resetUsage());

    after(async () => {
        await cloud?.close();
        if (cloud) {
            removeStateDir(cloud.stateDir);
        }
    });

    it("lets a full bucket's burst through, then answers 429 Too Many Requests", async () => {
        expect(await statuses(3, () => get("bursty-a"))).to.deep.equal([404, 404, 404]);
        expectThrottled(await get("bursty-a"));
    });

    it("refills the bucket at rateLimit tokens per second (0.5/s: one request per 2 s)", async () => {
        await statuses(3, () => get("bursty-a"));
        clock += 1000;
        expectThrottled(await get("bursty-a"));
        clock += 1000;
        expect((await get("bursty-a")).status).to.equal(404);
        expectThrottled(await get("bursty-a"));
        clock += 60_000;
        // Never more than burstLimit at once, however long the key was idle.
        expect(await statuses(4, () => get("bursty-a"))).to.deep.equal([404, 404, 404, 429]);
    });

    it("keeps one bucket per key, not per plan", async () => {
        await statuses(3, () => get("bursty-a"));
        expectThrottled(await get("bursty-a"));
        expect((await get("bursty-b")).status).to.equal(404);
    });

    it("applies a per-method throttle to that method only", async () => {
        expect(await statuses(2, () => post("writer"))).to.deep.equal([201, 201]);
        expectThrottled(await post("writer"));
        expect(await statuses(5, () => get("writer"))).to.deep.equal([404, 404, 404, 404, 404]);
        clock += 1000;
        expect((await post("writer")).status).to.equal(201);
    });

    it("answers 429 Limit Exceeded past the quota, until the next UTC day", async () => {
        expect(await statuses(3, () => get("daily"))).to.deep.equal([404, 404, 404]);
        expectOverQuota(await get("daily"));
        clock += HOUR;
        expectOverQuota(await get("daily"));
        clock = Date.UTC(2026, 10, 19, 0, 0, 0);
        expect((await get("daily")).status).to.equal(404);
    });

    it("counts a WEEK quota from Monday 00:00Z, summing the key's days in the week", async () => {
        clock = Date.UTC(2026, 10, 18, 12); // Wednesday
        expect(await statuses(2, () => get("weekly"))).to.deep.equal([404, 404]);
        clock = Date.UTC(2026, 10, 20, 12); // Friday of the same week
        expect(await statuses(3, () => get("weekly"))).to.deep.equal([404, 404, 404]);
        expectOverQuota(await get("weekly"));
        clock = Date.UTC(2026, 10, 22, 23, 59); // Sunday: still the same week
        expectOverQuota(await get("weekly"));
        clock = Date.UTC(2026, 10, 23, 0, 0); // Monday: a new week with the full limit
        expect(await statuses(5, () => get("weekly"))).to.deep.equal([404, 404, 404, 404, 404]);
        expectOverQuota(await get("weekly"));
    });

    it("counts neither throttled requests nor keyless methods against the quota", async () => {
        expect((await call(`${cloud.stageUrl}posts`, { method: "OPTIONS" })).status).to.equal(204);
        expect((await get("both")).status).to.equal(404);
        expectThrottled(await get("both"));
        expectThrottled(await get("both"));
        clock += 2000;
        expect((await get("both")).status).to.equal(404);
        clock += 2000;
        expectOverQuota(await get("both"));
    });

    it("does not lock a key out when the clock steps back an hour (the bucket re-anchors, never negative)", async () => {
        await statuses(3, () => get("bursty-a"));
        expectThrottled(await get("bursty-a"));
        clock -= HOUR;
        expectThrottled(await get("bursty-a"));
        clock += 2000; // 0.5/s: one token two seconds after the step, as without it
        expect((await get("bursty-a")).status).to.equal(404);
        expectThrottled(await get("bursty-a"));
        clock += 60_000;
        expect(await statuses(4, () => get("bursty-a"))).to.deep.equal([404, 404, 404, 429]);
    });

    it("keeps a used-up daily quota when the clock steps back over midnight, and rolls over at the next 00:00Z", async () => {
        clock = Date.UTC(2026, 10, 19, 0, 30);
        expect(await statuses(3, () => get("daily"))).to.deep.equal([404, 404, 404]);
        expectOverQuota(await get("daily"));
        clock = Date.UTC(2026, 10, 18, 23, 30); // back an hour, into yesterday
        expectOverQuota(await get("daily"));
        clock = Date.UTC(2026, 10, 19, 0, 40); // the clock catches up: still the same day
        expectOverQuota(await get("daily"));
        clock = Date.UTC(2026, 10, 20, 0, 0); // forward over midnight: a new day, as if time passed
        expect((await get("daily")).status).to.equal(404);
    });

    it("never starts a period early after a backwards step: what was counted still counts", async () => {
        clock = Date.UTC(2026, 10, 23, 0, 10); // Monday
        expect(await statuses(4, () => get("weekly"))).to.deep.equal([404, 404, 404, 404]);
        clock = Date.UTC(2026, 10, 22, 23, 50); // back into Sunday, the previous week
        expect((await get("weekly")).status).to.equal(404);
        expectOverQuota(await get("weekly"));
        clock = Date.UTC(2026, 10, 23, 1, 0);
        expectOverQuota(await get("weekly"));
    });

    it("forgets every counter on resetUsage()", async () => {
        await statuses(4, () => get("daily"));
        expectOverQuota(await get("daily"));
        cloud.resetUsage();
        expect((await get("daily")).status).to.equal(404);
    });
});

describe("local cloud: the shipped dev stack's limits", function () {
    let cloud: LocalCloud;

    before(async () => {
        cloud = await startTestCloud({ stack: "dev" });
    });

    after(async () => {
        await cloud?.close();
        if (cloud) {
            removeStateDir(cloud.stateDir);
        }
    });

    it("throttles POST /posts at the dev plan's per-method burst of 3", async () => {
        const key = cloud.apiKeys["developer"]!;
        const results: number[] = [];
        for (let i = 0; i < 4; i++) {
            const r = await call(`${cloud.stageUrl}posts`, {
                method: "POST",
                headers: { "x-api-key": key },
                body: { title: "t", author: "a", publicationDate: "2026-11-21" },
            });
            results.push(r.status);
        }
        // Within a fraction of a second the 1/s refill adds at most one token.
        expect(results.slice(0, 3)).to.deep.equal([201, 201, 201]);
        expect(results.filter((s) => s === 429).length + results.filter((s) => s === 201).length).to.equal(4);
        const burst = await Promise.all(
            [1, 2, 3].map(() =>
                call(`${cloud.stageUrl}posts`, {
                    method: "POST",
                    headers: { "x-api-key": key },
                    body: { title: "t", author: "a", publicationDate: "2026-11-21" },
                }),
            ),
        );
        expect(burst.map((r) => r.status)).to.include(429);
    });
});
