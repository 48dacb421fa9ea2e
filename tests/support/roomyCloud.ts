// The local cloud most HTTP tests want: the posts program on a plan that never throttles or runs
// out (so a test sees the contract, not the limits), one consumer `app`, and its teardown.
import type { LocalCloud, LocalCloudOptions } from "local-cloud";
import { removeStateDir, startTestCloud } from "local-cloud/testing";

export const ROOMY_PLAN = {
    throttle: { rateLimit: 10_000, burstLimit: 5_000 },
    quota: { limit: 1_000_000, period: "DAY" },
};

/** A local cloud for `stack` with consumer `app` on the roomy plan; `stackConfig` adds or overrides keys. */
export function startRoomyCloud(
    stack: string,
    stackConfig: Record<string, unknown> = {},
    options: Pick<Partial<LocalCloudOptions>, "projectDir" | "integrationTimeoutMs" | "faults"> = {},
): Promise<LocalCloud> {
    return startTestCloud({
        stack,
        stackConfig: {
            "posts-api:plans": { roomy: ROOMY_PLAN },
            "posts-api:consumers": [{ name: "app", plan: "roomy" }],
            ...stackConfig,
        },
        ...options,
    });
}

/** Closes a cloud a `before` may not have finished starting, and removes its state folder. */
export async function stopCloud(cloud: LocalCloud | undefined): Promise<void> {
    await cloud?.close();
    if (cloud) {
        removeStateDir(cloud.stateDir);
    }
}
