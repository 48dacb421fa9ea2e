// Lambda permissions (permissions.ts) with a program of its own: one function with a `live` alias
// and routes whose permissions are right, missing, on the function while the route invokes the
// alias, for another API, for another method, with the path written with `*` or with the
// resource's `{id}` (awsx's way), and with no source ARN at all. A route API Gateway may not invoke
// answers 500 `Internal server error`, and the gateway's log says what AWS checks and what is missing.
import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import type { LocalCloud } from "../../types";
import { cloudModel } from "../../program/model";
import { arnLike, permissionFor, sourceArns, type PermissionModel } from "../../lambda/permissions";
import type { RecordedResource } from "../../program/recordProgram";
import { TYPES } from "../../program/resourceTypes";
import { call, removeStateDir, startTestCloud, tempStateDir, writeTestProgram } from "../../testing";

const PROGRAM = String.raw`
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

const code = new pulumi.asset.AssetArchive({ "index.js": new pulumi.asset.StringAsset(
    "exports.handler = async (event, context) => ({ statusCode: 200, body: JSON.stringify({ invoked: context.invokedFunctionArn, path: event.path }) });") });
const common = { role: "arn:aws:iam::123456789012:role/fixture", runtime: "nodejs22.x", handler: "index.handler", code };
const fn = new aws.lambda.Function("guarded", { ...common, publish: true });
const bare = new aws.lambda.Function("bare", common);
const lonely = new aws.lambda.Function("lonely", common);
const live = new aws.lambda.Alias("live", { functionName: fn.name, name: "live", functionVersion: fn.version });

const route = (uri: pulumi.Input<string>) => ({ "x-amazon-apigateway-integration": { type: "aws_proxy", httpMethod: "POST", uri } });
const body = pulumi.jsonStringify({
    swagger: "2.0",
    info: { title: "guarded", version: "1" },
    paths: {
        "/alias": { get: route(live.invokeArn) },
        "/function-only": { get: route(live.invokeArn) },
        "/unpermitted": { get: route(lonely.invokeArn) },
        "/elsewhere": { get: route(fn.invokeArn) },
        "/post-only": { get: route(fn.invokeArn) },
        "/items/{id}": { get: route(live.invokeArn) },
        "/things/{id}": { get: route(live.invokeArn) },
        "/anywhere": { get: route(bare.invokeArn) },
    },
});
const api = new aws.apigateway.RestApi("guarded", { body });
const deployment = new aws.apigateway.Deployment("guarded", { restApi: api.id });
new aws.apigateway.Stage("v1", { restApi: api.id, deployment: deployment.id, stageName: "v1" });

const source = (rest: string) => api.executionArn.apply((arn) => arn + rest);
const allow = (name: string, args: { target?: aws.lambda.Function; qualifier?: pulumi.Input<string>; sourceArn?: pulumi.Input<string>; principal?: string }) =>
    new aws.lambda.Permission(name, {
        action: "lambda:InvokeFunction", function: (args.target ?? fn).name, qualifier: args.qualifier,
        principal: args.principal ?? "apigateway.amazonaws.com", sourceArn: args.sourceArn,
    });
allow("alias", { qualifier: live.name, sourceArn: source("/*/GET/alias") });
// On the function, while the route invokes the alias: AWS refuses.
allow("function-only", { sourceArn: source("/*/GET/function-only") });
// Another API's ARN.
allow("elsewhere", { sourceArn: "arn:aws:execute-api:us-east-1:123456789012:otherapi/*/GET/elsewhere" });
allow("post-only", { sourceArn: source("/*/POST/post-only") });
// The path parameter as SAM writes it (*) and as awsx writes it ({id}).
allow("items", { qualifier: live.name, sourceArn: source("/*/GET/items/*") });
allow("things", { qualifier: live.name, sourceArn: source("/*/GET/things/{id}") });
// No source ARN: any API of any account may invoke it (allowed, if unwise).
allow("anywhere", { target: bare });
`;

describe("local cloud: Lambda permissions", function () {
    const programDir = path.join(process.cwd(), ".local", "fixtures", `permissions-${process.pid}`);
    let cloud: LocalCloud;
    const gatewayLines: string[] = [];
    const warnings: string[] = [];

    before(async () => {
        writeTestProgram(programDir, "guarded", PROGRAM);
        cloud = await startTestCloud({
            stack: "v1",
            projectDir: programDir,
            stateDir: tempStateDir("permissions"),
            onWarning: (message) => warnings.push(message),
            onFunctionLog: (line) => {
                if (line.startsWith("[gateway]")) {
                    gatewayLines.push(line);
                }
            },
        });
    });

    after(async () => {
        const stateDir = cloud?.stateDir;
        await cloud?.close();
        if (stateDir) {
            removeStateDir(stateDir);
        }
        fs.rmSync(programDir, { recursive: true, force: true });
    });

    it("warns at start about each route API Gateway may not invoke, before any call", () => {
        const routes = warnings
            .filter((w) => w.includes("will answer 500"))
            .map((w) => /: GET (\S+) will answer 500/.exec(w)?.[1]);
        expect(routes).to.have.members(["/function-only", "/unpermitted", "/elsewhere", "/post-only"]);
        expect(warnings.find((w) => w.includes("/function-only"))).to.include(
            'qualifier "live" (a permission on the function does not cover its aliases)',
        );
    });

    const get = (p: string) => call(`${cloud.stageUrl.replace(/\/$/, "")}${p}`);

    it("invokes where a permission covers the qualifier, API, method and path", async () => {
        for (const p of ["/alias", "/items/abc", "/things/42", "/anywhere"]) {
            const r = await get(p);
            expect(r.status, `${p}: ${r.text}`).to.equal(200);
            expect((r.json as { path: string }).path).to.equal(p);
        }
    });

    for (const [route, why] of [
        ["/function-only", /qualifier "live" \(a permission on the function does not cover its aliases\)/],
        ["/unpermitted", /the function has no aws\.lambda\.Permission/],
        ["/elsewhere", /sourceArn arn:aws:execute-api:us-east-1:123456789012:otherapi/],
        [
            "/post-only",
            /post-only: qualifier none, principal apigateway\.amazonaws\.com, sourceArn arn:aws:execute-api:[^;]*\/\*\/POST\/post-only/,
        ],
    ] as const) {
        it(`answers 500 where none does (${route}), and logs what AWS checks`, async () => {
            const before = gatewayLines.length;
            const r = await get(route);
            expect(r.status).to.equal(500);
            expect(r.json).to.deep.equal({ message: "Internal server error" });
            expect(r.headers.get("x-amzn-errortype")).to.equal("InternalServerErrorException");
            const logged = gatewayLines.slice(before).join("\n");
            expect(logged).to.include(
                "Execution failed due to configuration error: Invalid permissions on Lambda function",
            );
            expect(logged).to.match(why);
            // The client sees nothing of it.
            expect(r.text).to.not.include("Permission");
        });
    }

    describe("matching, as IAM's ArnLike and Lambda's policy do", () => {
        const source = {
            region: "us-east-1",
            account: "123456789012",
            apiId: "abc123",
            stage: "v1",
            method: "GET",
            path: "/posts/9",
            resourcePath: "/posts/{id}",
        };
        const permission = (p: Partial<PermissionModel>): PermissionModel => ({
            logicalName: "p",
            functionArn: "arn:aws:lambda:us-east-1:123456789012:function:f",
            action: "lambda:InvokeFunction",
            principal: "apigateway.amazonaws.com",
            ...p,
        });

        it("matches each part of an ARN on its own, * across slashes, ? one character", () => {
            expect(
                arnLike(
                    "arn:aws:execute-api:us-east-1:123456789012:abc123/*/GET/posts/*",
                    "arn:aws:execute-api:us-east-1:123456789012:abc123/v1/GET/posts/9",
                ),
            ).to.equal(true);
            expect(
                arnLike("arn:aws:execute-api:*:*:abc123/*", "arn:aws:execute-api:eu-west-1:1:abc123/v1/GET/a/b"),
            ).to.equal(true);
            expect(
                arnLike(
                    "arn:aws:execute-api:us-east-1:123456789012:abc12?/*",
                    "arn:aws:execute-api:us-east-1:123456789012:abc123/v1/GET/",
                ),
            ).to.equal(true);
            expect(
                arnLike(
                    "arn:aws:execute-api:us-east-1:123456789012:abc123/v1/GET/posts",
                    "arn:aws:execute-api:us-east-1:123456789012:abc123/v1/GET/posts/9",
                ),
            ).to.equal(false);
            // A * in one part does not reach into the next.
            expect(arnLike("arn:aws:execute-api:*", "arn:aws:execute-api:us-east-1:123456789012:abc123/v1")).to.equal(
                false,
            );
            // Regex characters are literal.
            expect(arnLike("arn:aws:execute-api:us-east-1:1:a.c/*", "arn:aws:execute-api:us-east-1:1:abc/x")).to.equal(
                false,
            );
        });

        it("knows an invocation by the request's path and by the resource's template", () => {
            expect(sourceArns(source)).to.deep.equal([
                "arn:aws:execute-api:us-east-1:123456789012:abc123/v1/GET/posts/9",
                "arn:aws:execute-api:us-east-1:123456789012:abc123/v1/GET/posts/{id}",
            ]);
        });

        it("needs the same qualifier, API Gateway (or *) as principal, the invoke action and the account", () => {
            const fn = "arn:aws:lambda:us-east-1:123456789012:function:f";
            expect(permissionFor([permission({})], fn, source)).to.not.equal(undefined);
            expect(
                permissionFor([permission({ qualifier: "$LATEST" })], fn, source),
                "$LATEST is the function",
            ).to.not.equal(undefined);
            expect(
                permissionFor([permission({})], `${fn}:live`, source),
                "function permission, alias invoked",
            ).to.equal(undefined);
            expect(permissionFor([permission({ qualifier: "live" })], `${fn}:live`, source)).to.not.equal(undefined);
            expect(permissionFor([permission({ qualifier: "live" })], `${fn}:3`, source), "another qualifier").to.equal(
                undefined,
            );
            expect(permissionFor([permission({ principal: "*" })], fn, source)).to.not.equal(undefined);
            expect(permissionFor([permission({ principal: "s3.amazonaws.com" })], fn, source)).to.equal(undefined);
            expect(permissionFor([permission({ action: "lambda:*" })], fn, source)).to.not.equal(undefined);
            expect(permissionFor([permission({ action: "lambda:GetFunction" })], fn, source)).to.equal(undefined);
            expect(permissionFor([permission({ sourceAccount: "999999999999" })], fn, source)).to.equal(undefined);
            expect(
                permissionFor(
                    [permission({ functionArn: "arn:aws:lambda:us-east-1:123456789012:function:g" })],
                    fn,
                    source,
                ),
            ).to.equal(undefined);
        });

        it("refuses a permission on $LATEST at start, as AddPermission does", () => {
            const resource = (inputs: Record<string, unknown>): RecordedResource =>
                ({
                    urn: "urn:p",
                    type: TYPES.permission,
                    name: "latest",
                    parent: "",
                    custom: true,
                    protect: false,
                    additionalSecretOutputs: [],
                    id: "p",
                    inputs,
                    state: inputs,
                }) as unknown as RecordedResource;
            const program = (inputs: Record<string, unknown>) => ({
                stack: "s",
                region: "us-east-1",
                outputs: {},
                secretOutputs: [],
                undecryptable: [],
                resources: [resource(inputs)],
            });
            const base = { action: "lambda:InvokeFunction", principal: "apigateway.amazonaws.com", function: "f" };
            expect(() => cloudModel(program({ ...base, qualifier: "$LATEST" }))).to.throw(
                /latest: Lambda does not support adding policies to version \$LATEST/,
            );
            expect(() =>
                cloudModel(program({ ...base, function: "arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST" })),
            ).to.throw(/\$LATEST/);
            expect(cloudModel(program({ ...base, qualifier: "live" })).permissions).to.deep.equal([
                {
                    logicalName: "latest",
                    functionArn: "arn:aws:lambda:us-east-1:123456789012:function:f",
                    qualifier: "live",
                    action: "lambda:InvokeFunction",
                    principal: "apigateway.amazonaws.com",
                },
            ]);
        });
    });
});
