// Quota counts that survive crashes and clock steps: each admitted request is written ahead to
// `<stateDir>/usage.log` (per plan, key and UTC day), compacted at start, read back after a restart
// with a clock stepped back, kept counting on a full disk, and a damaged or wrong-shaped file
// (including an old usage.json) stops the start with one clear line instead of a fresh quota.
import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { AppendLog } from "local-cloud";
import type { LocalCloud } from "local-cloud";
import type { UsagePlanModel } from "local-cloud";
import { call, removeStateDir, startTestCloud, tempStateDir } from "local-cloud/testing";
import { quotaOffsetWarnings, USAGE_LOG_HEADER, UsageLimiter, type UsageRecord } from "local-cloud";

const plan = (quota?: UsagePlanModel["quota"], throttle?: UsagePlanModel["throttle"]): UsagePlanModel => ({
    logicalName: "plan",
    id: "p1",
    keyIds: ["k1"],
    apiStages: [{ apiId: "a", stage: "dev", throttles: {} }],
    quota,
    throttle,
});
const DAILY_3 = plan({ limit: 3, period: "DAY", offset: 0 });

/** The records in a usage log, read as the next start would (a copy, so the live file is untouched). */
function logRecords(dir: string): UsageRecord[] {
    const copy = path.join(dir, `copy-${Math.random().toString(16).slice(2)}.log`);
    fs.copyFileSync(path.join(dir, "usage.log"), copy);
    const opened = AppendLog.open<UsageRecord>(copy, USAGE_LOG_HEADER);
    opened.log.close();
    fs.rmSync(copy);
    return opened.records;
}

const lines = (dir: string) => fs.readFileSync(path.join(dir, "usage.log"), "utf8").trimEnd().split("\n");

function expectLocalCloudError(fn: () => unknown, message: RegExp) {
    let error: Error | undefined;
    try {
        fn();
    } catch (err) {
        error = err as Error;
    }
    expect(error, "expected a LocalCloudError").to.be.instanceOf(Error);
    expect(error!.name).to.equal("LocalCloudError");
    expect(error!.message).to.match(message);
}

describe("local cloud: usage counts (usage.log)", () => {
    const dirs: string[] = [];
    const freshDir = () => {
        const dir = tempStateDir("usage");
        fs.mkdirSync(dir, { recursive: true });
        dirs.push(dir);
        return dir;
    };
    after(() => dirs.forEach(removeStateDir));

    it("writes each admitted request to the log before admit returns, per plan, key and UTC day", () => {
        const dir = freshDir();
        let clock = Date.UTC(2026, 10, 18, 23, 59);
        const limiter = UsageLimiter.open(dir, { now: () => clock });
        expect(limiter.admit(DAILY_3, "k1", "dev", "/x/GET")).to.equal("OK");
        expect(limiter.admit(DAILY_3, "k2", "dev", "/x/GET")).to.equal("OK");
        clock = Date.UTC(2026, 10, 19, 0, 1);
        expect(limiter.admit(DAILY_3, "k1", "dev", "/x/GET")).to.equal("OK");
        // Not closed: what a kill -9 at this moment leaves behind.
        expect(logRecords(dir)).to.deep.equal([
            { plan: "plan", key: "k1", day: "2026-11-18", count: 1 },
            { plan: "plan", key: "k2", day: "2026-11-18", count: 1 },
            { plan: "plan", key: "k1", day: "2026-11-19", count: 1 },
        ]);
        limiter.close();
    });

    it("does not count refused requests (throttled or over quota)", () => {
        const dir = freshDir();
        const limiter = UsageLimiter.open(dir, { now: () => Date.UTC(2026, 10, 18, 12) });
        const p = plan({ limit: 2, period: "DAY", offset: 0 }, { rateLimit: 1, burstLimit: 3 });
        expect([1, 2, 3, 4].map(() => limiter.admit(p, "k1", "dev", "/x/GET"))).to.deep.equal([
            "OK",
            "OK",
            "QUOTA_EXCEEDED",
            "THROTTLED",
        ]);
        expect(logRecords(dir).reduce((sum, r) => sum + r.count, 0)).to.equal(2);
        limiter.close();
    });

    it("compacts the log at start to one record per plan, key and day, and keeps the daily series", () => {
        const dir = freshDir();
        let clock = Date.UTC(2026, 10, 17, 12);
        const first = UsageLimiter.open(dir, { now: () => clock });
        const roomy = plan({ limit: 1000, period: "MONTH", offset: 0 });
        for (let i = 0; i < 40; i++) {
            first.admit(roomy, i % 2 ? "k1" : "k2", "dev", "/x/GET");
        }
        clock += 86_400_000;
        for (let i = 0; i < 7; i++) {
            first.admit(roomy, "k1", "dev", "/x/GET");
        }
        first.close();
        expect(lines(dir)).to.have.length(1 + 47);

        const second = UsageLimiter.open(dir, { now: () => clock });
        expect(lines(dir)).to.have.length(1 + 3);
        expect(second.dailyUsage("plan", "k1", "2026-11-16", "2026-11-19")).to.deep.equal([
            { day: "2026-11-16", used: 0 },
            { day: "2026-11-17", used: 20 },
            { day: "2026-11-18", used: 27 - 20 },
            { day: "2026-11-19", used: 0 },
        ]);
        expect(second.periodUsage(roomy, "k1")).to.deep.equal({ start: "2026-11-01", used: 27, remaining: 973 });
        second.close();
    });

    it("compacts a long-running server's log every compactEvery appends, losing no count", () => {
        const dir = freshDir();
        const limiter = UsageLimiter.open(dir, { now: () => Date.UTC(2026, 10, 18), compactEvery: 10 });
        const roomy = plan({ limit: 1000, period: "DAY", offset: 0 });
        for (let i = 0; i < 25; i++) {
            limiter.admit(roomy, "k1", "dev", "/x/GET");
        }
        expect(lines(dir).length).to.be.at.most(1 + 10);
        expect(logRecords(dir).reduce((sum, r) => sum + r.count, 0)).to.equal(25);
        limiter.close();
    });

    it("re-anchors a throttle bucket on a clock stepped back (never negative, never a lock-out)", () => {
        let clock = Date.UTC(2026, 10, 18, 12);
        const limiter = new UsageLimiter(() => clock);
        const p = plan(undefined, { rateLimit: 1, burstLimit: 2 });
        expect([1, 2, 3].map(() => limiter.admit(p, "k1", "dev", "/x/GET"))).to.deep.equal(["OK", "OK", "THROTTLED"]);
        clock -= 3_600_000;
        expect(limiter.admit(p, "k1", "dev", "/x/GET")).to.equal("THROTTLED");
        clock += 1000;
        expect(limiter.admit(p, "k1", "dev", "/x/GET")).to.equal("OK");
        // A forward step is elapsed time: the bucket refills, up to its burst.
        clock += 3_600_000;
        expect([1, 2, 3].map(() => limiter.admit(p, "k1", "dev", "/x/GET"))).to.deep.equal(["OK", "OK", "THROTTLED"]);
    });

    it("keeps quota periods on the latest time seen, across a restart with the clock stepped back", () => {
        const dir = freshDir();
        let clock = Date.UTC(2026, 10, 19, 0, 20);
        const first = UsageLimiter.open(dir, { now: () => clock });
        expect([1, 2, 3, 4].map(() => first.admit(DAILY_3, "k1", "dev", "/x/GET"))).to.deep.equal([
            "OK",
            "OK",
            "OK",
            "QUOTA_EXCEEDED",
        ]);
        first.close();
        clock = Date.UTC(2026, 10, 18, 23, 20); // an hour back, into yesterday
        const second = UsageLimiter.open(dir, { now: () => clock });
        expect(second.admit(DAILY_3, "k1", "dev", "/x/GET")).to.equal("QUOTA_EXCEEDED");
        expect(second.periodUsage(DAILY_3, "k1")).to.deep.equal({ start: "2026-11-19", used: 3, remaining: 0 });
        clock = Date.UTC(2026, 10, 20, 0, 0);
        expect(second.admit(DAILY_3, "k1", "dev", "/x/GET")).to.equal("OK");
        second.close();
    });

    it("keeps serving on a full disk, counting in memory, and writes those counts once the disk has room", () => {
        const dir = freshDir();
        let full = false;
        const warnings: string[] = [];
        const faults = {
            beforeWrite: () => {
                if (full) {
                    throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
                }
            },
        };
        const p = plan({ limit: 5, period: "DAY", offset: 0 });
        const limiter = UsageLimiter.open(dir, {
            now: () => Date.UTC(2026, 10, 18),
            faults,
            warn: (m) => warnings.push(m),
        });
        expect(limiter.admit(p, "k1", "dev", "/x/GET")).to.equal("OK");
        full = true;
        expect([1, 2, 3].map(() => limiter.admit(p, "k1", "dev", "/x/GET"))).to.deep.equal(["OK", "OK", "OK"]);
        // The quota still holds in memory while nothing can be written.
        expect([1, 2].map(() => limiter.admit(p, "k1", "dev", "/x/GET"))).to.deep.equal(["OK", "QUOTA_EXCEEDED"]);
        expect(warnings).to.have.length(1);
        expect(warnings[0]).to.match(/usage\.log cannot be written \(ENOSPC\): requests are still served/);
        expect(logRecords(dir).reduce((sum, r) => sum + r.count, 0)).to.equal(1);
        full = false;
        expect(limiter.admit(plan({ limit: 5, period: "DAY", offset: 0 }), "k2", "dev", "/x/GET")).to.equal("OK");
        expect(warnings[1]).to.match(/can be written again: saved 5 counts/);
        const saved = logRecords(dir);
        expect(saved.filter((r) => r.key === "k1").reduce((sum, r) => sum + r.count, 0)).to.equal(5);
        limiter.close();
        const reopened = UsageLimiter.open(dir, { now: () => Date.UTC(2026, 10, 18) });
        expect(reopened.admit(p, "k1", "dev", "/x/GET")).to.equal("QUOTA_EXCEEDED");
        reopened.close();
    });

    it("refuses a log with a record of the wrong shape, naming the file, the line and the way out", () => {
        for (const bad of [
            { plan: "p", key: "k", day: "2026-11-31", count: 1 },
            { plan: "p", key: "k", day: "2026-13-01", count: 1 },
            { plan: "p", key: "k", day: "2026-11-18", count: -2 },
            [1, 2],
            null,
        ]) {
            const dir = freshDir();
            UsageLimiter.open(dir, { now: Date.now }).close();
            const opened = AppendLog.open(path.join(dir, "usage.log"), USAGE_LOG_HEADER);
            opened.log.append([{ plan: "p", key: "k", day: "2026-11-18", count: 1 }, bad]);
            opened.log.close();
            const before = fs.readFileSync(path.join(dir, "usage.log"));
            expectLocalCloudError(
                () => UsageLimiter.open(dir, { now: Date.now }),
                new RegExp(
                    `${dir}/usage\\.log line 3 is not a usage record .*mv .*usage\\.log .*usage\\.log\\.damaged`,
                ),
            );
            expect(fs.readFileSync(path.join(dir, "usage.log"))).to.deep.equal(before);
        }
    });

    it("refuses a damaged log (a flipped byte) instead of starting with fresh quotas", () => {
        const dir = freshDir();
        const limiter = UsageLimiter.open(dir, { now: () => Date.UTC(2026, 10, 18) });
        limiter.admit(DAILY_3, "k1", "dev", "/x/GET");
        limiter.admit(DAILY_3, "k2", "dev", "/x/GET");
        limiter.close();
        const file = path.join(dir, "usage.log");
        fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace('"count":1}', '"count":9}'));
        expectLocalCloudError(
            () => UsageLimiter.open(dir, { now: Date.now }),
            /usage\.log is damaged at line 2 .*usage\.log\.damaged/,
        );
    });

    it("moves an old usage.json's counters into the log once, then keeps it as usage.json.migrated", () => {
        const dir = freshDir();
        const day = Date.UTC(2026, 10, 18);
        fs.writeFileSync(
            path.join(dir, "usage.json"),
            JSON.stringify({
                plans: { "a/b": { createdAt: 0 }, plain: { createdAt: 0 } },
                quotas: {
                    "a/b/key/1": { periodStart: day, used: 2 },
                    "plain/k": { periodStart: day, used: 3 },
                    "plain/idle": { periodStart: day, used: 0 },
                },
            }),
        );
        const warnings: string[] = [];
        const limiter = UsageLimiter.open(dir, { now: () => day + 3_600_000, warn: (m) => warnings.push(m) });
        expect(warnings.join("\n")).to.match(/moved the quota counters of .*usage\.json into usage\.log/);
        expect(fs.existsSync(path.join(dir, "usage.json"))).to.equal(false);
        expect(fs.existsSync(path.join(dir, "usage.json.migrated"))).to.equal(true);
        const p = { ...DAILY_3, logicalName: "plain" };
        expect(limiter.periodUsage(p, "k")).to.deep.equal({ start: "2026-11-18", used: 3, remaining: 0 });
        expect(limiter.periodUsage({ ...DAILY_3, logicalName: "a/b" }, "key/1").used).to.equal(2);
        limiter.close();
        expect(logRecords(dir)).to.deep.equal([
            { plan: "a/b", key: "key/1", day: "2026-11-18", count: 2 },
            { plan: "plain", key: "k", day: "2026-11-18", count: 3 },
        ]);
    });

    it("does not count an old usage.json twice when a start stopped between the copy and the move", () => {
        const dir = freshDir();
        const day = Date.UTC(2026, 10, 18);
        const old = JSON.stringify({ plans: {}, quotas: { "plan/k1": { periodStart: day, used: 2 } } });
        // The log as that start left it: the copy written (marked migrated), usage.json still there.
        const opened = AppendLog.open(path.join(dir, "usage.log"), USAGE_LOG_HEADER);
        opened.log.append([{ plan: "plan", key: "k1", day: "2026-11-18", count: 2, migrated: true }]);
        opened.log.close();
        fs.writeFileSync(path.join(dir, "usage.json"), old);
        const limiter = UsageLimiter.open(dir, { now: () => day });
        expect(limiter.periodUsage(DAILY_3, "k1").used).to.equal(2);
        limiter.close();
        expect(fs.existsSync(path.join(dir, "usage.json"))).to.equal(false);
        expect(logRecords(dir)).to.deep.equal([{ plan: "plan", key: "k1", day: "2026-11-18", count: 2 }]);
    });

    it("refuses a wrong-shaped usage.json (null, an array, bad counters) and writes nothing", () => {
        const cases: [string, RegExp][] = [
            ["null", /found null/],
            ["[]", /found an array/],
            ["7", /found number/],
            ['{"plans":[],"quotas":{}}', /"plans" and "quotas" must be objects/],
            ['{"quotas":{"plan/k":5}}', /quotas\["plan\/k"\] must be \{"periodStart": <ms>, "used": <count>\}/],
            ['{"quotas":{"nokey":{"periodStart":0,"used":1}}}', /quotas key "nokey" is not "<plan>\/<key>"/],
            ['{"quotas":{"plan/k":{"periodStart":1e20,"used":1}}}', /quotas\["plan\/k"\] must be/],
            ["{ not json", /is not valid JSON/],
        ];
        for (const [text, message] of cases) {
            const dir = freshDir();
            fs.writeFileSync(path.join(dir, "usage.json"), text);
            expectLocalCloudError(() => UsageLimiter.open(dir, { now: Date.now }), message);
            expect(fs.readdirSync(dir)).to.deep.equal(["usage.json"]);
            expect(fs.readFileSync(path.join(dir, "usage.json"), "utf8")).to.equal(text);
        }
    });

    it("warns that a quota offset is ignored", () => {
        expect(
            quotaOffsetWarnings([
                DAILY_3,
                { ...DAILY_3, logicalName: "old", quota: { limit: 10, period: "WEEK", offset: 3 } },
            ]),
        ).to.deep.equal([
            "usage plan old: quota offset 3 is ignored (AWS's documents disagree on its meaning; the local cloud applies the full limit in every period)",
        ]);
    });
});

describe("local cloud: usage counts across restarts (stack defined by the test)", function () {
    // Child processes and local-cloud starts: minutes on a loaded 2-core machine, seconds on an idle one.
    this.timeout(300_000);
    const STACK = {
        "posts-api:plans": {
            daily: { throttle: { rateLimit: 10_000, burstLimit: 5_000 }, quota: { limit: 3, period: "DAY" } },
        },
        "posts-api:consumers": [{ name: "app", plan: "daily" }],
    };
    const stateDir = tempStateDir("usage-restart");
    let cloud: LocalCloud | undefined;
    let clock = Date.UTC(2026, 10, 19, 0, 20);
    const get = () =>
        call(`${cloud!.stageUrl}posts/00000000-0000-4000-8000-000000000000`, {
            headers: { "x-api-key": cloud!.apiKeys["app"]! },
        });

    after(async () => {
        await cloud?.close();
        removeStateDir(stateDir);
    });

    it("keeps a used-up quota across a restart whose clock stepped back over midnight", async () => {
        cloud = await startTestCloud({ stack: "usage", stateDir, stackConfig: STACK, now: () => clock });
        const statuses = [];
        for (let i = 0; i < 4; i++) {
            statuses.push((await get()).status);
        }
        await cloud.close();
        expect(statuses).to.deep.equal([404, 404, 404, 429]);
        clock = Date.UTC(2026, 10, 18, 23, 20);
        cloud = await startTestCloud({ stack: "usage", stateDir, stackConfig: STACK, now: () => clock });
        const r = await get();
        await cloud.close();
        cloud = undefined;
        expect(r.status, r.text).to.equal(429);
        expect(r.text).to.equal('{"message":"Limit Exceeded"}');
    });

    it("refuses to start over a usage.json of null, naming the file and leaving it as it is", async () => {
        // The folder of the test above, as an earlier version would have left it with a damaged usage.json.
        fs.writeFileSync(path.join(stateDir, "usage.json"), "null");
        let error: Error | undefined;
        try {
            cloud = await startTestCloud({ stack: "usage", stateDir, stackConfig: STACK, now: () => clock });
        } catch (err) {
            error = err as Error;
        }
        expect(error?.name).to.equal("LocalCloudError");
        expect(error?.message).to.match(
            new RegExp(
                `^${stateDir}/usage\\.json is not a usage file of an earlier local cloud \\(expected .*found null\\).*mv `,
            ),
        );
        expect(fs.readFileSync(path.join(stateDir, "usage.json"), "utf8")).to.equal("null");
    });
});
