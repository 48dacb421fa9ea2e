// A slow engine in the local cloud: the embedded DynamoDB answers one write late, after it has
// committed and after the function's DynamoDB client gave up on the attempt (its per-attempt
// timeout comes from the function's timeout: api/http/dynamoClientConfig.ts). The client retries
// a write that happened; the API still answers what happened (201, 200, 204), once.
// (tests/contract/write-retries.test.ts holds each write to this at the SDK seam.)
import { expect } from "chai";
import type { LocalCloud } from "local-cloud";
import { call } from "local-cloud/testing";
import { dynamoClientTimeouts } from "../../api/http/dynamoClientConfig";
import { startRoomyCloud, stopCloud } from "../support/roomyCloud";

/** 500 ms per attempt, two attempts (dynamoClientConfig). */
const TIMEOUT_SECONDS = 5;
const LATE_MS = dynamoClientTimeouts(TIMEOUT_SECONDS).requestTimeoutMs + 300;
const POST = { title: "Late", description: "answered late", author: "Ada", publicationDate: "2026-12-06" };

describe("local cloud: a slow engine answers a committed write late, the API still tells the truth", function () {
    let cloud: LocalCloud;
    let headers: Record<string, string>;
    /** The next call of this operation is answered late; every other at once. */
    let lateNext: string | undefined;
    const late: string[] = [];
    const url = (path: string) => `${cloud.stageUrl}${path}`;

    before(async () => {
        cloud = await startRoomyCloud(
            "lateengine",
            { "posts-api:lambdaTimeout": TIMEOUT_SECONDS },
            {
                faults: {
                    dynamoAnswerDelayMs: (operation: string) => {
                        if (operation !== lateNext) {
                            return 0;
                        }
                        lateNext = undefined;
                        late.push(operation);
                        return LATE_MS;
                    },
                },
            },
        );
        headers = { "x-api-key": cloud.apiKeys["app"]! };
    });

    after(() => stopCloud(cloud));

    it("POST 201 and one post; PATCH with If-Match 200, version 2; DELETE with If-Match 204", async () => {
        lateNext = "PutItem";
        const created = await call(url("posts"), { method: "POST", headers, body: POST });
        expect(late).to.deep.equal(["PutItem"]);
        expect(created.status, created.text).to.equal(201);
        const listed = await call(url("posts"), { headers });
        expect(listed.json.items.map((p: { id: string }) => p.id)).to.deep.equal([created.json.id]);

        lateNext = "UpdateItem";
        const patched = await call(url(`posts/${created.json.id}`), {
            method: "PATCH",
            headers: { ...headers, "If-Match": '"1"' },
            body: { title: "Later" },
        });
        expect(late).to.deep.equal(["PutItem", "UpdateItem"]);
        expect(patched.status, patched.text).to.equal(200);
        expect((await call(url(`posts/${created.json.id}`), { headers })).json).to.deep.include({
            title: "Later",
            version: 2,
        });

        lateNext = "DeleteItem";
        const deleted = await call(url(`posts/${created.json.id}`), {
            method: "DELETE",
            headers: { ...headers, "If-Match": '"2"' },
        });
        expect(late).to.have.length(3);
        expect(deleted.status, deleted.text).to.equal(204);
        expect((await call(url(`posts/${created.json.id}`), { headers })).status).to.equal(404);
    });
});
