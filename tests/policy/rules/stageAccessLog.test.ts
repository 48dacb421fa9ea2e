// The api-stage-json-access-log guardrail (policies/rules/stageAccessLog.ts) over the program recorded
// under mocks: it fires, with a message that says what to fix, on a deliberately broken variant.
import { expect } from "chai";
import { type RecordedProgram } from "local-cloud";
import { checkRecordedStack } from "../../../policies/rules";
import { stageAccessLog } from "../../../policies/rules/stageAccessLog";
import { ACCESS_LOG_FORMAT } from "../../../api/accessLog";
import { one, TYPES } from "../../support/program";
import { copy, guardrailPrograms, only, setProp } from "../support";

let dev: RecordedProgram;
let prod: RecordedProgram;

// Root-level, so it runs before every suite of the run (why: guardrailPrograms in ../support).
before("record the programs the guardrail tests need", async function () {
    this.timeout(180_000);
    ({ dev, prod } = await guardrailPrograms());
});

describe("guardrail rules (policies/rules)", () => {
    describe("api-stage-json-access-log", () => {
        const stageOf = (program: RecordedProgram) => one(program, TYPES.stage);

        it("fires when a stage writes no access log", () => {
            const broken = copy(dev);
            setProp(stageOf(broken), "accessLogSettings", undefined);
            const findings = checkRecordedStack(broken);
            expect(only("api-stage-json-access-log", findings)).to.deep.equal([
                'Stage "posts-api" writes no access log, so who called and what they got cannot be answered: set `accessLogSettings: { destinationArn: <log group ARN>, format: <JSON> }` (api/postsApi.ts, api/accessLog.ts).',
            ]);
            expect(findings[0]!.enforcementLevel).to.equal("mandatory");
            expect(findings[0]!.urn).to.equal(stageOf(broken).urn);
        });

        it("checks the format in a preview where the destination is not known yet (reading it throws, as CrossGuard's unknowns do)", () => {
            const check = (format: string) =>
                stageAccessLog.check(
                    {
                        type: TYPES.stage,
                        name: "posts-api",
                        urn: "urn",
                        props: {
                            accessLogSettings: Object.defineProperty({ format }, "destinationArn", {
                                enumerable: true,
                                get: () => {
                                    throw new Error("unknown during preview");
                                },
                            }),
                        },
                    } as never,
                    {},
                );
            expect(check(ACCESS_LOG_FORMAT)).to.deep.equal([]);
            expect(check("$context.requestId")[0]).to.match(/access log format is not JSON/);
        });

        it("fires for a format that is not JSON (API Gateway's CLF example) and for a missing destination", () => {
            const broken = copy(prod);
            setProp(stageOf(broken), "accessLogSettings", {
                format: '$context.identity.sourceIp $context.identity.caller $context.identity.user [$context.requestTime] "$context.httpMethod $context.resourcePath $context.protocol" $context.status $context.responseLength $context.requestId',
            });
            const messages = only("api-stage-json-access-log", checkRecordedStack(broken));
            expect(messages).to.have.length(2);
            expect(messages[1]).to.equal(
                'Stage "posts-api" has accessLogSettings without a destinationArn: set it to the ARN of the log group (or Firehose stream) the access log goes to.',
            );
            expect(messages[0]).to.match(
                /^Stage "posts-api" access log format is not JSON \("\$context\.identity\.sourceIp .*\.\.\."\), so Logs Insights cannot query its fields: use a JSON object with one field per `\$context` variable, each value quoted \(api\/accessLog\.ts ACCESS_LOG_FORMAT\)\.$/,
            );
        });

        it("fires for a JSON format without the API key id and the status (an integration's status is not the caller's)", () => {
            const broken = copy(dev);
            const settings = stageOf(broken).inputs["accessLogSettings"];
            setProp(stageOf(broken), "accessLogSettings", {
                destinationArn: settings.destinationArn,
                format: JSON.stringify({
                    requestId: "$context.requestId",
                    ip: "$context.identity.sourceIp",
                    integrationStatus: "$context.integration.status",
                }),
            });
            expect(only("api-stage-json-access-log", checkRecordedStack(broken))).to.deep.equal([
                'Stage "posts-api" access log format lacks $context.identity.apiKeyId (which API key called), $context.status (what status it got): add "apiKeyId": "$context.identity.apiKeyId", "status": "$context.status".',
            ]);
        });

        it("fires for a variable left unquoted (the line would not be JSON) and for a JSON array", () => {
            const broken = copy(dev);
            const stage = stageOf(broken);
            const destinationArn = stage.inputs["accessLogSettings"].destinationArn;
            setProp(stage, "accessLogSettings", {
                destinationArn,
                format: '{"requestId":"$context.requestId","apiKeyId":"$context.identity.apiKeyId","status":$context.status}',
            });
            expect(only("api-stage-json-access-log", checkRecordedStack(broken))[0]).to.match(
                /access log format is not JSON/,
            );
            setProp(stage, "accessLogSettings", {
                destinationArn,
                format: JSON.stringify(["$context.requestId", "$context.identity.apiKeyId", "$context.status"]),
            });
            expect(only("api-stage-json-access-log", checkRecordedStack(broken))[0]).to.match(
                /access log format is JSON but not an object/,
            );
        });

        it("accepts any JSON object carrying the three, at any depth", () => {
            const fine = copy(dev);
            const stage = stageOf(fine);
            setProp(stage, "accessLogSettings", {
                destinationArn: stage.inputs["accessLogSettings"].destinationArn,
                format: JSON.stringify({
                    request: { id: "$context.requestId" },
                    caller: "key $context.identity.apiKeyId",
                    answer: { status: "$context.status" },
                }),
            });
            expect(checkRecordedStack(fine)).to.deep.equal([]);
        });
    });
});
