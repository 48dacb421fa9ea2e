// The no-wildcard-iam-actions guardrail (policies/rules/iamWildcards.ts) over the program recorded
// under mocks: it fires, with a message that says what to fix, on a deliberately broken variant.
import { expect } from "chai";
import { type RecordedProgram } from "local-cloud";
import { checkRecordedStack } from "../../../policies/rules";
import { one, ofType, TYPES } from "../../support/program";
import { addResource, copy, guardrailPrograms, MORE_TYPES, only } from "../support";

let dev: RecordedProgram;
let prod: RecordedProgram;

// Root-level, so it runs before every suite of the run (why: guardrailPrograms in ../support).
before("record the programs the guardrail tests need", async function () {
    this.timeout(180_000);
    ({ dev, prod } = await guardrailPrograms());
});

const routeRolePolicy = (program: RecordedProgram, route: string) =>
    ofType(program, TYPES.rolePolicy).find((r) => r.parent.endsWith(`posts:api:RouteFunction::${route}`))!;

describe("guardrail rules (policies/rules)", () => {
    describe("no-wildcard-iam-actions", () => {
        const withStatements = (program: RecordedProgram, route: string, statements: unknown[]) => {
            routeRolePolicy(program, route).inputs["policy"] = JSON.stringify({
                Version: "2012-10-17",
                Statement: statements,
            });
        };

        it("fires for dynamodb:* and for *", () => {
            const broken = copy(dev);
            const table = one(broken, TYPES.table).state["arn"];
            withStatements(broken, "getPost", [
                { Sid: "TableItems", Effect: "Allow", Action: "dynamodb:*", Resource: table },
            ]);
            withStatements(broken, "deletePost", [{ Effect: "Allow", Action: ["*"], Resource: table }]);
            const messages = only("no-wildcard-iam-actions", checkRecordedStack(broken));
            expect(messages).to.deep.equal([
                'RolePolicy "getPost" statement "TableItems" allows "dynamodb:*": list the exact actions the code performs (e.g. "dynamodb:GetItem").',
                'RolePolicy "deletePost" statement 1 allows "*": list the exact actions the code performs (e.g. "dynamodb:GetItem").',
            ]);
        });

        it('fires for DynamoDB actions on Resource "*", and for NotAction', () => {
            const broken = copy(prod);
            withStatements(broken, "listPosts", [{ Effect: "Allow", Action: ["dynamodb:Query"], Resource: "*" }]);
            withStatements(broken, "createPost", [{ Effect: "Allow", NotAction: "iam:*", Resource: "*" }]);
            const messages = only("no-wildcard-iam-actions", checkRecordedStack(broken));
            expect(messages[0]).to.match(/allows dynamodb:Query on every resource: set Resource to the table's ARN/);
            expect(messages[1]).to.match(
                /allows everything except "iam:\*" \(NotAction\): replace it with an Action list/,
            );
        });

        it("reads documents given as objects, in Role.inlinePolicies and in aws.iam.Policy", () => {
            const broken = copy(dev);
            one(broken, TYPES.role, "getPost").inputs["inlinePolicies"] = [
                {
                    name: "extra",
                    policy: JSON.stringify({ Statement: { Effect: "Allow", Action: "dynamodb:*", Resource: "*" } }),
                },
            ];
            addResource(broken, MORE_TYPES.policy, "shared", {
                policy: { Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] },
            });
            const messages = only("no-wildcard-iam-actions", checkRecordedStack(broken));
            expect(messages).to.have.length(3);
            expect(messages[0]).to.match(/^Role "getPost" inline policy "extra" statement 1 allows "dynamodb:\*"/);
            expect(messages[1]).to.match(
                /^Role "getPost" inline policy "extra" statement 1 allows dynamodb:\* on every resource/,
            );
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
});
