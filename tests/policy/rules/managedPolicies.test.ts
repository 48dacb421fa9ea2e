// The no-broad-managed-policies guardrail (policies/rules/managedPolicies.ts) over the program
// recorded under mocks: it fires, with a message that says what to fix, on a deliberately broken
// variant.
import { expect } from "chai";
import { type RecordedProgram } from "local-cloud";
import { checkRecordedStack } from "../../../policies/rules";
import { one, TYPES } from "../../support/program";
import { addResource, copy, guardrailPrograms, MORE_TYPES, only } from "../support";

let dev: RecordedProgram;
let prod: RecordedProgram;

// Root-level, so it runs before every suite of the run (why: guardrailPrograms in ../support).
before("record the programs the guardrail tests need", async function () {
    this.timeout(180_000);
    ({ dev, prod } = await guardrailPrograms());
});

const managed = (name: string) => `arn:aws:iam::aws:policy/${name}`;

describe("guardrail rules (policies/rules)", () => {
    describe("no-broad-managed-policies", () => {
        it("fires for a RolePolicyAttachment of AmazonDynamoDBFullAccess, naming the fix", () => {
            const broken = copy(dev);
            const role = one(broken, TYPES.role, "getPost");
            addResource(broken, TYPES.rolePolicyAttachment, "getPost-dynamodb", {
                role: role.state["name"],
                policyArn: managed("AmazonDynamoDBFullAccess"),
            });
            const [message] = only("no-broad-managed-policies", checkRecordedStack(broken));
            expect(message).to.match(
                /RolePolicyAttachment "getPost-dynamodb" attaches the AWS managed policy AmazonDynamoDBFullAccess .*: remove it and grant the exact actions/,
            );
            expect(message).to.include("pass a least-privilege role (api/lambdaRole.ts)");
        });

        it("fires for AdministratorAccess in managedPolicyArns and PowerUserAccess in an exclusive attachment", () => {
            const broken = copy(prod);
            one(broken, TYPES.role, "listPosts").inputs["managedPolicyArns"] = [managed("AdministratorAccess")];
            addResource(broken, MORE_TYPES.rolePolicyAttachmentsExclusive, "ops", {
                roleName: "ops",
                policyArns: [managed("PowerUserAccess")],
            });
            const messages = only("no-broad-managed-policies", checkRecordedStack(broken));
            expect(messages).to.have.length(2);
            expect(messages[0]).to.match(/^Role "listPosts" attaches the AWS managed policy AdministratorAccess/);
            expect(messages[1]).to.match(
                /^RolePolicyAttachmentsExclusive "ops" attaches the AWS managed policy PowerUserAccess/,
            );
        });

        it("leaves read-only AWS policies and customer managed policies alone", () => {
            const fine = copy(dev);
            addResource(fine, TYPES.rolePolicyAttachment, "read", {
                role: "r",
                policyArn: managed("AmazonDynamoDBReadOnlyAccess"),
            });
            addResource(fine, TYPES.rolePolicyAttachment, "own", {
                role: "r",
                policyArn: "arn:aws:iam::123456789012:policy/TeamFullAccess",
            });
            expect(checkRecordedStack(fine)).to.deep.equal([]);
        });
    });
});
