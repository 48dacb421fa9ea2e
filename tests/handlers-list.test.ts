// GET /posts: newest first, pagination without gaps or duplicates, tamper-evident cursors, and a
// page cost that follows `limit`, not the table size. Against dynalite.
import { expect } from "chai";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { startLocalDynamo, localDocumentClient, type LocalDynamo } from "./support/dynamo";
import { CURSOR_KEY, apiClient, testDeps, validPost, type ApiCall, type ApiResult } from "./support/client";
import { encodeCursor } from "../api/cursor";
import type { Deps } from "../api/http/contract";

interface Page {
    items: { id: string; createdAt: string; title: string }[];
    nextCursor: string | null;
}

interface SentCommand {
    name: string;
    input: Record<string, unknown>;
    output: Record<string, unknown>;
}

/** A document client that records every command it sends and what came back. */
function recordingClient(endpoint: string): { db: DynamoDBDocumentClient; sent: SentCommand[] } {
    const db = localDocumentClient(endpoint);
    const sent: SentCommand[] = [];
    const send = db.send.bind(db) as (command: unknown) => Promise<Record<string, unknown>>;
    (db as unknown as { send: (command: { input: Record<string, unknown> }) => Promise<unknown> }).send = async (command) => {
        const output = await send(command);
        sent.push({ name: command.constructor.name, input: command.input, output });
        return output;
    };
    return { db, sent };
}

describe("GET /posts (dynalite)", () => {
    const TOTAL = 45;
    let dynamo: LocalDynamo;
    let recorder: { db: DynamoDBDocumentClient; sent: SentCommand[] };
    let deps: Deps;
    let call: ApiCall;
    let createdIds: string[];

    before(async () => {
        dynamo = await startLocalDynamo();
        recorder = recordingClient(dynamo.endpoint);
        deps = testDeps(recorder.db, dynamo.tableName);
        call = apiClient(deps);
        createdIds = [];
        for (let i = 0; i < TOTAL; i++) {
            const result = await call("createPost", { body: validPost({ title: `post ${i}` }) });
            createdIds.push((result.body as { id: string }).id);
        }
        // An idempotency record lives in the same table; it must never show up in a listing.
        await call("createPost", { body: validPost({ title: "post 45" }), headers: { "Idempotency-Key": "list-test" } });
    });

    after(async () => {
        recorder.db.destroy();
        await dynamo.close();
    });

    beforeEach(() => {
        recorder.sent.length = 0;
    });

    async function page(query: Record<string, string | string[]>): Promise<ApiResult & { body: Page }> {
        const result = await call("listPosts", { query });
        expect(result.statusCode, result.rawBody).to.equal(200);
        return result as ApiResult & { body: Page };
    }

    it("walks every page: newest first, no duplicates, no gaps, no idempotency records, no empty last page", async () => {
        const seen: Page["items"] = [];
        const sizes: number[] = [];
        let cursor: string | null = null;
        do {
            const result: ApiResult & { body: Page } = await page(cursor === null ? { limit: "10" } : { limit: "10", cursor });
            sizes.push(result.body.items.length);
            seen.push(...result.body.items);
            cursor = result.body.nextCursor;
        } while (cursor !== null);

        expect(sizes).to.deep.equal([10, 10, 10, 10, 6]);
        const ids = seen.map((post) => post.id);
        expect(new Set(ids).size).to.equal(TOTAL + 1);
        expect(ids.slice(1)).to.deep.equal([...createdIds].reverse());
        expect(seen[0]?.title).to.equal("post 45");
        const createdAts = seen.map((post) => post.createdAt);
        expect(createdAts).to.deep.equal([...createdAts].sort().reverse());
    });

    it("defaults to 20 items and accepts 1 and 100", async () => {
        expect((await page({})).body.items).to.have.length(20);
        const one = await page({ limit: "1" });
        expect(one.body.items).to.have.length(1);
        expect(one.body.nextCursor).to.be.a("string");
        const hundred = await page({ limit: "100" });
        expect(hundred.body.items).to.have.length(TOTAL + 1);
        expect(hundred.body.nextCursor).to.equal(null);
    });

    it("gives a last page of exactly `limit` items and no cursor", async () => {
        const first = await page({ limit: "40" });
        const last = await page({ limit: "6", cursor: first.body.nextCursor as string });

        expect(last.body.items).to.have.length(6);
        expect(last.body.nextCursor).to.equal(null);
    });

    it("reads about `limit` items per page with one Query on the index, never a Scan", async () => {
        await page({ limit: "10" });

        expect(recorder.sent.map((command) => command.name)).to.deep.equal(["QueryCommand"]);
        const query = recorder.sent[0] as SentCommand;
        expect(query.input).to.include({ IndexName: "byCreatedAt", ScanIndexForward: false });
        expect(query.input.Limit).to.be.at.most(11);
        expect(query.output.ScannedCount).to.be.at.most(11);
        expect(query.output.Count).to.be.at.most(11);
    });

    for (const limit of ["0", "101", "-1", "+5", "1e1", "10.0", " 5", "5 ", "05", "", "abc", "0x10", "1_0", "١٠", "Infinity", "NaN"]) {
        it(`400s limit=${JSON.stringify(limit)}`, async () => {
            const result = await call("listPosts", { query: { limit } });

            expect(result.statusCode).to.equal(400);
            expect((result.body as { message: string }).message).to.equal("limit must be an integer from 1 to 100");
        });
    }

    it("400s a repeated limit or cursor instead of picking one", async () => {
        const limits = await call("listPosts", { query: { limit: ["10", "20"] } });
        const first = await page({ limit: "5" });
        const cursors = await call("listPosts", {
            query: { cursor: [first.body.nextCursor as string, first.body.nextCursor as string] },
        });

        expect(limits.statusCode).to.equal(400);
        expect(cursors.statusCode).to.equal(400);
    });

    describe("cursors", () => {
        let cursor: string;

        before(async () => {
            recorder.sent.length = 0;
            cursor = (await page({ limit: "5" })).body.nextCursor as string;
        });

        function expectInvalid(result: ApiResult): void {
            expect(result.statusCode, result.rawBody).to.equal(400);
            expect(result.body).to.deep.equal({ message: "Invalid cursor" });
        }

        it("is opaque: no table keys visible in it", async () => {
            expect(cursor).to.match(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
            expect(cursor).not.to.include("POST");
        });

        it("rejects every single-character change", async () => {
            const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
            for (let i = 0; i < cursor.length; i++) {
                const original = cursor[i] as string;
                const replacement = alphabet[(alphabet.indexOf(original) + 1) % alphabet.length] as string;
                const altered = cursor.slice(0, i) + (original === "." ? "A" : replacement) + cursor.slice(i + 1);

                expectInvalid(await call("listPosts", { query: { cursor: altered } }));
            }
        });

        it("rejects truncation, extension, swapped parts, garbage and foreign signatures", async () => {
            const [payload, signature] = cursor.split(".") as [string, string];
            const variants = [
                cursor.slice(0, -1),
                cursor + "A",
                `${signature}.${payload}`,
                payload,
                `${payload}.`,
                `.${signature}`,
                `${payload}.${signature}.${signature}`,
                "",
                "garbage",
                "a.b",
                " " + cursor,
                cursor + "=",
                Buffer.from(JSON.stringify({ pk: "POST#x", listPk: "POSTS", listSk: "x" })).toString("base64url"),
                encodeCursor({ pk: "POST#x", listPk: "POSTS", listSk: "x" }, "another-key"),
                `${Buffer.from(JSON.stringify({ pk: "IDEMPOTENCY#a#b", listPk: "POSTS", listSk: "x" })).toString("base64url")}.${signature}`,
                "x".repeat(5000),
            ];

            for (const variant of variants) {
                expectInvalid(await call("listPosts", { query: { cursor: variant } }));
            }
        });

        it("rejects a validly signed cursor whose key is not a listing key (defence in depth)", async () => {
            const signedButWrong = [
                encodeCursor({ pk: "IDEMPOTENCY#a#b", listPk: "POSTS", listSk: "2026-11-21T09:30:00.000Z#x" }, CURSOR_KEY),
                encodeCursor({ pk: "POST#00000000-0000-4000-8000-000000000000", listPk: "OTHER", listSk: "2026-11-21T09:30:00.000Z#00000000-0000-4000-8000-000000000000" }, CURSOR_KEY),
            ];

            for (const variant of signedButWrong) {
                expectInvalid(await call("listPosts", { query: { cursor: variant } }));
            }
            expect(recorder.sent.filter((command) => command.name === "QueryCommand")).to.have.length(0);
        });

        it("is accepted unchanged and continues where the previous page ended", async () => {
            const first = await page({ limit: "5" });
            const second = await page({ limit: "5", cursor: first.body.nextCursor as string });

            expect(first.body.nextCursor).to.equal(cursor);
            expect(String(second.body.items[0]?.createdAt) < String(first.body.items[4]?.createdAt)).to.equal(true);
        });
    });

    it("follows DynamoDB's 1 MB page limit with a cursor instead of silently dropping items", async () => {
        const bigDeps = testDeps(dynamo.db, await dynamo.createTable());
        const bigCall = apiClient(bigDeps);
        const BIG = 120;
        for (let i = 0; i < BIG; i++) {
            // dynalite sizes strings in characters: 120 × 10 000 characters is over 1 MB.
            const result = await bigCall("createPost", { body: validPost({ title: `big ${i}`, description: "€".repeat(10_000) }) });
            expect(result.statusCode).to.equal(201);
        }

        const sizes: number[] = [];
        const ids = new Set<string>();
        let cursor: string | null = null;
        do {
            const result: ApiResult = await bigCall("listPosts", { query: cursor === null ? { limit: "100" } : { limit: "100", cursor } });
            const body = result.body as Page;
            sizes.push(body.items.length);
            body.items.forEach((post) => ids.add(post.id));
            cursor = body.nextCursor;
        } while (cursor !== null);

        expect(sizes.length).to.be.greaterThan(1);
        expect(sizes[0]).to.be.below(BIG);
        expect(ids.size).to.equal(BIG);
    });
});
