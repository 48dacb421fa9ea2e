// The clients' view: the OpenAPI document converted as Postman imports it, and the checked-in
// Postman collection, both run with newman (Postman's command-line runner) against a local cloud
// whose plan never throttles.
import { expect } from "chai";
import * as fs from "node:fs";
import newman from "newman";
import type { LocalCloud } from "local-cloud";
import {
    buildCollection,
    COLLECTION_FILE,
    COLLECTION_STACK,
    CONVERSION_OPTIONS,
    convertDocument,
    IMPORTS,
    serializeCollection,
} from "../../scripts/postman";
import { stackDocument } from "../../scripts/openapi";
import { startRoomyCloud, stopCloud } from "../support/roomyCloud";

/* eslint-disable @typescript-eslint/no-explicit-any */

interface Execution {
    name: string;
    method: string;
    path: string;
    status: number;
}

/** Runs a collection with newman (no reporter output), as `newman run … --env-var apiKey=…` would. */
function runNewman(
    collection: unknown,
    envVar: Record<string, string>,
): Promise<{ summary: any; executions: Execution[] }> {
    return new Promise((resolve, reject) => {
        newman.run(
            {
                collection: collection as any,
                envVar: Object.entries(envVar).map(([key, value]) => ({ key, value })),
                reporters: [],
                timeoutRequest: 30_000,
            },
            (err, summary) => {
                if (err) {
                    reject(err);
                    return;
                }
                const executions = summary.run.executions.map((e: any) => ({
                    name: e.item.name,
                    method: e.request.method,
                    // The item's template path (`/posts/:id`), not the sent one (stage and id filled in).
                    path: "/" + e.item.request.url.path.join("/"),
                    status: e.response?.code ?? 0,
                }));
                resolve({ summary, executions });
            },
        );
    });
}

describe("Postman: the document as imported and the checked-in collection, run with newman", function () {
    let cloud: LocalCloud;
    let env: Record<string, string>;

    before(async () => {
        cloud = await startRoomyCloud(COLLECTION_STACK);
        env = { apiKey: cloud.apiKeys["app"]!, port: new URL(cloud.stageUrl).port, stage: COLLECTION_STACK };
    });

    after(() => stopCloud(cloud));

    it("the checked-in collection is what `npm run postman` writes (never hand-edited, never stale)", async () => {
        const fresh = serializeCollection(await buildCollection());
        expect(
            fs.readFileSync(COLLECTION_FILE, "utf8") === fresh,
            "docs/posts-api.postman_collection.json is stale: run `npm run postman`",
        ).to.equal(true);
    });

    // As a user imports the document: Postman's importer today (convertV2) and the older converter
    // with their default settings, and with the Example settings the checked-in collection uses.
    const AS_IMPORTED = {
        ...IMPORTS,
        "convert, Example options (the collection's Reference folder)": {
            converter: "convert",
            options: CONVERSION_OPTIONS,
        },
    } as const;
    for (const [name, how] of Object.entries(AS_IMPORTED)) {
        it(`the document imported with ${name}, apiKey set as docs/openapi.md says: no 400, 403 or 5xx; only {id} routes 404`, async () => {
            const converted = await convertDocument(await stackDocument(COLLECTION_STACK), how);
            // The conversion declares no apiKey variable and its auth sends it: docs/openapi.md says to set it, as
            // here.
            expect(converted.variable.map((v: any) => v.key)).not.to.include("apiKey");
            expect(converted.auth.apikey.find((a: any) => a.key === "value")?.value).to.equal("{{apiKey}}");
            const { executions } = await runNewman(converted, env);
            expect(executions.map((e) => `${e.method} ${e.path}`).sort()).to.deep.equal([
                "DELETE /posts/:id",
                "GET /posts",
                "GET /posts/:id",
                "OPTIONS /posts",
                "OPTIONS /posts/:id",
                "PATCH /posts/:id",
                "POST /posts",
                "PUT /posts/:id",
            ]);
            for (const e of executions) {
                const label = `${e.method} ${e.path} → ${e.status}`;
                expect(e.status, label).to.be.oneOf(
                    e.path.endsWith(":id") && e.method !== "OPTIONS" ? [200, 204, 404] : [200, 201, 204],
                );
            }
            expect(executions.find((e) => e.method === "POST")!.status).to.equal(201);
            expect(executions.find((e) => e.method === "GET" && e.path === "/posts")!.status).to.equal(200);
        });
    }

    it("the default import sends `cursor=` (empty: the first page) and a valid publicationDate, as the document's defaults say", async () => {
        const converted = await convertDocument(
            await stackDocument(COLLECTION_STACK),
            IMPORTS["convertV2, default options"],
        );
        const requests = converted.item.flatMap(function flat(item: any): any[] {
            return item.item ? item.item.flatMap(flat) : [item.request];
        });
        const list = requests.find((r: any) => r.method === "GET" && r.url.path.join("/") === "posts");
        expect(
            list.url.query.filter((q: any) => q.disabled !== true).map((q: any) => [q.key, q.value]),
        ).to.deep.include(["cursor", ""]);
        const create = requests.find((r: any) => r.method === "POST");
        expect(JSON.parse(create.body.raw).publicationDate).to.equal("2026-11-21");
    });

    it("the checked-in collection: every assertion passes, the walkthrough in order, twice in a row", async () => {
        const collection = JSON.parse(fs.readFileSync(COLLECTION_FILE, "utf8"));
        for (const round of [1, 2]) {
            const { summary, executions } = await runNewman(collection, env);
            const failures = summary.run.failures.map((f: any) => `${f.source?.name}: ${f.error?.message}`);
            expect(failures, `round ${round}`).to.deep.equal([]);
            const assertions = summary.run.stats.assertions;
            expect(assertions.failed).to.equal(0);
            // Walkthrough: 10 requests with 2+ tests each; Reference: 8 with one each.
            expect(assertions.total).to.be.at.least(28);
            expect(executions.slice(0, 10).map((e) => e.status)).to.deep.equal([
                201, 201, 200, 200, 200, 412, 200, 204, 404, 403,
            ]);
        }
    });

    it("would report a failing assertion (the run is not a rubber stamp): a wrong key fails the walkthrough", async () => {
        const collection = JSON.parse(fs.readFileSync(COLLECTION_FILE, "utf8"));
        const { summary } = await runNewman(collection, { ...env, apiKey: "w".repeat(40) });
        expect(summary.run.stats.assertions.failed).to.be.greaterThan(5);
    });
});
