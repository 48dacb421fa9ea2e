// The route table (api/routes.ts) is the one list of routes: the handler index and the test client
// derive from it, and a route added to a copy of the program (one row and one handler file, see
// tests/support/routeFixture.ts) reaches the awsx OpenAPI body, its own least-privilege role and
// the OpenAPI document with no other edit. (The local cloud serving it: tests/cloud/added-route.test.ts.)
import { expect } from "chai";
import SwaggerParser from "@apidevtools/swagger-parser";
import * as path from "node:path";
import type { RecordedProgram } from "local-cloud";
import { routes } from "../../api/routes";
import { handlers } from "../../api/handlers";
import type * as OpenApiModule from "../../api/openapi";
import type * as RoutesModule from "../../api/routes";
import type * as SchemaModule from "../../api/schema";
import { routeEvent } from "../support/client";
import { ofType, one, programWith, stackProgram, swaggerOf, TYPES } from "../support/program";
import { ADDED_ROUTE, createRouteFixture, type RouteFixture } from "../support/routeFixture";
import { PROJECT_DIR } from "../../scripts/project";

/* eslint-disable @typescript-eslint/no-explicit-any */

const ALIAS = "aws:lambda/alias:Alias";

/** "GET /posts"-style operations of an OpenAPI/swagger document, OPTIONS left out. */
const operationsOf = (doc: { paths: Record<string, Record<string, unknown>> }) =>
    Object.entries(doc.paths)
        .flatMap(([p, ops]) =>
            Object.keys(ops)
                .filter((m) => m !== "options")
                .map((m) => `${m.toUpperCase()} ${p}`),
        )
        .sort();

/** The resources of one RouteFunction component, by type. */
const routeChild = (program: RecordedProgram, type: string, route: string) => {
    const found = ofType(program, type).filter((r) => r.parent.endsWith(`posts:api:RouteFunction::${route}`));
    expect(found, `${type} of ${route}`).to.have.length(1);
    return found[0]!;
};

describe("route table (api/routes.ts): everything per route derives from its row", () => {
    it("names each row's handler: the function of that name exported by api/handlers/<name>.ts", () => {
        // Required here, not imported: a recording under mocks in this process reloads the
        // program's modules, and the table and the handler modules must come from the same load.
        const current = (require(path.join(PROJECT_DIR, "api", "routes.ts")) as typeof RoutesModule).routes;
        expect(current.map((r) => r.name)).to.deep.equal(routes.map((r) => r.name));
        for (const route of current) {
            const module = require(path.join(PROJECT_DIR, "api", "handlers", `${route.name}.ts`)) as Record<
                string,
                unknown
            >;
            expect(module[route.name], route.name).to.equal(route.handler);
        }
    });

    it("has one row per operation: names, and method-and-path pairs, are unique", () => {
        expect(new Set(routes.map((r) => r.name)).size).to.equal(routes.length);
        expect(new Set(routes.map((r) => `${r.method} ${r.path}`)).size).to.equal(routes.length);
    });

    it("is the handler index (api/handlers/index.ts): one handler per row and no other", () => {
        expect(Object.keys(handlers)).to.deep.equal(routes.map((r) => r.name));
        for (const route of routes) {
            expect(handlers[route.name], route.name).to.equal(route.handler);
        }
    });

    it("gives the test client each route's method and resource, the path filled in from the row's template", () => {
        for (const route of routes) {
            const takesId = route.path.includes("{id}");
            const event = routeEvent(route.name, takesId ? { id: "0b1c2d3e" } : {});
            expect(event.httpMethod, route.name).to.equal(route.method);
            expect(event.resource, route.name).to.equal(route.path);
            expect(event.requestContext.resourcePath).to.equal(route.path);
            expect(event.path).to.equal(route.path.replace("{id}", "0b1c2d3e"));
            expect(event.pathParameters).to.deep.equal(takesId ? { id: "0b1c2d3e" } : null);
        }
        expect(() => routeEvent("listPosts", { id: "0b1c2d3e" })).to.throw(/listPosts \(GET \/posts\) takes no id/);
        expect(() => routeEvent("searchPosts" as never)).to.throw(/No route named "searchPosts" in api\/routes.ts/);
    });

    it("is what the dev program deploys: the body's operations and one function per row", async () => {
        const program = await stackProgram("dev");
        expect(operationsOf(swaggerOf(program))).to.deep.equal(routes.map((r) => `${r.method} ${r.path}`).sort());
        expect(ofType(program, TYPES.function).map((f) => f.name)).to.have.members(routes.map((r) => r.name));
    });
});

describe(`a route added to a copy of the program (${ADDED_ROUTE.method} ${ADDED_ROUTE.path}: one row, one handler file, no other edit)`, function () {
    this.timeout(180_000);
    let fixture: RouteFixture;
    let program: RecordedProgram;
    let real: RecordedProgram;
    let swagger: any;

    before(async () => {
        real = await stackProgram("dev");
        fixture = createRouteFixture();
        program = await programWith({ stack: "dev", projectDir: fixture.dir });
        swagger = swaggerOf(program);
    });

    after(() => fixture?.remove());

    it("differs from the program only in api/routes.ts and the new handler file, and the recording ran the copy", () => {
        expect(fixture.changedFiles).to.deep.equal([
            path.join("api", "handlers", `${ADDED_ROUTE.name}.ts`),
            path.join("api", "routes.ts"),
        ]);
        // The copy's own modules were loaded, not the project's: the same code, from the copy.
        for (const file of [
            "index.ts",
            "api/postsApi.ts",
            "api/routeFunction.ts",
            "api/lambdaRole.ts",
            `api/handlers/${ADDED_ROUTE.name}.ts`,
        ]) {
            expect(require.cache[path.join(fixture.dir, file)], file).not.to.equal(undefined);
        }
    });

    it("reaches the awsx OpenAPI body: the new operation behind the API key, on its own function's live alias, with a preflight for its path", () => {
        const operation = swagger.paths[ADDED_ROUTE.path]?.[ADDED_ROUTE.method.toLowerCase()];
        expect(operation, JSON.stringify(Object.keys(swagger.paths))).not.to.equal(undefined);
        expect(operation.security).to.deep.equal([{ api_key: [] }]);
        expect(swagger.securityDefinitions.api_key).to.deep.include({
            type: "apiKey",
            name: "x-api-key",
            in: "header",
        });
        const integration = operation["x-amazon-apigateway-integration"];
        expect(integration.type).to.equal("aws_proxy");
        const fn = routeChild(program, TYPES.function, ADDED_ROUTE.name);
        const alias = routeChild(program, ALIAS, ADDED_ROUTE.name);
        expect(fn.inputs["publish"]).to.equal(true);
        expect(alias.inputs).to.deep.include({
            functionName: fn.state["name"],
            functionVersion: fn.state["version"],
            name: "live",
        });
        expect(integration.uri).to.equal(alias.state["invokeArn"]);
        expect(integration.uri).to.include(`/functions/${fn.state["arn"]}:live/invocations`);
        // Its own path parameter is a cache key, like every GET's.
        expect(integration.cacheKeyParameters).to.deep.equal(["method.request.path.id"]);
        // API Gateway may invoke the alias, from this API, for this method and resource only.
        const permission = routeChild(program, TYPES.permission, ADDED_ROUTE.name);
        expect(permission.inputs).to.deep.include({
            function: fn.state["name"],
            qualifier: "live",
            principal: "apigateway.amazonaws.com",
        });
        expect(permission.inputs["sourceArn"]).to.equal(
            `${one(program, TYPES.restApi).state["executionArn"]}/*/GET/posts/*/title`,
        );

        const preflight = swagger.paths[ADDED_ROUTE.path].options["x-amazon-apigateway-integration"];
        expect(preflight.type).to.equal("mock");
        expect(
            preflight.responses.default.responseParameters["method.response.header.Access-Control-Allow-Methods"],
        ).to.equal("'GET,OPTIONS'");

        // Every operation of the real program is still there, unchanged in number.
        expect(operationsOf(swagger)).to.deep.equal(
            [...operationsOf(swaggerOf(real)), `${ADDED_ROUTE.method} ${ADDED_ROUTE.path}`].sort(),
        );
        expect(ofType(program, TYPES.permission)).to.have.length(ofType(real, TYPES.permission).length + 1);
    });

    it("gets its own least-privilege role: GetItem on post items, writes to its own log group, nothing else", () => {
        const table = one(program, TYPES.table);
        const fn = routeChild(program, TYPES.function, ADDED_ROUTE.name);
        const role = routeChild(program, TYPES.role, ADDED_ROUTE.name);
        const logGroup = routeChild(program, TYPES.logGroup, ADDED_ROUTE.name);
        expect(fn.inputs["role"]).to.equal(role.state["arn"]);
        expect(role.state["arn"]).not.to.equal(routeChild(program, TYPES.role, "getPost").state["arn"]);
        expect(logGroup.inputs["name"]).to.equal(`/aws/lambda/posts-api-dev-${ADDED_ROUTE.name}`);
        expect(
            JSON.parse(routeChild(program, TYPES.rolePolicy, ADDED_ROUTE.name).inputs["policy"]).Statement,
        ).to.deep.equal([
            {
                Sid: "TableItems",
                Effect: "Allow",
                Action: ["dynamodb:GetItem"],
                Resource: table.state["arn"],
                Condition: { "ForAllValues:StringLike": { "dynamodb:LeadingKeys": ["POST#*"] } },
            },
            {
                Sid: "OwnLogGroup",
                Effect: "Allow",
                Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
                Resource: `${logGroup.state["arn"]}:*`,
            },
        ]);
        expect(ofType(program, TYPES.role)).to.have.length(ofType(real, TYPES.role).length + 1);
    });

    it("appears in the OpenAPI document (the copy's api/openapi.ts over the copy's table), which still validates", async () => {
        const { openApiDocument } = require(path.join(fixture.dir, "api", "openapi.ts")) as typeof OpenApiModule;
        const { routes: copiedRoutes } = require(path.join(fixture.dir, "api", "routes.ts")) as typeof RoutesModule;
        const { postJsonSchemas } = require(path.join(fixture.dir, "api", "schema.ts")) as typeof SchemaModule;
        const doc = openApiDocument({
            servers: { stage: "dev", region: "us-east-1" },
            routes: copiedRoutes,
            schemas: postJsonSchemas({ target: "openapi-3.0" }),
            version: "0.1.0",
        });

        const operation = doc.paths[ADDED_ROUTE.path]![ADDED_ROUTE.method.toLowerCase()];
        expect(operation.operationId).to.equal(ADDED_ROUTE.name);
        expect(operation.summary).to.equal("Get a post's title");
        expect(Object.keys(operation.responses).sort()).to.deep.equal([
            "200",
            "403",
            "404",
            "413",
            "429",
            "500",
            "502",
            "504",
        ]);
        expect(operation.parameters).to.deep.equal([{ $ref: "#/components/parameters/PostId" }]);
        // The document describes exactly what the copy deploys.
        expect(operationsOf(doc)).to.deep.equal(operationsOf(swagger));
        await SwaggerParser.validate(structuredClone(doc) as any);
    });
});
