// Key rotation on the local cloud, as the runbook in docs/operations.md does it on AWS: the same state folder
// restarted with each step's config (a restart is what `pulumi up` is here). Both keys work
// during the overlap; after the old one is retired it answers 403, the new one and every other
// consumer's key keep working.
import { expect } from "chai";
import type { LocalCloud } from "local-cloud";
import { call, removeStateDir, startTestCloud, tempStateDir } from "local-cloud/testing";

const PLANS = {
    standard: { throttle: { rateLimit: 1000, burstLimit: 500 }, quota: { limit: 100_000, period: "DAY" } },
    partner: { throttle: { rateLimit: 1000, burstLimit: 500 }, quota: { limit: 100_000, period: "MONTH" } },
};

describe("local cloud: rotating a partner's key in three steps", function () {
    const stateDir = tempStateDir("rotation");
    let cloud: LocalCloud | undefined;

    const start = async (partner: Record<string, unknown>) => {
        await cloud?.close();
        cloud = await startTestCloud({
            stack: "rotation",
            stateDir,
            // `cut: true`: the partner consumer is not in the list (cut, not pasted back yet).
            stackConfig: {
                "posts-api:plans": PLANS,
                "posts-api:consumers": [
                    { name: "web", plan: "standard" },
                    ...(partner["cut"] ? [] : [{ name: "partner", plan: "partner", ...partner }]),
                ],
            },
        });
        return cloud;
    };
    const status = async (key: string) =>
        (await call(`${cloud!.stageUrl}posts?limit=1`, { headers: { "x-api-key": key } })).status;

    after(async () => {
        await cloud?.close();
        removeStateDir(stateDir);
    });

    it("before, during and after the rotation: both keys in the overlap, then only the new one", async () => {
        const before = await start({});
        const oldKey = before.apiKeys["partner"]!;
        const webKey = before.apiKeys["web"]!;
        expect(await status(oldKey)).to.equal(200);

        // Step 1: a second key beside the first. Outputs give the new one; the old still works.
        const overlap = await start({ keys: [1, 2] });
        // `cloud.apiKeys` is by key (logical name); the program's `apiKeys` output by consumer.
        const newKey = overlap.apiKeys["partner.key2"]!;
        expect((overlap.outputs["apiKeys"] as Record<string, string>)["partner"]).to.equal(newKey);
        expect(overlap.apiKeys["partner"]).to.equal(oldKey);
        expect(newKey).to.match(/^[A-Za-z0-9]{40}$/);
        expect(newKey).not.to.equal(oldKey);
        expect(overlap.apiKeys["web"]).to.equal(webKey);
        expect(await status(oldKey)).to.equal(200);
        expect(await status(newKey)).to.equal(200);

        // Step 2 (the partner has moved to the new key): retire the old one.
        const retired = await start({ keys: [2] });
        expect((retired.outputs["apiKeys"] as Record<string, string>)["partner"]).to.equal(newKey);
        expect(retired.apiKeys["partner"]).to.equal(undefined);
        const refused = await call(`${retired.stageUrl}posts?limit=1`, { headers: { "x-api-key": oldKey } });
        expect(refused.status).to.equal(403);
        expect(refused.text).to.equal('{"message":"Forbidden"}');
        expect(await status(newKey)).to.equal(200);
        expect(await status(webKey)).to.equal(200);
    });

    it("a retired generation never comes back: listed again it is a new key (value, id, usage); a consumer cut and pasted back keeps its keys", async () => {
        const today = new Date().toISOString().slice(0, 10);
        /** Admitted requests today per key id of the partner plan (GetUsage through the control plane). */
        const usage = async () => {
            const planId = (cloud!.outputs["usagePlanIds"] as Record<string, string>)["partner"]!;
            const r = await call(
                `${cloud!.controlPlaneUrl}/usageplans/${planId}/usage?startDate=${today}&endDate=${today}`,
            );
            expect(r.status, r.text).to.equal(200);
            return Object.fromEntries(
                Object.entries(r.json.values as Record<string, number[][]>).map(([id, days]) => [id, days[0]![0]]),
            );
        };
        const keyIds = () => (cloud!.outputs["apiKeyIds"] as Record<string, string[]>)["partner"]!;

        // Where the test above left it: [2]. Retire and re-add from a known overlap, counting use.
        const overlap = await start({ keys: [1, 2] });
        const [firstId, secondId] = keyIds();
        const first = overlap.apiKeys["partner"]!;
        expect(await status(first)).to.equal(200);
        expect((await usage())[firstId!]).to.be.above(0);
        await start({ keys: [2] });
        expect(await status(first)).to.equal(403);

        // keys [2] -> [1, 2]: generation 1 again, as a new ApiKey resource would be on AWS.
        const readded = await start({ keys: [1, 2] });
        const again = readded.apiKeys["partner"]!;
        expect(again).to.match(/^[A-Za-z0-9]{40}$/);
        expect(again).to.not.equal(first);
        const [againId, stillSecondId] = keyIds();
        expect(againId).to.not.equal(firstId);
        expect(stillSecondId).to.equal(secondId);
        expect(await status(first)).to.equal(403);
        expect((await usage())[againId!]).to.equal(0);
        expect(await status(again)).to.equal(200);

        // The consumer cut (a save in between), then pasted back: nothing retired, the same keys.
        await start({ cut: true });
        expect(await status(again)).to.equal(403);
        const pasted = await start({ keys: [1, 2] });
        expect(pasted.apiKeys["partner"]).to.equal(again);
        expect(keyIds()).to.deep.equal([againId, secondId]);
        expect((await usage())[againId!]).to.equal(1);
        expect(await status(again)).to.equal(200);
    });
});
