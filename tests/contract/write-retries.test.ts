// A write whose first attempt commits but whose answer is lost or late: the SDK retries it, and
// the retry meets its own earlier attempt. Every write answers as that attempt succeeded
// (docs/api.md, "Every answer tells what happened"; data/postsStore.ts).
// - Lost, at the SDK seam: a middleware after the retry step lets the first attempt of one chosen
//   call reach the engine (it commits), then throws the TimeoutError the SDK throws for an answer
//   that did not come in time, so the SDK's own retry strategy sends the call again. Handler mode,
//   every conditional write: create, reserve, the idempotent post write, complete, restart,
//   replace, patch, delete.
// - Late, on the wire: the serialized closures, with their real client timeouts (from
//   FUNCTION_TIMEOUT_SECONDS), behind a proxy that holds the first answer of one call past the
//   per-attempt timeout.
import { expect } from "chai";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocument } from "@aws-sdk/lib-dynamodb";
import { dumpTable, startDynamoProxy, startTestDynamo, type DynamoProxy, type TestDynamo } from "../support/dynamo";
import {
    ALLOW_ORIGIN,
    apiClient,
    closureClient,
    CURSOR_KEY,
    testClock,
    testDeps,
    validPost,
    type ApiCall,
} from "../support/client";
import { TEST_API_KEY_ID } from "../support/events";
import { loadLambdas, localSdkEnv, type LambdaHandler } from "../support/lambdas";
import { stackProgram } from "../support/program";
import { dynamoClientConfig, dynamoClientTimeouts } from "../../api/http/dynamoClientConfig";
import { idempotencyKey } from "../../data/tableDesign";
import type { RouteName } from "../../api/routes";

/** The function timeout the clients are built for: 500 ms per attempt, two attempts. */
const TIMEOUT_SECONDS = 5;

type PostBody = { id: string; version: number; title: string; createdAt: string };

/** One DynamoDB call as the middleware sees it. */
interface Call {
    operation: string;
    request: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** Which call's first answer to lose, and what to run on the engine before the retry goes out. */
interface Loss {
    match: (call: Call) => boolean;
    beforeRetry?: () => Promise<void>;
}

/** A document client with the Lambda's retry settings, whose answers can be lost once per Loss. */
function losingClient(endpoint: string) {
    const client = new DynamoDBClient({
        endpoint,
        region: "us-east-1",
        credentials: { accessKeyId: "local", secretAccessKey: "local" },
        ...dynamoClientConfig(TIMEOUT_SECONDS),
        retryMode: "standard",
    });
    let loss: Loss | undefined;
    const lost: Call[] = [];
    client.middlewareStack.add(
        (next) => async (args) => {
            const result = await next(args);
            const request = (
                args as unknown as { request: { headers: Record<string, string>; body: string | Uint8Array } }
            ).request;
            const body = typeof request.body === "string" ? request.body : Buffer.from(request.body).toString("utf8");
            const call: Call = {
                operation: String(request.headers["x-amz-target"]).split(".").pop()!,
                request: JSON.parse(body),
            };
            if (loss !== undefined && loss.match(call)) {
                const pending = loss;
                loss = undefined; // the first attempt only: the retry's answer arrives
                lost.push(call);
                await pending.beforeRetry?.();
                throw Object.assign(new Error(`the answer to ${call.operation} was lost (test)`), {
                    name: "TimeoutError",
                });
            }
            return result;
        },
        // After the retry step, so it runs once per attempt and the SDK's retry strategy sees the error.
        { step: "deserialize", name: "loseFirstAnswer" },
    );
    const db = DynamoDBDocument.from(client, { marshallOptions: { removeUndefinedValues: true } });
    return {
        db,
        lost,
        loseOnce: (next: Loss) => {
            loss = next;
        },
    };
}

const isOperation = (operation: string, pkPrefix?: string) => (call: Call) =>
    call.operation === operation &&
    (pkPrefix === undefined || String((call.request.Item ?? call.request.Key)?.pk?.S ?? "").startsWith(pkPrefix));

describe("writes retried after a lost or late first answer tell the truth", () => {
    let dynamo: TestDynamo;

    before(async () => {
        dynamo = await startTestDynamo();
    });

    after(async () => {
        await dynamo.close();
    });

    describe("the answer is lost (SDK seam, handler mode)", () => {
        let tableName: string;
        let client: ReturnType<typeof losingClient>;
        let call: ApiCall;
        let other: ApiCall;
        const clock = testClock();

        beforeEach(async () => {
            tableName = await dynamo.createTable();
            client = losingClient(dynamo.endpoint);
            call = apiClient(testDeps(client.db, tableName, clock, { functionTimeoutSeconds: TIMEOUT_SECONDS }));
            other = apiClient(testDeps(dynamo.db, tableName, clock, { functionTimeoutSeconds: TIMEOUT_SECONDS }));
        });

        afterEach(() => {
            client.db.destroy();
        });

        const posts = async () =>
            (await dumpTable(dynamo.db, tableName)).filter((item) => String(item.pk).startsWith("POST#"));

        async function create(): Promise<PostBody> {
            const created = await other("createPost", { body: validPost() });
            expect(created.statusCode).to.equal(201);
            return created.body as PostBody;
        }

        it("POST: 201 with the post stored once (not 500)", async () => {
            client.loseOnce({ match: isOperation("PutItem", "POST#") });

            const created = await call("createPost", { body: validPost({ title: "once" }) });

            expect(client.lost).to.have.length(1);
            expect(created.statusCode, created.rawBody).to.equal(201);
            const stored = await posts();
            expect(stored.map((item) => item.id)).to.deep.equal([(created.body as PostBody).id]);
        });

        it("POST with Idempotency-Key, the reservation's answer lost: 201 at once (not 409 until the lease ends)", async () => {
            client.loseOnce({ match: isOperation("PutItem", "IDEMPOTENCY#") });

            const created = await call("createPost", {
                body: validPost(),
                headers: { "Idempotency-Key": "k-reserve" },
            });

            expect(client.lost).to.have.length(1);
            expect(created.statusCode, created.rawBody).to.equal(201);
            const replay = await other("createPost", {
                body: validPost(),
                headers: { "Idempotency-Key": "k-reserve" },
            });
            expect(replay.statusCode).to.equal(201);
            expect((replay.body as PostBody).id).to.equal((created.body as PostBody).id);
            expect(await posts()).to.have.length(1);
        });

        it("POST with Idempotency-Key, the post write's answer lost: 201, one post", async () => {
            client.loseOnce({ match: isOperation("PutItem", "POST#") });

            const created = await call("createPost", { body: validPost(), headers: { "Idempotency-Key": "k-put" } });

            expect(client.lost).to.have.length(1);
            expect(created.statusCode, created.rawBody).to.equal(201);
            expect((await posts()).map((item) => item.id)).to.deep.equal([(created.body as PostBody).id]);
        });

        it("POST with Idempotency-Key, the completion's answer lost: 201, the record completed with that post", async () => {
            client.loseOnce({ match: isOperation("UpdateItem", "IDEMPOTENCY#") });

            const created = await call("createPost", {
                body: validPost(),
                headers: { "Idempotency-Key": "k-complete" },
            });

            expect(client.lost).to.have.length(1);
            expect(created.statusCode, created.rawBody).to.equal(201);
            const record = (
                await dynamo.db.get({
                    TableName: tableName,
                    Key: idempotencyKey(TEST_API_KEY_ID, "k-complete"),
                    ConsistentRead: true,
                })
            ).Item;
            expect(record?.status).to.equal("COMPLETED");
            expect(record?.postId).to.equal((created.body as PostBody).id);
        });

        it("POST with Idempotency-Key, a restart's answer lost: 201 with the new post (not 409 on its own lease)", async () => {
            // An owner that died before writing its post: its lease is over, the post does not exist.
            const now = clock.now();
            const created = await other("createPost", { body: validPost(), headers: { "Idempotency-Key": "k-seed" } });
            const hash = (
                await dynamo.db.get({
                    TableName: tableName,
                    Key: idempotencyKey(TEST_API_KEY_ID, "k-seed"),
                    ConsistentRead: true,
                })
            ).Item?.requestHash;
            await dynamo.db.put({
                TableName: tableName,
                Item: {
                    ...idempotencyKey(TEST_API_KEY_ID, "k-restart"),
                    status: "IN_PROGRESS",
                    owner: "dead-owner",
                    inProgressExpiresAt: now.getTime() - 1,
                    postId: "00000000-0000-4000-8000-00000000dead",
                    createdAt: now.toISOString(),
                    requestHash: hash,
                    expiresAt: Math.floor(now.getTime() / 1000) + 3600,
                },
            });
            client.loseOnce({
                match: (c) =>
                    isOperation("UpdateItem", "IDEMPOTENCY#")(c) &&
                    String(c.request.UpdateExpression).includes("#owner = :owner"),
            });

            const restarted = await call("createPost", {
                body: validPost(),
                headers: { "Idempotency-Key": "k-restart" },
            });

            expect(client.lost).to.have.length(1);
            expect(restarted.statusCode, restarted.rawBody).to.equal(201);
            expect((restarted.body as PostBody).id).to.not.equal("00000000-0000-4000-8000-00000000dead");
            expect((await posts()).map((item) => item.id).sort()).to.deep.equal(
                [(created.body as PostBody).id, (restarted.body as PostBody).id].sort(),
            );
        });

        for (const route of ["replacePost", "updatePost"] as const) {
            const body = route === "replacePost" ? validPost({ title: "changed" }) : { title: "changed" };

            it(`${route} with If-Match: 200 with the change, the version stepped once (not 412)`, async () => {
                const post = await create();
                client.loseOnce({ match: isOperation("UpdateItem") });

                const updated = await call(route, { id: post.id, body, headers: { "If-Match": `"${post.version}"` } });

                expect(client.lost).to.have.length(1);
                expect(updated.statusCode, updated.rawBody).to.equal(200);
                expect(updated.body).to.deep.include({ title: "changed", version: 2 });
                expect((await other("getPost", { id: post.id })).body).to.deep.include({ version: 2 });
            });

            it(`${route} without If-Match: the version stepped once (not twice)`, async () => {
                const post = await create();
                client.loseOnce({ match: isOperation("UpdateItem") });

                const updated = await call(route, { id: post.id, body });

                expect(client.lost).to.have.length(1);
                expect(updated.statusCode, updated.rawBody).to.equal(200);
                expect((await other("getPost", { id: post.id })).body).to.deep.include({
                    title: "changed",
                    version: 2,
                });
            });
        }

        it("updatePost with If-Match, another write landing before the retry: 200, each change applied once", async () => {
            const post = await create();
            client.loseOnce({
                match: isOperation("UpdateItem"),
                beforeRetry: async () => {
                    expect((await other("updatePost", { id: post.id, body: { author: "Grace" } })).statusCode).to.equal(
                        200,
                    );
                },
            });

            const updated = await call("updatePost", {
                id: post.id,
                body: { title: "changed" },
                headers: { "If-Match": '"1"' },
            });

            expect(updated.statusCode, updated.rawBody).to.equal(200);
            expect((await other("getPost", { id: post.id })).body).to.deep.include({
                title: "changed",
                author: "Grace",
                version: 3,
            });
        });

        it("deletePost with If-Match: 204 (not 404), and without: 204", async () => {
            const post = await create();
            client.loseOnce({ match: isOperation("DeleteItem") });
            const deleted = await call("deletePost", { id: post.id, headers: { "If-Match": '"1"' } });
            expect(client.lost).to.have.length(1);
            expect(deleted.statusCode, deleted.rawBody).to.equal(204);

            const second = await create();
            client.loseOnce({ match: isOperation("DeleteItem") });
            expect((await call("deletePost", { id: second.id })).statusCode).to.equal(204);
            expect(client.lost).to.have.length(2);
            expect(await posts()).to.deep.equal([]);
        });

        it("refusals stay true: a stale If-Match is 412, a missing post 404, with no retry", async () => {
            const post = await create();
            await other("updatePost", { id: post.id, body: { title: "v2" } });

            const stale = await call("updatePost", {
                id: post.id,
                body: { title: "x" },
                headers: { "If-Match": '"1"' },
            });
            const staleDelete = await call("deletePost", { id: post.id, headers: { "If-Match": '"1"' } });
            const missing = await call("deletePost", { id: "00000000-0000-4000-8000-000000000000" });

            expect([stale.statusCode, staleDelete.statusCode, missing.statusCode]).to.deep.equal([412, 412, 404]);
            expect((await other("getPost", { id: post.id })).body).to.deep.include({ title: "v2", version: 2 });
        });
    });

    describe("the answer is late (serialized closures, their own client timeouts)", () => {
        let tableName: string;
        let proxy: DynamoProxy;
        let call: ApiCall;
        let unload: () => void;
        let held: string[];
        let holdNext: ((operation: string) => boolean) | undefined;
        /** Past the per-attempt timeout, so the SDK gives up on the attempt and retries. */
        const lateMs = dynamoClientTimeouts(TIMEOUT_SECONDS).requestTimeoutMs + 300;

        before(async () => {
            tableName = await dynamo.createTable();
            proxy = await startDynamoProxy(dynamo.endpoint, {
                recordCalls: false,
                holdAnswerMs: (operation) => {
                    if (holdNext?.(operation)) {
                        holdNext = undefined;
                        held.push(operation);
                        return lateMs;
                    }
                    return 0;
                },
            });
            const lambdas = await loadLambdas(await stackProgram("dev"), {
                TABLE_NAME: tableName,
                CURSOR_KEY,
                CORS_ALLOW_ORIGIN: ALLOW_ORIGIN,
                FUNCTION_TIMEOUT_SECONDS: String(TIMEOUT_SECONDS),
                ...localSdkEnv(proxy.endpoint),
            });
            call = closureClient(lambdas.handlers as Record<RouteName, LambdaHandler>);
            unload = () => lambdas.unload();
        });

        after(async () => {
            unload();
            await proxy.close();
        });

        beforeEach(() => {
            held = [];
        });

        it("POST, PATCH with If-Match, PUT and DELETE with If-Match each answer success once", async () => {
            holdNext = (operation) => operation === "PutItem";
            const created = await call("createPost", { body: validPost() });
            expect(held).to.deep.equal(["PutItem"]);
            expect(created.statusCode, created.rawBody).to.equal(201);
            const id = (created.body as PostBody).id;

            holdNext = (operation) => operation === "UpdateItem";
            const patched = await call("updatePost", { id, body: { title: "late" }, headers: { "If-Match": '"1"' } });
            expect(held).to.deep.equal(["PutItem", "UpdateItem"]);
            expect(patched.statusCode, patched.rawBody).to.equal(200);

            holdNext = (operation) => operation === "UpdateItem";
            const replaced = await call("replacePost", { id, body: validPost({ title: "later" }) });
            expect(replaced.statusCode, replaced.rawBody).to.equal(200);
            expect((await call("getPost", { id })).body).to.deep.include({ title: "later", version: 3 });

            holdNext = (operation) => operation === "DeleteItem";
            const deleted = await call("deletePost", { id, headers: { "If-Match": '"3"' } });
            expect(held).to.have.length(4);
            expect(deleted.statusCode, deleted.rawBody).to.equal(204);
            expect((await call("getPost", { id })).statusCode).to.equal(404);
            expect(
                (await dumpTable(dynamo.db, tableName)).filter((item) => String(item.pk).startsWith("POST#")),
            ).to.have.length(0);
        });
    });
});
