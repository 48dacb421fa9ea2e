// The production-error-alarms guardrail (policies/rules/productionAlarms.ts) over the program recorded
// under mocks: it fires, with a message that says what to fix, on a deliberately broken variant.
import { expect } from "chai";
import { type RecordedProgram } from "local-cloud";
import { checkRecordedStack } from "../../../policies/rules";
import { productionAlarms } from "../../../policies/rules/productionAlarms";
import { productionTracing } from "../../../policies/rules/productionTracing";
import { one, ofType, programWith, TYPES } from "../../support/program";
import {
    addResource,
    copy,
    guardrailPrograms,
    MORE_TYPES,
    only,
    ROUTES,
    rulesFired,
    setProp,
    withoutAlarms,
} from "../support";

let dev: RecordedProgram;
let prod: RecordedProgram;
let prodAsShipped: RecordedProgram;
let prodDowngraded: RecordedProgram;

// Root-level, so it runs before every suite of the run (why: guardrailPrograms in ../support).
before("record the programs the guardrail tests need", async function () {
    this.timeout(180_000);
    ({ dev, prod, prodAsShipped, prodDowngraded } = await guardrailPrograms());
});

describe("guardrail rules (policies/rules)", () => {
    describe("production-error-alarms", () => {
        it("fires on prod without alarms (posts-api:alarms enabled: false), for the API and naming every function", () => {
            const broken = withoutAlarms(prod);
            const findings = checkRecordedStack(broken);
            const messages = only("production-error-alarms", findings);
            expect(findings.every((f) => f.enforcementLevel === "mandatory")).to.equal(true);
            expect(messages).to.have.length(2);
            expect(messages[0]).to.equal(
                'Stack "prod" is production, but RestApi "posts-api" has no CloudWatch alarm that notifies anyone on its 5XX errors ' +
                    '(metric 5XXError, namespace AWS/ApiGateway, ApiName "posts-api-prod"; no alarm): nobody hears when the API fails its callers. ' +
                    "Set posts-api:alarms.enabled: true on this stack with someone to tell: an on-call address (`pulumi config set --path 'alarms.emails[0]' oncall@your-company.com`), " +
                    "or posts-api:alarms.topicArns, an existing SNS topic that pages your on-call (monitoring/monitoring.ts); or an aws.cloudwatch.MetricAlarm whose `alarmActions` reach a subscribed topic.",
            );
            expect(findings[0]!.urn).to.equal(one(broken, TYPES.restApi).urn);
            expect(messages[1]).to.match(
                /^Stack "prod" is production, but 6 of 6 Lambda functions have no CloudWatch alarm that notifies anyone on their Errors \(namespace AWS\/Lambda, dimension FunctionName naming the function\): /,
            );
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
            expect(messages[0]).to.include(
                '(metric 5XXError, namespace AWS/ApiGateway, ApiName "posts-api-prod"; ' +
                    'MetricAlarm "monitoring-api-5xx-rate" notifies only Topic "monitoring-alarms", which nobody subscribed to)',
            );
            expect(messages[0]).to.include("pulumi config set --path 'alarms.emails[0]' oncall@your-company.com");
            expect(messages[0]).to.include("posts-api:alarms.topicArns");
            expect(messages[1]).to.include("6 of 6 Lambda functions");
            expect(messages[1]).to.include(
                `getPost ("${one(prodAsShipped, TYPES.function, "getPost").state["name"]}": MetricAlarm "monitoring-getPost-errors" notifies only Topic "monitoring-alarms", which nobody subscribed to)`,
            );
        });

        it("counts a subscription of the alarms' own topic, not one of another topic, nor a machine action", () => {
            const other = copy(prodAsShipped);
            const topic = addResource(other, MORE_TYPES.snsTopic, "elsewhere", { name: "elsewhere" });
            setProp(topic, "arn", "arn:aws:sns:us-east-1:123456789012:elsewhere");
            addResource(other, MORE_TYPES.topicSubscription, "elsewhere-sms", {
                topic: topic.state["arn"],
                protocol: "sms",
                endpoint: "+15550100",
            });
            expect(only("production-error-alarms", checkRecordedStack(other))).to.have.length(2);
            // An EC2 action acts on a machine: it pages nobody.
            const machine = copy(prodAsShipped);
            setProp(one(machine, MORE_TYPES.metricAlarm, "monitoring-api-5xx-rate"), "alarmActions", [
                "arn:aws:automate:us-east-1:ec2:reboot",
            ]);
            expect(only("production-error-alarms", checkRecordedStack(machine))[0]).to.include(
                'MetricAlarm "monitoring-api-5xx-rate" has no action that reaches a person (only arn:aws:automate:us-east-1:ec2:reboot: an SNS topic or an Incident Manager response plan would)',
            );
            const own = copy(prodAsShipped);
            addResource(own, MORE_TYPES.topicSubscription, "pager", {
                topic: one(own, MORE_TYPES.snsTopic).state["arn"],
                protocol: "https",
                endpoint: "https://pager.example.com/hook",
            });
            expect(checkRecordedStack(own)).to.deep.equal([]);
        });

        it("counts a topic ARN from outside the stack (posts-api:alarms.topicArns pages elsewhere), set on every alarm that pages", async function () {
            this.timeout(120_000);
            const oncall = "arn:aws:sns:us-east-1:123456789012:oncall";
            const paged = await programWith({
                stack: "prod",
                config: { "posts-api:alarms": { enabled: true, topicArns: [oncall] } },
            });
            expect(ofType(paged, MORE_TYPES.topicSubscription)).to.have.length(0);
            expect(checkRecordedStack(paged)).to.deep.equal([]);
            const paging = ofType(paged, MORE_TYPES.metricAlarm).filter((a) => a.state["alarmActions"].length > 0);
            expect(paging.length).to.be.greaterThan(ROUTES.length);
            for (const alarm of paging) {
                expect(alarm.state["alarmActions"], alarm.name).to.deep.equal([
                    one(paged, MORE_TYPES.snsTopic).state["arn"],
                    oncall,
                ]);
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
            expect(messages[0]).to.include(
                '(metric 5XXError, namespace AWS/ApiGateway, ApiName "posts-api-prod"; MetricAlarm "monitoring-api-5xx-rate" has no alarm action (empty `alarmActions` or `actionsEnabled: false`))',
            );
            expect(messages[1]).to.include("2 of 6 Lambda functions");
            expect(messages[1]).to.include(
                `getPost ("${one(broken, TYPES.function, "getPost").state["name"]}": MetricAlarm "monitoring-getPost-errors" has no alarm action`,
            );
            expect(messages[1]).to.include(
                `listPosts ("${one(broken, TYPES.function, "listPosts").state["name"]}": no alarm)`,
            );
        });

        it("points at the function when it is the only one, and ignores other metrics of it", () => {
            const broken = copy(prod);
            broken.resources = broken.resources.filter((r) => r.name !== "monitoring-deletePost-errors");
            const findings = checkRecordedStack(broken);
            expect(only("production-error-alarms", findings)[0]).to.match(
                /but 1 of 6 Lambda functions have no CloudWatch alarm .*: deletePost \("deletePost-\w+": no alarm\)/,
            );
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
                {
                    id: "errors",
                    returnData: false,
                    metric: {
                        namespace: "AWS/ApiGateway",
                        metricName: "5XXError",
                        dimensions: { ApiName: "posts-api-prod" },
                        stat: "Sum",
                        period: 300,
                    },
                },
                {
                    id: "requests",
                    returnData: false,
                    metric: {
                        namespace: "AWS/ApiGateway",
                        metricName: "Count",
                        dimensions: { ApiName: "posts-api-prod" },
                        stat: "Sum",
                        period: 300,
                    },
                },
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
            expect(
                only(
                    "production-error-alarms",
                    checkRecordedStack(dev, { "production-error-alarms": { productionStacks: ["dev"] } }),
                ),
            ).to.have.length(2);
            // The table's tag is the same notion as for the table rule: all three production rules follow it.
            const tagged = copy(dev);
            one(tagged, TYPES.table).inputs["tags"].environment = "production";
            one(tagged, TYPES.table).state["tags"].environment = "production";
            const findings = checkRecordedStack(tagged);
            expect(rulesFired(findings)).to.have.members([
                "production-table-backups-and-deletion-protection",
                "production-error-alarms",
                "production-xray-tracing",
            ]);
            expect(findings.find((f) => f.rule === "production-error-alarms")!.message).to.match(
                /^Stack "dev" is production \(table "posts" is tagged environment=production\), but RestApi "posts-api"/,
            );
        });

        it("is not applicable to a stack that is not production, and says why", () => {
            const view = {
                resources: dev.resources.map((r) => ({ urn: r.urn, type: r.type, name: r.name, props: r.state })),
                outputs: {},
                secretOutputs: [],
            };
            expect(productionAlarms.check(view, {})).to.deep.equal({
                notApplicable:
                    'Stack "dev" is not production: not in productionStacks ["prod"] and no table tagged environment=production',
            });
        });
    });
});
