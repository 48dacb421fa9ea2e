// The OpenAPI 3 document (api/openapi.ts): valid for a well-kept validator, the same routes as the
// API Gateway body the program deploys, and bodies taken from the handlers' own zod schemas.
import { expect } from "chai";
import SwaggerParser from "@apidevtools/swagger-parser";
import * as childProcess from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { openApiDocument, type OpenApiDocument } from "../../api/openapi";
import { routes } from "../../api/routes";
import { postJsonSchemas } from "../../api/schema";
import { type RecordedProgram } from "local-cloud";
import { stackProgram, swaggerOf } from "../support/program";
import { PROJECT_DIR } from "../../scripts/project";

/* eslint-disable @typescript-eslint/no-explicit-any */

const HTTP_METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

function documentFor(program: RecordedProgram): OpenApiDocument {
    return openApiDocument({
        serverUrl: program.outputs["url"] as string,
        routes,
        schemas: postJsonSchemas({ target: "openapi-3.0" }),
        version: "0.1.0",
    });
}

/** "get /posts"-style list of a document's operations. */
const operationsOf = (doc: { paths: Record<string, Record<string, unknown>> }, skip: string[] = []) =>
    Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).filter((m) => HTTP_METHODS.includes(m) && !skip.includes(m)).map((m) => `${m} ${p}`)).sort();

/** Every operation with its method and path. */
const eachOperation = (doc: OpenApiDocument) =>
    Object.entries(doc.paths).flatMap(([p, ops]) => Object.entries<any>(ops).map(([method, op]) => ({ method, path: p, op, name: `${method.toUpperCase()} ${p}` })));

/** A `$ref` resolved inside the document. */
const resolve = (doc: OpenApiDocument, node: any): any =>
    node?.$ref ? (node.$ref as string).slice(2).split("/").reduce((at: any, key: string) => at[key], doc) : node;

for (const stack of ["dev", "prod"]) {
    describe(`OpenAPI document (${stack} stack)`, () => {
        let program: RecordedProgram;
        let doc: OpenApiDocument;

        before(async () => {
            program = await stackProgram(stack);
            doc = documentFor(program);
        });

        it("is a valid OpenAPI 3 document (@apidevtools/swagger-parser)", async () => {
            // validate() dereferences in place; give it a copy.
            await SwaggerParser.validate(structuredClone(doc) as any);
            expect(doc.openapi).to.match(/^3\./);
        });

        it("would fail validation if an operation lost its responses (the validator is not a rubber stamp)", async () => {
            const broken = structuredClone(doc) as any;
            delete broken.paths["/posts"].get.responses;
            let error: unknown;
            await SwaggerParser.validate(broken).catch((err: unknown) => { error = err; });
            expect(String(error)).to.match(/responses/);
        });

        it("describes exactly the deployed routes: the API Gateway body's paths and methods minus OPTIONS", () => {
            const deployed = operationsOf(swaggerOf(program), ["options"]);
            expect(deployed).to.have.length(6);
            expect(operationsOf(doc)).to.deep.equal(deployed);
        });

        it("points at the stack's stage URL", () => {
            expect(doc.servers).to.deep.equal([{ url: (program.outputs["url"] as string).replace(/\/$/, "") }]);
            expect(doc.servers[0].url).to.match(new RegExp(`\\.execute-api\\.us-east-1\\.amazonaws\\.com/${stack}$`));
        });

        it("requires the x-api-key header on every operation", () => {
            expect(doc.components.securitySchemes.api_key).to.deep.include({ type: "apiKey", in: "header", name: "x-api-key" });
            for (const { name, op } of eachOperation(doc)) {
                expect(op.security, name).to.deep.equal([{ api_key: [] }]);
            }
        });
    });
}

describe("OpenAPI document contents", () => {
    let doc: OpenApiDocument;
    const schemas = postJsonSchemas({ target: "openapi-3.0" });
    const op = (method: string, p: string) => doc.paths[p]![method];
    const paramNames = (operation: any) => operation.parameters.map((p: any) => `${resolve(doc, p).in}:${resolve(doc, p).name}`).sort();

    before(async () => {
        doc = documentFor(await stackProgram("dev"));
    });

    it("takes every body schema from the zod schemas the handlers validate with", () => {
        for (const name of ["PostInput", "PostPatch", "Post", "PostList", "Error"] as const) {
            expect(doc.components.schemas[name], name).to.deep.equal(schemas[name]);
        }
        expect(op("post", "/posts").requestBody.content["application/json"].schema).to.deep.equal({ $ref: "#/components/schemas/PostInput" });
        expect(op("put", "/posts/{id}").requestBody.content["application/json"].schema).to.deep.equal({ $ref: "#/components/schemas/PostInput" });
        expect(op("patch", "/posts/{id}").requestBody.content["application/json"].schema).to.deep.equal({ $ref: "#/components/schemas/PostPatch" });
        expect(doc.components.schemas.PostInput.additionalProperties).to.equal(false);
        expect(doc.components.schemas.PostInput.required).to.have.members(["title", "author", "publicationDate"]);
    });

    it("lists the parameters of each route: id, limit and cursor, If-Match, Idempotency-Key", () => {
        expect(paramNames(op("get", "/posts"))).to.deep.equal(["query:cursor", "query:limit"]);
        expect(paramNames(op("post", "/posts"))).to.deep.equal(["header:Idempotency-Key"]);
        expect(paramNames(op("get", "/posts/{id}"))).to.deep.equal(["path:id"]);
        for (const method of ["put", "patch", "delete"]) {
            expect(paramNames(op(method, "/posts/{id}")), method).to.deep.equal(["header:If-Match", "path:id"]);
        }
        expect(resolve(doc, { $ref: "#/components/parameters/Limit" }).schema).to.deep.equal({ type: "integer", minimum: 1, maximum: 100, default: 20 });
    });

    it("gives every operation 403 and 429 (API Gateway) and 500, and each route its own errors", () => {
        const statuses = (method: string, p: string) => Object.keys(op(method, p).responses).sort();
        expect(statuses("get", "/posts")).to.deep.equal(["200", "400", "403", "429", "500"]);
        expect(statuses("post", "/posts")).to.deep.equal(["201", "400", "403", "409", "413", "422", "429", "500"]);
        expect(statuses("get", "/posts/{id}")).to.deep.equal(["200", "403", "404", "429", "500"]);
        expect(statuses("put", "/posts/{id}")).to.deep.equal(["200", "400", "403", "404", "412", "413", "429", "500"]);
        expect(statuses("patch", "/posts/{id}")).to.deep.equal(["200", "400", "403", "404", "412", "413", "429", "500"]);
        expect(statuses("delete", "/posts/{id}")).to.deep.equal(["204", "400", "403", "404", "412", "429", "500"]);
        const badRequest = resolve(doc, op("post", "/posts").responses["400"]);
        expect(resolve(doc, badRequest.content["application/json"].schema).properties.errors.type).to.equal("array");
        const tooMany = resolve(doc, op("get", "/posts").responses["429"]).content["application/json"].examples;
        expect(Object.values<any>(tooMany).map((e) => e.value.message)).to.have.members(["Too Many Requests", "Limit Exceeded"]);
        expect(resolve(doc, op("get", "/posts").responses["403"]).content["application/json"].example).to.deep.equal({ message: "Forbidden" });
        const internal = resolve(doc, resolve(doc, op("get", "/posts").responses["500"]).content["application/json"].schema);
        expect(internal.required).to.have.members(["message", "requestId"]);
    });

    it("documents ETag, Location and the CORS headers on responses, and no body on 204", () => {
        const headers = (method: string, p: string, status: string) => Object.keys(resolve(doc, op(method, p).responses[status]).headers ?? {}).sort();
        expect(headers("post", "/posts", "201")).to.include.members(["ETag", "Location"]);
        for (const method of ["get", "put", "patch"]) {
            expect(headers(method, "/posts/{id}", "200"), method).to.include("ETag");
        }
        for (const { name, op: operation } of eachOperation(doc)) {
            for (const status of Object.keys(operation.responses)) {
                expect(headers(name.split(" ")[0]!.toLowerCase(), name.split(" ")[1]!, status), `${name} ${status}`).to.include("Access-Control-Allow-Origin");
            }
        }
        expect(op("delete", "/posts/{id}").responses["204"].content).to.equal(undefined);
    });

    it("refuses a row whose docs do not declare the path's parameters, naming the row", () => {
        const getPost = routes.find((r) => r.name === "getPost")!;
        const searchPosts = { ...getPost, name: "searchPosts", path: "/search/{term}" };
        expect(() => openApiDocument({ serverUrl: "https://x/dev/", routes: [...routes, searchPosts], schemas, version: "0" }))
            .to.throw(/Route "searchPosts" \(GET \/search\/\{term\}\) has path parameters \[term\] but its docs in api\/routes.ts declare \[id\]/);
    });
});

describe("npm run openapi", function () {
    this.timeout(180_000);

    it("writes a valid openapi.json for a stack", async () => {
        const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "openapi-")), "openapi.json");
        try {
            const run = childProcess.spawnSync(process.execPath, ["-r", "ts-node/register/transpile-only", "scripts/openapi.ts", "--stack", "prod", "--out", out], {
                cwd: PROJECT_DIR, encoding: "utf8",
            });
            expect(run.status, run.stderr).to.equal(0);
            const written = JSON.parse(fs.readFileSync(out, "utf8"));
            await SwaggerParser.validate(written);
            expect(written.servers[0].url).to.equal(((await stackProgram("prod")).outputs["url"] as string).replace(/\/$/, ""));
        } finally {
            fs.rmSync(path.dirname(out), { recursive: true, force: true });
        }
    });
});
