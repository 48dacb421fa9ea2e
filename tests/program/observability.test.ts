// Operating the API, as the program declares it under mocks for each shipped stack: the stage's
// JSON access log and method settings, the account's API Gateway CloudWatch role (dev owns it),
// X-Ray tracing (prod), the functions' JSON logs, alarms and the dashboard; then the adapter's
// one log line per request.
import { expect } from "chai";
import { parse } from "yaml";
import * as fs from "node:fs";
import * as path from "node:path";
import { randomUUID } from "node:crypto";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
import type { RecordedProgram, RecordOptions } from "local-cloud";
import { one, ofType, programWith, recordedNow, stackProgram, TYPES } from "../support/program";
import { apiClient, type ApiResult } from "../support/client";
import { TEST_API_KEY_ID } from "../support/events";
import type { Deps } from "../../api/http/contract";
import type { Post, PostsStore } from "../../data/postsStore";
import { PROJECT_DIR } from "../../scripts/project";

/* eslint-disable @typescript-eslint/no-explicit-any */

const T = {
    ...TYPES,
    account: "aws:apigateway/account:Account",
    methodSettings: "aws:apigateway/methodSettings:MethodSettings",
    topic: "aws:sns/topic:Topic",
    subscription: "aws:sns/topicSubscription:TopicSubscription",
    alarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
    dashboard: "aws:cloudwatch/dashboard:Dashboard",
} as const;

// Written out here from AWS's documents, not imported, so a change to them is made on purpose.
/** The access log's fields and the `$context` variable each holds. */
const ACCESS_LOG_FIELDS: Record<string, string> = {
    requestId: "$context.requestId",
    extendedRequestId: "$context.extendedRequestId",
    requestTime: "$context.requestTime",
    sourceIp: "$context.identity.sourceIp",
    apiKeyId: "$context.identity.apiKeyId",
    httpMethod: "$context.httpMethod",
    resourcePath: "$context.resourcePath",
    path: "$context.path",
    protocol: "$context.protocol",
    status: "$context.status",
    responseLength: "$context.responseLength",
    integrationLatency: "$context.integrationLatency",
    responseLatency: "$context.responseLatency",
    errorMessage: "$context.error.message",
};
/** The actions of the AWS managed policy AmazonAPIGatewayPushToCloudWatchLogs (v1). */
const PUSH_TO_CLOUDWATCH_LOGS = [
    "logs:CreateLogGroup",
    "logs:CreateLogStream",
    "logs:DescribeLogGroups",
    "logs:DescribeLogStreams",
    "logs:PutLogEvents",
    "logs:GetLogEvents",
    "logs:FilterLogEvents",
];
const XRAY = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"];
const ROUTES = ["listPosts", "createPost", "getPost", "replacePost", "updatePost", "deletePost"];
const ALARM_DEFAULTS = {
    serverErrorRate: 0.01,
    latencyP99Ms: 2500,
    clientErrorRate: 0.25,
    functionErrors: 1,
    functionThrottles: 1,
    periodSeconds: 300,
    evaluationPeriods: 1,
};

function stackYaml(stack: string): any {
    return parse(fs.readFileSync(path.join(PROJECT_DIR, `Pulumi.${stack}.yaml`), "utf8")).config;
}

/** The stage's `*\/*` method settings (a cached route has its own besides). */
const stageWideSettings = (program: RecordedProgram) => {
    const found = ofType(program, T.methodSettings).filter((s) => s.inputs["methodPath"] === "*/*");
    expect(found).to.have.length(1);
    return found[0]!;
};

const routeChild = (program: RecordedProgram, type: string, route: string) =>
    ofType(program, type).find((r) => r.parent.endsWith(`posts:api:RouteFunction::${route}`))!;
const statementsOf = (policy: string): any[] => JSON.parse(policy).Statement;
const hasXray = (statements: any[]) =>
    statements.some((s) => [s.Action].flat().some((a: string) => a.startsWith("xray:")));

/**
 * Records the program while noting each resource's dependencies and retainOnDelete, which the
 * recorder does not keep: the mock monitor's registerResource is wrapped for the recording only.
 */
async function recordWithOptions(options: RecordOptions) {
    const monitor = MockMonitor.prototype as any;
    const original = monitor.registerResource;
    const dependencies = new Map<string, string[]>();
    const retainOnDelete = new Map<string, boolean>();
    monitor.registerResource = function (req: any, callback: (err: unknown, res: any) => void) {
        return original.call(this, req, (err: unknown, res: any) => {
            if (!err && res) {
                dependencies.set(res.getUrn(), req.getDependenciesList());
                retainOnDelete.set(res.getUrn(), req.getRetainondelete());
            }
            callback(err, res);
        });
    };
    try {
        return { program: await recordedNow(options), dependencies, retainOnDelete };
    } finally {
        monitor.registerResource = original;
    }
}

for (const stack of ["dev", "prod"]) {
    describe(`operations (${stack} stack, under mocks)`, () => {
        const config = stackYaml(stack);
        const retention = config["posts-api:logRetentionDays"] ?? 14;
        const owner = config["posts-api:manageApiGatewayAccount"] === true;
        const tracing = config["posts-api:tracing"] === true;
        const alarmsOn = (config["posts-api:alarms"]?.enabled ?? true) === true;
        let program: RecordedProgram;

        before(async () => {
            program = await stackProgram(stack);
        });

        it("ships the settings this file expects: dev owns the account setting and has no alarms, prod traces and alarms", () => {
            expect({ owner, tracing, alarmsOn }).to.deep.equal(
                stack === "dev"
                    ? { owner: true, tracing: false, alarmsOn: false }
                    : { owner: false, tracing: true, alarmsOn: true },
            );
        });

        describe("access logs", () => {
            it("sends the stage's access log to its own log group with this stack's retention", () => {
                const stage = one(program, TYPES.stage);
                const group = ofType(program, TYPES.logGroup).find((g) => g.name === "posts-api-access")!;
                expect(group.inputs["name"]).to.equal(`/aws/apigateway/posts-api-${stack}/access`);
                expect(group.inputs["retentionInDays"]).to.equal(retention);
                // The group's `arn` attribute, as the provider reports it (without the `:*` suffix a
                // stage refuses); the mock cannot show the provider's side of that.
                expect(stage.inputs["accessLogSettings"].destinationArn).to.equal(group.state["arn"]);
            });

            it("writes one JSON object per request with every field, each value quoted", () => {
                const format: string = one(program, TYPES.stage).inputs["accessLogSettings"].format;
                expect(format).not.to.include("\n");
                // The format itself is JSON whose values are the variables...
                expect(JSON.parse(format)).to.deep.equal(ACCESS_LOG_FIELDS);
                // ...and stays JSON once API Gateway puts values in, a missing one as "-".
                const samples = [
                    (variable: string) => (variable.endsWith("Latency") || variable.endsWith("Length") ? "12" : "-"),
                    () => "GET /posts/{id} 10/Dec/2026:09:30:00 +0000",
                ];
                for (const sample of samples) {
                    const line = format.replace(/\$context\.[A-Za-z.]+/g, (variable) => sample(variable));
                    const parsed = JSON.parse(line);
                    expect(Object.keys(parsed)).to.have.members(Object.keys(ACCESS_LOG_FIELDS));
                    expect(Object.values(parsed).every((v) => typeof v === "string")).to.equal(true);
                }
            });
        });

        describe("metrics and the execution log", () => {
            it("turns metrics on for every method, logs at this stack's level, never logs bodies and caches nothing stage-wide", () => {
                const settings = stageWideSettings(program);
                expect(settings.inputs["restApi"]).to.equal(one(program, TYPES.restApi).id);
                expect(settings.inputs["stageName"]).to.equal(stack);
                expect(settings.inputs["settings"]).to.deep.equal({
                    metricsEnabled: true,
                    loggingLevel: stack === "dev" ? "INFO" : "ERROR",
                    dataTraceEnabled: false,
                    // Cached routes get method settings of their own (tests/program/releases.test.ts).
                    cachingEnabled: false,
                });
            });

            it("creates the execution log group itself, with this stack's retention", () => {
                const group = ofType(program, TYPES.logGroup).find((g) => g.name === "posts-api-execution")!;
                expect(group.inputs["name"]).to.equal(
                    `API-Gateway-Execution-Logs_${one(program, TYPES.restApi).id}/${stack}`,
                );
                expect(group.inputs["retentionInDays"]).to.equal(retention);
            });
        });

        describe("the account's API Gateway CloudWatch role", () => {
            if (owner) {
                it("is set here, to a role API Gateway assumes with exactly the log actions it needs, inline", () => {
                    const account = one(program, T.account);
                    const role = one(program, TYPES.role, "apigateway-account");
                    expect(account.inputs["cloudwatchRoleArn"]).to.equal(role.state["arn"]);
                    expect(JSON.parse(role.inputs["assumeRolePolicy"]).Statement).to.deep.equal([
                        {
                            Effect: "Allow",
                            Principal: { Service: "apigateway.amazonaws.com" },
                            Action: "sts:AssumeRole",
                        },
                    ]);
                    const policy = one(program, TYPES.rolePolicy, "apigateway-account");
                    expect(policy.inputs["role"]).to.equal(role.id);
                    const statements = statementsOf(policy.inputs["policy"]);
                    expect(statements).to.have.length(1);
                    expect(statements[0].Effect).to.equal("Allow");
                    expect(statements[0].Action).to.have.members(PUSH_TO_CLOUDWATCH_LOGS);
                    expect(statements[0].Action).to.have.length(PUSH_TO_CLOUDWATCH_LOGS.length);
                    // This account's log groups in this region: every API of the region logs with it.
                    expect(statements[0].Resource).to.equal(`arn:aws:logs:${program.region}:123456789012:log-group:*`);
                    expect(ofType(program, TYPES.rolePolicyAttachment)).to.deep.equal([]);
                    expect(role.inputs["managedPolicyArns"] ?? []).to.deep.equal([]);
                });
            } else {
                it("is left to the stack that owns it: no Account and no API Gateway role here", () => {
                    expect(ofType(program, T.account)).to.deep.equal([]);
                    const trusted = ofType(program, TYPES.role).map(
                        (r) => JSON.parse(r.inputs["assumeRolePolicy"]).Statement[0].Principal.Service,
                    );
                    expect(trusted).not.to.include("apigateway.amazonaws.com");
                });
            }
        });

        describe("tracing", () => {
            it(
                tracing
                    ? "traces the stage and every function, whose roles may send traces"
                    : "is off: no X-Ray on the stage, the functions or their roles",
                () => {
                    expect(one(program, TYPES.stage).inputs["xrayTracingEnabled"]).to.equal(tracing);
                    for (const route of ROUTES) {
                        expect(routeChild(program, TYPES.function, route).inputs["tracingConfig"], route).to.deep.equal(
                            { mode: tracing ? "Active" : "PassThrough" },
                        );
                        const statements = statementsOf(routeChild(program, TYPES.rolePolicy, route).inputs["policy"]);
                        const xray = statements.filter((s) => hasXray([s]));
                        if (tracing) {
                            // X-Ray has no resource-level permissions: "*" and these two actions only.
                            expect(xray, route).to.deep.equal([
                                { Sid: "XRayTracing", Effect: "Allow", Action: XRAY, Resource: "*" },
                            ]);
                        } else {
                            expect(xray, route).to.deep.equal([]);
                        }
                    }
                },
            );
        });

        describe("function logs", () => {
            it("are JSON, at the configured application level, in each function's own log group", () => {
                for (const route of ROUTES) {
                    const fn = routeChild(program, TYPES.function, route);
                    expect(fn.inputs["loggingConfig"], route).to.deep.equal({
                        logFormat: "JSON",
                        applicationLogLevel: config["posts-api:functionLogLevel"] ?? "INFO",
                        systemLogLevel: "INFO",
                        logGroup: routeChild(program, TYPES.logGroup, route).state["name"],
                    });
                }
            });
        });

        describe("alarms and dashboard", () => {
            if (alarmsOn) {
                it("alarm on the API's 5XX rate, p99 latency and 4XX rate (advisory) and on each function's errors and throttles, to the topic", () => {
                    const topic = one(program, T.topic);
                    const apiName = one(program, TYPES.restApi).inputs["name"];
                    expect(apiName).to.equal(`posts-api-${stack}`);
                    const alarms = ofType(program, T.alarm);
                    expect(alarms).to.have.length(3 + 2 * ROUTES.length);
                    const byName = (name: string) =>
                        alarms.find((a) => a.inputs["name"] === `posts-api-${stack}-${name}`)!.inputs;
                    const apiDimensions = { ApiName: apiName, Stage: stack };

                    expect(byName("api-5xx-rate")).to.deep.include({
                        namespace: "AWS/ApiGateway",
                        metricName: "5XXError",
                        statistic: "Average",
                        comparisonOperator: "GreaterThanThreshold",
                        threshold: ALARM_DEFAULTS.serverErrorRate,
                    });
                    expect(byName("api-5xx-rate").dimensions).to.deep.equal(apiDimensions);
                    expect(byName("api-latency-p99")).to.deep.include({
                        namespace: "AWS/ApiGateway",
                        metricName: "Latency",
                        extendedStatistic: "p99",
                        threshold: ALARM_DEFAULTS.latencyP99Ms,
                    });
                    expect(byName("api-latency-p99").statistic).to.equal(undefined);
                    expect(byName("api-latency-p99").dimensions).to.deep.equal(apiDimensions);
                    expect(byName("api-4xx-rate")).to.deep.include({
                        namespace: "AWS/ApiGateway",
                        metricName: "4XXError",
                        statistic: "Average",
                        threshold: ALARM_DEFAULTS.clientErrorRate,
                    });
                    expect(byName("api-4xx-rate").alarmDescription).to.match(/^Advisory: /);
                    for (const route of ROUTES) {
                        const functionName = routeChild(program, TYPES.function, route).state["name"];
                        for (const [suffix, metricName, threshold] of [
                            ["errors", "Errors", ALARM_DEFAULTS.functionErrors],
                            ["throttles", "Throttles", ALARM_DEFAULTS.functionThrottles],
                        ] as const) {
                            expect(byName(`${route}-${suffix}`), route).to.deep.include({
                                namespace: "AWS/Lambda",
                                metricName,
                                statistic: "Sum",
                                comparisonOperator: "GreaterThanOrEqualToThreshold",
                                threshold,
                            });
                            expect(byName(`${route}-${suffix}`).dimensions).to.deep.equal({
                                FunctionName: functionName,
                            });
                        }
                    }
                    for (const alarm of alarms) {
                        // The advisory 4XX alarm changes state but notifies no one.
                        const actions = alarm.name.endsWith("api-4xx-rate") ? [] : [topic.state["arn"]];
                        expect(alarm.inputs["alarmActions"], alarm.name).to.deep.equal(actions);
                        expect(alarm.inputs["okActions"], alarm.name).to.deep.equal(actions);
                        expect(alarm.inputs).to.deep.include({
                            treatMissingData: "notBreaching",
                            period: ALARM_DEFAULTS.periodSeconds,
                            evaluationPeriods: ALARM_DEFAULTS.evaluationPeriods,
                        });
                        expect(alarm.inputs["alarmDescription"], alarm.name).to.be.a("string").and.not.equal("");
                    }
                    // No addresses in the shipped file: the topic has no subscriptions yet.
                    expect(ofType(program, T.subscription)).to.deep.equal([]);
                });
            } else {
                it("are off: no alarm, no topic, no subscription", () => {
                    expect(ofType(program, T.alarm)).to.deep.equal([]);
                    expect(ofType(program, T.topic)).to.deep.equal([]);
                    expect(ofType(program, T.subscription)).to.deep.equal([]);
                });
            }

            it("draw a dashboard, valid JSON, of the request count and every metric that can alarm", () => {
                const dashboard = one(program, T.dashboard);
                expect(dashboard.inputs["dashboardName"]).to.equal(`posts-api-${stack}`);
                const body = JSON.parse(dashboard.inputs["dashboardBody"]);
                const shown = body.widgets.flatMap((w: any) => {
                    expect(w.type).to.equal("metric");
                    expect(w.properties.region).to.equal(program.region);
                    return w.properties.metrics.map((m: any[]) => {
                        const options = m[m.length - 1];
                        return JSON.stringify({
                            namespace: m[0],
                            metricName: m[1],
                            dimensions: Object.fromEntries(chunks(m.slice(2, -1))),
                            stat: options.stat,
                        });
                    });
                });
                const apiName = one(program, TYPES.restApi).inputs["name"];
                const expected = [
                    {
                        namespace: "AWS/ApiGateway",
                        metricName: "Count",
                        dimensions: { ApiName: apiName, Stage: stack },
                        stat: "Sum",
                    },
                    {
                        namespace: "AWS/ApiGateway",
                        metricName: "5XXError",
                        dimensions: { ApiName: apiName, Stage: stack },
                        stat: "Average",
                    },
                    {
                        namespace: "AWS/ApiGateway",
                        metricName: "4XXError",
                        dimensions: { ApiName: apiName, Stage: stack },
                        stat: "Average",
                    },
                    {
                        namespace: "AWS/ApiGateway",
                        metricName: "Latency",
                        dimensions: { ApiName: apiName, Stage: stack },
                        stat: "p99",
                    },
                    ...ROUTES.flatMap((route) =>
                        ["Errors", "Throttles"].map((metricName) => ({
                            namespace: "AWS/Lambda",
                            metricName,
                            dimensions: { FunctionName: routeChild(program, TYPES.function, route).state["name"] },
                            stat: "Sum",
                        })),
                    ),
                ];
                expect(shown).to.have.members(expected.map((e) => JSON.stringify(e)));
                // Where alarms exist, each is on the dashboard, with the same statistic.
                for (const alarm of ofType(program, T.alarm)) {
                    const i = alarm.inputs;
                    const metric = JSON.stringify({
                        namespace: i["namespace"],
                        metricName: i["metricName"],
                        dimensions: i["dimensions"],
                        stat: i["extendedStatistic"] ?? i["statistic"],
                    });
                    expect(shown, alarm.name).to.include(metric);
                }
            });
        });
    });
}

function chunks(flat: string[]): [string, string][] {
    const pairs: [string, string][] = [];
    for (let i = 0; i < flat.length; i += 2) {
        pairs.push([flat[i]!, flat[i + 1]!]);
    }
    return pairs;
}

describe("operations: ordering and config", () => {
    it("makes the stage and the method settings wait for the account setting where the stack owns it, and keeps the setting on destroy", async () => {
        const { program, dependencies, retainOnDelete } = await recordWithOptions({ stack: "dev" });
        const account = one(program, T.account);
        expect(dependencies.get(one(program, TYPES.stage).urn)).to.include(account.urn);
        expect(dependencies.get(stageWideSettings(program).urn)).to.include(account.urn);
        // The account is set once its role may write logs.
        expect(dependencies.get(account.urn)).to.include(one(program, TYPES.rolePolicy, "apigateway-account").urn);
        // Deleting an Account resets the region's role; destroying dev must not take prod's logging.
        for (const resource of [
            account,
            one(program, TYPES.role, "apigateway-account"),
            one(program, TYPES.rolePolicy, "apigateway-account"),
        ]) {
            expect(retainOnDelete.get(resource.urn), resource.type).to.equal(true);
        }
    });

    it("sets thresholds, period and e-mail subscriptions from posts-api:alarms", async () => {
        const emails = ["ops@example.com", "oncall@example.org"];
        const program = await programWith({
            stack: "prod",
            config: {
                "posts-api:alarms": {
                    emails,
                    serverErrorRate: 0.05,
                    latencyP99Ms: 1000,
                    functionErrors: 3,
                    periodSeconds: 60,
                    evaluationPeriods: 5,
                },
            },
        });
        const topic = one(program, T.topic);
        const subscriptions = ofType(program, T.subscription);
        expect(subscriptions.map((s) => s.inputs["endpoint"])).to.have.members(emails);
        for (const subscription of subscriptions) {
            expect(subscription.inputs).to.deep.include({ protocol: "email", topic: topic.state["arn"] });
        }
        const alarm = (name: string) =>
            ofType(program, T.alarm).find((a) => a.inputs["name"] === `posts-api-prod-${name}`)!.inputs;
        expect(alarm("api-5xx-rate").threshold).to.equal(0.05);
        expect(alarm("api-latency-p99").threshold).to.equal(1000);
        expect(alarm("getPost-errors").threshold).to.equal(3);
        expect(alarm("api-4xx-rate").threshold).to.equal(ALARM_DEFAULTS.clientErrorRate);
        for (const a of ofType(program, T.alarm)) {
            expect(a.inputs).to.deep.include({ period: 60, evaluationPeriods: 5 });
        }
    });

    it("takes tracing and the functions' log level from config", async () => {
        const program = await programWith({
            stack: "dev",
            config: { "posts-api:tracing": true, "posts-api:functionLogLevel": "WARN" },
        });
        expect(one(program, TYPES.stage).inputs["xrayTracingEnabled"]).to.equal(true);
        for (const route of ROUTES) {
            expect(routeChild(program, TYPES.function, route).inputs["loggingConfig"].applicationLogLevel).to.equal(
                "WARN",
            );
            expect(
                hasXray(statementsOf(routeChild(program, TYPES.rolePolicy, route).inputs["policy"])),
                route,
            ).to.equal(true);
        }
    });
});

describe("the adapter's log line per request", () => {
    const post: Post = {
        id: randomUUID(),
        title: "Hello",
        description: "",
        author: "Ada",
        publicationDate: "2026-11-21",
        createdAt: "2026-11-21T09:30:00.000Z",
        updatedAt: "2026-11-21T09:30:00.000Z",
        version: 1,
    };
    /** Deps whose store answers getPost with `getPost`; no other call is expected. */
    const depsWith = (getPost: PostsStore["getPost"]): Deps => ({
        store: { getPost } as unknown as PostsStore,
        cursorKey: "test-cursor-key-0123456789abcdef",
    });

    async function call(getPost: PostsStore["getPost"], log?: (line: string) => void): Promise<ApiResult> {
        // `log: undefined` explicitly: the records go to the console, as on Lambda (apiClient
        // otherwise drops the per-request records from test output).
        return apiClient(depsWith(getPost), { log })("getPost", { id: post.id });
    }

    it("is one JSON object with requestId, route, status, latencyMs and the caller's apiKeyId", async () => {
        const lines: string[] = [];
        const result = await call(
            async () => post,
            (line) => lines.push(line),
        );
        expect(result.statusCode).to.equal(200);
        expect(lines).to.have.length(1);
        const record = JSON.parse(lines[0]!);
        expect(record).to.include({
            level: "info",
            requestId: result.requestId,
            route: "GET /posts/{id}",
            status: 200,
            apiKeyId: TEST_API_KEY_ID,
        });
        expect(record.apiGatewayRequestId).to.be.a("string");
        expect(record.latencyMs).to.be.a("number").and.at.least(0);
        // Nothing of the request itself: no key value, header or body.
        expect(lines[0]).not.to.include("k".repeat(40));
        expect(lines[0]).not.to.include("Hello");
    });

    it("follows a failure's detail (logged as an error) and the 500 carries only the request id", async () => {
        const lines: string[] = [];
        const result = await call(
            async () => {
                throw new Error("db exploded: arn:aws:dynamodb:secret-table");
            },
            (line) => lines.push(line),
        );
        expect(result.statusCode).to.equal(500);
        expect(result.body).to.deep.equal({ message: "Internal server error", requestId: result.requestId });
        expect(result.rawBody).not.to.include("secret-table");
        const [detail, request] = lines.map((line) => JSON.parse(line));
        expect(detail).to.include({ level: "error", requestId: result.requestId, route: "GET /posts/{id}" });
        expect(detail.error.message).to.include("db exploded");
        expect(request).to.include({ level: "info", requestId: result.requestId, status: 500 });
        expect(request.error).to.equal(undefined);
    });

    describe("on the console, as the Lambda runtime writes it", () => {
        const saved = { info: console.info, error: console.error, format: process.env["AWS_LAMBDA_LOG_FORMAT"] };
        let calls: { level: string; args: unknown[] }[];

        beforeEach(() => {
            calls = [];
            console.info = (...args: unknown[]) => calls.push({ level: "INFO", args });
            console.error = (...args: unknown[]) => calls.push({ level: "ERROR", args });
        });

        afterEach(() => {
            console.info = saved.info;
            console.error = saved.error;
            if (saved.format === undefined) {
                delete process.env["AWS_LAMBDA_LOG_FORMAT"];
            } else {
                process.env["AWS_LAMBDA_LOG_FORMAT"] = saved.format;
            }
        });

        /**
         * What the Node.js runtime writes under the JSON log format for a console call with one
         * argument (aws-lambda-nodejs-runtime-interface-client, src/logging/formatter.ts
         * formatJsonMessage): the argument becomes "message" as it is, object or string.
         */
        const runtimeJsonLine = (level: string, requestId: string, message: unknown) =>
            JSON.stringify({ timestamp: new Date().toISOString(), level, requestId, message });

        it("under the JSON log format: one object argument, so the line is one JSON object with the fields under message", async () => {
            process.env["AWS_LAMBDA_LOG_FORMAT"] = "JSON";
            const result = await call(async () => post);
            expect(calls).to.have.length(1);
            expect(calls[0]!.level).to.equal("INFO");
            expect(calls[0]!.args).to.have.length(1);
            expect(calls[0]!.args[0]).to.be.an("object");
            const line = runtimeJsonLine("INFO", result.requestId, calls[0]!.args[0]);
            expect(line).not.to.include("\n");
            const parsed = JSON.parse(line);
            expect(parsed.message).to.include({
                requestId: result.requestId,
                route: "GET /posts/{id}",
                status: 200,
                apiKeyId: TEST_API_KEY_ID,
            });
            expect(parsed.message.latencyMs).to.be.a("number");
        });

        it("under the Text format (and locally): one JSON text, the failure's detail on console.error", async () => {
            delete process.env["AWS_LAMBDA_LOG_FORMAT"];
            const result = await call(async () => {
                throw new Error("boom");
            });
            expect(calls.map((c) => c.level)).to.deep.equal(["ERROR", "INFO"]);
            for (const c of calls) {
                expect(c.args).to.have.length(1);
                expect(c.args[0]).to.be.a("string");
            }
            expect(JSON.parse(calls[0]!.args[0] as string)).to.include({ level: "error", requestId: result.requestId });
            expect(JSON.parse(calls[1]!.args[0] as string)).to.include({
                level: "info",
                requestId: result.requestId,
                status: 500,
            });
        });
    });
});
