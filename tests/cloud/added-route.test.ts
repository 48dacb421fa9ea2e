// A route added to a copy of the program (one row in api/routes.ts and one handler file, see
// tests/support/routeFixture.ts) is served by the local cloud with no other edit: behind the
// stack's API keys, on its own function, with a preflight for its path. (What it declares under
// mocks and in the OpenAPI document: tests/api/route-table.test.ts.)
import { expect } from "chai";
import type { LocalCloud } from "local-cloud";
import { call, removeStateDir, startTestCloud, tempStateDir } from "local-cloud/testing";
import { ADDED_ROUTE, createRouteFixture, type RouteFixture } from "../support/routeFixture";

describe(`local cloud: a route added to a copy of the program (${ADDED_ROUTE.method} ${ADDED_ROUTE.path})`, function () {
    this.timeout(180_000);
    let fixture: RouteFixture;
    let cloud: LocalCloud;
    let key: string;
    const url = (path: string) => `${cloud.stageUrl}${path}`;

    before(async () => {
        fixture = createRouteFixture();
        // The copy's own Pulumi.yaml and Pulumi.dev.yaml: the dev stack as shipped.
        cloud = await startTestCloud({ stack: "dev", projectDir: fixture.dir, stateDir: tempStateDir("added-route") });
        key = cloud.apiKeys["developer"]!;
    });

    after(async () => {
        await cloud?.close();
        if (cloud) {
            removeStateDir(cloud.stateDir);
        }
        fixture?.remove();
    });

    it("serves it from its own function: the title of a post created through POST /posts", async () => {
        const created = await call(url("posts"), {
            method: "POST",
            headers: { "x-api-key": key },
            body: { title: "Added route", author: "Ada", publicationDate: "2026-11-21" },
        });
        expect(created.status, created.text).to.equal(201);
        const title = await call(url(`posts/${created.json.id}/title`), { headers: { "x-api-key": key } });
        expect(title.status, title.text).to.equal(200);
        expect(title.json).to.deep.equal({ title: "Added route" });
        expect(cloud.functionStats()).to.have.property(ADDED_ROUTE.name);
        expect(cloud.routes.map((r) => `${r.method} ${r.path}`)).to.include(`GET /dev${ADDED_ROUTE.path}`);
    });

    it("answers as the contract does around it: 403 without a key, 404 for an unknown post, a preflight for its path", async () => {
        const unknown = "9b2f6c1e-3d4a-4f5b-8c7d-1e2f3a4b5c6d";
        expect((await call(url(`posts/${unknown}/title`))).status).to.equal(403);
        const missing = await call(url(`posts/${unknown}/title`), { headers: { "x-api-key": key } });
        expect(missing.status, missing.text).to.equal(404);
        expect(missing.json).to.deep.equal({ message: "Post not found" });
        const preflight = await call(url(`posts/${unknown}/title`), {
            method: "OPTIONS",
            headers: { Origin: "https://example.com", "Access-Control-Request-Method": "GET" },
        });
        expect(preflight.status).to.equal(204);
        expect(preflight.headers.get("access-control-allow-methods")).to.equal("GET,OPTIONS");
    });
});
