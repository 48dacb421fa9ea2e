// A program that hands CallbackFunction nothing but a closure, recorded under mocks: the defaults
// it gets are caught by two guardrails (policies/rules/managedPolicies.ts and lambda.ts).
import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { type RecordedProgram } from "local-cloud";
import { checkRecordedStack } from "../../../policies/rules";
import { programWith } from "../../support/program";
import { PROJECT_DIR } from "../../../scripts/project";
import { rulesFired } from "../support";

/** A throwaway program inside the project (so it resolves the project's node_modules). */
function writeNaiveProgram(): string {
    fs.mkdirSync(path.join(PROJECT_DIR, ".tmp"), { recursive: true });
    const dir = fs.mkdtempSync(path.join(PROJECT_DIR, ".tmp", "policy-fixture-"));
    // A Pulumi project like any other: the recorder takes the project name from Pulumi.yaml.
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: naive\nruntime: nodejs\n");
    fs.writeFileSync(
        path.join(dir, "index.ts"),
        [
            'import * as aws from "@pulumi/aws";',
            'export const fn = new aws.lambda.CallbackFunction("naive", { callback: async () => ({ statusCode: 200, body: "" }) });',
            "",
        ].join("\n"),
    );
    return dir;
}

/** A program that hands CallbackFunction nothing but a closure. */
let naive: RecordedProgram;

// Root-level, so it runs before every suite of the run (why: guardrailPrograms in ../support).
before("record a program that hands CallbackFunction nothing but a closure", async function () {
    this.timeout(180_000);
    const fixtureDir = writeNaiveProgram();
    try {
        naive = await programWith({
            stack: "fixture",
            projectDir: fixtureDir,
            stackConfig: { "aws:region": "us-east-1" },
        });
    } finally {
        fs.rmSync(fixtureDir, { recursive: true, force: true });
    }
});

describe("guardrail rules (policies/rules)", () => {
    describe("a CallbackFunction given only a closure (recorded under mocks)", () => {
        it("is caught: the broad managed policies of its default role and its 180 s timeout", () => {
            const findings = checkRecordedStack(naive);
            expect(rulesFired(findings)).to.have.members([
                "no-broad-managed-policies",
                "lambda-timeout-within-gateway-limit",
            ]);
            const policies = findings.filter((f) => f.rule === "no-broad-managed-policies").map((f) => f.message);
            for (const name of [
                "AWSLambda_FullAccess",
                "AmazonDynamoDBFullAccess",
                "AmazonS3FullAccess",
                "AmazonCognitoPowerUser",
            ]) {
                expect(
                    policies.some((m) => m.includes(`AWS managed policy ${name} `)),
                    name,
                ).to.equal(true);
            }
            expect(policies).to.have.length(8); // all but AWSXrayWriteOnlyAccess
            expect(findings.find((f) => f.rule === "lambda-timeout-within-gateway-limit")!.message).to.match(
                /timeout 180 s; API Gateway stops waiting after 29 s/,
            );
        });
    });
});
