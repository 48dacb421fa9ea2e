// DynamoDB capacity through a whole local cloud (dynamoCapacity.ts behind `throttlePartitions`): a
// program of its own whose function writes one hot key with the runtime's SDK (its default
// retries). The units show in LocalCloud.capacity() and the console's API; past the scaled limit the
// function's SDK gets DynamoDB's ThrottlingException after its retries, and the API answers what the
// function makes of it. The cloud's clock is frozen, so the partition never refills while the SDK
// backs off (the same answer as a partition that stays hot on AWS).
import { expect } from "chai";
import * as path from "node:path";
import type { LocalCloud } from "../../types";
import { call, removeStateDir, startTestCloud, tempStateDir, writeTestProgram } from "../../testing";

const PROGRAM = String.raw`
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

const table = new aws.dynamodb.Table("things", { attributes: [{ name: "pk", type: "S" }, { name: "sk", type: "S" }], hashKey: "pk", rangeKey: "sk", billingMode: "PAY_PER_REQUEST" });
const handler = [
    "const { DynamoDBClient, PutItemCommand } = require('@aws-sdk/client-dynamodb');",
    "const client = new DynamoDBClient({});",
    "exports.handler = async (event) => {",
    "    const item = { pk: { S: 'hot' }, sk: { S: event.requestContext.requestId }, body: { S: 'x'.repeat(900) } };",
    "    try {",
    "        const answer = await client.send(new PutItemCommand({ TableName: process.env.TABLE, Item: item }));",
    "        return { statusCode: 201, body: JSON.stringify({ attempts: answer.$metadata.attempts }) };",
    "    } catch (err) {",
    "        return { statusCode: 503, body: JSON.stringify({ error: err.name, attempts: err.$metadata && err.$metadata.attempts }) };",
    "    }",
    "};",
].join("\n");
const fn = new aws.lambda.Function("writer", {
    role: "arn:aws:iam::123456789012:role/writer", runtime: "nodejs20.x", handler: "index.handler", timeout: 20,
    environment: { variables: { TABLE: table.name } },
    code: new pulumi.asset.AssetArchive({ "index.js": new pulumi.asset.StringAsset(handler) }),
});
const body = pulumi.jsonStringify({
    swagger: "2.0",
    info: { title: "hot", version: "1" },
    paths: { "/things": { post: { "x-amazon-apigateway-integration": { type: "aws_proxy", httpMethod: "POST", uri: fn.invokeArn } } } },
});
const api = new aws.apigateway.RestApi("hot", { body });
new aws.lambda.Permission("writer", { action: "lambda:InvokeFunction", function: fn.name, principal: "apigateway.amazonaws.com", sourceArn: api.executionArn.apply((arn) => arn + "/*/*/*") });
const deployment = new aws.apigateway.Deployment("hot", { restApi: api.id });
new aws.apigateway.Stage("v1", { restApi: api.id, deployment: deployment.id, stageName: "v1" });
export const tableName = table.name;
`;

describe("local cloud: DynamoDB capacity and the throttle through a program's function", function () {
    let cloud: LocalCloud;
    let dir: string;

    before(async () => {
        dir = tempStateDir("capacity-cloud");
        const programDir = path.join(dir, "program");
        writeTestProgram(programDir, "hot", PROGRAM);
        const frozen = Date.parse("2026-12-06T12:00:00Z");
        cloud = await startTestCloud({
            stack: "v1",
            projectDir: programDir,
            stateDir: path.join(dir, "state"),
            throttlePartitions: 0.01,
            now: () => frozen,
        });
    });

    after(async () => {
        await cloud?.close();
        removeStateDir(dir);
    });

    it("counts the function's writes on the table's partition, and answers DynamoDB's ThrottlingException past 10 write units (after the SDK's retries)", async () => {
        const answers: { status: number; json: unknown }[] = [];
        for (let i = 0; i < 11; i++) {
            const answer = await call(`${cloud.stageUrl}things`, { method: "POST" });
            answers.push({ status: answer.status, json: answer.json });
        }
        expect(answers.slice(0, 10).map((a) => a.status)).to.deep.equal(Array(10).fill(201));
        expect(answers[10]!.status).to.equal(503);
        const refused = answers[10]!.json as { error: string; attempts: number };
        expect(refused.error).to.equal("ThrottlingException");
        expect(refused.attempts, "the SDK retried it as a throttling error").to.be.greaterThan(1);

        const capacity = cloud.capacity();
        expect(capacity.limits).to.deep.equal({ scale: 0.01, readUnitsPerSecond: 30, writeUnitsPerSecond: 10 });
        const table = capacity.tables.find((t) => t.table === String(cloud.outputs["tableName"]))!;
        expect(table.writeUnits).to.equal(10);
        expect(table.hottest[0], "every attempt refused, none charged").to.include({
            partition: "hot",
            writeUnits: 10,
            throttledWrites: refused.attempts,
        });

        const consoleAnswer = await call(`${cloud.consoleUrl}api/capacity`);
        expect(consoleAnswer.status, "the console's Stack panel reads the same counters").to.equal(200);
        expect(consoleAnswer.json).to.deep.equal(JSON.parse(JSON.stringify(cloud.capacity())));
    });
});
