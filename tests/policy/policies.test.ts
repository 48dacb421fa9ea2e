// The guardrails (policies/rules) over the program recorded under mocks: the shipped stacks pass,
// and every rule fires, with a message that says what to fix, on a deliberately broken variant.
// Then the CrossGuard pack (policies/guardrails): its adapter, and the pack itself started the way
// `pulumi preview --policy-pack` starts it, answering the analyzer gRPC calls the engine makes.
import { expect } from "chai";
import * as childProcess from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { type RecordedProgram, type RecordedResource } from "local-cloud";
import { checkRecordedStack, rules, type Finding, type RuleConfig } from "../../policies/rules";
import { CROSSGUARD_CANNOT_SEE_SECRETS } from "../../policies/rules/apiKeyOutputs";
import { logGroupRetention } from "../../policies/rules/logRetention";
import { productionAlarms } from "../../policies/rules/productionAlarms";
import { productionTracing } from "../../policies/rules/productionTracing";
import { stageAccessLog } from "../../policies/rules/stageAccessLog";
import { ACCESS_LOG_FORMAT } from "../../api/accessLog";
import { guardrailPolicies } from "../../policies/guardrails/policies";
import { one, ofType, programWith, stackProgram, TYPES } from "../support/program";
import { PROJECT_DIR } from "../../scripts/project";

/* eslint-disable @typescript-eslint/no-explicit-any */

const PACK_DIR = path.join(PROJECT_DIR, "policies", "guardrails");
const MORE_TYPES = {
    method: "aws:apigateway/method:Method",
    policy: "aws:iam/policy:Policy",
    rolePolicyAttachmentsExclusive: "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive",
    metricAlarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
    snsTopic: "aws:sns/topic:Topic",
    topicSubscription: "aws:sns/topicSubscription:TopicSubscription",
} as const;
const managed = (name: string) => `arn:aws:iam::aws:policy/${name}`;

/** A deep copy a test may break freely (Lambda archives dropped: no rule reads them). */
function copy(program: RecordedProgram): RecordedProgram {
    return JSON.parse(JSON.stringify(program, (key, value) => (key === "code" ? undefined : value)));
}

/** Adds a resource to a copy, URN built the way Pulumi builds it. */
function addResource(program: RecordedProgram, type: string, name: string, inputs: Record<string, any>): RecordedResource {
    const resource: RecordedResource = {
        urn: `urn:pulumi:${program.stack}::posts-api::${type}::${name}`,
        type, name, parent: "", custom: true, protect: false, additionalSecretOutputs: [], id: name, inputs, state: { ...inputs },
    };
    program.resources.push(resource);
    return resource;
}

function swaggerOfCopy(program: RecordedProgram): { doc: any; save: () => void } {
    const api = one(program, TYPES.restApi);
    const doc = JSON.parse(api.inputs["body"]);
    return { doc, save: () => { api.inputs["body"] = JSON.stringify(doc); } };
}

const routeRolePolicy = (program: RecordedProgram, route: string) =>
    ofType(program, TYPES.rolePolicy).find((r) => r.parent.endsWith(`posts:api:RouteFunction::${route}`))!;

/** Stack rules read outputs (state), resource rules inputs: breaks both alike. */
function setProp(resource: RecordedResource, key: string, value: unknown): void {
    for (const props of [resource.inputs, resource.state]) {
        if (value === undefined) {
            delete props[key];
        } else {
            props[key] = value;
        }
    }
}

/** A copy without any CloudWatch alarm: what posts-api:alarms `{ enabled: false }` declares. */
function withoutAlarms(program: RecordedProgram): RecordedProgram {
    const broken = copy(program);
    broken.resources = broken.resources.filter((r) => r.type !== MORE_TYPES.metricAlarm);
    return broken;
}

/** posts-api:alarms with one on-call address: what Pulumi.prod.yaml asks its operators to add. */
const ONCALL_EMAIL = { enabled: true, emails: ["oncall@example.com"] };

const ROUTES = ["getPost", "listPosts", "createPost", "replacePost", "updatePost", "deletePost"];

const rulesFired = (findings: Finding[]) => [...new Set(findings.map((f) => f.rule))];

/** The findings of one rule, after checking that no other rule fired. */
function only(rule: string, findings: Finding[]): string[] {
    expect(rulesFired(findings), JSON.stringify(findings, null, 2)).to.deep.equal([rule]);
    return findings.map((f) => f.message);
}

/** A throwaway program inside the project (so it resolves the project's node_modules). */
function writeNaiveProgram(): string {
    fs.mkdirSync(path.join(PROJECT_DIR, ".tmp"), { recursive: true });
    const dir = fs.mkdtempSync(path.join(PROJECT_DIR, ".tmp", "policy-fixture-"));
    // A Pulumi project like any other: the recorder takes the project name from Pulumi.yaml.
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: naive\nruntime: nodejs\n");
    fs.writeFileSync(path.join(dir, "index.ts"), [
        "import * as aws from \"@pulumi/aws\";",
        "export const fn = new aws.lambda.CallbackFunction(\"naive\", { callback: async () => ({ statusCode: 200, body: \"\" }) });",
        "",
    ].join("\n"));
    return dir;
}

let dev: RecordedProgram;
/**
 * The prod stack as its operators deploy it: Pulumi.prod.yaml plus someone to page (the shipped
 * file names nobody, and the alarm guardrail refuses it until they set an address or a topic).
 */
let prod: RecordedProgram;
/** Pulumi.prod.yaml exactly as shipped: alarms to a topic nobody subscribed to. */
let prodAsShipped: RecordedProgram;
/** Paged prod (above) with posts-api:production turned off. */
let prodDowngraded: RecordedProgram;
/** A program that hands CallbackFunction nothing but a closure. */
let naive: RecordedProgram;

// A root-level hook, so it runs before every suite of the run: recordProgram runs one program per
// process at a time, and a program abandoned by an earlier suite (the local cloud gives up on a
// program that fails inside an `apply`) would block every later recording.
before("record the programs the guardrail tests need", async function () {
    this.timeout(180_000);
    dev = await stackProgram("dev");
    prodAsShipped = await stackProgram("prod");
    prod = await programWith({ stack: "prod", config: { "posts-api:alarms": ONCALL_EMAIL } });
    prodDowngraded = await programWith({ stack: "prod", config: { "posts-api:production": false, "posts-api:alarms": ONCALL_EMAIL } });
    const fixtureDir = writeNaiveProgram();
    try {
        naive = await programWith({ stack: "fixture", projectDir: fixtureDir, stackConfig: { "aws:region": "us-east-1" } });
    } finally {
        fs.rmSync(fixtureDir, { recursive: true, force: true });
    }
});

describe("guardrail rules (policies/rules)", () => {
    it("have unique names and say what they check", () => {
        expect(new Set(rules.map((r) => r.name)).size).to.equal(rules.length);
        for (const rule of rules) {
            expect(rule.description, rule.name).to.have.length.greaterThan(20);
            expect(["mandatory", "advisory"]).to.include(rule.enforcementLevel);
        }
    });

    it("find nothing in the dev stack as shipped, nor in prod once someone is paged", () => {
        expect(checkRecordedStack(dev)).to.deep.equal([]);
        expect(checkRecordedStack(prod)).to.deep.equal([]);
    });

    describe("api-methods-require-api-key", () => {
        it("fires when an operation in the API's body has no security", () => {
            const broken = copy(dev);
            const swagger = swaggerOfCopy(broken);
            delete swagger.doc.paths["/posts/{id}"].get.security;
            swagger.save();
            const [message] = only("api-methods-require-api-key", checkRecordedStack(broken));
            expect(message).to.match(/^GET \/posts\/\{id\} can be called without an API key: add `security: \[\{"api_key": \[\]\}\]`.*apiKeyRequired: true/);
        });

        it("fires when one security alternative names no API key, and for a new path without a key", () => {
            const broken = copy(dev);
            const swagger = swaggerOfCopy(broken);
            swagger.doc.paths["/posts"].post.security = [{ api_key: [] }, {}];
            swagger.doc.paths["/admin"] = { delete: { responses: {} }, options: { responses: {} } };
            swagger.save();
            const messages = only("api-methods-require-api-key", checkRecordedStack(broken));
            expect(messages).to.have.length(2);
            expect(messages[0]).to.match(/^POST \/posts can be called without an API key \(security alternative \{\} names no apiKey scheme/);
            expect(messages[1]).to.match(/^DELETE \/admin can be called without an API key/);
        });

        it("fires for every operation when the key is not the x-api-key header", () => {
            const broken = copy(prod);
            const swagger = swaggerOfCopy(broken);
            swagger.doc.securityDefinitions.api_key.in = "query";
            swagger.save();
            expect(only("api-methods-require-api-key", checkRecordedStack(broken))).to.have.length(6);
        });

        it("fires for an aws.apigateway.Method without apiKeyRequired, but not for OPTIONS", () => {
            const broken = copy(dev);
            addResource(broken, MORE_TYPES.method, "report", { httpMethod: "GET", apiKeyRequired: false, authorization: "NONE" });
            addResource(broken, MORE_TYPES.method, "report-preflight", { httpMethod: "OPTIONS", authorization: "NONE" });
            const [message] = only("api-methods-require-api-key", checkRecordedStack(broken));
            expect(message).to.equal("Method \"report\" (GET) can be called without an API key: set `apiKeyRequired: true`.");
        });
    });

    describe("no-broad-managed-policies", () => {
        it("fires for a RolePolicyAttachment of AmazonDynamoDBFullAccess, naming the fix", () => {
            const broken = copy(dev);
            const role = one(broken, TYPES.role, "getPost");
            addResource(broken, TYPES.rolePolicyAttachment, "getPost-dynamodb", { role: role.state["name"], policyArn: managed("AmazonDynamoDBFullAccess") });
            const [message] = only("no-broad-managed-policies", checkRecordedStack(broken));
            expect(message).to.match(/RolePolicyAttachment "getPost-dynamodb" attaches the AWS managed policy AmazonDynamoDBFullAccess .*: remove it and grant the exact actions/);
            expect(message).to.include("pass a least-privilege role (api/lambdaRole.ts)");
        });

        it("fires for AdministratorAccess in managedPolicyArns and PowerUserAccess in an exclusive attachment", () => {
            const broken = copy(prod);
            one(broken, TYPES.role, "listPosts").inputs["managedPolicyArns"] = [managed("AdministratorAccess")];
            addResource(broken, MORE_TYPES.rolePolicyAttachmentsExclusive, "ops", { roleName: "ops", policyArns: [managed("PowerUserAccess")] });
            const messages = only("no-broad-managed-policies", checkRecordedStack(broken));
            expect(messages).to.have.length(2);
            expect(messages[0]).to.match(/^Role "listPosts" attaches the AWS managed policy AdministratorAccess/);
            expect(messages[1]).to.match(/^RolePolicyAttachmentsExclusive "ops" attaches the AWS managed policy PowerUserAccess/);
        });

        it("leaves read-only AWS policies and customer managed policies alone", () => {
            const fine = copy(dev);
            addResource(fine, TYPES.rolePolicyAttachment, "read", { role: "r", policyArn: managed("AmazonDynamoDBReadOnlyAccess") });
            addResource(fine, TYPES.rolePolicyAttachment, "own", { role: "r", policyArn: "arn:aws:iam::123456789012:policy/TeamFullAccess" });
            expect(checkRecordedStack(fine)).to.deep.equal([]);
        });
    });

    describe("a CallbackFunction given only a closure (recorded under mocks)", () => {
        it("is caught: the broad managed policies of its default role and its 180 s timeout", () => {
            const findings = checkRecordedStack(naive);
            expect(rulesFired(findings)).to.have.members(["no-broad-managed-policies", "lambda-timeout-within-gateway-limit"]);
            const policies = findings.filter((f) => f.rule === "no-broad-managed-policies").map((f) => f.message);
            for (const name of ["AWSLambda_FullAccess", "AmazonDynamoDBFullAccess", "AmazonS3FullAccess", "AmazonCognitoPowerUser"]) {
                expect(policies.some((m) => m.includes(`AWS managed policy ${name} `)), name).to.equal(true);
            }
            expect(policies).to.have.length(8); // all but AWSXrayWriteOnlyAccess
            expect(findings.find((f) => f.rule === "lambda-timeout-within-gateway-limit")!.message).to.match(/timeout 180 s; API Gateway stops waiting after 29 s/);
        });
    });

    describe("no-wildcard-iam-actions", () => {
        const withStatements = (program: RecordedProgram, route: string, statements: unknown[]) => {
            routeRolePolicy(program, route).inputs["policy"] = JSON.stringify({ Version: "2012-10-17", Statement: statements });
        };

        it("fires for dynamodb:* and for *", () => {
            const broken = copy(dev);
            const table = one(broken, TYPES.table).state["arn"];
            withStatements(broken, "getPost", [{ Sid: "TableItems", Effect: "Allow", Action: "dynamodb:*", Resource: table }]);
            withStatements(broken, "deletePost", [{ Effect: "Allow", Action: ["*"], Resource: table }]);
            const messages = only("no-wildcard-iam-actions", checkRecordedStack(broken));
            expect(messages).to.deep.equal([
                "RolePolicy \"getPost\" statement \"TableItems\" allows \"dynamodb:*\": list the exact actions the code performs (e.g. \"dynamodb:GetItem\").",
                "RolePolicy \"deletePost\" statement 1 allows \"*\": list the exact actions the code performs (e.g. \"dynamodb:GetItem\").",
            ]);
        });

        it("fires for DynamoDB actions on Resource \"*\", and for NotAction", () => {
            const broken = copy(prod);
            withStatements(broken, "listPosts", [{ Effect: "Allow", Action: ["dynamodb:Query"], Resource: "*" }]);
            withStatements(broken, "createPost", [{ Effect: "Allow", NotAction: "iam:*", Resource: "*" }]);
            const messages = only("no-wildcard-iam-actions", checkRecordedStack(broken));
            expect(messages[0]).to.match(/allows dynamodb:Query on every resource: set Resource to the table's ARN/);
            expect(messages[1]).to.match(/allows everything except "iam:\*" \(NotAction\): replace it with an Action list/);
        });

        it("reads documents given as objects, in Role.inlinePolicies and in aws.iam.Policy", () => {
            const broken = copy(dev);
            one(broken, TYPES.role, "getPost").inputs["inlinePolicies"] = [{ name: "extra", policy: JSON.stringify({ Statement: { Effect: "Allow", Action: "dynamodb:*", Resource: "*" } }) }];
            addResource(broken, MORE_TYPES.policy, "shared", { policy: { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] } });
            const messages = only("no-wildcard-iam-actions", checkRecordedStack(broken));
            expect(messages).to.have.length(3);
            expect(messages[0]).to.match(/^Role "getPost" inline policy "extra" statement 1 allows "dynamodb:\*"/);
            expect(messages[1]).to.match(/^Role "getPost" inline policy "extra" statement 1 allows dynamodb:\* on every resource/);
            expect(messages[2]).to.match(/^Policy "shared" statement 1 allows "\*"/);
        });

        it("ignores Deny statements", () => {
            const fine = copy(dev);
            const policy = routeRolePolicy(fine, "getPost");
            const doc = JSON.parse(policy.inputs["policy"]);
            doc.Statement.push({ Effect: "Deny", Action: "*", Resource: "*" });
            policy.inputs["policy"] = JSON.stringify(doc);
            expect(checkRecordedStack(fine)).to.deep.equal([]);
        });
    });

    describe("lambda-timeout-within-gateway-limit", () => {
        it("fires for CallbackFunction's default of 180 s", () => {
            const broken = copy(dev);
            one(broken, TYPES.function, "createPost").inputs["timeout"] = 180;
            expect(only("lambda-timeout-within-gateway-limit", checkRecordedStack(broken))).to.deep.equal([
                "Function \"createPost\" has timeout 180 s; API Gateway stops waiting after 29 s: set `timeout` to at most 29 (posts-api:lambdaTimeout).",
            ]);
        });

        it("takes the limit from the rule's config", () => {
            expect(only("lambda-timeout-within-gateway-limit", checkRecordedStack(dev, { "lambda-timeout-within-gateway-limit": { maxTimeoutSeconds: 5 } }))).to.have.length(6);
        });
    });

    describe("lambda-runtime-supported-node", () => {
        it("fires for a missing runtime and for an unsupported one", () => {
            const broken = copy(prod);
            delete one(broken, TYPES.function, "getPost").inputs["runtime"];
            one(broken, TYPES.function, "listPosts").inputs["runtime"] = "nodejs18.x";
            const messages = only("lambda-runtime-supported-node", checkRecordedStack(broken));
            expect(messages).to.have.length(2);
            expect(messages.find((m) => m.includes("getPost"))).to.match(/has no explicit runtime: set `runtime` to one of nodejs20.x, nodejs22.x, nodejs24.x/);
            expect(messages.find((m) => m.includes("listPosts"))).to.match(/runs nodejs18.x, which is not a supported Node.js runtime here/);
        });

        it("takes the allowed runtimes from the rule's config", () => {
            expect(only("lambda-runtime-supported-node", checkRecordedStack(dev, { "lambda-runtime-supported-node": { runtimes: ["nodejs24.x"] } }))).to.have.length(6);
        });
    });

    describe("log-group-retention", () => {
        it("fires, as advisory, for a log group without retention or with 0", () => {
            const broken = copy(dev);
            delete one(broken, TYPES.logGroup, "getPost").inputs["retentionInDays"];
            one(broken, TYPES.logGroup, "listPosts").inputs["retentionInDays"] = 0;
            const findings = checkRecordedStack(broken);
            const messages = only("log-group-retention", findings);
            expect(findings.every((f) => f.enforcementLevel === "advisory")).to.equal(true);
            expect(messages).to.have.length(2);
            expect(messages[0]).to.match(/keeps logs forever \(retentionInDays (null|0)\): set `retentionInDays`/);
        });
    });

    describe("production-table-backups-and-deletion-protection", () => {
        it("fires for a production table without point-in-time recovery or deletion protection", () => {
            const broken = copy(prod);
            const table = one(broken, TYPES.table);
            table.inputs["pointInTimeRecovery"] = { enabled: false };
            table.inputs["deletionProtectionEnabled"] = false;
            expect(only("production-table-backups-and-deletion-protection", checkRecordedStack(broken))).to.deep.equal([
                "Table \"posts\" is tagged environment=production but has no point-in-time recovery: set `pointInTimeRecovery: { enabled: true }` (posts-api:production: true).",
                "Table \"posts\" is tagged environment=production but can be deleted: set `deletionProtectionEnabled: true` (posts-api:production: true).",
            ]);
        });

        it("holds the prod stack to it even when posts-api:production is turned off", () => {
            const downgraded = prodDowngraded;
            expect(one(downgraded, TYPES.table).inputs["tags"].environment).to.equal("development");
            const messages = only("production-table-backups-and-deletion-protection", checkRecordedStack(downgraded));
            expect(messages).to.have.length(2);
            expect(messages[0]).to.match(/is on production stack "prod" but has no point-in-time recovery/);
        });

        it("leaves development tables alone unless tagged production", () => {
            expect(one(dev, TYPES.table).inputs["pointInTimeRecovery"]).to.deep.equal({ enabled: false });
            const tagged = copy(dev);
            one(tagged, TYPES.table).inputs["tags"].environment = "production";
            expect(only("production-table-backups-and-deletion-protection", checkRecordedStack(tagged))).to.have.length(2);
            expect(checkRecordedStack(dev, { "production-table-backups-and-deletion-protection": { productionStacks: ["dev"] } })).to.have.length(2);
        });
    });

    describe("usage-plan-throttle-and-quota", () => {
        it("fires for a plan without quota and a plan without throttle", () => {
            const broken = copy(prod);
            delete one(broken, TYPES.usagePlan, "standard").inputs["quotaSettings"];
            delete one(broken, TYPES.usagePlan, "partner").inputs["throttleSettings"];
            expect(only("usage-plan-throttle-and-quota", checkRecordedStack(broken))).to.have.members([
                "UsagePlan \"standard\" has no quota (got null): set `quotaSettings: { limit, period }` (posts-api:plans.<plan>.quota).",
                "UsagePlan \"partner\" has no throttle (got null): set `throttleSettings: { rateLimit, burstLimit }` (posts-api:plans.<plan>.throttle).",
            ]);
        });
    });

    describe("api-key-values-not-plain-outputs", () => {
        it("fires when the apiKey output is not secret", () => {
            const broken = copy(dev);
            broken.secretOutputs = broken.secretOutputs.filter((name) => name !== "apiKey");
            expect(only("api-key-values-not-plain-outputs", checkRecordedStack(broken))).to.deep.equal([
                "Stack output \"apiKey\" holds an API key value but is not a secret: export it as `pulumi.secret(...)` (and never `pulumi.unsecret` a key value).",
            ]);
        });

        it("fires for a plain output holding a key value under another name, or named like a key", () => {
            const broken = copy(prod);
            const value = one(broken, TYPES.apiKey, "partner").state["value"];
            broken.outputs["partnerAccess"] = { url: broken.outputs["url"], token: value };
            broken.outputs["legacyApiKey"] = "";
            const messages = only("api-key-values-not-plain-outputs", checkRecordedStack(broken));
            expect(messages).to.deep.equal([
                "Stack output \"partnerAccess\" holds an API key value but is not a secret: export it as `pulumi.secret(...)` (and never `pulumi.unsecret` a key value).",
                "Stack output \"legacyApiKey\" is named like an API key but is not a secret: export it as `pulumi.secret(...)` (and never `pulumi.unsecret` a key value).",
            ]);
        });

        it("lets key ids be plain (apiKeyIds), but not a key value under an id-like name", () => {
            expect(rulesFired(checkRecordedStack(prod))).not.to.include("api-key-values-not-plain-outputs");
            expect(prod.outputs["apiKeyIds"]).to.be.an("object");
            const broken = copy(prod);
            broken.outputs["apiKeyIds"] = { partner: [one(broken, TYPES.apiKey, "partner").state["value"]] };
            expect(only("api-key-values-not-plain-outputs", checkRecordedStack(broken))).to.deep.equal([
                "Stack output \"apiKeyIds\" holds an API key value but is not a secret: export it as `pulumi.secret(...)` (and never `pulumi.unsecret` a key value).",
            ]);
        });
    });

    describe("api-stage-json-access-log", () => {
        const stageOf = (program: RecordedProgram) => one(program, TYPES.stage);

        it("fires when a stage writes no access log", () => {
            const broken = copy(dev);
            setProp(stageOf(broken), "accessLogSettings", undefined);
            const findings = checkRecordedStack(broken);
            expect(only("api-stage-json-access-log", findings)).to.deep.equal([
                "Stage \"posts-api\" writes no access log, so who called and what they got cannot be answered: set `accessLogSettings: { destinationArn: <log group ARN>, format: <JSON> }` (api/postsApi.ts, api/accessLog.ts).",
            ]);
            expect(findings[0]!.enforcementLevel).to.equal("mandatory");
            expect(findings[0]!.urn).to.equal(stageOf(broken).urn);
        });

        it("checks the format in a preview where the destination is not known yet (reading it throws, as CrossGuard's unknowns do)", () => {
            const check = (format: string) => stageAccessLog.check({
                type: TYPES.stage, name: "posts-api", urn: "urn", props: {
                    accessLogSettings: Object.defineProperty({ format }, "destinationArn", {
                        enumerable: true,
                        get: () => {
                            throw new Error("unknown during preview");
                        },
                    }),
                },
            } as never, {});
            expect(check(ACCESS_LOG_FORMAT)).to.deep.equal([]);
            expect(check("$context.requestId")[0]).to.match(/access log format is not JSON/);
        });

        it("fires for a format that is not JSON (API Gateway's CLF example) and for a missing destination", () => {
            const broken = copy(prod);
            setProp(stageOf(broken), "accessLogSettings", {
                format: "$context.identity.sourceIp $context.identity.caller $context.identity.user [$context.requestTime] \"$context.httpMethod $context.resourcePath $context.protocol\" $context.status $context.responseLength $context.requestId",
            });
            const messages = only("api-stage-json-access-log", checkRecordedStack(broken));
            expect(messages).to.have.length(2);
            expect(messages[1]).to.equal("Stage \"posts-api\" has accessLogSettings without a destinationArn: set it to the ARN of the log group (or Firehose stream) the access log goes to.");
            expect(messages[0]).to.match(/^Stage "posts-api" access log format is not JSON \("\$context\.identity\.sourceIp .*\.\.\."\), so Logs Insights cannot query its fields: use a JSON object with one field per `\$context` variable, each value quoted \(api\/accessLog\.ts ACCESS_LOG_FORMAT\)\.$/);
        });

        it("fires for a JSON format without the API key id and the status (an integration's status is not the caller's)", () => {
            const broken = copy(dev);
            const settings = stageOf(broken).inputs["accessLogSettings"];
            setProp(stageOf(broken), "accessLogSettings", {
                destinationArn: settings.destinationArn,
                format: JSON.stringify({ requestId: "$context.requestId", ip: "$context.identity.sourceIp", integrationStatus: "$context.integration.status" }),
            });
            expect(only("api-stage-json-access-log", checkRecordedStack(broken))).to.deep.equal([
                "Stage \"posts-api\" access log format lacks $context.identity.apiKeyId (which API key called), $context.status (what status it got): add \"apiKeyId\": \"$context.identity.apiKeyId\", \"status\": \"$context.status\".",
            ]);
        });

        it("fires for a variable left unquoted (the line would not be JSON) and for a JSON array", () => {
            const broken = copy(dev);
            const stage = stageOf(broken);
            const destinationArn = stage.inputs["accessLogSettings"].destinationArn;
            setProp(stage, "accessLogSettings", { destinationArn, format: "{\"requestId\":\"$context.requestId\",\"apiKeyId\":\"$context.identity.apiKeyId\",\"status\":$context.status}" });
            expect(only("api-stage-json-access-log", checkRecordedStack(broken))[0]).to.match(/access log format is not JSON/);
            setProp(stage, "accessLogSettings", { destinationArn, format: JSON.stringify(["$context.requestId", "$context.identity.apiKeyId", "$context.status"]) });
            expect(only("api-stage-json-access-log", checkRecordedStack(broken))[0]).to.match(/access log format is JSON but not an object/);
        });

        it("accepts any JSON object carrying the three, at any depth", () => {
            const fine = copy(dev);
            const stage = stageOf(fine);
            setProp(stage, "accessLogSettings", {
                destinationArn: stage.inputs["accessLogSettings"].destinationArn,
                format: JSON.stringify({ request: { id: "$context.requestId" }, caller: "key $context.identity.apiKeyId", answer: { status: "$context.status" } }),
            });
            expect(checkRecordedStack(fine)).to.deep.equal([]);
        });
    });

    describe("production-error-alarms", () => {
        it("fires on prod without alarms (posts-api:alarms enabled: false), for the API and naming every function", () => {
            const broken = withoutAlarms(prod);
            const findings = checkRecordedStack(broken);
            const messages = only("production-error-alarms", findings);
            expect(findings.every((f) => f.enforcementLevel === "mandatory")).to.equal(true);
            expect(messages).to.have.length(2);
            expect(messages[0]).to.equal("Stack \"prod\" is production, but RestApi \"posts-api\" has no CloudWatch alarm that notifies anyone on its 5XX errors " +
                "(metric 5XXError, namespace AWS/ApiGateway, ApiName \"posts-api-prod\"; no alarm): nobody hears when the API fails its callers. " +
                "Set posts-api:alarms.enabled: true on this stack with someone to tell: an on-call address (`pulumi config set --path 'alarms.emails[0]' oncall@your-company.com`), " +
                "or posts-api:alarms.topicArns, an existing SNS topic that pages your on-call (monitoring/monitoring.ts); or an aws.cloudwatch.MetricAlarm whose `alarmActions` reach a subscribed topic.");
            expect(findings[0]!.urn).to.equal(one(broken, TYPES.restApi).urn);
            expect(messages[1]).to.match(/^Stack "prod" is production, but 6 of 6 Lambda functions have no CloudWatch alarm that notifies anyone on their Errors \(namespace AWS\/Lambda, dimension FunctionName naming the function\): /);
            for (const route of ROUTES) {
                const physical = one(broken, TYPES.function, route).state["name"];
                expect(messages[1], route).to.include(`${route} ("${physical}": no alarm)`);
            }
            // Several functions: the message lists them, no single resource is at fault.
            expect(findings[1]!.urn).to.equal(undefined);
        });

        it("fires on prod as shipped: its alarms publish to a topic nobody subscribed to, and the message says what to set", () => {
            const findings = checkRecordedStack(prodAsShipped);
            const messages = only("production-error-alarms", findings);
            expect(findings.map((f) => f.enforcementLevel)).to.deep.equal(["mandatory", "mandatory"]);
            expect(ofType(prodAsShipped, MORE_TYPES.topicSubscription)).to.have.length(0);
            expect(messages[0]).to.include("(metric 5XXError, namespace AWS/ApiGateway, ApiName \"posts-api-prod\"; " +
                "MetricAlarm \"monitoring-api-5xx-rate\" notifies only Topic \"monitoring-alarms\", which nobody subscribed to)");
            expect(messages[0]).to.include("pulumi config set --path 'alarms.emails[0]' oncall@your-company.com");
            expect(messages[0]).to.include("posts-api:alarms.topicArns");
            expect(messages[1]).to.include("6 of 6 Lambda functions");
            expect(messages[1]).to.include(`getPost ("${one(prodAsShipped, TYPES.function, "getPost").state["name"]}": MetricAlarm "monitoring-getPost-errors" notifies only Topic "monitoring-alarms", which nobody subscribed to)`);
        });

        it("counts a subscription of the alarms' own topic, not one of another topic, nor a machine action", () => {
            const other = copy(prodAsShipped);
            const topic = addResource(other, MORE_TYPES.snsTopic, "elsewhere", { name: "elsewhere" });
            setProp(topic, "arn", "arn:aws:sns:us-east-1:123456789012:elsewhere");
            addResource(other, MORE_TYPES.topicSubscription, "elsewhere-sms", { topic: topic.state["arn"], protocol: "sms", endpoint: "+15550100" });
            expect(only("production-error-alarms", checkRecordedStack(other))).to.have.length(2);
            // An EC2 action acts on a machine: it pages nobody.
            const machine = copy(prodAsShipped);
            setProp(one(machine, MORE_TYPES.metricAlarm, "monitoring-api-5xx-rate"), "alarmActions", ["arn:aws:automate:us-east-1:ec2:reboot"]);
            expect(only("production-error-alarms", checkRecordedStack(machine))[0]).to.include(
                "MetricAlarm \"monitoring-api-5xx-rate\" has no action that reaches a person (only arn:aws:automate:us-east-1:ec2:reboot: an SNS topic or an Incident Manager response plan would)");
            const own = copy(prodAsShipped);
            addResource(own, MORE_TYPES.topicSubscription, "pager", { topic: one(own, MORE_TYPES.snsTopic).state["arn"], protocol: "https", endpoint: "https://pager.example.com/hook" });
            expect(checkRecordedStack(own)).to.deep.equal([]);
        });

        it("counts a topic ARN from outside the stack (posts-api:alarms.topicArns pages elsewhere), set on every alarm that pages", async function () {
            this.timeout(120_000);
            const oncall = "arn:aws:sns:us-east-1:123456789012:oncall";
            const paged = await programWith({ stack: "prod", config: { "posts-api:alarms": { enabled: true, topicArns: [oncall] } } });
            expect(ofType(paged, MORE_TYPES.topicSubscription)).to.have.length(0);
            expect(checkRecordedStack(paged)).to.deep.equal([]);
            const paging = ofType(paged, MORE_TYPES.metricAlarm).filter((a) => a.state["alarmActions"].length > 0);
            expect(paging.length).to.be.greaterThan(ROUTES.length);
            for (const alarm of paging) {
                expect(alarm.state["alarmActions"], alarm.name).to.deep.equal([one(paged, MORE_TYPES.snsTopic).state["arn"], oncall]);
            }
        });

        it("fires for an alarm without an action, with actions switched off, or on a stale function name", () => {
            const broken = copy(prod);
            const alarm = (key: string) => one(broken, MORE_TYPES.metricAlarm, `monitoring-${key}`);
            setProp(alarm("getPost-errors"), "alarmActions", []);
            setProp(alarm("api-5xx-rate"), "actionsEnabled", false);
            setProp(alarm("listPosts-errors"), "dimensions", { FunctionName: "listPosts-old" });
            const messages = only("production-error-alarms", checkRecordedStack(broken));
            expect(messages).to.have.length(2);
            expect(messages[0]).to.include("(metric 5XXError, namespace AWS/ApiGateway, ApiName \"posts-api-prod\"; MetricAlarm \"monitoring-api-5xx-rate\" has no alarm action (empty `alarmActions` or `actionsEnabled: false`))");
            expect(messages[1]).to.include("2 of 6 Lambda functions");
            expect(messages[1]).to.include(`getPost ("${one(broken, TYPES.function, "getPost").state["name"]}": MetricAlarm "monitoring-getPost-errors" has no alarm action`);
            expect(messages[1]).to.include(`listPosts ("${one(broken, TYPES.function, "listPosts").state["name"]}": no alarm)`);
        });

        it("points at the function when it is the only one, and ignores other metrics of it", () => {
            const broken = copy(prod);
            broken.resources = broken.resources.filter((r) => r.name !== "monitoring-deletePost-errors");
            const findings = checkRecordedStack(broken);
            expect(only("production-error-alarms", findings)[0]).to.match(/but 1 of 6 Lambda functions have no CloudWatch alarm .*: deletePost \("deletePost-\w+": no alarm\)/);
            // monitoring-deletePost-throttles still watches the function, but not its Errors.
            expect(findings[0]!.urn).to.equal(one(broken, TYPES.function, "deletePost").urn);
        });

        it("counts an alarm on metric math (metricQueries) and one on the API without a Stage dimension", () => {
            const fine = copy(prod);
            const apiAlarm = one(fine, MORE_TYPES.metricAlarm, "monitoring-api-5xx-rate");
            for (const key of ["namespace", "metricName", "dimensions", "statistic", "period"]) {
                setProp(apiAlarm, key, undefined);
            }
            setProp(apiAlarm, "metricQueries", [
                { id: "errors", returnData: false, metric: { namespace: "AWS/ApiGateway", metricName: "5XXError", dimensions: { ApiName: "posts-api-prod" }, stat: "Sum", period: 300 } },
                { id: "requests", returnData: false, metric: { namespace: "AWS/ApiGateway", metricName: "Count", dimensions: { ApiName: "posts-api-prod" }, stat: "Sum", period: 300 } },
                { id: "rate", expression: "errors / requests", returnData: true },
            ]);
            expect(checkRecordedStack(fine)).to.deep.equal([]);
            // ...but an alarm on another API's 5XX errors does not count.
            setProp(apiAlarm, "metricQueries", undefined);
            setProp(apiAlarm, "namespace", "AWS/ApiGateway");
            setProp(apiAlarm, "metricName", "5XXError");
            setProp(apiAlarm, "dimensions", { ApiName: "posts-api-dev" });
            expect(only("production-error-alarms", checkRecordedStack(fine))).to.have.length(1);
        });

        it("holds the prod stack to it even with posts-api:production off, and any stack listed or tagged production", () => {
            // (The downgraded prod also fails the table rule, as it should: this looks at alarms only.)
            const downgraded = checkRecordedStack(withoutAlarms(prodDowngraded), {}, [productionAlarms]);
            expect(only("production-error-alarms", downgraded)[0]).to.match(/^Stack "prod" is production, but RestApi/);
            expect(checkRecordedStack(prodDowngraded, {}, [productionAlarms, productionTracing])).to.deep.equal([]);
            // Dev as shipped has no alarms (posts-api:alarms enabled: false), and is not production.
            expect(ofType(dev, MORE_TYPES.metricAlarm)).to.have.length(0);
            expect(only("production-error-alarms", checkRecordedStack(dev, { "production-error-alarms": { productionStacks: ["dev"] } }))).to.have.length(2);
            // The table's tag is the same notion as for the table rule: all three production rules follow it.
            const tagged = copy(dev);
            one(tagged, TYPES.table).inputs["tags"].environment = "production";
            one(tagged, TYPES.table).state["tags"].environment = "production";
            const findings = checkRecordedStack(tagged);
            expect(rulesFired(findings)).to.have.members(["production-table-backups-and-deletion-protection", "production-error-alarms", "production-xray-tracing"]);
            expect(findings.find((f) => f.rule === "production-error-alarms")!.message)
                .to.match(/^Stack "dev" is production \(table "posts" is tagged environment=production\), but RestApi "posts-api"/);
        });

        it("is not applicable to a stack that is not production, and says why", () => {
            const view = { resources: dev.resources.map((r) => ({ urn: r.urn, type: r.type, name: r.name, props: r.state })), outputs: {}, secretOutputs: [] };
            expect(productionAlarms.check(view, {})).to.deep.equal({
                notApplicable: "Stack \"dev\" is not production: not in productionStacks [\"prod\"] and no table tagged environment=production",
            });
        });
    });

    describe("production-xray-tracing", () => {
        it("fires, as advisory, for a prod stage without X-Ray and a function that only passes traces through", () => {
            const broken = copy(prod);
            setProp(one(broken, TYPES.stage), "xrayTracingEnabled", false);
            setProp(one(broken, TYPES.function, "createPost"), "tracingConfig", { mode: "PassThrough" });
            const findings = checkRecordedStack(broken);
            expect(only("production-xray-tracing", findings)).to.deep.equal([
                "Stack \"prod\" is production, but Stage \"posts-api\" does not trace requests with X-Ray (xrayTracingEnabled false): set posts-api:tracing: true on this stack (the stage's `xrayTracingEnabled: true`).",
                "Stack \"prod\" is production, but Function \"createPost\" does not trace actively (tracingConfig.mode \"PassThrough\"): set posts-api:tracing: true on this stack (the function's `tracingConfig: { mode: \"Active\" }`).",
            ]);
            expect(findings.map((f) => [f.enforcementLevel, f.urn])).to.deep.equal([
                ["advisory", one(broken, TYPES.stage).urn],
                ["advisory", one(broken, TYPES.function, "createPost").urn],
            ]);
        });

        it("holds a stack listed in productionStacks to it (dev traces nothing), and not dev as shipped", () => {
            expect(one(dev, TYPES.stage).state["xrayTracingEnabled"]).to.equal(false);
            const messages = only("production-xray-tracing", checkRecordedStack(dev, { "production-xray-tracing": { productionStacks: ["dev"] } }));
            expect(messages).to.have.length(1 + ROUTES.length);
            expect(messages.filter((m) => m.includes("(tracingConfig.mode \"PassThrough\")"))).to.have.length(ROUTES.length);
            const view = { resources: dev.resources.map((r) => ({ urn: r.urn, type: r.type, name: r.name, props: r.state })), outputs: {}, secretOutputs: [] };
            expect(productionTracing.check(view, {})).to.have.property("notApplicable");
        });
    });

    it("every rule has a broken variant above that makes it fire", function () {
        const titles = (this.test?.parent?.suites ?? []).map((s) => s.title);
        for (const rule of rules) {
            expect(titles, rule.name).to.include(rule.name);
        }
    });
});

describe("CrossGuard adapter (policies/guardrails/policies.ts)", () => {
    /** What CrossGuard hands validateResource, with notApplicable throwing as it does there. */
    function resourceArgs(resource: RecordedResource, config: RuleConfig = {}) {
        return {
            type: resource.type, urn: resource.urn, name: resource.name, props: resource.inputs,
            getConfig: () => config,
            notApplicable: (reason?: string) => { throw Object.assign(new Error(reason), { notApplicable: true }); },
        } as any;
    }

    function runResourcePolicies(program: RecordedProgram): { policy: string; message: string }[] {
        const reported: { policy: string; message: string }[] = [];
        for (const policy of guardrailPolicies) {
            if (!("validateResource" in policy)) {
                continue;
            }
            for (const resource of program.resources) {
                try {
                    (policy.validateResource as any)(resourceArgs(resource), (message: string) => reported.push({ policy: policy.name, message }));
                } catch (err: any) {
                    if (!err.notApplicable) {
                        throw err;
                    }
                }
            }
        }
        return reported;
    }

    it("wires every rule, with its name, description, level and config schema", () => {
        expect(guardrailPolicies.map((p) => p.name)).to.deep.equal(rules.map((r) => r.name));
        for (const [i, rule] of rules.entries()) {
            const policy = guardrailPolicies[i]!;
            expect(policy.description).to.equal(rule.description);
            expect(policy.enforcementLevel).to.equal(rule.enforcementLevel);
            expect(policy.configSchema).to.deep.equal(rule.configSchema);
            expect(rule.kind === "resource" ? "validateResource" in policy : "validateStack" in policy, rule.name).to.equal(true);
        }
    });

    it("reports nothing for the shipped stacks and exactly the rules' messages for a broken one", () => {
        expect(runResourcePolicies(dev)).to.deep.equal([]);
        expect(runResourcePolicies(prod)).to.deep.equal([]);
        const broken = copy(prod);
        one(broken, TYPES.function, "getPost").inputs["timeout"] = 60;
        delete one(broken, TYPES.usagePlan, "partner").inputs["quotaSettings"];
        const expected = checkRecordedStack(broken).map((f) => ({ policy: f.rule, message: f.message }));
        expect(expected).to.have.length(2);
        expect(runResourcePolicies(broken)).to.have.deep.members(expected);
    });

    /** What CrossGuard hands validateStack: every resource with its outputs; notApplicable throws. */
    function runStackPolicies(program: RecordedProgram, config: Record<string, RuleConfig> = {}) {
        const reported: { policy: string; message: string; urn: string | undefined }[] = [];
        const notApplicable: string[] = [];
        for (const policy of guardrailPolicies) {
            if (!("validateStack" in policy)) {
                continue;
            }
            const args = {
                resources: program.resources.map((r) => ({ urn: r.urn, type: r.type, name: r.name, props: r.state })),
                getConfig: () => config[policy.name] ?? {},
                notApplicable: (reason?: string) => { throw Object.assign(new Error(reason), { notApplicable: true }); },
            };
            try {
                (policy.validateStack as any)(args, (message: string, urn?: string) => reported.push({ policy: policy.name, message, urn }));
            } catch (err: any) {
                if (!err.notApplicable) {
                    throw err;
                }
                notApplicable.push(policy.name);
            }
        }
        return { reported, notApplicable };
    }

    it("runs the stack rules over the resources' outputs: nothing for the shipped stacks, the rules' findings for a broken one", () => {
        const production = ["production-error-alarms", "production-xray-tracing"];
        const devRun = runStackPolicies(dev);
        expect(devRun.reported).to.deep.equal([]);
        expect(devRun.notApplicable).to.have.members(["api-key-values-not-plain-outputs", ...production]);
        const prodRun = runStackPolicies(prod);
        expect(prodRun.reported).to.deep.equal([]);
        expect(prodRun.notApplicable).to.deep.equal(["api-key-values-not-plain-outputs"]);

        const broken = withoutAlarms(prod);
        setProp(one(broken, TYPES.function, "getPost"), "tracingConfig", { mode: "PassThrough" });
        const expected = checkRecordedStack(broken).map((f) => ({ policy: f.rule, message: f.message, urn: f.urn }));
        expect(expected.map((f) => f.policy)).to.deep.equal(["production-error-alarms", "production-error-alarms", "production-xray-tracing"]);
        expect(runStackPolicies(broken).reported).to.have.deep.members(expected);
        // Settings reach stack rules too: dev held to production.
        const devAsProduction = Object.fromEntries(production.map((name) => [name, { productionStacks: ["dev"] }]));
        expect(runStackPolicies(dev, devAsProduction).reported.map((r) => r.policy)).to.have.members([
            "production-error-alarms", "production-error-alarms", ...Array(1 + ROUTES.length).fill("production-xray-tracing"),
        ]);
    });

    it("passes --policy-pack-config settings to the rule", () => {
        const policy = guardrailPolicies.find((p) => p.name === "lambda-timeout-within-gateway-limit") as any;
        const reported: string[] = [];
        policy.validateResource(resourceArgs(one(dev, TYPES.function, "getPost"), { maxTimeoutSeconds: 5 }), (m: string) => reported.push(m));
        expect(reported).to.have.length(1);
    });

    it("marks the secret-output rule not applicable, saying why and where it is enforced instead", () => {
        const policy = guardrailPolicies.find((p) => p.name === "api-key-values-not-plain-outputs") as any;
        const args = {
            resources: dev.resources.map((r) => ({ urn: r.urn, type: r.type, name: r.name, props: r.state })),
            getConfig: () => ({}),
            notApplicable: (reason: string) => { throw new Error(`not applicable: ${reason}`); },
        };
        expect(() => policy.validateStack(args, () => undefined)).to.throw(`not applicable: ${CROSSGUARD_CANNOT_SEE_SECRETS}`);
    });

    it("has an example config that names only real policies and valid levels", () => {
        const config = JSON.parse(fs.readFileSync(path.join(PACK_DIR, "config.example.json"), "utf8"));
        const levels = ["advisory", "mandatory", "disabled", "remediate"];
        for (const [name, value] of Object.entries<any>(config)) {
            if (name !== "all") {
                expect(guardrailPolicies.map((p) => p.name), name).to.include(name);
            }
            const level = typeof value === "string" ? value : value.enforcementLevel;
            expect(levels, name).to.include(level);
            const settings = typeof value === "string" ? [] : Object.keys(value).filter((k) => k !== "enforcementLevel");
            const schema = guardrailPolicies.find((p) => p.name === name)?.configSchema?.properties ?? {};
            expect(Object.keys(schema), name).to.include.members(settings);
        }
        // One notion of production: CrossGuard hands each policy only its own settings, so every
        // rule that takes productionStacks is given the same list.
        const productionRules = rules.filter((r) => r.configSchema?.properties["productionStacks"] !== undefined).map((r) => r.name);
        expect(productionRules).to.have.members(["production-table-backups-and-deletion-protection", "production-error-alarms", "production-xray-tracing"]);
        for (const name of productionRules) {
            expect(config[name]?.productionStacks, name).to.deep.equal(config["production-table-backups-and-deletion-protection"].productionStacks);
        }
    });
});

describe("CrossGuard pack, started the way `pulumi preview --policy-pack policies/guardrails` starts it", function () {
    // Pulumi's Node.js language host resolves @pulumi/pulumi/cmd/run-policy-pack from the pack's
    // directory and runs it there (ts-node, type-checked); the pack then serves the analyzer gRPC
    // API on the port it prints. The calls below are the ones the engine makes.
    this.timeout(180_000);
    const grpc = require("@grpc/grpc-js");
    const analyzerPb = require("@pulumi/pulumi/proto/analyzer_pb");
    const analyzerGrpc = require("@pulumi/pulumi/proto/analyzer_grpc_pb");
    const { Struct } = require("google-protobuf/google/protobuf/struct_pb");
    const { Empty } = require("google-protobuf/google/protobuf/empty_pb");
    let pack: childProcess.ChildProcess;
    let client: any;
    let stderr = "";

    const call = (method: string, request: unknown): Promise<any> =>
        new Promise((resolve, reject) => client[method](request, (err: unknown, res: unknown) => (err ? reject(err) : resolve(res))));

    function analyzeRequest(resource: RecordedResource) {
        const props = JSON.parse(JSON.stringify(resource.inputs, (key, value) => (key === "code" ? undefined : value)));
        return new analyzerPb.AnalyzeRequest()
            .setType(resource.type).setUrn(resource.urn).setName(resource.name)
            .setProperties(Struct.fromJavaScript(props))
            .setOptions(new analyzerPb.AnalyzerResourceOptions());
    }

    /**
     * The whole stack as the engine hands it to analyzeStack: every resource with its outputs, and
     * the Stack's; `dependencies` (URN -> property -> URNs) are the resources' propertyDependencies.
     */
    function analyzeStackRequest(program: RecordedProgram, dependencies: Record<string, Record<string, string[]>> = {}) {
        const plain = (value: unknown) => JSON.parse(JSON.stringify(value, (key, v) => (key === "code" ? undefined : v)));
        const resource = (type: string, urn: string, name: string, props: unknown) => {
            const analyzed = new analyzerPb.AnalyzerResource()
                .setType(type).setUrn(urn).setName(name).setProperties(Struct.fromJavaScript(plain(props)))
                .setOptions(new analyzerPb.AnalyzerResourceOptions());
            for (const [property, urns] of Object.entries(dependencies[urn] ?? {})) {
                analyzed.getPropertydependenciesMap().set(property, new analyzerPb.AnalyzerPropertyDependencies().setUrnsList(urns));
            }
            return analyzed;
        };
        return new analyzerPb.AnalyzeStackRequest().setResourcesList([
            resource("pulumi:pulumi:Stack", `urn:pulumi:${program.stack}::posts-api::pulumi:pulumi:Stack::posts-api-${program.stack}`, `posts-api-${program.stack}`, program.outputs),
            ...program.resources.map((r) => resource(r.type, r.urn, r.name, r.state)),
        ]);
    }

    // How the engine sends a value it does not know yet (@pulumi/pulumi runtime/rpc unknownValue).
    const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

    /**
     * A first preview of `program`: the topic's ARN is not known yet, so neither is any value made
     * from it (the alarms' actions, the subscriptions' topic), but the engine still sends which
     * resource each of those properties comes from.
     */
    function firstPreview(program: RecordedProgram): { preview: RecordedProgram; dependencies: Record<string, Record<string, string[]>> } {
        const preview = copy(program);
        const topic = one(preview, MORE_TYPES.snsTopic);
        const dependencies: Record<string, Record<string, string[]>> = {};
        topic.state["arn"] = UNKNOWN;
        for (const alarm of ofType(preview, MORE_TYPES.metricAlarm)) {
            alarm.state["arn"] = UNKNOWN;
            if (alarm.state["alarmActions"].length > 0) {
                alarm.state["alarmActions"] = [UNKNOWN];
                alarm.state["okActions"] = [UNKNOWN];
                dependencies[alarm.urn] = { alarmActions: [topic.urn], okActions: [topic.urn] };
            }
        }
        for (const subscription of ofType(preview, MORE_TYPES.topicSubscription)) {
            subscription.state["topic"] = UNKNOWN;
            dependencies[subscription.urn] = { topic: [topic.urn] };
        }
        return { preview, dependencies };
    }

    /** Diagnostics with the resource each names (stack rules may name none: ""). */
    const stackDiagnostics = (response: any) => response.getDiagnosticsList().map((d: any) => ({
        policy: d.getPolicyname(), message: d.getMessage(), urn: d.getUrn(),
        level: Object.keys(analyzerPb.EnforcementLevel).find((k) => analyzerPb.EnforcementLevel[k] === d.getEnforcementlevel()),
    }));

    const diagnostics = (response: any) => response.getDiagnosticsList().map((d: any) => ({
        policy: d.getPolicyname(), message: d.getMessage(),
        level: Object.keys(analyzerPb.EnforcementLevel).find((k) => analyzerPb.EnforcementLevel[k] === d.getEnforcementlevel()),
    }));

    before(async () => {
        const runner = require.resolve("@pulumi/pulumi/cmd/run-policy-pack", { paths: [PACK_DIR] });
        pack = childProcess.spawn(process.execPath, [runner, "127.0.0.1:0", "."], { cwd: PACK_DIR, stdio: ["ignore", "pipe", "pipe"] });
        pack.stderr!.on("data", (chunk) => { stderr += String(chunk); });
        const port = await new Promise<string>((resolve, reject) => {
            pack.stdout!.on("data", (chunk) => {
                const match = /^(\d+)\s*$/m.exec(String(chunk));
                if (match) {
                    resolve(match[1]!);
                }
            });
            pack.on("exit", (code) => reject(new Error(`policy pack exited with ${code}: ${stderr}`)));
        });
        client = new analyzerGrpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    });

    after(() => {
        client?.close();
        pack?.kill();
    });

    it("announces the pack and every rule as a policy with its enforcement level", async () => {
        const info = await call("getAnalyzerInfo", new Empty());
        expect(info.getName()).to.equal("posts-api-guardrails");
        const policies = info.getPoliciesList().map((p: any) => [p.getName(), p.getEnforcementlevel()]);
        expect(policies).to.deep.equal(rules.map((r) => [r.name, analyzerPb.EnforcementLevel[r.enforcementLevel.toUpperCase()]]));
    });

    it("passes the shipped resources and blocks a broken one with the rule's message", async () => {
        for (const resource of [...dev.resources, ...prod.resources].filter((r) => r.custom)) {
            expect(diagnostics(await call("analyze", analyzeRequest(resource))), resource.urn).to.deep.equal([]);
        }
        const broken = copy(dev);
        const swagger = swaggerOfCopy(broken);
        delete swagger.doc.paths["/posts"].post.security;
        swagger.save();
        const found = diagnostics(await call("analyze", analyzeRequest(one(broken, TYPES.restApi))));
        expect(found).to.have.length(1);
        expect(found[0]).to.deep.include({ policy: "api-methods-require-api-key", level: "MANDATORY" });
        expect(found[0].message).to.match(/POST \/posts can be called without an API key: add `security/);
    });

    it("blocks a stage whose JSON access log lacks the caller and status, before the stage is created (a resource rule)", async () => {
        const broken = copy(prod);
        const stage = one(broken, TYPES.stage);
        stage.inputs["accessLogSettings"].format = JSON.stringify({ requestId: "$context.requestId" });
        const found = diagnostics(await call("analyze", analyzeRequest(stage)));
        expect(found).to.deep.equal([{
            policy: "api-stage-json-access-log", level: "MANDATORY",
            message: `${stageAccessLog.description}\n${checkRecordedStack(broken)[0]!.message}`,
        }]);
        expect(found[0].message).to.include("lacks $context.identity.apiKeyId (which API key called), $context.status (what status it got)");
    });

    it("applies enforcement levels and settings from --policy-pack-config", async () => {
        const config = new analyzerPb.ConfigureAnalyzerRequest();
        const set = (name: string, level: string, properties: Record<string, unknown> = {}) => config.getPolicyconfigMap().set(name,
            new analyzerPb.PolicyConfig().setEnforcementlevel(analyzerPb.EnforcementLevel[level]).setProperties(Struct.fromJavaScript(properties)));
        set("log-group-retention", "MANDATORY");
        set("lambda-timeout-within-gateway-limit", "ADVISORY", { maxTimeoutSeconds: 5 });
        await call("configure", config);

        const broken = copy(dev);
        delete one(broken, TYPES.logGroup, "getPost").inputs["retentionInDays"];
        expect(diagnostics(await call("analyze", analyzeRequest(one(broken, TYPES.logGroup, "getPost")))))
            // The engine shows the policy's description above the rule's message.
            .to.deep.equal([{ policy: "log-group-retention", level: "MANDATORY", message: `${logGroupRetention.description}\n${checkRecordedStack(broken)[0]!.message}` }]);
        const timeout = diagnostics(await call("analyze", analyzeRequest(one(dev, TYPES.function, "getPost"))));
        expect(timeout).to.have.length(1);
        expect(timeout[0]).to.deep.include({ policy: "lambda-timeout-within-gateway-limit", level: "ADVISORY" });
        expect(timeout[0].message).to.match(/API Gateway stops waiting after 5 s/);
    });

    it("reports the secret-output rule as not applicable in a stack analysis", async () => {
        const request = new analyzerPb.AnalyzeStackRequest().setResourcesList([
            new analyzerPb.AnalyzerResource().setType("pulumi:pulumi:Stack").setUrn("urn:pulumi:dev::posts-api::pulumi:pulumi:Stack::posts-api-dev")
                .setName("posts-api-dev").setProperties(Struct.fromJavaScript({ url: dev.outputs["url"], apiKey: dev.outputs["apiKey"] }))
                .setOptions(new analyzerPb.AnalyzerResourceOptions()),
        ]);
        const response = await call("analyzeStack", request);
        expect(diagnostics(response)).to.deep.equal([]);
        const notApplicable = response.getNotApplicableList().map((n: any) => [n.getPolicyName(), n.getReason()]);
        expect(notApplicable).to.deep.include(["api-key-values-not-plain-outputs", CROSSGUARD_CANNOT_SEE_SECRETS]);
    });

    it("runs the production stack rules over the whole stack: dev and a paged prod pass, a broken prod is reported with levels and resources", async () => {
        for (const program of [dev, prod]) {
            expect(stackDiagnostics(await call("analyzeStack", analyzeStackRequest(program))), program.stack).to.deep.equal([]);
        }
        const devResponse = await call("analyzeStack", analyzeStackRequest(dev));
        const notApplicable = devResponse.getNotApplicableList().map((n: any) => n.getPolicyName());
        expect(notApplicable).to.include.members(["production-error-alarms", "production-xray-tracing"]);

        const broken = withoutAlarms(prod);
        setProp(one(broken, TYPES.stage), "xrayTracingEnabled", false);
        const descriptions: Record<string, string> = { [productionAlarms.name]: productionAlarms.description, [productionTracing.name]: productionTracing.description };
        const expected = checkRecordedStack(broken).map((f) => ({
            policy: f.rule, level: f.enforcementLevel.toUpperCase(), urn: f.urn ?? "", message: `${descriptions[f.rule]}\n${f.message}`,
        }));
        expect(expected.map((f) => [f.policy, f.level])).to.deep.equal([
            ["production-error-alarms", "MANDATORY"], ["production-error-alarms", "MANDATORY"], ["production-xray-tracing", "ADVISORY"],
        ]);
        expect(stackDiagnostics(await call("analyzeStack", analyzeStackRequest(broken)))).to.have.deep.members(expected);
    });

    it("judges the alarms of a new stack's preview, whose topic ARN is not known yet", async () => {
        const { preview, dependencies } = firstPreview(prod);
        expect(ofType(preview, MORE_TYPES.topicSubscription)).to.have.length(1);
        expect(stackDiagnostics(await call("analyzeStack", analyzeStackRequest(preview, dependencies)))).to.deep.equal([]);
        const withoutOne = copy(preview);
        withoutOne.resources = withoutOne.resources.filter((r) => r.name !== "monitoring-getPost-errors");
        const found = stackDiagnostics(await call("analyzeStack", analyzeStackRequest(withoutOne, dependencies)));
        expect(found).to.have.length(1);
        expect(found[0]).to.deep.include({ policy: "production-error-alarms", level: "MANDATORY", urn: one(withoutOne, TYPES.function, "getPost").urn });
        expect(found[0].message).to.match(/1 of 6 Lambda functions have no CloudWatch alarm .*: getPost \("getPost-\w+": no alarm\)/);
    });

    it("blocks the first preview of prod as shipped (nobody subscribed to the alarms' topic), with no ARN known yet", async () => {
        const { preview, dependencies } = firstPreview(prodAsShipped);
        const found = stackDiagnostics(await call("analyzeStack", analyzeStackRequest(preview, dependencies)));
        expect(found.map((d: any) => [d.policy, d.level])).to.deep.equal([["production-error-alarms", "MANDATORY"], ["production-error-alarms", "MANDATORY"]]);
        expect(found[0].urn).to.equal(one(preview, TYPES.restApi).urn);
        expect(found[0].message).to.include("MetricAlarm \"monitoring-api-5xx-rate\" notifies only Topic \"monitoring-alarms\", which nobody subscribed to");
        expect(found[1].message).to.include("6 of 6 Lambda functions");
    });

    it("applies productionStacks and levels of the stack rules from --policy-pack-config", async () => {
        const config = new analyzerPb.ConfigureAnalyzerRequest();
        for (const name of ["production-error-alarms", "production-xray-tracing"]) {
            config.getPolicyconfigMap().set(name, new analyzerPb.PolicyConfig()
                .setEnforcementlevel(analyzerPb.EnforcementLevel.MANDATORY).setProperties(Struct.fromJavaScript({ productionStacks: ["dev"] })));
        }
        await call("configure", config);
        const found = stackDiagnostics(await call("analyzeStack", analyzeStackRequest(dev)));
        expect(found.filter((d: any) => d.policy === "production-error-alarms")).to.have.length(2);
        const tracing = found.filter((d: any) => d.policy === "production-xray-tracing");
        expect(tracing).to.have.length(1 + ROUTES.length);
        expect(found.every((d: any) => d.level === "MANDATORY")).to.equal(true);
        expect(tracing.map((d: any) => d.urn)).to.have.members([one(dev, TYPES.stage).urn, ...ROUTES.map((route) => one(dev, TYPES.function, route).urn)]);
    });
});
