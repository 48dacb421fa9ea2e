// The Pulumi program, recorded under mocks for each shipped stack: what `pulumi up` would create.
import { expect } from "chai";
import { parse } from "yaml";
import * as fs from "node:fs";
import * as path from "node:path";
import { cloudModel } from "local-cloud";
import { archiveEntries, type RecordedProgram } from "local-cloud";
import { byUrn, one, ofType, programWith, stackProgram, swaggerOf, TYPES } from "../support/program";
import { PROJECT_DIR } from "../../scripts/project";

/* eslint-disable @typescript-eslint/no-explicit-any */

const ALIAS = "aws:lambda/alias:Alias";

// Written out here, not imported from api/routes.ts, so a change to a route's permissions
// has to be made twice: once on purpose in the code, once on purpose here.
const EXPECTED_ROUTES: Record<
    string,
    { method: string; path: string; table: string[]; index: string[]; keys: string[] }
> = {
    listPosts: {
        method: "get",
        path: "/posts",
        table: ["dynamodb:GetItem"],
        index: ["dynamodb:Query"],
        keys: ["META#listing"],
    },
    createPost: {
        method: "post",
        path: "/posts",
        table: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
        index: [],
        keys: ["POST#*", "IDEMPOTENCY#*", "META#listing"],
    },
    getPost: { method: "get", path: "/posts/{id}", table: ["dynamodb:GetItem"], index: [], keys: ["POST#*"] },
    replacePost: {
        method: "put",
        path: "/posts/{id}",
        table: ["dynamodb:UpdateItem", "dynamodb:GetItem"],
        index: [],
        keys: ["POST#*"],
    },
    updatePost: {
        method: "patch",
        path: "/posts/{id}",
        table: ["dynamodb:UpdateItem", "dynamodb:GetItem"],
        index: [],
        keys: ["POST#*"],
    },
    deletePost: {
        method: "delete",
        path: "/posts/{id}",
        table: ["dynamodb:DeleteItem", "dynamodb:GetItem"],
        index: [],
        keys: ["POST#*"],
    },
};

/** True when `path` is a secret input or lies inside one (Pulumi marks the enclosing property). */
const coveredBySecret = (secretInputs: string[] | undefined, inputPath: string) =>
    (secretInputs ?? []).some((p) => inputPath === p || inputPath.startsWith(`${p}.`));

function stackYaml(stack: string): any {
    return parse(fs.readFileSync(path.join(PROJECT_DIR, `Pulumi.${stack}.yaml`), "utf8")).config;
}

/** Resources created under a RouteFunction component, by route name. */
function routeChild(program: RecordedProgram, type: string, route: string) {
    return ofType(program, type).find((r) => r.parent.endsWith(`posts:api:RouteFunction::${route}`));
}

for (const stack of ["dev", "prod"]) {
    describe(`program (${stack} stack, under mocks)`, () => {
        let program: RecordedProgram;
        let swagger: any;
        const config = stackYaml(stack);
        const production = config["posts-api:production"] === true;
        const tracing = config["posts-api:tracing"] === true;

        before(async () => {
            program = await stackProgram(stack);
            swagger = swaggerOf(program);
        });

        describe("REST API", () => {
            it("defines exactly the six routes of the contract plus an OPTIONS preflight per path", () => {
                const operations = Object.entries<any>(swagger.paths).flatMap(([p, ops]) =>
                    Object.keys(ops).map((m) => `${m} ${p}`),
                );
                expect(operations).to.have.members([
                    ...Object.values(EXPECTED_ROUTES).map((r) => `${r.method} ${r.path}`),
                    "options /posts",
                    "options /posts/{id}",
                ]);
            });

            it("requires the x-api-key header on every operation except OPTIONS", () => {
                expect(swagger.securityDefinitions.api_key).to.deep.include({
                    type: "apiKey",
                    name: "x-api-key",
                    in: "header",
                });
                for (const [p, ops] of Object.entries<any>(swagger.paths)) {
                    for (const [method, op] of Object.entries<any>(ops)) {
                        if (method === "options") {
                            expect(op.security, `${method} ${p}`).to.equal(undefined);
                        } else {
                            expect(op.security, `${method} ${p}`).to.deep.equal([{ api_key: [] }]);
                        }
                    }
                }
                expect(swagger["x-amazon-apigateway-api-key-source"]).to.equal("HEADER");
                expect(one(program, TYPES.restApi).inputs["apiKeySource"]).to.equal("HEADER");
            });

            it("answers OPTIONS with a MOCK integration that runs no Lambda and sends the CORS headers", () => {
                for (const p of ["/posts", "/posts/{id}"]) {
                    const integration = swagger.paths[p].options["x-amazon-apigateway-integration"];
                    expect(integration.type).to.equal("mock");
                    // With awsx's `*/*` binary media type, a MOCK without this answers 500 on AWS.
                    expect(integration.contentHandling).to.equal("CONVERT_TO_TEXT");
                    expect(integration.uri).to.equal(undefined);
                    const params = integration.responses.default.responseParameters;
                    expect(params["method.response.header.Access-Control-Allow-Origin"]).to.equal("'*'");
                    expect(params["method.response.header.Access-Control-Allow-Headers"]).to.include("X-Api-Key");
                    expect(params["method.response.header.Access-Control-Allow-Methods"]).to.include("OPTIONS");
                }
                expect(
                    swagger.paths["/posts"].options["x-amazon-apigateway-integration"].responses.default
                        .responseParameters["method.response.header.Access-Control-Allow-Methods"],
                ).to.equal("'GET,POST,OPTIONS'");
            });

            it("sends each operation to its own Lambda function's live alias through AWS_PROXY", () => {
                // The alias's invoke ARN and permission in detail: tests/program/releases.test.ts.
                for (const [route, r] of Object.entries(EXPECTED_ROUTES)) {
                    const integration = swagger.paths[r.path][r.method]["x-amazon-apigateway-integration"];
                    expect(integration).to.deep.include({
                        type: "aws_proxy",
                        httpMethod: "POST",
                        passthroughBehavior: "when_no_match",
                    });
                    const fn = routeChild(program, TYPES.function, route)!;
                    expect(integration.uri, route).to.equal(routeChild(program, ALIAS, route)!.state["invokeArn"]);
                    expect(integration.uri, route).to.include(`/functions/${fn.state["arn"]}:live/invocations`);
                }
            });

            it("adds CORS headers to API Gateway's own 4XX and 5XX answers without changing their status", () => {
                const responses = swagger["x-amazon-apigateway-gateway-responses"];
                for (const type of ["DEFAULT_4XX", "DEFAULT_5XX"]) {
                    expect(responses[type].statusCode, type).to.equal(undefined);
                    expect(
                        responses[type].responseParameters["gatewayresponse.header.Access-Control-Allow-Origin"],
                    ).to.equal("'*'");
                    expect(responses[type].responseTemplates["application/json"]).to.equal(
                        '{"message":$context.error.messageString}',
                    );
                }
                expect(responses.MISSING_AUTHENTICATION_TOKEN.statusCode).to.equal(404);
            });

            it("names the stage after the stack", () => {
                expect(one(program, TYPES.stage).inputs["stageName"]).to.equal(stack);
            });
        });

        describe("usage plans and keys", () => {
            it("creates one plan per configured plan, bound to this stage with its throttle and quota", () => {
                const restApiId = one(program, TYPES.restApi).id;
                const plans = ofType(program, TYPES.usagePlan);
                expect(plans.map((p) => p.name)).to.have.members(Object.keys(config["posts-api:plans"]));
                for (const plan of plans) {
                    const expected = config["posts-api:plans"][plan.name];
                    expect(plan.inputs["throttleSettings"]).to.deep.equal(expected.throttle);
                    expect(plan.inputs["quotaSettings"]).to.deep.equal({ offset: 0, ...expected.quota });
                    expect(plan.inputs["apiStages"]).to.have.length(1);
                    expect(plan.inputs["apiStages"][0]).to.deep.include({ apiId: restApiId, stage: stack });
                    const throttles = Object.entries<any>(expected.methodThrottles ?? {}).map(([p, limits]) => ({
                        path: p,
                        ...limits,
                    }));
                    expect(plan.inputs["apiStages"][0].throttles ?? []).to.deep.equal(throttles);
                }
            });

            it("gives every consumer its own key, named by consumer and attached to its plan", () => {
                const consumers: any[] = config["posts-api:consumers"];
                const keys = ofType(program, TYPES.apiKey);
                expect(keys.map((k) => k.name)).to.have.members(consumers.map((c) => c.name));
                for (const consumer of consumers) {
                    const key = one(program, TYPES.apiKey, consumer.name);
                    expect(key.inputs["enabled"], consumer.name).to.equal(consumer.enabled ?? true);
                    const attachment = one(program, TYPES.usagePlanKey, consumer.name);
                    expect(attachment.inputs["keyId"]).to.equal(key.id);
                    expect(attachment.inputs["keyType"]).to.equal("API_KEY");
                    expect(attachment.inputs["usagePlanId"]).to.equal(one(program, TYPES.usagePlan, consumer.plan).id);
                    // The provider echoes the key value on the attachment; it must stay encrypted.
                    expect(attachment.additionalSecretOutputs).to.include("value");
                }
            });

            it("detaches a key from its old plan before attaching it to the new one (deleteBeforeReplace on every UsagePlanKey)", () => {
                // keyId and usagePlanId force a replacement, and AWS keeps a key in at most one plan
                // per stage: creating the replacement first (Pulumi's default) would fail.
                const attachments = ofType(program, TYPES.usagePlanKey);
                expect(attachments).to.have.length(config["posts-api:consumers"].length);
                for (const attachment of attachments) {
                    expect(attachment.deleteBeforeReplace, attachment.name).to.equal(true);
                }
                // Nothing else needs it: an API key is never replaced by a plan change.
                for (const key of ofType(program, TYPES.apiKey)) {
                    expect(key.deleteBeforeReplace, key.name).to.equal(false);
                }
            });

            it("ships different limits for dev and prod", async () => {
                const other = await stackProgram(stack === "dev" ? "prod" : "dev");
                const limits = (p: RecordedProgram) =>
                    JSON.stringify(
                        ofType(p, TYPES.usagePlan).map((u) => [
                            u.inputs["throttleSettings"],
                            u.inputs["quotaSettings"],
                        ]),
                    );
                expect(limits(program)).to.not.equal(limits(other));
            });
        });

        describe("outputs", () => {
            it("exports url, tableName, apiKey and apiKeys, with the key values secret", () => {
                const consumers: any[] = config["posts-api:consumers"];
                expect(program.outputs["url"]).to.equal(`${one(program, TYPES.stage).state["invokeUrl"]}/`);
                expect(program.outputs["url"]).to.match(
                    new RegExp(`^https://.+\\.execute-api\\..+\\.amazonaws\\.com/${stack}/$`),
                );
                expect(program.outputs["tableName"]).to.equal(one(program, TYPES.table).state["name"]);
                const apiKeys = program.outputs["apiKeys"] as Record<string, string>;
                expect(Object.keys(apiKeys)).to.have.members(consumers.map((c) => c.name));
                for (const consumer of consumers) {
                    expect(apiKeys[consumer.name]).to.equal(one(program, TYPES.apiKey, consumer.name).state["value"]);
                    expect(apiKeys[consumer.name]).to.match(/^[A-Za-z0-9]{40}$/);
                }
                expect(program.outputs["apiKey"]).to.equal(apiKeys[consumers[0].name]);
                expect(program.secretOutputs).to.have.members(["apiKey", "apiKeys"]);
            });
        });

        describe("functions", () => {
            it("creates one function per route with explicit runtime, arm64, memory and timeout", () => {
                const functions = ofType(program, TYPES.function);
                expect(functions.map((f) => f.name)).to.have.members(Object.keys(EXPECTED_ROUTES));
                for (const fn of functions) {
                    expect(fn.inputs["runtime"], fn.name).to.equal("nodejs22.x");
                    expect(fn.inputs["architectures"]).to.deep.equal(["arm64"]);
                    expect(fn.inputs["timeout"]).to.equal(config["posts-api:lambdaTimeout"] ?? 10);
                    expect(fn.inputs["memorySize"]).to.equal(config["posts-api:lambdaMemorySize"] ?? 256);
                    expect(fn.inputs["timeout"]).to.be.at.most(29);
                    expect(fn.inputs["environment"].variables.TABLE_NAME).to.equal(
                        one(program, TYPES.table).state["name"],
                    );
                }
            });

            it("tells every function its own timeout (FUNCTION_TIMEOUT_SECONDS), locally too", () => {
                const timeout = config["posts-api:lambdaTimeout"] ?? 10;
                for (const fn of ofType(program, TYPES.function)) {
                    expect(fn.inputs["environment"].variables.FUNCTION_TIMEOUT_SECONDS, fn.name).to.equal(
                        String(timeout),
                    );
                }
                for (const fn of cloudModel(program).functions) {
                    expect(fn.environment["FUNCTION_TIMEOUT_SECONDS"], fn.logicalName).to.equal(
                        String(fn.timeoutSeconds),
                    );
                }
            });

            it("signs cursors with a key generated for this stack, passed to every function as a secret", () => {
                // No cursorSecret in the shipped stack files: the program generates 32 random bytes.
                expect(config["posts-api:cursorSecret"]).to.equal(undefined);
                const generated = one(program, TYPES.randomBytes, "cursor-secret");
                expect(generated.inputs["length"]).to.equal(32);
                expect(generated.parent).to.equal("");
                const key = String(generated.state["hex"]);
                expect(key).to.match(/^[0-9a-f]{64}$/);
                for (const fn of ofType(program, TYPES.function)) {
                    expect(fn.inputs["environment"].variables.CURSOR_KEY, fn.name).to.equal(key);
                    expect(
                        coveredBySecret(fn.secretInputs, "environment.variables.CURSOR_KEY"),
                        `${fn.name}: ${fn.secretInputs}`,
                    ).to.equal(true);
                    // Never the per-stack constant that used to be derived from this source.
                    expect(fn.inputs["environment"].variables.CURSOR_KEY).not.to.include("list-cursor");
                }
            });

            it("gives each function its own log group with this stack's retention", () => {
                for (const route of Object.keys(EXPECTED_ROUTES)) {
                    const logGroup = routeChild(program, TYPES.logGroup, route)!;
                    const fn = routeChild(program, TYPES.function, route)!;
                    expect(logGroup.inputs["retentionInDays"], route).to.equal(
                        config["posts-api:logRetentionDays"] ?? 14,
                    );
                    expect(fn.inputs["loggingConfig"].logGroup).to.equal(logGroup.state["name"]);
                }
            });

            it("packages only the serialized handler: no zod (compiled at deploy time), no AWS SDK, no Pulumi, no tooling", async () => {
                for (const fn of ofType(program, TYPES.function)) {
                    const entries = await archiveEntries(fn.inputs["code"]);
                    expect(Object.keys(entries), fn.name).to.have.members(["__index.js"]);
                    expect(fn.inputs["handler"]).to.equal("__index.handler");
                }
            });
        });

        describe("least privilege", () => {
            it("gives every function its own role allowing exactly its route's DynamoDB actions and its own log group", () => {
                const table = one(program, TYPES.table);
                const roleArns = new Set<string>();
                for (const [route, expected] of Object.entries(EXPECTED_ROUTES)) {
                    const fn = routeChild(program, TYPES.function, route)!;
                    const role = routeChild(program, TYPES.role, route)!;
                    const logGroup = routeChild(program, TYPES.logGroup, route)!;
                    expect(fn.inputs["role"], route).to.equal(role.state["arn"]);
                    roleArns.add(role.state["arn"]);
                    expect(JSON.parse(role.inputs["assumeRolePolicy"]).Statement[0].Principal).to.deep.equal({
                        Service: "lambda.amazonaws.com",
                    });

                    const policy = JSON.parse(routeChild(program, TYPES.rolePolicy, route)!.inputs["policy"]);
                    const statements: any[] = policy.Statement;
                    const actionsOn = (resource: string) =>
                        statements.filter((s) => s.Resource === resource).flatMap((s) => s.Action);
                    expect(actionsOn(table.state["arn"]), `${route} table`).to.have.members(expected.table);
                    // Table actions only on the partition keys the route works with.
                    for (const s of statements.filter((st) => st.Resource === table.state["arn"])) {
                        expect(s.Condition, route).to.deep.equal({
                            "ForAllValues:StringLike": { "dynamodb:LeadingKeys": expected.keys },
                        });
                    }
                    expect(actionsOn(`${table.state["arn"]}/index/byCreatedAt`), `${route} index`).to.have.members(
                        expected.index,
                    );
                    expect(actionsOn(`${logGroup.state["arn"]}:*`), `${route} logs`).to.have.members([
                        "logs:CreateLogStream",
                        "logs:PutLogEvents",
                    ]);
                    // With posts-api:tracing, one more statement: the two X-Ray actions Lambda sends
                    // traces with, on "*" (X-Ray has no resource-level permissions); nothing else is "*".
                    const xray = statements.filter((s) => s.Sid === "XRayTracing");
                    expect(xray, route).to.deep.equal(
                        tracing
                            ? [
                                  {
                                      Sid: "XRayTracing",
                                      Effect: "Allow",
                                      Action: ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
                                      Resource: "*",
                                  },
                              ]
                            : [],
                    );
                    expect(
                        statements.every(
                            (s) => s.Effect === "Allow" && (s.Resource !== "*" || s.Sid === "XRayTracing"),
                        ),
                    ).to.equal(true);
                    expect(statements, route).to.have.length(
                        1 + (expected.table.length > 0 ? 1 : 0) + (expected.index.length > 0 ? 1 : 0) + xray.length,
                    );
                }
                expect(roleArns.size).to.equal(6);
            });

            it("attaches no AWS managed policy to any role", () => {
                expect(ofType(program, TYPES.rolePolicyAttachment)).to.deep.equal([]);
                for (const role of ofType(program, TYPES.role)) {
                    expect(role.inputs["managedPolicyArns"] ?? [], role.name).to.deep.equal([]);
                }
            });

            it("lets API Gateway invoke each function's live alias, and nothing else", () => {
                const permissions = ofType(program, TYPES.permission);
                expect(permissions).to.have.length(6);
                for (const p of permissions) {
                    expect(p.inputs).to.deep.include({
                        principal: "apigateway.amazonaws.com",
                        action: "lambda:InvokeFunction",
                        qualifier: "live",
                    });
                }
            });
        });

        describe("table", () => {
            it("is on-demand, encrypted, keyed for newest-first listing and expires idempotency records", () => {
                const table = one(program, TYPES.table);
                expect(table.inputs["billingMode"]).to.equal("PAY_PER_REQUEST");
                expect(table.inputs["serverSideEncryption"]).to.deep.equal({ enabled: true });
                expect(table.inputs["hashKey"]).to.equal("pk");
                expect(table.inputs["ttl"]).to.deep.equal({ attributeName: "expiresAt", enabled: true });
            });

            it("declares the listing index with keySchemas, not the hashKey/rangeKey @pulumi/aws 7 deprecates", () => {
                const table = one(program, TYPES.table);
                expect(table.inputs["globalSecondaryIndexes"]).to.deep.equal([
                    {
                        name: "byCreatedAt",
                        keySchemas: [
                            { attributeName: "listPk", keyType: "HASH" },
                            { attributeName: "listSk", keyType: "RANGE" },
                        ],
                        projectionType: "ALL",
                    },
                ]);
                // The local cloud reads the same declaration and builds the same index.
                const model = cloudModel(program).tables.find((t) => t.logicalName === table.name)!;
                expect(model.globalSecondaryIndexes).to.deep.equal([
                    {
                        name: "byCreatedAt",
                        hashKey: "listPk",
                        rangeKey: "listSk",
                        projectionType: "ALL",
                        nonKeyAttributes: undefined,
                    },
                ]);
            });

            it(
                production
                    ? "keeps backups, refuses deletion and is protected from pulumi destroy"
                    : "can be destroyed",
                () => {
                    const table = one(program, TYPES.table);
                    expect(table.inputs["pointInTimeRecovery"]).to.deep.equal({ enabled: production });
                    expect(table.inputs["deletionProtectionEnabled"]).to.equal(production);
                    expect(table.protect).to.equal(production);
                    expect(byUrn(program, table.parent)?.type).to.equal("posts:data:PostsTable");
                },
            );
        });
    });
}

describe("program: cursor key", () => {
    it("is the stack's cursorSecret when one is set, and then nothing is generated", async () => {
        const secret = "program-test-cursor-secret-8d1f0c";
        const program = await programWith({ stack: "dev", config: { "posts-api:cursorSecret": secret } });
        expect(ofType(program, TYPES.randomBytes)).to.deep.equal([]);
        for (const fn of ofType(program, TYPES.function)) {
            expect(fn.inputs["environment"].variables.CURSOR_KEY, fn.name).to.equal(secret);
            expect(
                coveredBySecret(fn.secretInputs, "environment.variables.CURSOR_KEY"),
                `${fn.name}: ${fn.secretInputs}`,
            ).to.equal(true);
        }
    });
});
