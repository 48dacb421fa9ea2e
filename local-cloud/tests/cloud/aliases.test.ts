// Published Lambda versions and aliases with a program of its own: a function with `publish: true`
// whose code carries a tag from the stack's config, a `live` alias (following the published version,
// or pinned to one, with a canary weight) and provisioned concurrency on it, a function without
// `publish`, and integrations naming the alias, a version, the bare function and an alias it lacks.
// The stack file is edited and the program reloaded as a developer would; the version numbers and
// each version's code stay in the state folder across reloads and restarts.
import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { aliasRotation, CanaryRotation } from "../../lambda/aliases";
import type { LocalCloud, RequestLog } from "../../types";
import { recordProgram } from "../../program/recordProgram";
import { call, removeStateDir, startTestCloud, tempStateDir, writeTestProgram } from "../../testing";

const PROGRAM = String.raw`
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

const config = new pulumi.Config();
const tag = config.get("codeTag") ?? "a";
const pin = config.get("pin");
const weight = config.getNumber("canaryWeight");
const warm = config.getNumber("warm") ?? 0;

const code = (text: string) => new pulumi.asset.AssetArchive({ "index.js": new pulumi.asset.StringAsset(text) });
const handler = "exports.handler = async (event, context) => ({ statusCode: 200, body: JSON.stringify({ tag: " + JSON.stringify(tag) + ", " +
    "version: context.functionVersion, env: process.env.AWS_LAMBDA_FUNCTION_VERSION, init: process.env.AWS_LAMBDA_INITIALIZATION_TYPE, " +
    "invoked: context.invokedFunctionArn }) });";
const common = { role: "arn:aws:iam::123456789012:role/fixture", runtime: "nodejs22.x", handler: "index.handler", timeout: 5 };
const fn = new aws.lambda.Function("versioned", { ...common, publish: true, code: code(handler) });
const plain = new aws.lambda.Function("plain", { ...common, code: code(handler) });

const live = new aws.lambda.Alias("live", {
    functionName: fn.name,
    name: "live",
    functionVersion: pin ?? fn.version,
    routingConfig: pin && weight ? fn.version.apply((v) => ({ additionalVersionWeights: { [v]: weight } })) : undefined,
});
if (warm > 0) {
    new aws.lambda.ProvisionedConcurrencyConfig("warm", { functionName: fn.name, qualifier: live.name, provisionedConcurrentExecutions: warm });
}

const lambda = (uri: pulumi.Input<string>) => ({ get: { "x-amazon-apigateway-integration": { type: "aws_proxy", httpMethod: "POST", uri } } });
const body = pulumi.jsonStringify({
    swagger: "2.0",
    info: { title: "aliased", version: "1" },
    paths: {
        "/live": lambda(live.invokeArn),
        "/version": lambda(fn.qualifiedInvokeArn),
        "/latest": lambda(fn.invokeArn),
        "/plain": lambda(plain.invokeArn),
        "/nowhere": lambda(fn.arn.apply((a) => "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/" + a + ":nope/invocations")),
    },
});
const api = new aws.apigateway.RestApi("aliased", { body });
// What each route invokes needs its own permission: the alias, the version, the function itself.
const invokers = api.executionArn.apply((arn) => arn + "/*/GET/*");
const allow = (name: string, target: aws.lambda.Function, qualifier?: pulumi.Input<string>) =>
    new aws.lambda.Permission(name, { action: "lambda:InvokeFunction", function: target.name, qualifier, principal: "apigateway.amazonaws.com", sourceArn: invokers });
allow("live", fn, live.name);
allow("version", fn, fn.version);
allow("latest", fn);
allow("plain", plain);
const deployment = new aws.apigateway.Deployment("aliased", { restApi: api.id });
new aws.apigateway.Stage("v1", { restApi: api.id, deployment: deployment.id, stageName: "v1" });

export const versions = pulumi.output({
    version: fn.version, qualifiedArn: fn.qualifiedArn, qualifiedInvokeArn: fn.qualifiedInvokeArn, arn: fn.arn,
    plainVersion: plain.version, plainQualifiedArn: plain.qualifiedArn,
    aliasArn: live.arn, aliasInvokeArn: live.invokeArn,
});
`;

describe("local cloud: published versions and aliases", function () {
    const programDir = path.join(process.cwd(), ".local", "fixtures", `aliases-${process.pid}`);
    const stateDir = tempStateDir("aliases");
    let cloud: LocalCloud;
    const warnings: string[] = [];
    const requests: RequestLog[] = [];
    const functionLines: string[] = [];
    const stackFile = path.join(programDir, "Pulumi.v1.yaml");

    /** The stack's config: the code tag and the alias's pin, canary weight and provisioned concurrency. */
    const configure = (values: Record<string, string | number>) =>
        fs.writeFileSync(
            stackFile,
            `config:\n  aws:region: us-east-1\n${Object.entries(values)
                .map(([k, v]) => `  aliased:${k}: ${JSON.stringify(v)}\n`)
                .join("")}`,
        );
    const reload = async (values: Record<string, string | number>) => {
        configure(values);
        const report = await cloud.reload();
        expect(report.ok, String(report.error)).to.equal(true);
    };
    const start = () =>
        startTestCloud({
            stack: "v1",
            projectDir: programDir,
            stateDir,
            onWarning: (message) => warnings.push(message),
            onRequest: (entry) => requests.push(entry),
            onFunctionLog: (line) => functionLines.push(line),
        });
    const get = async (p: string) => {
        const r = await call(`${cloud.stageUrl}${p}`);
        const entry = requests.find((e) => e.requestId === r.headers.get("x-amzn-requestid"));
        return { status: r.status, json: r.json, logged: entry };
    };
    const versions = () => cloud.outputs["versions"] as Record<string, string>;
    const fnName = () => cloud.model.functions.find((f) => f.logicalName === "versioned")!.name;

    before(async () => {
        writeTestProgram(programDir, "aliased", PROGRAM, null);
        configure({ codeTag: "a", warm: 2 });
        cloud = await start();
    });

    after(async () => {
        await cloud?.close();
        removeStateDir(stateDir);
        fs.rmSync(programDir, { recursive: true, force: true });
    });

    describe("the rotation a canary weight uses", () => {
        it("sends exactly the weight's share, the other version on every 1/weight-th request", () => {
            const alias = {
                logicalName: "a",
                name: "live",
                functionArn: "arn",
                arn: "arn:live",
                functionVersion: "1",
                additionalVersionWeights: { "2": 0.1 },
            };
            const rotation = aliasRotation(alias);
            const picks = Array.from({ length: 100 }, () => rotation.next());
            expect(picks.filter((v) => v === "2")).to.have.length(10);
            expect(picks.flatMap((v, i) => (v === "2" ? [i + 1] : []))).to.deep.equal([
                10, 20, 30, 40, 50, 60, 70, 80, 90, 100,
            ]);
        });

        it("keeps every prefix within one request of the weight, for any weight", () => {
            for (const weight of [0.01, 0.05, 0.25, 1 / 3, 0.5, 0.7, 0.99]) {
                const rotation = new CanaryRotation("old", { version: "new", weight });
                let news = 0;
                for (let n = 1; n <= 1000; n++) {
                    news += rotation.next() === "new" ? 1 : 0;
                    expect(Math.abs(news - n * weight), `weight ${weight}, after ${n}`).to.be.below(1 + 1e-9);
                }
            }
        });

        it("sends everything to the alias's version without weights, and to the other one with a weight of 1", () => {
            const base = { logicalName: "a", name: "live", functionArn: "arn", arn: "arn:live", functionVersion: "3" };
            const none = aliasRotation({ ...base, additionalVersionWeights: {} });
            const all = aliasRotation({ ...base, additionalVersionWeights: { "4": 1 } });
            expect(new Set(Array.from({ length: 20 }, () => none.next()))).to.deep.equal(new Set(["3"]));
            expect(new Set(Array.from({ length: 20 }, () => all.next()))).to.deep.equal(new Set(["4"]));
        });
    });

    it("mocks version, qualifiedArn and qualifiedInvokeArn of a function, arn and invokeArn of an alias (version 1 without a state folder)", async function () {
        this.timeout(180_000);
        const recorded = await recordProgram({ stack: "v1", projectDir: programDir });
        const fn = recorded.resources.find((r) => r.type === "aws:lambda/function:Function" && r.name === "versioned")!;
        const plain = recorded.resources.find((r) => r.type === "aws:lambda/function:Function" && r.name === "plain")!;
        const alias = recorded.resources.find((r) => r.type === "aws:lambda/alias:Alias")!;
        const arn: string = fn.state["arn"];
        expect(fn.state).to.include({
            version: "1",
            qualifiedArn: `${arn}:1`,
            qualifiedInvokeArn: `arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/${arn}:1/invocations`,
        });
        expect(plain.state).to.include({ version: "$LATEST", qualifiedArn: `${plain.state["arn"]}:$LATEST` });
        expect(alias.state).to.include({
            arn: `${arn}:live`,
            invokeArn: `arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/${arn}:live/invocations`,
        });
        expect(alias.inputs["functionVersion"]).to.equal("1");
    });

    it("numbers a published function's versions in the state folder, from 1", () => {
        const v = versions();
        expect(v["version"]).to.equal("1");
        expect(v["qualifiedArn"]).to.equal(`${v["arn"]}:1`);
        expect(v["aliasArn"]).to.equal(`${v["arn"]}:live`);
        expect(v["aliasInvokeArn"]).to.equal(
            `arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/${v["arn"]}:live/invocations`,
        );
        expect(v["plainVersion"]).to.equal("$LATEST");
        const saved = JSON.parse(fs.readFileSync(path.join(stateDir, "functions", "versions.json"), "utf8"));
        expect(Object.keys(saved[fnName()])).to.deep.equal(["1"]);
        expect(fs.existsSync(path.join(stateDir, "functions", fnName(), "1", "function.json"))).to.equal(true);
        expect(cloud.routes.find((r) => r.path === "/v1/live")!.integration).to.equal("versioned");
    });

    it("keeps provisioned concurrency's instances initialized before any request", async () => {
        expect(cloud.functionStats()["versioned"]!.instances).to.equal(2);
        const r = await get("live");
        expect(r.json.init).to.equal("provisioned-concurrency");
        expect(cloud.functionStats()["versioned"]!.coldStarts).to.equal(2);
        expect(cloud.functionStats()["plain"]!.instances).to.equal(0);
        // A reload that changes nothing keeps the same instances, and starts no more.
        await reload({ codeTag: "a", warm: 2 });
        expect(cloud.functionStats()["versioned"]).to.include({ instances: 2, coldStarts: 2 });
    });

    it("answers an alias, a version, the bare function and an unpublished one with the right code and context", async () => {
        const v = versions();
        const live = await get("live");
        expect(live.status).to.equal(200);
        expect(live.json).to.include({ tag: "a", version: "1", env: "1", invoked: v["aliasArn"] });
        expect(live.logged!.functionVersion).to.equal("1");
        expect((await get("version")).json).to.include({ tag: "a", version: "1", invoked: v["qualifiedArn"] });
        expect((await get("latest")).json).to.include({ tag: "a", invoked: v["arn"] });
        const plain = await get("plain");
        expect(plain.json).to.include({ tag: "a", version: "$LATEST", env: "$LATEST" });
        expect(plain.logged!.functionVersion).to.equal("$LATEST");
    });

    it("answers an alias the function does not have with a 500 and one log line", async () => {
        const r = await get("nowhere");
        expect(r.status).to.equal(500);
        expect(functionLines.filter((l) => l.includes(`has no alias "nope"`))).to.have.length(1);
    });

    it("publishes version 2 when the code changes, and no new version when nothing does", async () => {
        await reload({ codeTag: "b" });
        expect(versions()["version"]).to.equal("2");
        expect((await get("live")).json).to.include({ tag: "b", version: "2" });
        await reload({ codeTag: "b" });
        expect(versions()["version"]).to.equal("2");
        const saved = JSON.parse(fs.readFileSync(path.join(stateDir, "functions", "versions.json"), "utf8"));
        expect(Object.keys(saved[fnName()])).to.deep.equal(["1", "2"]);
    });

    it("runs a pinned version's own code, kept in the state folder, while the version URI runs the new one", async () => {
        await reload({ codeTag: "b", pin: "1" });
        const live = await get("live");
        expect(live.json).to.include({ tag: "a", version: "1", env: "1" });
        expect(live.logged!.functionVersion).to.equal("1");
        expect((await get("version")).json).to.include({ tag: "b", version: "2" });
        expect(cloud.model.aliases!.find((a) => a.name === "live")!.functionVersion).to.equal("1");
    });

    it("sends a canary's weight to the other version: every 4th request with 0.25", async () => {
        await reload({ codeTag: "b", pin: "1", canaryWeight: 0.25 });
        const served: string[] = [];
        for (let i = 0; i < 40; i++) {
            const r = await get("live");
            expect(r.json.tag, "each version runs its own code").to.equal(r.json.version === "2" ? "b" : "a");
            expect(r.logged!.functionVersion).to.equal(r.json.version);
            served.push(r.json.version);
        }
        expect(served.filter((v) => v === "2")).to.have.length(10);
        expect(served.flatMap((v, i) => (v === "2" ? [i + 1] : []))).to.deep.equal([
            4, 8, 12, 16, 20, 24, 28, 32, 36, 40,
        ]);
    });

    it("warns once, naming the function and version, when a pinned version's code is missing, and runs the current code", async () => {
        await reload({ codeTag: "b", pin: "7" });
        await reload({ codeTag: "b", pin: "7", warm: 1 });
        const missing = warnings.filter((w) => w.includes("version 7 is not in the state folder"));
        expect(missing, warnings.join("\n")).to.have.length(1);
        expect(missing[0]).to.include(`function versioned (${fnName()})`).and.include("version 2");
        expect((await get("live")).json).to.include({ tag: "b", version: "2" });

        fs.rmSync(path.join(stateDir, "functions", fnName(), "1"), { recursive: true });
        await reload({ codeTag: "b", pin: "1" });
        expect(warnings.filter((w) => w.includes("version 1 is not in the state folder"))).to.have.length(1);
        expect((await get("live")).json).to.include({ tag: "b", version: "2" });
    });

    it("keeps the numbers across a restart: the same code is still version 2, new code is version 3", async function () {
        this.timeout(240_000);
        await cloud.close();
        configure({ codeTag: "b" });
        cloud = await start();
        expect(versions()["version"]).to.equal("2");
        await cloud.close();
        configure({ codeTag: "c" });
        cloud = await start();
        expect(versions()["version"]).to.equal("3");
        expect((await get("live")).json).to.include({ tag: "c", version: "3" });
        // The code of versions published earlier stays for a later pin; other leftovers go.
        expect(fs.readdirSync(path.join(stateDir, "functions", fnName())).sort()).to.deep.equal(["2", "3"]);
    });
});
