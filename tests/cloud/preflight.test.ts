// `npm run preflight`: the local cloud plays an AWS account (a new one with `account: new`) and
// answers API Gateway's GetAccount and Lambda's GetAccountSettings in AWS's wire format, read here
// with the real SDK clients; the preflight reads what a stack declares from the program and says
// what the account lacks for its first `up`.
import { expect } from "chai";
import * as childProcess from "node:child_process";
import { APIGatewayClient, GetAccountCommand } from "@aws-sdk/client-api-gateway";
import { GetAccountSettingsCommand, LambdaClient, ListFunctionsCommand } from "@aws-sdk/client-lambda";
import { ACCOUNT_PROFILES, LAMBDA_CONTROL_PLANE_PATH, type LocalCloud } from "local-cloud";
import { startTestCloud } from "local-cloud/testing";
import { stopCloud } from "../support/roomyCloud";
import { stackProgram } from "../support/program";
import { PROJECT_DIR } from "../../scripts/project";
import { preflightChecks, readAccount, stackNeeds, type Check } from "../../scripts/preflight";

const LOCAL = { region: "us-east-1", credentials: { accessKeyId: "local", secretAccessKey: "local" } };

function clients(cloud: LocalCloud): { apiGateway: APIGatewayClient; lambda: LambdaClient } {
    return {
        apiGateway: new APIGatewayClient({ ...LOCAL, endpoint: cloud.controlPlaneUrl }),
        lambda: new LambdaClient({ ...LOCAL, endpoint: `${cloud.url}${LAMBDA_CONTROL_PLANE_PATH}` }),
    };
}

function runPreflight(
    args: string[],
    env: NodeJS.ProcessEnv = process.env,
): Promise<{ status: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
        childProcess.execFile(
            process.execPath,
            ["-r", "./tests/support/register.js", "scripts/preflight.ts", ...args],
            { cwd: PROJECT_DIR, env },
            (err, stdout, stderr) => {
                resolve({ status: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
            },
        );
    });
}

const byName = (checks: Check[], name: string) => checks.find((c) => c.name === name)!;

describe("npm run preflight: a stack's first up against the account the local cloud plays", function () {
    this.timeout(240_000);
    let fresh: LocalCloud;
    let usual: LocalCloud;
    const open: { apiGateway: APIGatewayClient; lambda: LambdaClient }[] = [];
    const connect = (cloud: LocalCloud) => {
        const pair = clients(cloud);
        open.push(pair);
        return pair;
    };

    before(async () => {
        fresh = await startTestCloud({ stack: "prod", account: ACCOUNT_PROFILES["new"] });
        usual = await startTestCloud({ stack: "dev" });
    });

    after(async () => {
        open.forEach(({ apiGateway, lambda }) => {
            apiGateway.destroy();
            lambda.destroy();
        });
        await stopCloud(fresh);
        await stopCloud(usual);
    });

    it("answers GetAccount and GetAccountSettings as AWS does: a new account has no CloudWatch role and a concurrency quota of 10", async () => {
        const { apiGateway, lambda } = connect(fresh);
        const account = await apiGateway.send(new GetAccountCommand({}));
        expect(account.cloudwatchRoleArn).to.equal(undefined);
        expect(account.throttleSettings).to.deep.equal({ burstLimit: 5000, rateLimit: 10000 });
        expect(account.features).to.deep.equal(["UsagePlans"]);
        expect(account.apiKeyVersion).to.equal("4");
        const settings = await lambda.send(new GetAccountSettingsCommand({}));
        expect(settings.AccountLimit).to.deep.include({ ConcurrentExecutions: 10, UnreservedConcurrentExecutions: 10 });
        expect(settings.AccountLimit!.CodeSizeZipped).to.equal(52_428_800);
        expect(settings.AccountUsage).to.deep.equal({ FunctionCount: 0, TotalCodeSize: 0 });

        const inUse = connect(usual);
        expect((await inUse.apiGateway.send(new GetAccountCommand({}))).cloudwatchRoleArn).to.match(
            /^arn:aws:iam::\d{12}:role\//,
        );
        expect((await inUse.lambda.send(new GetAccountSettingsCommand({}))).AccountLimit).to.deep.include({
            ConcurrentExecutions: 1000,
            UnreservedConcurrentExecutions: 1000,
        });
    });

    it("refuses any other Lambda operation the way the SDK understands (UnknownOperationException)", async () => {
        const { lambda } = connect(fresh);
        const error = await lambda.send(new ListFunctionsCommand({})).then(
            () => undefined,
            (err: Error) => err,
        );
        expect(error?.name).to.equal("UnknownOperationException");
        expect(error?.message).to.match(/answers GetAccountSettings/);
    });

    it("reads what each stack declares: prod provisions 3 and leaves the logging role to another stack, dev owns the role", async () => {
        expect(stackNeeds(await stackProgram("prod"))).to.deep.equal({
            stack: "prod",
            region: "us-east-1",
            managesApiGatewayAccount: false,
            loggingStages: 1,
            concurrency: 3,
            apiKeys: 3,
            usagePlans: 2,
        });
        expect(stackNeeds(await stackProgram("dev"))).to.deep.include({
            managesApiGatewayAccount: true,
            concurrency: 0,
            apiKeys: 3,
            usagePlans: 1,
        });
    });

    it("fails prod in a new account on the logging role and on concurrency, saying what to do; dev passes there", async () => {
        const { apiGateway, lambda } = connect(fresh);
        const account = await readAccount(apiGateway, lambda);
        // The local cloud serves prod's keys and plans; the account counts them like any others.
        expect(account).to.deep.equal({
            cloudwatchRoleArn: undefined,
            concurrentExecutions: 10,
            unreservedConcurrentExecutions: 10,
            apiKeys: 3,
            usagePlans: 2,
        });
        const prod = preflightChecks(stackNeeds(await stackProgram("prod")), account);
        expect(prod.map((c) => [c.name, c.ok])).to.deep.equal([
            ["API Gateway CloudWatch Logs role", false],
            ["Lambda concurrency", false],
            ["API Gateway API keys", true],
            ["API Gateway usage plans", true],
        ]);
        expect(byName(prod, "API Gateway CloudWatch Logs role").todo).to.include(
            "pulumi config set manageApiGatewayAccount true --stack prod",
        );
        const concurrency = byName(prod, "Lambda concurrency");
        expect(concurrency.detail).to.include(
            "it needs 103 unreserved; the account has 10 unreserved of a quota of 10",
        );
        expect(concurrency.todo).to.include("--quota-code L-B99A9384");
        expect(concurrency.todo).to.include("at least 103");
        expect(byName(prod, "API Gateway API keys").detail).to.equal(
            "3 in the account + 3 of this stack = 6 of a quota of 10,000",
        );

        const dev = preflightChecks(stackNeeds(await stackProgram("dev")), account);
        expect(
            dev.every((c) => c.ok),
            JSON.stringify(dev, null, 2),
        ).to.equal(true);
        expect(byName(dev, "API Gateway CloudWatch Logs role").detail).to.equal(
            "stack dev sets it itself (manageApiGatewayAccount)",
        );
    });

    it("passes prod in an account in use (a role set, the default quota of 1,000)", async () => {
        const { apiGateway, lambda } = connect(usual);
        const checks = preflightChecks(stackNeeds(await stackProgram("prod")), await readAccount(apiGateway, lambda));
        expect(checks.filter((c) => !c.ok)).to.deep.equal([]);
    });

    it("runs as `npm run preflight -- --stack prod` against the running local cloud: exit 1 and the to-do lines", async () => {
        const run = await runPreflight(["--stack", "prod", "--state-dir", fresh.stateDir]);
        expect(run.status, run.stderr).to.equal(1);
        expect(run.stdout).to.include(
            `Preflight of stack "prod" (us-east-1) against the local cloud's account (${fresh.url})`,
        );
        expect(run.stdout).to.match(/FAIL {2}API Gateway CloudWatch Logs role: not set/);
        expect(run.stdout).to.match(/FAIL {2}Lambda concurrency: stack prod provisions 3/);
        expect(run.stdout).to.include("To do: ask AWS for a Lambda concurrency quota of at least 103 in us-east-1");
        expect(run.stdout).to.include("2 of 4 checks need action before `pulumi up --stack prod`.");
        const missing = await runPreflight(["--stack", "prod", "--state-dir", `${fresh.stateDir}-none`]);
        expect(missing.status).to.equal(1);
        expect(missing.stderr).to.match(
            /^error: no local cloud has run for stack prod in .*: start one with `npm start -- --stack prod \[--account new\]`/,
        );
    });

    it("says so in one line, before recording anything, when --aws finds no credentials", async () => {
        const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("AWS_")));
        // No instance metadata either: the SDK's last resort, which would wait for a timeout here.
        const run = await runPreflight(["--stack", "prod", "--aws"], {
            ...env,
            AWS_EC2_METADATA_DISABLED: "true",
            AWS_CONFIG_FILE: "/nonexistent",
            AWS_SHARED_CREDENTIALS_FILE: "/nonexistent",
        });
        expect(run.status).to.equal(1);
        expect(run.stderr).to.match(
            /^error: no AWS credentials \(the SDK looks at AWS_PROFILE, AWS_ACCESS_KEY_ID and the rest of its default chain\)/m,
        );
        expect(run.stderr).to.not.include("Reading what stack");
    });
});
