// Usage-plan enforcement: a token bucket per API key (throttle) and a counter per key and period
// (quota), exact and deterministic where AWS calls its own "best effort" (shared/docs/apigateway.md).
import type { ThrottleLimits, UsagePlanModel } from "./model";

export type LimitVerdict = "OK" | "THROTTLED" | "QUOTA_EXCEEDED";

/** Choices the AWS documentation leaves open, kept in one place so they can change. */
export const USAGE_ASSUMPTIONS = {
    /** A new bucket starts full (a first burst of `burstLimit` requests passes). */
    bucketStartsFull: true,
    /**
     * A per-method throttle (`apiStages[].throttles`, "/posts/POST") replaces the plan's throttle
     * for that method; it does not also draw from the plan's bucket.
     */
    methodThrottleReplacesPlanThrottle: true,
    /** "/items/*" gives every method of /items those limits, each method with a bucket of its own. */
    wildcardMethodSharesBucket: false,
} as const;

/** Start of the UTC calendar period holding `now`: DAY from 00:00Z, WEEK from Monday, MONTH from the 1st. */
export function periodStart(period: "DAY" | "WEEK" | "MONTH", now: number): number {
    const d = new Date(now);
    const day = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
    switch (period) {
        case "DAY":
            return day;
        case "WEEK":
            return day - ((d.getUTCDay() + 6) % 7) * 86_400_000;
        case "MONTH":
            return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
    }
}

interface Bucket {
    tokens: number;
    updated: number;
}

export interface SavedUsage {
    /** Plan logical name -> when the local cloud first saw it (the quota offset applies to that period only). */
    plans: Record<string, { createdAt: number }>;
    /** "plan/key" logical names -> requests counted in the period starting at `periodStart`. */
    quotas: Record<string, { periodStart: number; used: number }>;
}

export class UsageLimiter {
    private readonly buckets = new Map<string, Bucket>();
    private usage: SavedUsage;
    private dirty = false;

    constructor(private readonly now: () => number, saved?: Partial<SavedUsage>) {
        this.usage = { plans: { ...(saved?.plans ?? {}) }, quotas: { ...(saved?.quotas ?? {}) } };
    }

    /** Remembers when each plan was first seen, for the first period's quota offset. */
    registerPlans(plans: UsagePlanModel[]): void {
        for (const plan of plans) {
            if (!this.usage.plans[plan.logicalName]) {
                this.usage.plans[plan.logicalName] = { createdAt: this.now() };
                this.dirty = true;
            }
        }
    }

    /**
     * Counts one request of a key under its plan: throttle first (a throttled request does not
     * count against the quota), then quota.
     */
    admit(plan: UsagePlanModel, keyName: string, stage: string, methodKey: string): LimitVerdict {
        const now = this.now();
        const apiStage = plan.apiStages.find((s) => s.stage === stage);
        const [resourcePath] = splitMethodKey(methodKey);
        const methodLimits = apiStage?.throttles[methodKey] ?? apiStage?.throttles[`${resourcePath}/*`];
        if (methodLimits) {
            const bucketKey = !apiStage?.throttles[methodKey] && USAGE_ASSUMPTIONS.wildcardMethodSharesBucket ? `${resourcePath}/*` : methodKey;
            if (!this.take(`${plan.logicalName}/${keyName}/${stage}${bucketKey}`, methodLimits, now)) {
                return "THROTTLED";
            }
            if (!USAGE_ASSUMPTIONS.methodThrottleReplacesPlanThrottle && plan.throttle && !this.take(`${plan.logicalName}/${keyName}`, plan.throttle, now)) {
                return "THROTTLED";
            }
        } else if (plan.throttle && !this.take(`${plan.logicalName}/${keyName}`, plan.throttle, now)) {
            return "THROTTLED";
        }
        if (plan.quota) {
            const start = periodStart(plan.quota.period, now);
            const id = `${plan.logicalName}/${keyName}`;
            let counter = this.usage.quotas[id];
            if (!counter || counter.periodStart !== start) {
                counter = { periodStart: start, used: 0 };
                this.usage.quotas[id] = counter;
            }
            const createdAt = this.usage.plans[plan.logicalName]?.createdAt ?? now;
            const firstPeriod = periodStart(plan.quota.period, createdAt) === start;
            const limit = plan.quota.limit - (firstPeriod ? plan.quota.offset : 0);
            if (counter.used >= limit) {
                return "QUOTA_EXCEEDED";
            }
            counter.used++;
            this.dirty = true;
        }
        return "OK";
    }

    /** Requests left in the current period, for logs and tests. */
    quotaUsed(planName: string, keyName: string): number {
        return this.usage.quotas[`${planName}/${keyName}`]?.used ?? 0;
    }

    /** Forgets every bucket and quota counter (tests start each case from a clean slate). */
    reset(): void {
        this.buckets.clear();
        this.usage.quotas = {};
        this.dirty = true;
    }

    /** The state worth keeping across restarts, when it changed since the last call. */
    takeSnapshot(): SavedUsage | undefined {
        if (!this.dirty) {
            return undefined;
        }
        this.dirty = false;
        return JSON.parse(JSON.stringify(this.usage)) as SavedUsage;
    }

    private take(id: string, limits: ThrottleLimits, now: number): boolean {
        let bucket = this.buckets.get(id);
        if (!bucket) {
            bucket = { tokens: USAGE_ASSUMPTIONS.bucketStartsFull ? limits.burstLimit : 0, updated: now };
            this.buckets.set(id, bucket);
        }
        bucket.tokens = Math.min(limits.burstLimit, bucket.tokens + ((now - bucket.updated) / 1000) * limits.rateLimit);
        bucket.updated = now;
        if (bucket.tokens >= 1) {
            bucket.tokens -= 1;
            return true;
        }
        return false;
    }
}

/** "/posts/{id}/GET" -> ["/posts/{id}", "GET"]; the root's GET is "//GET". */
export function splitMethodKey(key: string): [string, string] {
    const slash = key.lastIndexOf("/");
    return [key.slice(0, slash) || "/", key.slice(slash + 1)];
}

export const methodKey = (resourcePath: string, method: string) => `${resourcePath}/${method}`;
