// Live reload with a program of its own, copied to a temporary folder and edited there as a
// developer would: a handler file, the stack's config file, the program itself (a new table,
// function and route), and edits that break it. The data (a table item, an API key, quota counts)
// must outlive every reload, a request already running must finish on the version it started on,
// and a cloud started without `watch` must not move.
import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import type { LocalCloud, ReloadReport } from "../../types";
import { describeReload } from "../../startup/reload";
import { call, removeStateDir, startTestCloud, tempStateDir, waitFor } from "../../testing";

const PROGRAM = String.raw`
import * as aws from "@pulumi/aws";
import * as awsx from "@pulumi/awsx";
import * as pulumi from "@pulumi/pulumi";
import { greet } from "./handlers/greet";
import { notes as notesHandler } from "./handlers/notes";

const config = new pulumi.Config();
const notes = new aws.dynamodb.Table("notes", { attributes: [{ name: "id", type: "S" }], hashKey: "id", billingMode: "PAY_PER_REQUEST" });
const role = new aws.iam.Role("fixture", { assumeRolePolicy: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "sts:AssumeRole", Principal: { Service: "lambda.amazonaws.com" } }] }) });

export function fn(name: string, callback: (event: any) => Promise<any>, variables: Record<string, pulumi.Input<string>> = {}) {
    return new aws.lambda.CallbackFunction(name, {
        callback, role, timeout: 10, runtime: "nodejs22.x",
        environment: { variables: { NOTES_TABLE: notes.name, GREETING: config.get("greeting") ?? "hello", ...variables } },
        codePathOptions: { extraExcludePackages: ["@aws-sdk/client-dynamodb"] },
    });
}

const greeter = fn("greet", greet);
const notesFn = fn("notes", notesHandler);
export const routes: awsx.classic.apigateway.Route[] = [
    { path: "/greet", method: "GET", eventHandler: greeter },
    { path: "/counted", method: "GET", eventHandler: greeter, apiKeyRequired: true },
    { path: "/notes/{id}", method: "ANY", eventHandler: notesFn },
];
// EXTRA (a test adds resources here)

const api = new awsx.classic.apigateway.API("reload", { stageName: "v1", routes });
const plan = new aws.apigateway.UsagePlan("plan", { apiStages: [{ apiId: api.restAPI.id, stage: api.stage.stageName }], quotaSettings: { limit: 3, period: "DAY" } });
const member = new aws.apigateway.ApiKey("member", { enabled: true });
new aws.apigateway.UsagePlanKey("member", { keyId: member.id, keyType: "API_KEY", usagePlanId: plan.id });

export const url = api.url;
`;

const greetHandler = (version: string) => String.raw`
const VERSION = "${version}";

export async function greet(event: any) {
    const ms = Number(event.queryStringParameters?.ms ?? 0);
    await new Promise((resolve) => setTimeout(resolve, ms));
    return { statusCode: 200, body: JSON.stringify({ message: process.env.GREETING + " " + VERSION }) };
}
`;

const NOTES_HANDLER = String.raw`
export async function notes(event: any) {
    const { DynamoDBClient, GetItemCommand, PutItemCommand } = require("@aws-sdk/client-dynamodb");
    const db = new DynamoDBClient({});
    const id = event.pathParameters.id;
    if (event.httpMethod === "PUT") {
        // awsx makes every type binary: the body arrives base64-encoded.
        const text = Buffer.from(event.body ?? "", event.isBase64Encoded ? "base64" : "utf8").toString("utf8");
        await db.send(new PutItemCommand({ TableName: process.env.NOTES_TABLE, Item: { id: { S: id }, text: { S: text } } }));
        return { statusCode: 204, body: "" };
    }
    const read = await db.send(new GetItemCommand({ TableName: process.env.NOTES_TABLE, Key: { id: { S: id } } }));
    return read.Item ? { statusCode: 200, body: JSON.stringify({ text: read.Item.text.S }) } : { statusCode: 404, body: "{}" };
}
`;

/** A new table, function and route, inserted at the program's EXTRA line. */
const EXTRA = String.raw`
const tags = new aws.dynamodb.Table("tags", { attributes: [{ name: "id", type: "S" }], hashKey: "id", billingMode: "PAY_PER_REQUEST" });
routes.push({ path: "/tags/{id}", method: "PUT", eventHandler: fn("tagger", async (event: any) => {
    const { DynamoDBClient, PutItemCommand } = require("@aws-sdk/client-dynamodb");
    await new DynamoDBClient({}).send(new PutItemCommand({ TableName: process.env.TAGS_TABLE, Item: { id: { S: event.pathParameters.id } } }));
    return { statusCode: 201, body: JSON.stringify({ table: process.env.TAGS_TABLE }) };
}, { TAGS_TABLE: tags.name }) });
`;

/** Writes the fixture program into a fresh folder. */
function writeProgram(dir: string): void {
    fs.mkdirSync(path.join(dir, "handlers"), { recursive: true });
    fs.writeFileSync(path.join(dir, "index.ts"), PROGRAM);
    fs.writeFileSync(path.join(dir, "handlers", "greet.ts"), greetHandler("v1"));
    fs.writeFileSync(path.join(dir, "handlers", "notes.ts"), NOTES_HANDLER);
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: reload\nruntime: nodejs\n");
    fs.writeFileSync(path.join(dir, "Pulumi.v1.yaml"), "config:\n  aws:region: us-east-1\n");
}

/** The reload target of issue 9: edit to first request served by the new code. */
const TARGET_MS = 2500;

describe("local cloud: live reload (a fixture program, edited while it serves)", function () {
    this.timeout(180_000);
    const root = path.join(process.cwd(), ".local", "fixtures");
    const watchedDir = path.join(root, `reload-${process.pid}`);
    let cloud: LocalCloud;
    const reports: ReloadReport[] = [];
    const url = (p: string) => `${cloud.stageUrl}${p}`;
    const greeting = async () => (await call(url("greet"))).json?.message as string | undefined;
    /** Resolves with the next reload report after `count` reports have arrived. */
    const reportAfter = (count: number) => waitFor(`reload report ${count + 1}`, () => reports[count]);

    before(async () => {
        fs.rmSync(watchedDir, { recursive: true, force: true });
        writeProgram(watchedDir);
        cloud = await startTestCloud({
            stack: "v1",
            projectDir: watchedDir,
            stateDir: tempStateDir("reload"),
            watch: true,
            onReload: (report) => {
                reports.push(report);
                console.log(`      [${describeReload(report)}]`);
            },
        });
    });

    after(async () => {
        await cloud?.close();
        if (cloud) {
            removeStateDir(cloud.stateDir);
        }
        fs.rmSync(watchedDir, { recursive: true, force: true });
    });

    it("serves an edited handler without a restart, keeping table items, keys and usage counts", async () => {
        expect(await greeting()).to.equal("hello v1");
        const key = cloud.apiKeys["member"]!;
        expect(key).to.match(/^[A-Za-z0-9]{40}$/);
        expect((await call(url("notes/kept"), { method: "PUT", body: "written before the reload" })).status).to.equal(
            204,
        );
        // Two of the key's quota of three a day.
        for (let i = 0; i < 2; i++) {
            expect((await call(url("counted"), { headers: { "x-api-key": key } })).status).to.equal(200);
        }
        const before = reports.length;

        const edited = Date.now();
        fs.writeFileSync(path.join(watchedDir, "handlers", "greet.ts"), greetHandler("v2"));
        await waitFor("the new greeting", async () => ((await greeting()) === "hello v2" ? true : undefined));
        const servedMs = Date.now() - edited;
        const report = await reportAfter(before);
        console.log(
            `      edit -> first request served by the new code: ${(servedMs / 1000).toFixed(2)} s (target ${TARGET_MS / 1000} s; reload itself ${(report.ms / 1000).toFixed(2)} s)`,
        );

        expect(report.ok, String(report.error)).to.equal(true);
        expect(report.files).to.deep.equal([path.join("handlers", "greet.ts")]);
        expect(report.changes).to.deep.equal(["1 function changed: greet"]);
        expect(describeReload(report)).to.match(
            /^reloaded in \d+\.\d s \(handlers\/greet\.ts\): 1 function changed: greet$/,
        );
        // Generous bound for a loaded CI machine; the figure against the target is printed above.
        expect(servedMs).to.be.below(15_000);

        expect(cloud.apiKeys["member"]).to.equal(key);
        const note = await call(url("notes/kept"));
        expect(note.status).to.equal(200);
        expect(note.json).to.deep.equal({ text: "written before the reload" });
        // The third request of the day passes, the fourth is over the quota: the counts were kept.
        expect((await call(url("counted"), { headers: { "x-api-key": key } })).json).to.deep.equal({
            message: "hello v2",
        });
        const over = await call(url("counted"), { headers: { "x-api-key": key } });
        expect(over.status).to.equal(429);
        expect(over.json).to.deep.equal({ message: "Limit Exceeded" });
    });

    it("lets a request that is running finish on the version it started on; new requests get the new one", async () => {
        const before = reports.length;
        const slow = call(url("greet?ms=2500"));
        // The request is inside the old function before the edit.
        await waitFor("the slow request in its function", () =>
            cloud.functionStats()["greet"]!.busy > 0 ? true : undefined,
        );
        fs.writeFileSync(path.join(watchedDir, "handlers", "greet.ts"), greetHandler("v3"));
        const report = await reportAfter(before);
        expect(report.ok, String(report.error)).to.equal(true);
        expect(await greeting()).to.equal("hello v3");
        const answer = await slow;
        expect(answer.status).to.equal(200);
        expect(answer.json).to.deep.equal({ message: "hello v2" });
    });

    it("reloads on a change to the stack's config file", async () => {
        const before = reports.length;
        fs.writeFileSync(
            path.join(watchedDir, "Pulumi.v1.yaml"),
            "config:\n  aws:region: us-east-1\n  reload:greeting: bonjour\n",
        );
        const report = await reportAfter(before);
        expect(report.ok, String(report.error)).to.equal(true);
        expect(report.files).to.deep.equal(["Pulumi.v1.yaml"]);
        // Both functions get the greeting in their environment.
        expect(report.changes).to.deep.equal(["2 functions changed: greet, notes"]);
        expect(await greeting()).to.equal("bonjour v3");
    });

    it("creates a table, a function and a route the program gains, and keeps the old tables' items", async () => {
        const before = reports.length;
        fs.writeFileSync(
            path.join(watchedDir, "index.ts"),
            PROGRAM.replace("// EXTRA (a test adds resources here)", EXTRA),
        );
        const report = await reportAfter(before);
        expect(report.ok, String(report.error)).to.equal(true);
        expect(report.changes).to.deep.equal([
            "1 function added: tagger",
            "1 route added: PUT /v1/tags/{id}",
            "1 table created: tags",
        ]);
        const tagged = await call(url("tags/a"), { method: "PUT" });
        expect(tagged.status, tagged.text).to.equal(201);
        expect(tagged.json.table).to.match(/^tags-/);
        expect(cloud.routes.map((r) => `${r.method} ${r.path}`)).to.include("PUT /v1/tags/{id}");
        expect((await call(url("notes/kept"))).json).to.deep.equal({ text: "written before the reload" });
    });

    it("reports a program that no longer compiles or throws, and keeps serving the last good version", async () => {
        const greetFile = path.join(watchedDir, "handlers", "greet.ts");
        let before = reports.length;
        fs.writeFileSync(greetFile, greetHandler("v4").replace("export async function", "export async functio"));
        let report = await reportAfter(before);
        expect(report.ok).to.equal(false);
        expect(describeReload(report)).to.match(
            /^reload failed after \d+\.\d s \(handlers\/greet\.ts\), still serving the last good version: /,
        );
        expect(await greeting()).to.equal("bonjour v3");

        before = reports.length;
        fs.writeFileSync(greetFile, greetHandler("v4"));
        fs.writeFileSync(
            path.join(watchedDir, "index.ts"),
            PROGRAM.replace("// EXTRA (a test adds resources here)", 'throw new Error("broken on purpose");'),
        );
        report = await reportAfter(before);
        expect(report.ok).to.equal(false);
        expect(describeReload(report)).to.contain("Error: broken on purpose");
        expect(await greeting()).to.equal("bonjour v3");
        expect((await call(url("notes/kept"))).status).to.equal(200);

        // Fixed: the next reload takes everything in (the table the program no longer has stays).
        before = reports.length;
        fs.writeFileSync(path.join(watchedDir, "index.ts"), PROGRAM);
        report = await reportAfter(before);
        expect(report.ok, String(report.error)).to.equal(true);
        expect(report.changes).to.include("1 function removed: tagger");
        expect(report.changes).to.include("1 route removed: PUT /v1/tags/{id}");
        expect(await greeting()).to.equal("bonjour v4");
    });

    it("answers requests from the running version while a reload records the program", async () => {
        // The edited program holds its own recording (synchronously, as a long evaluation does)
        // until this test has had an answer, and fails the reload if it is not released in time.
        const started = path.join(watchedDir, "recording-started");
        const release = path.join(watchedDir, "release-recording");
        const gate = String.raw`
const fs = require("node:fs");
fs.writeFileSync(${JSON.stringify(started)}, "");
const holdUntil = Date.now() + 30_000;
while (!fs.existsSync(${JSON.stringify(release)})) {
    if (Date.now() > holdUntil) {
        throw new Error("no request was answered while the program was being recorded");
    }
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
}
`;
        const running = await greeting();
        const before = reports.length;
        const order: string[] = [];
        fs.writeFileSync(
            path.join(watchedDir, "index.ts"),
            PROGRAM.replace("// EXTRA (a test adds resources here)", gate),
        );
        // Longer than the program holds itself: on failure, the report says why.
        const reloaded = waitFor("the reload's report", () => reports[before], 90_000).then((report) => {
            order.push("reload finished");
            return report;
        });
        await waitFor("the reload's recording to start", () => (fs.existsSync(started) ? true : undefined));
        const answer = await call(url("greet"));
        order.push("request answered");
        fs.writeFileSync(release, "");
        const report = await reloaded;

        expect(report.ok, String(report.error)).to.equal(true);
        expect(order).to.deep.equal(["request answered", "reload finished"]);
        expect(answer.status).to.equal(200);
        expect(answer.json).to.deep.equal({ message: running });

        // Back to the plain program, with nothing in flight for the next test.
        const restored = reports.length;
        fs.rmSync(started);
        fs.rmSync(release);
        fs.writeFileSync(path.join(watchedDir, "index.ts"), PROGRAM);
        expect((await reportAfter(restored)).ok).to.equal(true);
    });

    it("leaves a cloud started without watch alone, until reload() is called", async () => {
        const quietDir = path.join(root, `reload-quiet-${process.pid}`);
        writeProgram(quietDir);
        const quietReports: ReloadReport[] = [];
        const quiet = await startTestCloud({
            stack: "v1",
            projectDir: quietDir,
            stateDir: tempStateDir("reload-quiet"),
            onReload: (r) => quietReports.push(r),
        });
        try {
            const greetQuiet = async () => (await call(`${quiet.stageUrl}greet`)).json?.message as string | undefined;
            expect(await greetQuiet()).to.equal("hello v1");
            fs.writeFileSync(path.join(quietDir, "handlers", "greet.ts"), greetHandler("v2"));
            await new Promise((resolve) => setTimeout(resolve, 1500));
            expect(quietReports).to.deep.equal([]);
            expect(await greetQuiet()).to.equal("hello v1");
            const report = await quiet.reload();
            expect(report.ok, String(report.error)).to.equal(true);
            expect(report.changes).to.deep.equal(["1 function changed: greet"]);
            expect(await greetQuiet()).to.equal("hello v2");
        } finally {
            await quiet.close();
            removeStateDir(quiet.stateDir);
            fs.rmSync(quietDir, { recursive: true, force: true });
        }
    });
});
