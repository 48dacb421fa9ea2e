// Idempotent POST under a race, measured: each round sends 25 concurrent POSTs with one
// Idempotency-Key and DELETEs the post as soon as the first 201 arrives. Every answer must be the
// original 201 or a 409, the post must be 404 after its DELETE in every round, no 5xx, and the
// table must end with no post (each round's one post was deleted; a duplicate or a resurrected
// post would remain) and one COMPLETED record per key naming the post every 201 named. Three
// ways in: the handlers directly, the Pulumi-serialized closures (both against dynalite), and
// HTTP through the local cloud on a stack whose plan never throttles. One summary line per mode.
// The requests of a round start over a short spread, and in the dynalite modes every database
// call is delayed by a random few milliseconds each way: without that, one process answers so
// fast that the harmful orderings hardly occur. So shaped, the previous store (which finished a
// "pending" record itself) failed here in every mode: the post came back after its DELETE in
// 11/50 rounds (handler), 11/50 (closure) and 5/50 (local cloud), with 164, 149 and 39 500s.
import { expect } from "chai";
import type { DynamoDBDocument } from "@aws-sdk/lib-dynamodb";
import {
    dumpTable,
    localDocumentClient,
    startDynamoProxy,
    startTestDynamo,
    type DynamoProxy,
    type TestDynamo,
} from "../support/dynamo";
import { validPost, type ApiResult } from "../support/client";
import { loadApiUnderTest, type ContractApi } from "../support/lambdas";
import { LEASE_MARGIN_SECONDS } from "../../data/postsStore";
import type { LocalCloud } from "local-cloud";
import { call as httpCall, removeStateDir, startTestCloud } from "local-cloud/testing";

const ROUNDS = 50;
const CONCURRENT = 25;
/** Requests of a round start at random moments over this long, about the time one create takes,
 *  so some arrive while the first is in progress and some after its 201 and the DELETE. */
const SPREAD_MS = 40;
/** Dynalite modes: each database request and answer is held back up to this long (a network). */
const JITTER_MS = 10;

/** One answer, whichever way it came. */
interface Answer {
    status: number;
    body: string;
    /** The post's id in a 201. */
    id?: string;
}

/** How one mode reaches the API. */
interface Client {
    create(key: string, caller: number): Promise<Answer>;
    remove(id: string): Promise<Answer>;
    get(id: string): Promise<Answer>;
}

interface Tally {
    rounds: number;
    posts: number;
    statuses: Record<string, number>;
    /** Rounds whose problems were found, with what. */
    problems: string[];
    /** Key → the post id its 201s named. */
    ids: Map<string, string>;
    /** How long the rounds took. */
    ms: number;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The rounds, run one after another; problems are collected so the failure message shows them all. */
async function race(client: Client, label: string): Promise<Tally> {
    const tally: Tally = { rounds: 0, posts: 0, statuses: {}, problems: [], ids: new Map(), ms: 0 };
    const started = Date.now();
    for (let round = 0; round < ROUNDS; round++) {
        const key = `${label}-${round}`;
        let deletion: Promise<Answer> | undefined;
        const answers = await Promise.all(
            Array.from({ length: CONCURRENT }, (_, i) =>
                pause(i === 0 ? 0 : Math.random() * SPREAD_MS)
                    .then(() => client.create(key, i))
                    .then((answer) => {
                        if (answer.status === 201 && deletion === undefined) {
                            deletion = client.remove(answer.id!);
                        }
                        return answer;
                    }),
            ),
        );
        tally.rounds++;
        tally.posts += answers.length;
        for (const answer of answers) {
            tally.statuses[answer.status] = (tally.statuses[answer.status] ?? 0) + 1;
        }
        const problem = (what: string) => tally.problems.push(`round ${round}: ${what}`);
        const others = answers.filter((a) => a.status !== 201 && a.status !== 409);
        if (others.length > 0) {
            problem(
                `answers other than 201/409: ${others.map((a) => `${a.status} ${a.body.slice(0, 120)}`).join(" | ")}`,
            );
        }
        const created = answers.filter((a) => a.status === 201);
        if (created.length === 0 || deletion === undefined) {
            problem("no 201 at all");
            continue;
        }
        if (new Set(created.map((a) => a.body)).size !== 1) {
            problem(`${new Set(created.map((a) => a.id)).size} different 201 bodies`);
        }
        const id = created[0]!.id!;
        tally.ids.set(key, id);
        const deleted = await deletion;
        tally.statuses[`DELETE ${deleted.status}`] = (tally.statuses[`DELETE ${deleted.status}`] ?? 0) + 1;
        if (deleted.status !== 204) {
            problem(`DELETE answered ${deleted.status}`);
        }
        const after = await client.get(id);
        tally.statuses[`GET ${after.status}`] = (tally.statuses[`GET ${after.status}`] ?? 0) + 1;
        if (after.status !== 404) {
            problem(`GET after DELETE answered ${after.status}: the post came back`);
        }
    }
    tally.ms = Date.now() - started;
    return tally;
}

/**
 * The table after all rounds: no post left, and each key's record COMPLETED with the answered
 * post, its lease `leaseSeconds` long (the function's timeout, as the stack passes it, + margin).
 */
async function checkTable(db: DynamoDBDocument, tableName: string, tally: Tally, leaseSeconds: number): Promise<void> {
    const items = await dumpTable(db, tableName);
    const posts = items.filter((item) => String(item.pk).startsWith("POST#"));
    expect(
        posts.map((p) => p.id),
        "posts left in the table (duplicates or resurrected)",
    ).to.deep.equal([]);
    const records = items.filter((item) => String(item.pk).startsWith("IDEMPOTENCY#"));
    expect(records).to.have.length(tally.ids.size);
    for (const record of records) {
        const key = String(record.pk).split("#").pop()!;
        expect(record.status, key).to.equal("COMPLETED");
        expect(record.postId, key).to.equal(tally.ids.get(key));
        expect(Number(record.inProgressExpiresAt) - Date.parse(String(record.createdAt)), `${key}: lease`).to.equal(
            leaseSeconds * 1000,
        );
    }
}

function report(mode: string, tally: Tally): void {
    const statuses = Object.entries(tally.statuses)
        .map(([status, n]) => `${n}×${status}`)
        .join(", ");
    console.log(
        `      ${mode}: ${tally.rounds} rounds, ${tally.posts} POSTs in ${(tally.ms / 1000).toFixed(1)} s → ${statuses}`,
    );
}

function expectClean(tally: Tally): void {
    expect(tally.problems, tally.problems.slice(0, 10).join("\n")).to.deep.equal([]);
    expect(tally.rounds).to.equal(ROUNDS);
    expect(
        Object.keys(tally.statuses).filter((s) => /^5/.test(s)),
        "5xx answers",
    ).to.deep.equal([]);
}

const fromApi = (result: ApiResult): Answer => ({
    status: result.statusCode,
    body: result.rawBody,
    ...(result.statusCode === 201 ? { id: (result.body as { id: string }).id } : {}),
});

for (const mode of ["handler", "closure"] as const) {
    describe(`idempotent POST under a race: ${CONCURRENT} same-key POSTs and a DELETE, ${ROUNDS} rounds (dynalite, ${mode})`, function () {
        let dynamo: TestDynamo;
        let proxy: DynamoProxy;
        let apis: ContractApi[] = [];

        before(async () => {
            dynamo = await startTestDynamo();
            // The code under test reaches the engine through a jittering proxy: in one process
            // the engine answers so fast that the orderings a network allows would seldom occur.
            proxy = await startDynamoProxy(dynamo.endpoint, { jitterMs: JITTER_MS, recordCalls: false });
        });

        after(async () => {
            apis.forEach((api) => api.close());
            await proxy.close();
            await dynamo.close();
        });

        it("answers the original 201 or 409, never 5xx; the post stays deleted; one post per key", async () => {
            const tableName = await dynamo.createTable();
            // Handler mode on the real clock: leases and waits run in real time, as in Lambda.
            const clock = { now: () => new Date(), advance: () => {} };
            // Three instances (in closure mode, three cold starts, each with its own SDK client),
            // the requests spread over them as Lambda would.
            apis = await Promise.all(
                [0, 1, 2].map(() => loadApiUnderTest(mode, { endpoint: proxy.endpoint, tableName, clock })),
            );
            const main = apis[0]!;
            const client: Client = {
                create: async (key, caller) =>
                    fromApi(
                        await apis[caller % apis.length]!.call("createPost", {
                            body: validPost(),
                            headers: { "Idempotency-Key": key },
                        }),
                    ),
                remove: async (id) => fromApi(await main.call("deletePost", { id })),
                get: async (id) => fromApi(await main.call("getPost", { id })),
            };

            const tally = await race(client, mode);

            report(mode, tally);
            expectClean(tally);
            // Handler mode's deps carry no timeout (the store assumes the longest, 29 s); the
            // closures read FUNCTION_TIMEOUT_SECONDS, 10 on the dev stack.
            await checkTable(dynamo.db, tableName, tally, (mode === "handler" ? 29 : 10) + LEASE_MARGIN_SECONDS);
        });
    });
}

describe(`idempotent POST under a race: ${CONCURRENT} same-key POSTs and a DELETE, ${ROUNDS} rounds (local cloud, HTTP)`, function () {
    // Child processes and local-cloud starts: minutes on a loaded 2-core machine, seconds on an idle one.
    this.timeout(300_000);
    let cloud: LocalCloud | undefined;

    after(async () => {
        await cloud?.close();
        if (cloud) {
            removeStateDir(cloud.stateDir);
        }
    });

    it("answers the original 201 or 409, never 5xx; the post stays deleted; one post per key", async () => {
        cloud = await startTestCloud({
            stack: "idempotency",
            stackConfig: {
                // Never throttles nor runs out: every request reaches the function.
                "posts-api:plans": {
                    roomy: {
                        throttle: { rateLimit: 100_000, burstLimit: 50_000 },
                        quota: { limit: 10_000_000, period: "DAY" },
                    },
                },
                "posts-api:consumers": [{ name: "app", plan: "roomy" }],
            },
        });
        const stageUrl = cloud.stageUrl;
        const key = { "x-api-key": cloud.apiKeys["app"]! };
        const toAnswer = (r: Awaited<ReturnType<typeof httpCall>>): Answer => ({
            status: r.status,
            body: r.text,
            ...(r.status === 201 ? { id: (r.json as { id: string }).id } : {}),
        });
        const client: Client = {
            create: async (idempotencyKey) =>
                toAnswer(
                    await httpCall(`${stageUrl}posts`, {
                        method: "POST",
                        headers: { ...key, "Idempotency-Key": idempotencyKey },
                        body: validPost(),
                    }),
                ),
            remove: async (id) =>
                toAnswer(await httpCall(`${stageUrl}posts/${id}`, { method: "DELETE", headers: key })),
            get: async (id) => toAnswer(await httpCall(`${stageUrl}posts/${id}`, { headers: key })),
        };

        const tally = await race(client, "local");

        report("local cloud", tally);
        expectClean(tally);
        const listed = await httpCall(`${stageUrl}posts?limit=100`, { headers: key });
        expect(listed.status).to.equal(200);
        expect(listed.json.items, "posts listed after every round's DELETE").to.deep.equal([]);
        const createPost = cloud.model.functions.find((fn) => fn.logicalName === "createPost")!;
        expect(createPost.environment["FUNCTION_TIMEOUT_SECONDS"]).to.equal(String(createPost.timeoutSeconds));
        const db = localDocumentClient(cloud.dynamoEndpoint);
        try {
            await checkTable(
                db,
                createPost.environment["TABLE_NAME"]!,
                tally,
                Number(createPost.environment["FUNCTION_TIMEOUT_SECONDS"]) + LEASE_MARGIN_SECONDS,
            );
        } finally {
            db.destroy();
        }
    });
});
