// The OpenAPI 3 document (api/openapi.ts): valid for a well-kept validator, the same routes as the
// API Gateway body the program deploys, and bodies taken from the handlers' own zod schemas.
import { expect } from "chai";
import SwaggerParser from "@apidevtools/swagger-parser";
import * as childProcess from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import Ajv from "ajv";
import addFormats from "ajv-formats";
import { EXAMPLE_POST_ID, EXAMPLES, openApiDocument, type OpenApiDocument } from "../../api/openapi";
import { parseIdempotencyKey, parseIfMatch, parseLimit, postIdFrom } from "../../api/handlers/shared";
import { listStartKey } from "../../api/cursor";
import type { HttpRequest } from "../../api/http/contract";
import { routes } from "../../api/routes";
import { postJsonSchemas, postSchemas } from "../../api/schema";
import { type RecordedProgram } from "local-cloud";
import { stackProgram, swaggerOf } from "../support/program";
import { PROJECT_DIR } from "../../scripts/project";

/* eslint-disable @typescript-eslint/no-explicit-any */

const HTTP_METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

function documentFor(program: RecordedProgram, deployedUrl?: string): OpenApiDocument {
    return openApiDocument({
        servers: { stage: program.stack, region: program.region, deployedUrl },
        routes,
        schemas: postJsonSchemas({ target: "openapi-3.0" }),
        version: "0.1.0",
    });
}

/** "get /posts"-style list of a document's operations. */
const operationsOf = (doc: { paths: Record<string, Record<string, unknown>> }, skip: string[] = []) =>
    Object.entries(doc.paths)
        .flatMap(([p, ops]) =>
            Object.keys(ops)
                .filter((m) => HTTP_METHODS.includes(m) && !skip.includes(m))
                .map((m) => `${m} ${p}`),
        )
        .sort();

/** Every operation with its method and path. */
const eachOperation = (doc: OpenApiDocument) =>
    Object.entries(doc.paths).flatMap(([p, ops]) =>
        Object.entries<any>(ops).map(([method, op]) => ({ method, path: p, op, name: `${method.toUpperCase()} ${p}` })),
    );

/** A `$ref` resolved inside the document. */
const resolve = (doc: OpenApiDocument, node: any): any =>
    node?.$ref
        ? (node.$ref as string)
              .slice(2)
              .split("/")
              .reduce((at: any, key: string) => at[key], doc)
        : node;

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
            await SwaggerParser.validate(broken).catch((err: unknown) => {
                error = err;
            });
            expect(String(error)).to.match(/responses/);
        });

        it("describes exactly the deployed routes: the API Gateway body's paths and methods, OPTIONS preflights included", () => {
            const deployed = operationsOf(swaggerOf(program));
            expect(deployed).to.have.length(8);
            expect(operationsOf(doc)).to.deep.equal(deployed);
        });

        it("written before a deploy, names the local cloud first and AWS as a template with a placeholder API id, never a made-up host", () => {
            expect(doc.servers.map((s: any) => s.url)).to.deep.equal([
                "http://127.0.0.1:{port}/{stage}",
                "https://{restApiId}.execute-api.{region}.amazonaws.com/{stage}",
            ]);
            expect(doc.servers[0].variables).to.deep.include({
                port: { default: "8080", description: "The port `npm start` serves on (`--port`)." },
            });
            expect(doc.servers[0].variables.stage.default).to.equal(stack);
            expect(doc.servers[1].variables.restApiId.default).to.equal("your-rest-api-id");
            expect(doc.servers[1].variables.region.default).to.equal(program.region);
            // The mocked program's stand-in API id appears nowhere in the document.
            const standIn = new URL(program.outputs["url"] as string).hostname.split(".")[0]!;
            expect(JSON.stringify(doc)).not.to.include(standIn);
        });

        it("with the deployed stage URL, names that stage first and the local cloud second", () => {
            const deployed = documentFor(program, `https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/${stack}/`);
            expect(deployed.servers[0]).to.deep.equal({
                url: `https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com/${stack}`,
                description: `The ${stack} stage on AWS.`,
            });
            expect(deployed.servers[1].url).to.equal("http://127.0.0.1:{port}/{stage}");
        });

        it("requires the x-api-key header on every operation but the OPTIONS preflights", () => {
            expect(doc.components.securitySchemes.api_key).to.deep.include({
                type: "apiKey",
                in: "header",
                name: "x-api-key",
            });
            for (const { name, method, op } of eachOperation(doc)) {
                expect(op.security, name).to.deep.equal(method === "options" ? [] : [{ api_key: [] }]);
            }
        });
    });
}

describe("OpenAPI document contents", () => {
    let doc: OpenApiDocument;
    const schemas = postJsonSchemas({ target: "openapi-3.0" });
    const op = (method: string, p: string) => doc.paths[p]![method];
    const paramNames = (operation: any) =>
        operation.parameters.map((p: any) => `${resolve(doc, p).in}:${resolve(doc, p).name}`).sort();

    before(async () => {
        doc = documentFor(await stackProgram("dev"));
    });

    it("has an example for every parameter but `cursor`, each accepted by the handlers' own parsing", () => {
        const parameters = doc.components.parameters as Record<string, any>;
        expect(Object.keys(parameters).filter((name) => parameters[name].example === undefined)).to.deep.equal([
            "Cursor",
        ]);
        const request = (over: Partial<HttpRequest>): HttpRequest =>
            ({
                method: "GET",
                resource: "/posts/{id}",
                pathParameters: {},
                query: {},
                headers: {},
                body: null,
                requestId: "r",
                apiKeyId: null,
                ...over,
            }) as HttpRequest;
        expect(postIdFrom(request({ pathParameters: { id: parameters["PostId"].example } }))).to.equal(EXAMPLE_POST_ID);
        expect(parseLimit(request({ query: { limit: String(parameters["Limit"].example) } }))).to.equal(20);
        expect(parseIfMatch(request({ headers: { "if-match": parameters["IfMatch"].example } }))).to.deep.equal({
            kind: "version",
            version: 1,
        });
        expect(
            parseIdempotencyKey(request({ headers: { "idempotency-key": parameters["IdempotencyKey"].example } })),
        ).to.equal(parameters["IdempotencyKey"].example);
    });

    it('has defaults Postman\'s default import sends that mean what the server does without them: `cursor` "" the first page, `If-Match` * any version, a valid publicationDate', () => {
        const parameters = doc.components.parameters as Record<string, any>;
        const request = (over: Partial<HttpRequest>): HttpRequest =>
            ({
                method: "GET",
                resource: "/posts/{id}",
                pathParameters: {},
                query: {},
                headers: {},
                body: null,
                requestId: "r",
                apiKeyId: null,
                ...over,
            }) as HttpRequest;
        expect(parameters["Cursor"].schema.default).to.equal("");
        expect(listStartKey(parameters["Cursor"].schema.default, "secret")).to.equal(null);
        expect(parseIfMatch(request({ headers: { "if-match": parameters["IfMatch"].schema.default } }))).to.deep.equal(
            parseIfMatch(request({})),
        );
        const publicationDate = (doc.components.schemas as any).PostInput.properties.publicationDate;
        const body = { ...EXAMPLES.PostInput, publicationDate: publicationDate.anyOf[0].default };
        expect(postSchemas().create.safeParse(body).success, JSON.stringify(body)).to.equal(true);
    });

    it("has request body examples the handlers' zod schemas accept, JSON listed first and any type read as JSON", () => {
        const zodSchemas = postSchemas();
        for (const [method, p, schema] of [
            ["post", "/posts", zodSchemas.create],
            ["put", "/posts/{id}", zodSchemas.replace],
            ["patch", "/posts/{id}", zodSchemas.patch],
        ] as const) {
            const content = op(method, p).requestBody.content;
            expect(Object.keys(content), `${method} ${p}`).to.deep.equal(["application/json", "*/*"]);
            const parsed = schema.safeParse(content["application/json"].example);
            expect(parsed.success, `${method} ${p}: ${JSON.stringify(parsed.error?.issues)}`).to.equal(true);
        }
    });

    it("has response examples that validate against their own schemas (ajv) and the handlers' response shapes", () => {
        const ajv = new Ajv({ strict: false, allErrors: true });
        addFormats(ajv);
        ajv.addSchema({ components: doc.components }, "doc");
        let checked = 0;
        for (const { name, op: operation } of eachOperation(doc)) {
            for (const [status, response] of Object.entries<any>(operation.responses)) {
                for (const media of Object.values<any>(resolve(doc, response).content ?? {})) {
                    const examples =
                        media.example !== undefined
                            ? [media.example]
                            : Object.values<any>(media.examples ?? {}).map((e) => e.value);
                    expect(examples.length, `${name} ${status} has an example`).to.be.greaterThan(0);
                    const validate = ajv.compile({ $ref: `doc${media.schema.$ref}` });
                    for (const example of examples) {
                        expect(validate(example), `${name} ${status}: ${ajv.errorsText(validate.errors)}`).to.equal(
                            true,
                        );
                        checked++;
                    }
                }
            }
        }
        expect(checked).to.be.greaterThan(40);
        expect(postSchemas().post.safeParse(EXAMPLES.Post).success).to.equal(true);
        // The validator is not a rubber stamp: a post example without its id fails.
        const validatePost = ajv.compile({ $ref: "doc#/components/schemas/Post" });
        expect(validatePost({ ...EXAMPLES.Post, id: undefined })).to.equal(false);
    });

    it("takes every body schema from the zod schemas the handlers validate with", () => {
        // Beside zod's schema, PostInput carries one annotation: publicationDate's default for Postman's default
        // import.
        const input = structuredClone(doc.components.schemas.PostInput);
        expect(input.properties.publicationDate.anyOf[0].default).to.equal(EXAMPLES.PostInput.publicationDate);
        delete input.properties.publicationDate.anyOf[0].default;
        expect(input, "PostInput").to.deep.equal(schemas.PostInput);
        for (const name of ["PostPatch", "Post", "PostList", "Error"] as const) {
            expect(doc.components.schemas[name], name).to.deep.equal(schemas[name]);
        }
        expect(op("post", "/posts").requestBody.content["application/json"].schema).to.deep.equal({
            $ref: "#/components/schemas/PostInput",
        });
        expect(op("put", "/posts/{id}").requestBody.content["application/json"].schema).to.deep.equal({
            $ref: "#/components/schemas/PostInput",
        });
        expect(op("patch", "/posts/{id}").requestBody.content["application/json"].schema).to.deep.equal({
            $ref: "#/components/schemas/PostPatch",
        });
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
        expect(resolve(doc, { $ref: "#/components/parameters/Limit" }).schema).to.deep.equal({
            type: "integer",
            minimum: 1,
            maximum: 100,
            default: 20,
        });
    });

    it("gives every keyed operation the gateway's answers (403, 413, 429, 502, 504) and 500, each route its own errors, OPTIONS only 204", () => {
        const statuses = (method: string, p: string) => Object.keys(op(method, p).responses).sort();
        const common = ["403", "413", "429", "500", "502", "504"];
        const withCommon = (...own: string[]) => [...own, ...common].sort();
        expect(statuses("get", "/posts")).to.deep.equal(withCommon("200", "400"));
        expect(statuses("post", "/posts")).to.deep.equal(withCommon("201", "400", "409", "422"));
        expect(statuses("get", "/posts/{id}")).to.deep.equal(withCommon("200", "404"));
        expect(statuses("put", "/posts/{id}")).to.deep.equal(withCommon("200", "400", "404", "412"));
        expect(statuses("patch", "/posts/{id}")).to.deep.equal(withCommon("200", "400", "404", "412"));
        expect(statuses("delete", "/posts/{id}")).to.deep.equal(withCommon("204", "400", "404", "412"));
        expect(statuses("options", "/posts")).to.deep.equal(["204"]);
        expect(statuses("options", "/posts/{id}")).to.deep.equal(["204"]);
        const tooLarge = resolve(doc, op("get", "/posts").responses["413"]).content["application/json"].examples;
        expect(Object.values<any>(tooLarge).map((e) => e.value.message)).to.have.members([
            "Request body is larger than 65536 bytes",
            "Request Too Long",
        ]);
        expect(resolve(doc, op("get", "/posts").responses["502"]).content["application/json"].example).to.deep.equal({
            message: "Internal server error",
        });
        expect(resolve(doc, op("get", "/posts").responses["504"]).content["application/json"].example).to.deep.equal({
            message: "Endpoint request timed out",
        });
        expect(doc.info.description).to.include('404 `{"message":"Not found"}`');
        const badRequest = resolve(doc, op("post", "/posts").responses["400"]);
        expect(resolve(doc, badRequest.content["application/json"].schema).properties.errors.type).to.equal("array");
        const tooMany = resolve(doc, op("get", "/posts").responses["429"]).content["application/json"].examples;
        expect(Object.values<any>(tooMany).map((e) => e.value.message)).to.have.members([
            "Too Many Requests",
            "Limit Exceeded",
        ]);
        expect(resolve(doc, op("get", "/posts").responses["403"]).content["application/json"].example).to.deep.equal({
            message: "Forbidden",
        });
        const internal = resolve(
            doc,
            resolve(doc, op("get", "/posts").responses["500"]).content["application/json"].schema,
        );
        expect(internal.required).to.have.members(["message", "requestId"]);
    });

    it("documents ETag, Location and the CORS headers on responses, and no body on 204", () => {
        const headers = (method: string, p: string, status: string) =>
            Object.keys(resolve(doc, op(method, p).responses[status]).headers ?? {}).sort();
        expect(headers("post", "/posts", "201")).to.include.members(["ETag", "Location"]);
        for (const method of ["get", "put", "patch"]) {
            expect(headers(method, "/posts/{id}", "200"), method).to.include("ETag");
        }
        for (const { name, op: operation } of eachOperation(doc)) {
            for (const status of Object.keys(operation.responses)) {
                expect(
                    headers(name.split(" ")[0]!.toLowerCase(), name.split(" ")[1]!, status),
                    `${name} ${status}`,
                ).to.include("Access-Control-Allow-Origin");
            }
        }
        expect(op("delete", "/posts/{id}").responses["204"].content).to.equal(undefined);
    });

    it("refuses a row whose docs do not declare the path's parameters, naming the row", () => {
        const getPost = routes.find((r) => r.name === "getPost")!;
        const searchPosts = { ...getPost, name: "searchPosts", path: "/search/{term}" };
        expect(() =>
            openApiDocument({
                servers: { stage: "dev", region: "us-east-1" },
                routes: [...routes, searchPosts],
                schemas,
                version: "0",
            }),
        ).to.throw(
            /Route "searchPosts" \(GET \/search\/\{term\}\) has path parameters \[term\] but its docs in api\/routes.ts declare \[id\]/,
        );
    });
});

describe("npm run openapi", function () {
    this.timeout(180_000);

    it("writes a valid openapi.json for a stack", async () => {
        const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "openapi-")), "openapi.json");
        try {
            const run = childProcess.spawnSync(
                process.execPath,
                ["-r", "./tests/support/register.js", "scripts/openapi.ts", "--stack", "prod", "--out", out],
                {
                    cwd: PROJECT_DIR,
                    encoding: "utf8",
                },
            );
            expect(run.status, run.stderr).to.equal(0);
            const written = JSON.parse(fs.readFileSync(out, "utf8"));
            await SwaggerParser.validate(written);
            expect(written.servers[0].url).to.equal("http://127.0.0.1:{port}/{stage}");
            expect(written.servers[1].variables.restApiId.default).to.equal("your-rest-api-id");
            expect(run.stdout).to.match(
                /No --url: the servers are the local cloud and an AWS template with a placeholder API id/,
            );
        } finally {
            fs.rmSync(path.dirname(out), { recursive: true, force: true });
        }
    });
});
