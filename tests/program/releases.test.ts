// Releases, provisioned concurrency and the stage cache (issue 12), as the program declares them
// under mocks: each route's function publishes versions and API Gateway invokes its `live` alias
// (integration URI and Lambda permission), the alias follows a pin and a canary from config, warm
// environments where a stack asks for them, and the stage cache per stack. Then every refusal.
import { expect } from "chai";
import { parse } from "yaml";
import * as fs from "node:fs";
import * as path from "node:path";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
import type { RecordedProgram, RecordedResource, RecordOptions } from "local-cloud";
import { one, ofType, programWith, recordedNow, stackProgram, swaggerOf, TYPES } from "../support/program";
import { parseStackConfig, type ReleaseSettings } from "../../config/stackConfig";
import { checkRelease } from "../../api/release";
import { checkCache } from "../../api/stageCache";
import { PROJECT_DIR } from "../../scripts/project";

/* eslint-disable @typescript-eslint/no-explicit-any */

const T = {
    ...TYPES,
    alias: "aws:lambda/alias:Alias",
    provisionedConcurrency: "aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig",
    methodSettings: "aws:apigateway/methodSettings:MethodSettings",
} as const;

// Written out here, not derived from api/routes.ts: each operation's method, path, and what its
// cached answers would be keyed on (every path and query parameter; GET routes only).
const ROUTES: Record<string, { method: string; path: string; sourcePath: string; cacheKeys?: string[] }> = {
    listPosts: {
        method: "GET",
        path: "/posts",
        sourcePath: "/posts",
        cacheKeys: ["method.request.querystring.limit", "method.request.querystring.cursor"],
    },
    createPost: { method: "POST", path: "/posts", sourcePath: "/posts" },
    getPost: { method: "GET", path: "/posts/{id}", sourcePath: "/posts/*", cacheKeys: ["method.request.path.id"] },
    replacePost: { method: "PUT", path: "/posts/{id}", sourcePath: "/posts/*" },
    updatePost: { method: "PATCH", path: "/posts/{id}", sourcePath: "/posts/*" },
    deletePost: { method: "DELETE", path: "/posts/{id}", sourcePath: "/posts/*" },
};

function stackYaml(stack: string): any {
    return parse(fs.readFileSync(path.join(PROJECT_DIR, `Pulumi.${stack}.yaml`), "utf8")).config;
}

/** The resource of a type that belongs to a route's RouteFunction component, or undefined. */
const routeChild = (program: RecordedProgram, type: string, route: string): RecordedResource | undefined =>
    ofType(program, type).find((r) => r.parent.endsWith(`posts:api:RouteFunction::${route}`));

const fnOf = (program: RecordedProgram, route: string) => routeChild(program, T.function, route)!;
const aliasOf = (program: RecordedProgram, route: string) => routeChild(program, T.alias, route)!;

/** Method settings by method path (`*\/*`, `~1posts/GET`, ...). */
const methodSettings = (program: RecordedProgram) =>
    new Map(ofType(program, T.methodSettings).map((s) => [s.inputs["methodPath"] as string, s]));

/** The error a recording fails with (undefined when it succeeds). */
async function recordingError(options: RecordOptions): Promise<Error | undefined> {
    try {
        await programWith(options);
        return undefined;
    } catch (err) {
        return err as Error;
    }
}

/** Records the program and notes each resource's dependencies (the recorder does not keep them). */
async function recordWithDependencies(options: RecordOptions) {
    const monitor = MockMonitor.prototype as any;
    const original = monitor.registerResource;
    const dependencies = new Map<string, string[]>();
    monitor.registerResource = function (req: any, callback: (err: unknown, res: any) => void) {
        return original.call(this, req, (err: unknown, res: any) => {
            if (!err && res) {
                dependencies.set(res.getUrn(), req.getDependenciesList());
            }
            callback(err, res);
        });
    };
    try {
        return { program: await recordedNow(options), dependencies };
    } finally {
        monitor.registerResource = original;
    }
}

for (const stack of ["dev", "prod"]) {
    describe(`releases (${stack} stack, under mocks)`, () => {
        const config = stackYaml(stack);
        let program: RecordedProgram;
        let swagger: any;

        before(async () => {
            program = await stackProgram(stack);
            swagger = swaggerOf(program);
        });

        it("ships no pin and no canary: every route runs the version it published last", () => {
            expect(config["posts-api:release"]?.canaryWeight ?? 0).to.equal(0);
            for (const route of Object.values<any>(config["posts-api:release"]?.routes ?? {})) {
                expect(route.pin).to.equal(undefined);
            }
        });

        it("publishes a version of every function and points its live alias at the published version", () => {
            for (const route of Object.keys(ROUTES)) {
                const fn = fnOf(program, route);
                const alias = aliasOf(program, route);
                expect(fn.inputs["publish"], route).to.equal(true);
                // Whatever number the recording gives, but a published version, never $LATEST.
                expect(fn.state["version"], route).to.match(/^[0-9]+$/);
                expect(alias.inputs).to.deep.equal({
                    functionName: fn.state["name"],
                    name: "live",
                    functionVersion: fn.state["version"],
                });
            }
            expect(ofType(program, T.alias)).to.have.length(6);
        });

        it("integrates each operation with its alias's invoke ARN (the function's ARN qualified with live), behind the API key", () => {
            expect(swagger.securityDefinitions).to.deep.equal({
                api_key: { type: "apiKey", name: "x-api-key", in: "header" },
            });
            for (const [route, r] of Object.entries(ROUTES)) {
                const operation = swagger.paths[r.path][r.method.toLowerCase()];
                const integration = operation["x-amazon-apigateway-integration"];
                const fn = fnOf(program, route);
                expect(operation.security, route).to.deep.equal([{ api_key: [] }]);
                expect(integration.uri, route).to.equal(aliasOf(program, route).state["invokeArn"]);
                expect(integration.uri, route).to.equal(
                    `arn:aws:apigateway:${program.region}:lambda:path/2015-03-31/functions/${fn.state["arn"]}:live/invocations`,
                );
                expect(integration).to.deep.include({
                    type: "aws_proxy",
                    httpMethod: "POST",
                    passthroughBehavior: "when_no_match",
                });
            }
        });

        it("declares each operation's path and query parameters, and keys every GET's cached answers on all of them", () => {
            const expected: Record<string, any[] | undefined> = {
                listPosts: [
                    { name: "limit", in: "query", required: false, type: "string" },
                    { name: "cursor", in: "query", required: false, type: "string" },
                ],
                createPost: undefined,
                getPost: [{ name: "id", in: "path", required: true, type: "string" }],
            };
            for (const [route, r] of Object.entries(ROUTES)) {
                const operation = swagger.paths[r.path][r.method.toLowerCase()];
                const parameters =
                    route in expected ? expected[route] : [{ name: "id", in: "path", required: true, type: "string" }];
                expect(operation.parameters, route).to.deep.equal(parameters);
                expect(operation["x-amazon-apigateway-integration"].cacheKeyParameters, route).to.deep.equal(
                    r.cacheKeys,
                );
            }
        });

        it("lets API Gateway invoke each live alias from this API only: any stage, the route's method and resource", () => {
            const executionArn = one(program, T.restApi).state["executionArn"];
            for (const [route, r] of Object.entries(ROUTES)) {
                const permissions = ofType(program, T.permission).filter(
                    (p) => p.inputs["function"] === fnOf(program, route).state["name"],
                );
                expect(permissions, route).to.have.length(1);
                expect(permissions[0]!.inputs).to.deep.equal({
                    action: "lambda:InvokeFunction",
                    function: fnOf(program, route).state["name"],
                    qualifier: "live",
                    principal: "apigateway.amazonaws.com",
                    sourceArn: `${executionArn}/*/${r.method}${r.sourcePath}`,
                });
            }
            expect(ofType(program, T.permission)).to.have.length(6);
        });

        it(
            stack === "prod"
                ? "keeps warm environments on the hot reads: 2 for getPost, 1 for listPosts"
                : "keeps no warm environment",
            () => {
                const warm = Object.fromEntries(ofType(program, T.provisionedConcurrency).map((c) => [c.name, c]));
                const expected: Record<string, number> = stack === "prod" ? { getPost: 2, listPosts: 1 } : {};
                expect(Object.keys(warm)).to.have.members(Object.keys(expected));
                for (const [route, count] of Object.entries(expected)) {
                    expect(warm[route]!.inputs).to.deep.equal({
                        functionName: fnOf(program, route).state["name"],
                        qualifier: "live",
                        provisionedConcurrentExecutions: count,
                    });
                    expect(routeChild(program, T.provisionedConcurrency, route)).to.equal(warm[route]);
                }
            },
        );

        if (stack === "prod") {
            it("caches list pages for 60 s, keyed on limit and cursor, on a 0.5 GB cluster; never a single post", () => {
                const stage = one(program, T.stage);
                expect(stage.inputs).to.deep.include({ cacheClusterEnabled: true, cacheClusterSize: "0.5" });
                const settings = methodSettings(program);
                expect([...settings.keys()]).to.have.members(["*/*", "~1posts/GET"]);
                expect(settings.get("*/*")!.inputs["settings"].cachingEnabled).to.equal(false);
                expect(settings.get("~1posts/GET")!.inputs).to.deep.include({
                    restApi: one(program, T.restApi).id,
                    stageName: "prod",
                });
                expect(settings.get("~1posts/GET")!.inputs["settings"]).to.deep.equal({
                    // The stage-wide values, repeated: a method's own settings replace them.
                    metricsEnabled: true,
                    loggingLevel: "ERROR",
                    dataTraceEnabled: false,
                    cachingEnabled: true,
                    cacheTtlInSeconds: 60,
                    cacheDataEncrypted: true,
                    requireAuthorizationForCacheControl: true,
                    unauthorizedCacheControlHeaderStrategy: "SUCCEED_WITH_RESPONSE_HEADER",
                });
                expect(
                    swagger.paths["/posts"].get["x-amazon-apigateway-integration"].cacheKeyParameters,
                ).to.have.members(["method.request.querystring.limit", "method.request.querystring.cursor"]);
            });
        } else {
            it("has no stage cache: no cluster (its size still sent, so turning it on later changes one input), and caching off stage-wide", () => {
                const stage = one(program, T.stage);
                expect(stage.inputs["cacheClusterEnabled"]).to.equal(false);
                expect(stage.inputs["cacheClusterSize"]).to.equal("0.5");
                expect([...methodSettings(program).keys()]).to.deep.equal(["*/*"]);
                expect(methodSettings(program).get("*/*")!.inputs["settings"].cachingEnabled).to.equal(false);
            });
        }

        it("exports each route's published and live version, as plain (not secret) values", () => {
            const releases = program.outputs["releases"] as Record<string, any>;
            expect(Object.keys(releases)).to.have.members(Object.keys(ROUTES));
            for (const route of Object.keys(ROUTES)) {
                expect(releases[route]).to.deep.equal({
                    published: fnOf(program, route).state["version"],
                    live: aliasOf(program, route).state["functionVersion"],
                });
            }
            expect(program.secretOutputs).not.to.include("releases");
        });

        it("keeps the OPTIONS preflights keyless MOCKs and the gateway responses as they were", () => {
            for (const p of ["/posts", "/posts/{id}"]) {
                expect(swagger.paths[p].options.security).to.equal(undefined);
                expect(swagger.paths[p].options["x-amazon-apigateway-integration"].type).to.equal("mock");
            }
            expect(Object.keys(swagger["x-amazon-apigateway-gateway-responses"])).to.have.members([
                "DEFAULT_4XX",
                "DEFAULT_5XX",
                "MISSING_AUTHENTICATION_TOKEN",
                "ACCESS_DENIED",
            ]);
        });
    });
}

describe("releases: pins, canaries and provisioned concurrency from config (under mocks)", function () {
    this.timeout(240_000);
    /** The version the shipped dev stack's getPost published, whatever number the mocks give. */
    let published: string;
    /** Any other version: the stable one a pin keeps the alias on. */
    let other: number;

    before(async () => {
        published = fnOf(await stackProgram("dev"), "getPost").state["version"];
        other = Number(published) + 1;
        expect(Number.isInteger(other), `published version ${published}`).to.equal(true);
    });

    it("rolls a route back: a pin alone puts its alias on the pinned version, with no routing; other routes stay on the published one", async () => {
        const program = await programWith({
            stack: "dev",
            config: { "posts-api:release": { routes: { getPost: { pin: other } } } },
        });
        expect(aliasOf(program, "getPost").inputs).to.deep.equal({
            functionName: fnOf(program, "getPost").state["name"],
            name: "live",
            functionVersion: String(other),
        });
        expect(aliasOf(program, "listPosts").inputs["functionVersion"]).to.equal(
            fnOf(program, "listPosts").state["version"],
        );
        expect((program.outputs["releases"] as any).getPost).to.deep.equal({ published, live: String(other) });
    });

    describe("a canary of 0.1 with getPost pinned to another version, listPosts pinned to the published one, one warm environment per route (the canaried getPost too) but none for createPost and listPosts", () => {
        let program: RecordedProgram;
        let dependencies: Map<string, string[]>;
        const release = (): ReleaseSettings => ({
            canaryWeight: 0.1,
            provisionedConcurrency: 1,
            // Warm environments may stay on an alias with weights (Lambda only refuses changing them
            // while the weights are there): getPost keeps its one.
            routes: {
                getPost: { pin: other },
                listPosts: { pin: Number(published), provisionedConcurrency: 0 },
                createPost: { provisionedConcurrency: 0 },
            },
        });

        before(async () => {
            ({ program, dependencies } = await recordWithDependencies({
                stack: "dev",
                config: { "posts-api:release": release() },
            }));
        });

        it("sends 0.1 of getPost's calls to the published version and the rest to the pin", () => {
            expect(aliasOf(program, "getPost").inputs).to.deep.equal({
                functionName: fnOf(program, "getPost").state["name"],
                name: "live",
                functionVersion: String(other),
                routingConfig: { additionalVersionWeights: { [published]: 0.1 } },
            });
            expect((program.outputs["releases"] as any).getPost).to.deep.equal({
                published,
                live: String(other),
                canary: { version: published, weight: 0.1 },
            });
        });

        it("gives listPosts no routing: its pin is the published version (Lambda refuses a weight on the alias's own version)", () => {
            expect(aliasOf(program, "listPosts").inputs["functionVersion"]).to.equal(published);
            expect(aliasOf(program, "listPosts").inputs["routingConfig"]).to.equal(undefined);
        });

        it("leaves unpinned routes on the published version, without routing", () => {
            for (const route of ["createPost", "replacePost", "updatePost", "deletePost"]) {
                expect(aliasOf(program, route).inputs["functionVersion"], route).to.equal(
                    fnOf(program, route).state["version"],
                );
                expect(aliasOf(program, route).inputs["routingConfig"], route).to.equal(undefined);
            }
        });

        it("keeps the stack's default of warm environments on each alias, except where a route sets its own 0", () => {
            const warm = ofType(program, T.provisionedConcurrency);
            expect(warm.map((c) => c.name)).to.have.members(["getPost", "replacePost", "updatePost", "deletePost"]);
            for (const c of warm) {
                expect(c.inputs).to.deep.equal({
                    functionName: fnOf(program, c.name).state["name"],
                    qualifier: "live",
                    provisionedConcurrentExecutions: 1,
                });
                // Created once the alias exists: its qualifier is the alias's name output.
                expect(dependencies.get(c.urn), c.name).to.include(aliasOf(program, c.name).urn);
            }
        });

        it("makes the stage wait for every permission (as awsx does for its own routes), and each permission for its alias", () => {
            const stageDependencies = dependencies.get(one(program, T.stage).urn);
            for (const permission of ofType(program, T.permission)) {
                expect(stageDependencies, permission.name).to.include(permission.urn);
                expect(dependencies.get(permission.urn), permission.name).to.include(
                    aliasOf(program, permission.name).urn,
                );
            }
            // The API's body waits for the aliases it names.
            const restApiDependencies = dependencies.get(one(program, T.restApi).urn);
            for (const alias of ofType(program, T.alias)) {
                expect(restApiDependencies, alias.name).to.include(alias.urn);
            }
        });
    });
});

describe("stage cache from config (under mocks)", function () {
    this.timeout(240_000);

    it("caches the listed routes with the stack's size, TTL and execution log level (dev: INFO)", async () => {
        const program = await programWith({
            stack: "dev",
            config: { "posts-api:cache": { enabled: true, sizeGb: 1.6, ttlSeconds: 120, routes: ["listPosts"] } },
        });
        expect(one(program, T.stage).inputs).to.deep.include({ cacheClusterEnabled: true, cacheClusterSize: "1.6" });
        const cached = methodSettings(program).get("~1posts/GET")!;
        expect(cached.inputs["settings"]).to.deep.include({
            cachingEnabled: true,
            cacheTtlInSeconds: 120,
            loggingLevel: "INFO",
            metricsEnabled: true,
        });
        expect([...methodSettings(program).keys()]).to.have.members(["*/*", "~1posts/GET"]);
    });

    it("turns the cluster off with enabled: false and keeps the list for later (no per-method settings either)", async () => {
        const program = await programWith({
            stack: "prod",
            config: { "posts-api:cache": { enabled: false, ttlSeconds: 60, routes: ["listPosts"] } },
        });
        expect(one(program, T.stage).inputs["cacheClusterEnabled"]).to.equal(false);
        expect([...methodSettings(program).keys()]).to.deep.equal(["*/*"]);
    });

    it("stops the program, naming the key, when a stack caches a single post", async () => {
        const error = await recordingError({
            stack: "prod",
            config: { "posts-api:cache": { enabled: true, routes: ["listPosts", "getPost"] } },
        });
        expect(error?.message).to.include("posts-api:cache.routes[1]: getPost (GET /posts/{id}) may not be cached");
    });
});

describe("release and cache config refusals", () => {
    const valid = (): Record<string, any> => ({
        plans: { standard: { throttle: { rateLimit: 10, burstLimit: 20 }, quota: { limit: 1000, period: "DAY" } } },
        consumers: [{ name: "mobile-app", plan: "standard" }],
    });

    it("fills the defaults: no pin, no canary, no warm environment, no cache (0.5 GB and 300 s if turned on)", () => {
        const config = parseStackConfig("dev", valid());
        expect(config.release).to.deep.equal({ canaryWeight: 0, provisionedConcurrency: 0, routes: {} });
        expect(config.cache).to.deep.equal({ enabled: false, sizeGb: 0.5, ttlSeconds: 300, routes: [] });
    });

    const cases: Array<[string, Record<string, unknown>, string[]]> = [
        [
            "a canary weight of 1 (a promotion: remove the pin)",
            { release: { canaryWeight: 1, routes: { getPost: { pin: 3 } } } },
            ["posts-api:release.canaryWeight", "below 1"],
        ],
        [
            "a negative canary weight",
            { release: { canaryWeight: -0.1, routes: { getPost: { pin: 3 } } } },
            ["posts-api:release.canaryWeight", "at least 0"],
        ],
        [
            "a canary with no route pinned",
            { release: { canaryWeight: 0.1 } },
            ["posts-api:release.canaryWeight", "needs at least one route pinned"],
        ],
        [
            "a pin of 0",
            { release: { routes: { getPost: { pin: 0 } } } },
            ["posts-api:release.routes.getPost.pin", "greater than 0"],
        ],
        [
            "a fractional pin",
            { release: { routes: { getPost: { pin: 2.5 } } } },
            ["posts-api:release.routes.getPost.pin", "whole number"],
        ],
        [
            "a version given as text",
            { release: { routes: { getPost: { pin: "$LATEST" } } } },
            ["posts-api:release.routes.getPost.pin", "must be a number"],
        ],
        [
            "negative provisioned concurrency",
            { release: { provisionedConcurrency: -1 } },
            ["posts-api:release.provisionedConcurrency", "0 or more"],
        ],
        [
            "fractional provisioned concurrency for a route",
            { release: { routes: { listPosts: { provisionedConcurrency: 1.5 } } } },
            ["posts-api:release.routes.listPosts.provisionedConcurrency", "whole number"],
        ],
        [
            "an unknown key in a route's release",
            { release: { routes: { getPost: { version: 3 } } } },
            ["posts-api:release.routes.getPost.version", "unknown key"],
        ],
        ["an unknown key in release", { release: { weight: 0.1 } }, ["posts-api:release.weight", "unknown key"]],
        [
            "a cache size API Gateway does not offer",
            { cache: { enabled: true, sizeGb: 1, routes: ["listPosts"] } },
            ["posts-api:cache.sizeGb", "0.5, 1.6, 6.1"],
        ],
        [
            "a TTL over 3600 s",
            { cache: { enabled: true, ttlSeconds: 7200, routes: ["listPosts"] } },
            ["posts-api:cache.ttlSeconds", "between 0 and 3600"],
        ],
        [
            "a cache that caches nothing (no routes)",
            { cache: { enabled: true } },
            ["posts-api:cache.routes", "caches no route"],
        ],
        [
            "a cache with a TTL of 0",
            { cache: { enabled: true, ttlSeconds: 0, routes: ["listPosts"] } },
            ["posts-api:cache.ttlSeconds", "0 caches nothing"],
        ],
        [
            "a route cached twice",
            { cache: { enabled: true, routes: ["listPosts", "listPosts"] } },
            ["posts-api:cache.routes", "twice"],
        ],
        [
            "an unknown key in cache",
            { cache: { enabled: true, routes: ["listPosts"], clusterSize: 0.5 } },
            ["posts-api:cache.clusterSize", "unknown key"],
        ],
    ];
    for (const [what, extra, fragments] of cases) {
        it(`refuses ${what}`, () => {
            expect(() => parseStackConfig("dev", { ...valid(), ...extra }))
                .to.throw(Error)
                .that.satisfies((err: Error) => {
                    for (const fragment of fragments) {
                        expect(err.message).to.include(fragment);
                    }
                    return true;
                });
        });
    }

    it("refuses release settings for a route the table does not have, naming the routes there are", () => {
        const release = parseStackConfig("dev", { ...valid(), release: { routes: { getPosts: { pin: 3 } } } }).release;
        expect(() => checkRelease(release)).to.throw(
            "posts-api:release.routes.getPosts: no such route (routes: listPosts, createPost, getPost",
        );
    });

    it("refuses caching an unknown route, a write, or a read the contract promises is current", () => {
        const cacheOf = (routes: string[]) =>
            parseStackConfig("dev", { ...valid(), cache: { enabled: true, routes } }).cache;
        expect(() => checkCache(cacheOf(["listPost"]))).to.throw('posts-api:cache.routes[0]: no such route "listPost"');
        expect(() => checkCache(cacheOf(["listPosts", "createPost"]))).to.throw(
            "posts-api:cache.routes[1]: createPost (POST /posts) cannot be cached: only GET answers are",
        );
        expect(() => checkCache(cacheOf(["getPost"]))).to.throw(
            /posts-api:cache\.routes\[0\]: getPost \(GET \/posts\/\{id\}\) may not be cached: .*read-your-writes/,
        );
        expect(() => checkCache(cacheOf(["listPosts"]))).not.to.throw();
    });

    it("stops the whole program, naming the key, on release settings for an unknown route", async () => {
        const error = await recordingError({
            stack: "dev",
            config: { "posts-api:release": { routes: { search: { pin: 1 } } } },
        });
        expect(error?.message).to.include("posts-api:release.routes.search: no such route");
    });
});
