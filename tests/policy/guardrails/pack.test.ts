// The CrossGuard pack (policies/guardrails) started the way `pulumi preview --policy-pack` starts
// it, answering the analyzer gRPC calls the engine makes about the program recorded under mocks.
import { expect } from "chai";
import * as childProcess from "node:child_process";
import { type RecordedProgram, type RecordedResource } from "local-cloud";
import { checkRecordedStack, rules } from "../../../policies/rules";
import { CROSSGUARD_CANNOT_SEE_SECRETS } from "../../../policies/rules/apiKeyOutputs";
import { logGroupRetention } from "../../../policies/rules/logRetention";
import { productionAlarms } from "../../../policies/rules/productionAlarms";
import { productionTracing } from "../../../policies/rules/productionTracing";
import { stageAccessLog } from "../../../policies/rules/stageAccessLog";
import { one, ofType, TYPES } from "../../support/program";
import {
    copy,
    guardrailPrograms,
    MORE_TYPES,
    PACK_DIR,
    ROUTES,
    setProp,
    swaggerOfCopy,
    withoutAlarms,
} from "../support";

/* eslint-disable @typescript-eslint/no-explicit-any */

let dev: RecordedProgram;
let prod: RecordedProgram;
/** Pulumi.prod.yaml exactly as shipped: alarms to a topic nobody subscribed to. */
let prodAsShipped: RecordedProgram;

// Root-level, so it runs before every suite of the run (why: guardrailPrograms in ../support).
before("record the programs the guardrail tests need", async function () {
    this.timeout(180_000);
    ({ dev, prod, prodAsShipped } = await guardrailPrograms());
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
        new Promise((resolve, reject) =>
            client[method](request, (err: unknown, res: unknown) => (err ? reject(err) : resolve(res))),
        );

    function analyzeRequest(resource: RecordedResource) {
        const props = JSON.parse(JSON.stringify(resource.inputs, (key, value) => (key === "code" ? undefined : value)));
        return new analyzerPb.AnalyzeRequest()
            .setType(resource.type)
            .setUrn(resource.urn)
            .setName(resource.name)
            .setProperties(Struct.fromJavaScript(props))
            .setOptions(new analyzerPb.AnalyzerResourceOptions());
    }

    /**
     * The whole stack as the engine hands it to analyzeStack: every resource with its outputs, and
     * the Stack's; `dependencies` (URN -> property -> URNs) are the resources' propertyDependencies.
     */
    function analyzeStackRequest(
        program: RecordedProgram,
        dependencies: Record<string, Record<string, string[]>> = {},
    ) {
        const plain = (value: unknown) =>
            JSON.parse(JSON.stringify(value, (key, v) => (key === "code" ? undefined : v)));
        const resource = (type: string, urn: string, name: string, props: unknown) => {
            const analyzed = new analyzerPb.AnalyzerResource()
                .setType(type)
                .setUrn(urn)
                .setName(name)
                .setProperties(Struct.fromJavaScript(plain(props)))
                .setOptions(new analyzerPb.AnalyzerResourceOptions());
            for (const [property, urns] of Object.entries(dependencies[urn] ?? {})) {
                analyzed
                    .getPropertydependenciesMap()
                    .set(property, new analyzerPb.AnalyzerPropertyDependencies().setUrnsList(urns));
            }
            return analyzed;
        };
        return new analyzerPb.AnalyzeStackRequest().setResourcesList([
            resource(
                "pulumi:pulumi:Stack",
                `urn:pulumi:${program.stack}::posts-api::pulumi:pulumi:Stack::posts-api-${program.stack}`,
                `posts-api-${program.stack}`,
                program.outputs,
            ),
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
    function firstPreview(program: RecordedProgram): {
        preview: RecordedProgram;
        dependencies: Record<string, Record<string, string[]>>;
    } {
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
    const stackDiagnostics = (response: any) =>
        response.getDiagnosticsList().map((d: any) => ({
            policy: d.getPolicyname(),
            message: d.getMessage(),
            urn: d.getUrn(),
            level: Object.keys(analyzerPb.EnforcementLevel).find(
                (k) => analyzerPb.EnforcementLevel[k] === d.getEnforcementlevel(),
            ),
        }));

    const diagnostics = (response: any) =>
        response.getDiagnosticsList().map((d: any) => ({
            policy: d.getPolicyname(),
            message: d.getMessage(),
            level: Object.keys(analyzerPb.EnforcementLevel).find(
                (k) => analyzerPb.EnforcementLevel[k] === d.getEnforcementlevel(),
            ),
        }));

    before(async () => {
        const runner = require.resolve("@pulumi/pulumi/cmd/run-policy-pack", { paths: [PACK_DIR] });
        pack = childProcess.spawn(process.execPath, [runner, "127.0.0.1:0", "."], {
            cwd: PACK_DIR,
            stdio: ["ignore", "pipe", "pipe"],
        });
        pack.stderr!.on("data", (chunk) => {
            stderr += String(chunk);
        });
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
        expect(policies).to.deep.equal(
            rules.map((r) => [r.name, analyzerPb.EnforcementLevel[r.enforcementLevel.toUpperCase()]]),
        );
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
        expect(found).to.deep.equal([
            {
                policy: "api-stage-json-access-log",
                level: "MANDATORY",
                message: `${stageAccessLog.description}\n${checkRecordedStack(broken)[0]!.message}`,
            },
        ]);
        expect(found[0].message).to.include(
            "lacks $context.identity.apiKeyId (which API key called), $context.status (what status it got)",
        );
    });

    it("applies enforcement levels and settings from --policy-pack-config", async () => {
        const config = new analyzerPb.ConfigureAnalyzerRequest();
        const set = (name: string, level: string, properties: Record<string, unknown> = {}) =>
            config
                .getPolicyconfigMap()
                .set(
                    name,
                    new analyzerPb.PolicyConfig()
                        .setEnforcementlevel(analyzerPb.EnforcementLevel[level])
                        .setProperties(Struct.fromJavaScript(properties)),
                );
        set("log-group-retention", "MANDATORY");
        set("lambda-timeout-within-gateway-limit", "ADVISORY", { maxTimeoutSeconds: 5 });
        await call("configure", config);

        const broken = copy(dev);
        delete one(broken, TYPES.logGroup, "getPost").inputs["retentionInDays"];
        expect(diagnostics(await call("analyze", analyzeRequest(one(broken, TYPES.logGroup, "getPost")))))
            // The engine shows the policy's description above the rule's message.
            .to.deep.equal([
                {
                    policy: "log-group-retention",
                    level: "MANDATORY",
                    message: `${logGroupRetention.description}\n${checkRecordedStack(broken)[0]!.message}`,
                },
            ]);
        const timeout = diagnostics(await call("analyze", analyzeRequest(one(dev, TYPES.function, "getPost"))));
        expect(timeout).to.have.length(1);
        expect(timeout[0]).to.deep.include({ policy: "lambda-timeout-within-gateway-limit", level: "ADVISORY" });
        expect(timeout[0].message).to.match(/API Gateway stops waiting after 5 s/);
    });

    it("reports the secret-output rule as not applicable in a stack analysis", async () => {
        const request = new analyzerPb.AnalyzeStackRequest().setResourcesList([
            new analyzerPb.AnalyzerResource()
                .setType("pulumi:pulumi:Stack")
                .setUrn("urn:pulumi:dev::posts-api::pulumi:pulumi:Stack::posts-api-dev")
                .setName("posts-api-dev")
                .setProperties(Struct.fromJavaScript({ url: dev.outputs["url"], apiKey: dev.outputs["apiKey"] }))
                .setOptions(new analyzerPb.AnalyzerResourceOptions()),
        ]);
        const response = await call("analyzeStack", request);
        expect(diagnostics(response)).to.deep.equal([]);
        const notApplicable = response.getNotApplicableList().map((n: any) => [n.getPolicyName(), n.getReason()]);
        expect(notApplicable).to.deep.include(["api-key-values-not-plain-outputs", CROSSGUARD_CANNOT_SEE_SECRETS]);
    });

    it("runs the production stack rules over the whole stack: dev and a paged prod pass, a broken prod is reported with levels and resources", async () => {
        for (const program of [dev, prod]) {
            expect(
                stackDiagnostics(await call("analyzeStack", analyzeStackRequest(program))),
                program.stack,
            ).to.deep.equal([]);
        }
        const devResponse = await call("analyzeStack", analyzeStackRequest(dev));
        const notApplicable = devResponse.getNotApplicableList().map((n: any) => n.getPolicyName());
        expect(notApplicable).to.include.members(["production-error-alarms", "production-xray-tracing"]);

        const broken = withoutAlarms(prod);
        setProp(one(broken, TYPES.stage), "xrayTracingEnabled", false);
        const descriptions: Record<string, string> = {
            [productionAlarms.name]: productionAlarms.description,
            [productionTracing.name]: productionTracing.description,
        };
        const expected = checkRecordedStack(broken).map((f) => ({
            policy: f.rule,
            level: f.enforcementLevel.toUpperCase(),
            urn: f.urn ?? "",
            message: `${descriptions[f.rule]}\n${f.message}`,
        }));
        expect(expected.map((f) => [f.policy, f.level])).to.deep.equal([
            ["production-error-alarms", "MANDATORY"],
            ["production-error-alarms", "MANDATORY"],
            ["production-xray-tracing", "ADVISORY"],
        ]);
        expect(stackDiagnostics(await call("analyzeStack", analyzeStackRequest(broken)))).to.have.deep.members(
            expected,
        );
    });

    it("judges the alarms of a new stack's preview, whose topic ARN is not known yet", async () => {
        const { preview, dependencies } = firstPreview(prod);
        expect(ofType(preview, MORE_TYPES.topicSubscription)).to.have.length(1);
        expect(stackDiagnostics(await call("analyzeStack", analyzeStackRequest(preview, dependencies)))).to.deep.equal(
            [],
        );
        const withoutOne = copy(preview);
        withoutOne.resources = withoutOne.resources.filter((r) => r.name !== "monitoring-getPost-errors");
        const found = stackDiagnostics(await call("analyzeStack", analyzeStackRequest(withoutOne, dependencies)));
        expect(found).to.have.length(1);
        expect(found[0]).to.deep.include({
            policy: "production-error-alarms",
            level: "MANDATORY",
            urn: one(withoutOne, TYPES.function, "getPost").urn,
        });
        expect(found[0].message).to.match(
            /1 of 6 Lambda functions have no CloudWatch alarm .*: getPost \("getPost-\w+": no alarm\)/,
        );
    });

    it("blocks the first preview of prod as shipped (nobody subscribed to the alarms' topic), with no ARN known yet", async () => {
        const { preview, dependencies } = firstPreview(prodAsShipped);
        const found = stackDiagnostics(await call("analyzeStack", analyzeStackRequest(preview, dependencies)));
        expect(found.map((d: any) => [d.policy, d.level])).to.deep.equal([
            ["production-error-alarms", "MANDATORY"],
            ["production-error-alarms", "MANDATORY"],
        ]);
        expect(found[0].urn).to.equal(one(preview, TYPES.restApi).urn);
        expect(found[0].message).to.include(
            'MetricAlarm "monitoring-api-5xx-rate" notifies only Topic "monitoring-alarms", which nobody subscribed to',
        );
        expect(found[1].message).to.include("6 of 6 Lambda functions");
    });

    it("applies productionStacks and levels of the stack rules from --policy-pack-config", async () => {
        const config = new analyzerPb.ConfigureAnalyzerRequest();
        for (const name of ["production-error-alarms", "production-xray-tracing"]) {
            config
                .getPolicyconfigMap()
                .set(
                    name,
                    new analyzerPb.PolicyConfig()
                        .setEnforcementlevel(analyzerPb.EnforcementLevel.MANDATORY)
                        .setProperties(Struct.fromJavaScript({ productionStacks: ["dev"] })),
                );
        }
        await call("configure", config);
        const found = stackDiagnostics(await call("analyzeStack", analyzeStackRequest(dev)));
        expect(found.filter((d: any) => d.policy === "production-error-alarms")).to.have.length(2);
        const tracing = found.filter((d: any) => d.policy === "production-xray-tracing");
        expect(tracing).to.have.length(1 + ROUTES.length);
        expect(found.every((d: any) => d.level === "MANDATORY")).to.equal(true);
        expect(tracing.map((d: any) => d.urn)).to.have.members([
            one(dev, TYPES.stage).urn,
            ...ROUTES.map((route) => one(dev, TYPES.function, route).urn),
        ]);
    });
});
