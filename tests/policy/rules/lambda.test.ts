// The Lambda guardrails (policies/rules/lambda.ts: timeout and runtime) over the program recorded under
// mocks: each fires, with a message that says what to fix, on a deliberately broken variant.
import { expect } from "chai";
import { type RecordedProgram } from "local-cloud";
import { checkRecordedStack } from "../../../policies/rules";
import { one, TYPES } from "../../support/program";
import { copy, guardrailPrograms, only } from "../support";

let dev: RecordedProgram;
let prod: RecordedProgram;

// Root-level, so it runs before every suite of the run (why: guardrailPrograms in ../support).
before("record the programs the guardrail tests need", async function () {
    this.timeout(180_000);
    ({ dev, prod } = await guardrailPrograms());
});

describe("guardrail rules (policies/rules)", () => {
    describe("lambda-timeout-within-gateway-limit", () => {
        it("fires for CallbackFunction's default of 180 s", () => {
            const broken = copy(dev);
            one(broken, TYPES.function, "createPost").inputs["timeout"] = 180;
            expect(only("lambda-timeout-within-gateway-limit", checkRecordedStack(broken))).to.deep.equal([
                'Function "createPost" has timeout 180 s; API Gateway stops waiting after 29 s: set `timeout` to at most 29 (posts-api:lambdaTimeout).',
            ]);
        });

        it("takes the limit from the rule's config", () => {
            expect(
                only(
                    "lambda-timeout-within-gateway-limit",
                    checkRecordedStack(dev, { "lambda-timeout-within-gateway-limit": { maxTimeoutSeconds: 5 } }),
                ),
            ).to.have.length(6);
        });
    });

    describe("lambda-runtime-supported-node", () => {
        it("fires for a missing runtime and for an unsupported one", () => {
            const broken = copy(prod);
            delete one(broken, TYPES.function, "getPost").inputs["runtime"];
            one(broken, TYPES.function, "listPosts").inputs["runtime"] = "nodejs18.x";
            const messages = only("lambda-runtime-supported-node", checkRecordedStack(broken));
            expect(messages).to.have.length(2);
            expect(messages.find((m) => m.includes("getPost"))).to.match(
                /has no explicit runtime: set `runtime` to one of nodejs20.x, nodejs22.x, nodejs24.x/,
            );
            expect(messages.find((m) => m.includes("listPosts"))).to.match(
                /runs nodejs18.x, which is not a supported Node.js runtime here/,
            );
        });

        it("takes the allowed runtimes from the rule's config", () => {
            expect(
                only(
                    "lambda-runtime-supported-node",
                    checkRecordedStack(dev, { "lambda-runtime-supported-node": { runtimes: ["nodejs24.x"] } }),
                ),
            ).to.have.length(6);
        });
    });
});
