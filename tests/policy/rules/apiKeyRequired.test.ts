// The api-methods-require-api-key guardrail (policies/rules/apiKeyRequired.ts) over the program
// recorded under mocks: it fires, with a message that says what to fix, on a deliberately broken
// variant.
import { expect } from "chai";
import { type RecordedProgram } from "local-cloud";
import { checkRecordedStack } from "../../../policies/rules";
import { addResource, copy, guardrailPrograms, MORE_TYPES, only, swaggerOfCopy } from "../support";

let dev: RecordedProgram;
let prod: RecordedProgram;

// Root-level, so it runs before every suite of the run (why: guardrailPrograms in ../support).
before("record the programs the guardrail tests need", async function () {
    this.timeout(180_000);
    ({ dev, prod } = await guardrailPrograms());
});

describe("guardrail rules (policies/rules)", () => {
    describe("api-methods-require-api-key", () => {
        it("fires when an operation in the API's body has no security", () => {
            const broken = copy(dev);
            const swagger = swaggerOfCopy(broken);
            delete swagger.doc.paths["/posts/{id}"].get.security;
            swagger.save();
            const [message] = only("api-methods-require-api-key", checkRecordedStack(broken));
            expect(message).to.match(
                /^GET \/posts\/\{id\} can be called without an API key: add `security: \[\{"api_key": \[\]\}\]`.*apiKeyRequired: true/,
            );
        });

        it("fires when one security alternative names no API key, and for a new path without a key", () => {
            const broken = copy(dev);
            const swagger = swaggerOfCopy(broken);
            swagger.doc.paths["/posts"].post.security = [{ api_key: [] }, {}];
            swagger.doc.paths["/admin"] = { delete: { responses: {} }, options: { responses: {} } };
            swagger.save();
            const messages = only("api-methods-require-api-key", checkRecordedStack(broken));
            expect(messages).to.have.length(2);
            expect(messages[0]).to.match(
                /^POST \/posts can be called without an API key \(security alternative \{\} names no apiKey scheme/,
            );
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
            addResource(broken, MORE_TYPES.method, "report", {
                httpMethod: "GET",
                apiKeyRequired: false,
                authorization: "NONE",
            });
            addResource(broken, MORE_TYPES.method, "report-preflight", {
                httpMethod: "OPTIONS",
                authorization: "NONE",
            });
            const [message] = only("api-methods-require-api-key", checkRecordedStack(broken));
            expect(message).to.equal(
                'Method "report" (GET) can be called without an API key: set `apiKeyRequired: true`.',
            );
        });
    });
});
