// The api-key-values-not-plain-outputs guardrail (policies/rules/apiKeyOutputs.ts) over the program
// recorded under mocks: it fires, with a message that says what to fix, on a deliberately broken
// variant.
import { expect } from "chai";
import { type RecordedProgram } from "local-cloud";
import { checkRecordedStack } from "../../../policies/rules";
import { one, TYPES } from "../../support/program";
import { copy, guardrailPrograms, only, rulesFired } from "../support";

let dev: RecordedProgram;
let prod: RecordedProgram;

// Root-level, so it runs before every suite of the run (why: guardrailPrograms in ../support).
before("record the programs the guardrail tests need", async function () {
    this.timeout(180_000);
    ({ dev, prod } = await guardrailPrograms());
});

describe("guardrail rules (policies/rules)", () => {
    describe("api-key-values-not-plain-outputs", () => {
        it("fires when the apiKey output is not secret", () => {
            const broken = copy(dev);
            broken.secretOutputs = broken.secretOutputs.filter((name) => name !== "apiKey");
            expect(only("api-key-values-not-plain-outputs", checkRecordedStack(broken))).to.deep.equal([
                'Stack output "apiKey" holds an API key value but is not a secret: export it as `pulumi.secret(...)` (and never `pulumi.unsecret` a key value).',
            ]);
        });

        it("fires for a plain output holding a key value under another name, or named like a key", () => {
            const broken = copy(prod);
            const value = one(broken, TYPES.apiKey, "partner").state["value"];
            broken.outputs["partnerAccess"] = { url: broken.outputs["url"], token: value };
            broken.outputs["legacyApiKey"] = "";
            const messages = only("api-key-values-not-plain-outputs", checkRecordedStack(broken));
            expect(messages).to.deep.equal([
                'Stack output "partnerAccess" holds an API key value but is not a secret: export it as `pulumi.secret(...)` (and never `pulumi.unsecret` a key value).',
                'Stack output "legacyApiKey" is named like an API key but is not a secret: export it as `pulumi.secret(...)` (and never `pulumi.unsecret` a key value).',
            ]);
        });

        it("lets key ids be plain (apiKeyIds), but not a key value under an id-like name", () => {
            expect(rulesFired(checkRecordedStack(prod))).not.to.include("api-key-values-not-plain-outputs");
            expect(prod.outputs["apiKeyIds"]).to.be.an("object");
            const broken = copy(prod);
            broken.outputs["apiKeyIds"] = { partner: [one(broken, TYPES.apiKey, "partner").state["value"]] };
            expect(only("api-key-values-not-plain-outputs", checkRecordedStack(broken))).to.deep.equal([
                'Stack output "apiKeyIds" holds an API key value but is not a secret: export it as `pulumi.secret(...)` (and never `pulumi.unsecret` a key value).',
            ]);
        });
    });
});
