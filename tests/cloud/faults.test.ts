// kill -9 at any moment leaves a local cloud that the next start serves correctly: killed during
// its first start (table creation included), and killed under a mixed load of creates, updates,
// deletes and list pages. After every restart: tables active, every acknowledged create present
// (unless its delete was acknowledged), every acknowledged delete gone, list and GET agree on every
// post and its version, and every listed post can be deleted (no undeletable ghosts).
// Rounds are bounded (FAULT_ROUNDS, default 6 + 4) so the suite stays inside CI's budget.
import { expect } from "chai";
import type { ChildProcess } from "node:child_process";
import { call, removeStateDir, tempStateDir } from "local-cloud/testing";
import { kill9, spawnCloud, type ChildCloud } from "../support/cloudProcess";

const ROUNDS = Number(process.env["FAULT_ROUNDS"] ?? 6);
const FIRST_START_KILLS = 4;
const WORKERS = 8;

const STACK = {
    "posts-api:plans": {
        roomy: { throttle: { rateLimit: 10_000, burstLimit: 5_000 }, quota: { limit: 10_000_000, period: "DAY" } },
    },
    "posts-api:consumers": [{ name: "app", plan: "roomy" }],
};

type Running = ChildCloud & { key: string };

function spawnFaultCloud(stateDir: string): { child: ChildProcess; ready: Promise<Running> } {
    const { child, ready } = spawnCloud({ stack: "faults", stateDir, stackConfig: STACK });
    return { child, ready: ready.then((cloud) => ({ ...cloud, key: cloud.apiKeys["app"]! })) };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What clients were told: only acknowledged outcomes are checked; in-flight ones are uncertain. */
class Ledger {
    readonly live = new Map<string, number>(); // id -> acknowledged version
    readonly deleted = new Set<string>();
    readonly uncertain = new Set<string>(); // an update or delete was in flight at the kill
    requests = 0;
    acknowledged = 0;
    failures: string[] = [];
}

async function load(cloud: Running, ledger: Ledger, stop: { now: boolean }): Promise<void> {
    const headers = { "x-api-key": cloud.key };
    const worker = async (n: number) => {
        for (let i = 0; !stop.now; i++) {
            const ids = [...ledger.live.keys()].filter((id) => !ledger.uncertain.has(id));
            const pick = ids[(n * 31 + i * 7) % Math.max(ids.length, 1)];
            const choice = (n + i) % 5;
            let id: string | undefined;
            try {
                ledger.requests++;
                if (choice <= 1 || pick === undefined) {
                    const res = await call(`${cloud.stageUrl}posts`, {
                        method: "POST",
                        headers,
                        body: { title: `t${n}-${i}`, description: "d", author: "a", publicationDate: "2026-12-01" },
                    });
                    if (res.status === 201) {
                        ledger.live.set(res.json.id, res.json.version);
                        ledger.acknowledged++;
                    } else {
                        ledger.failures.push(`POST ${res.status} ${res.text}`);
                    }
                } else if (choice === 2) {
                    id = pick;
                    ledger.uncertain.add(id);
                    const res = await call(`${cloud.stageUrl}posts/${id}`, {
                        method: "PATCH",
                        headers,
                        body: { title: `patched ${i}` },
                    });
                    if (res.status === 200) {
                        ledger.live.set(id, res.json.version);
                        ledger.acknowledged++;
                    } else {
                        ledger.failures.push(`PATCH ${res.status} ${res.text}`);
                    }
                    ledger.uncertain.delete(id);
                } else if (choice === 3) {
                    id = pick;
                    ledger.uncertain.add(id);
                    const res = await call(`${cloud.stageUrl}posts/${id}`, { method: "DELETE", headers });
                    if (res.status === 204) {
                        ledger.live.delete(id);
                        ledger.deleted.add(id);
                        ledger.acknowledged++;
                    } else if (res.status !== 404) {
                        ledger.failures.push(`DELETE ${res.status} ${res.text}`);
                    }
                    ledger.uncertain.delete(id);
                } else {
                    const res = await call(`${cloud.stageUrl}posts?limit=10`, { headers });
                    if (res.status !== 200) {
                        ledger.failures.push(`LIST ${res.status} ${res.text}`);
                    }
                }
            } catch {
                // The kill cut this request off: its outcome stays unknown (and `id` uncertain).
                return;
            }
        }
    };
    await Promise.all(Array.from({ length: WORKERS }, (_, n) => worker(n)));
}

async function listAll(cloud: Running): Promise<Map<string, number>> {
    const listed = new Map<string, number>();
    let cursor: string | null = null;
    do {
        const res = await call(
            `${cloud.stageUrl}posts?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
            { headers: { "x-api-key": cloud.key } },
        );
        expect(res.status, res.text).to.equal(200);
        for (const post of res.json.items) {
            listed.set(post.id, post.version);
        }
        cursor = res.json.nextCursor;
    } while (cursor);
    return listed;
}

/** The checks after every restart; returns how many posts were checked. */
async function verify(cloud: Running, ledger: Ledger): Promise<number> {
    const headers = { "x-api-key": cloud.key };
    const listed = await listAll(cloud);
    for (const [id, version] of listed) {
        const res = await call(`${cloud.stageUrl}posts/${id}`, { headers });
        expect(res.status, `listed post ${id} must GET 200`).to.equal(200);
        expect(res.json.version, `listed post ${id}: list and GET agree on the version`).to.equal(version);
    }
    for (const [id, version] of ledger.live) {
        if (ledger.uncertain.has(id)) {
            continue;
        }
        expect(listed.has(id), `acknowledged post ${id} is listed`).to.equal(true);
        expect(listed.get(id)!, `acknowledged post ${id} keeps its acknowledged version`).to.be.at.least(version);
    }
    for (const id of ledger.deleted) {
        expect(listed.has(id), `deleted post ${id} stays deleted`).to.equal(false);
        expect((await call(`${cloud.stageUrl}posts/${id}`, { headers })).status).to.equal(404);
    }
    // Posts whose last request was cut off are settled now: whatever GET says is their truth.
    for (const id of ledger.uncertain) {
        const version = listed.get(id);
        if (version === undefined) {
            ledger.live.delete(id);
            ledger.deleted.add(id);
        } else {
            ledger.live.set(id, version);
        }
    }
    ledger.uncertain.clear();
    return listed.size;
}

describe("local cloud: kill -9 at any moment (fault suite)", function () {
    this.timeout(300_000);
    const dirs: string[] = [];
    const children: ChildProcess[] = [];
    after(async () => {
        await Promise.all(children.map(kill9));
        dirs.forEach(removeStateDir);
    });

    it(`is killed ${FIRST_START_KILLS} times during its first start, then starts with an active table and serves`, async () => {
        const dir = tempStateDir("faults-first-start");
        dirs.push(dir);
        const delays: number[] = [];
        for (let round = 0; round < FIRST_START_KILLS; round++) {
            const { child, ready } = spawnFaultCloud(dir);
            children.push(child);
            // Spread across the start: compiling, recording the program, creating the table.
            const delay = 1500 + round * 900;
            delays.push(delay);
            await Promise.race([sleep(delay), ready.catch(() => undefined)]);
            await kill9(child);
        }
        const { child, ready } = spawnFaultCloud(dir);
        children.push(child);
        const cloud = await ready;
        const created = await call(`${cloud.stageUrl}posts`, {
            method: "POST",
            headers: { "x-api-key": cloud.key },
            body: { title: "t", description: "d", author: "a", publicationDate: "2026-12-01" },
        });
        expect(created.status, created.text).to.equal(201);
        expect(
            (await call(`${cloud.stageUrl}posts/${created.json.id}`, { headers: { "x-api-key": cloud.key } })).status,
        ).to.equal(200);
        console.log(
            `      first-start kills at ${delays.join(", ")} ms; repairs reported: ${cloud.warnings.length ? cloud.warnings.join(" | ") : "none"}`,
        );
        await kill9(child);
    });

    it(`is killed ${ROUNDS} times under mixed writes; every acknowledged write survives and list and GET agree`, async () => {
        const dir = tempStateDir("faults-load");
        dirs.push(dir);
        const ledger = new Ledger();
        const repairs: string[] = [];
        for (let round = 0; round < ROUNDS; round++) {
            const { child, ready } = spawnFaultCloud(dir);
            children.push(child);
            const cloud = await ready;
            repairs.push(...cloud.warnings);
            await verify(cloud, ledger);
            const stop = { now: false };
            const running = load(cloud, ledger, stop);
            // Kill once the load is under way (functions warm, writes acknowledged), at a varying moment.
            const base = ledger.acknowledged;
            const deadline = Date.now() + 30_000;
            while (ledger.acknowledged < base + 12 + round * 4 && Date.now() < deadline) {
                await sleep(5);
            }
            await sleep((round * 53) % 120);
            await kill9(child); // mid-request: workers see their connections reset
            stop.now = true;
            await running;
        }
        const { child, ready } = spawnFaultCloud(dir);
        children.push(child);
        const cloud = await ready;
        repairs.push(...cloud.warnings);
        const checked = await verify(cloud, ledger);
        // No undeletable ghosts: everything listed can be deleted, and then the list is empty.
        for (const id of (await listAll(cloud)).keys()) {
            expect(
                (await call(`${cloud.stageUrl}posts/${id}`, { method: "DELETE", headers: { "x-api-key": cloud.key } }))
                    .status,
            ).to.equal(204);
        }
        expect((await listAll(cloud)).size).to.equal(0);
        expect(ledger.failures, ledger.failures.slice(0, 5).join("\n")).to.deep.equal([]);
        console.log(
            `      ${ROUNDS} kills, ${ledger.requests} requests (${ledger.acknowledged} acknowledged writes), ${checked} posts checked at the end, ${repairs.length} repair lines${repairs.length ? `: ${[...new Set(repairs.map((r) => r.replace(/\d+/g, "N")))].join(" | ")}` : ""}`,
        );
        await kill9(child);
    });
});
