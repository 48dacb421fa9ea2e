// `npm run preflight -- --stack <s> [--aws] [--json] [--state-dir <dir>]`: whether an AWS account can
// take the stack's first `pulumi up`, and what to do where it cannot. Three things fail a first `up`
// half-way on an account that has never seen this program (docs/decisions/0022-first-up-in-a-new-account.md):
//
// - API Gateway's CloudWatch Logs role: an account setting (GetAccount `cloudwatchRoleArn`) every
//   stage that writes logs needs; unset in a new account, and set by exactly one stack per account
//   and Region (`manageApiGatewayAccount`, api/gatewayAccount.ts);
// - Lambda concurrency: provisioned (and reserved) concurrency may not take the account's unreserved
//   concurrency (GetAccountSettings `UnreservedConcurrentExecutions`) below 100, and many new
//   accounts have a quota of 10 in all;
// - API Gateway's per-account quotas on API keys and usage plans.
//
// What the stack declares is read from the program itself, recorded under Pulumi mocks (the same
// recording the local cloud and the guardrail tests use); what the account has, through the AWS
// SDK: with `--aws` from AWS, in the stack's Region (credentials from the environment), otherwise
// from the local cloud running for the stack (`npm start -- --stack <s> [--account new]`), which
// answers the same calls.
import * as path from "node:path";
import {
    APIGatewayClient,
    GetAccountCommand,
    GetApiKeysCommand,
    GetUsagePlansCommand,
} from "@aws-sdk/client-api-gateway";
import { GetAccountSettingsCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { CliError, fail, parseCommand } from "local-cloud/cli";
import {
    CONTROL_PLANE_PATH,
    defaultStateDir,
    LAMBDA_CONTROL_PLANE_PATH,
    readJsonFile,
    readProgramConfig,
    recordOrReuseProgram,
    TYPES,
    type RecordedProgram,
} from "local-cloud";
import { PROJECT_DIR } from "./project";

/**
 * Lambda keeps this much concurrency unreserved for the functions that reserve none
 * (docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html).
 */
export const UNRESERVED_MINIMUM = 100;

/**
 * API Gateway's per-account, per-Region quotas (docs.aws.amazon.com/apigateway/latest/developerguide/
 * api-gateway-execution-service-limits-table.html, read 2026-12): 10,000 API keys, not adjustable;
 * 300 usage plans, adjustable in Service Quotas.
 */
export const API_GATEWAY_QUOTAS = { apiKeys: 10_000, usagePlans: 300 };

const ACCOUNT_TYPE = "aws:apigateway/account:Account";

/** What the stack's first `up` asks of the account. */
export interface StackNeeds {
    stack: string;
    region: string;
    /** The stack sets the account's CloudWatch role itself (an `aws.apigateway.Account`). */
    managesApiGatewayAccount: boolean;
    /** Stages that write access or execution logs, which need the role. */
    loggingStages: number;
    /** Provisioned concurrency over all its aliases and versions, plus reserved concurrency of its functions. */
    concurrency: number;
    apiKeys: number;
    usagePlans: number;
}

/** What the account has, as its control planes answer. */
export interface AccountFacts {
    cloudwatchRoleArn?: string;
    concurrentExecutions: number;
    unreservedConcurrentExecutions: number;
    apiKeys: number;
    usagePlans: number;
}

export interface Check {
    name: string;
    ok: boolean;
    /** What was found. */
    detail: string;
    /** What to do, when not ok. */
    todo?: string;
}

const sum = (values: unknown[]) =>
    values.reduce<number>((total, v) => total + (typeof v === "number" && v > 0 ? v : 0), 0);

/** What a recorded program declares that the account must make room for. */
export function stackNeeds(program: RecordedProgram): StackNeeds {
    const ofType = (type: string) => program.resources.filter((r) => r.type === type);
    const stageLogs = (inputs: Record<string, unknown>) =>
        inputs["accessLogSettings"] !== undefined && inputs["accessLogSettings"] !== null;
    const methodLogs = ofType(TYPES.methodSettings).some(
        (r) => !["OFF", undefined].includes(r.inputs["settings"]?.["loggingLevel"]),
    );
    return {
        stack: program.stack,
        region: program.region,
        managesApiGatewayAccount: ofType(ACCOUNT_TYPE).length > 0,
        loggingStages: ofType(TYPES.stage).filter((s) => stageLogs(s.inputs) || methodLogs).length,
        concurrency:
            sum(ofType(TYPES.provisionedConcurrency).map((r) => r.inputs["provisionedConcurrentExecutions"])) +
            sum(ofType(TYPES.function).map((r) => r.inputs["reservedConcurrentExecutions"])),
        apiKeys: ofType(TYPES.apiKey).length,
        usagePlans: ofType(TYPES.usagePlan).length,
    };
}

/** Every item of a paged API Gateway list (`position`), counted. */
async function countAll(
    page: (position: string | undefined) => Promise<{ items?: unknown[]; position?: string }>,
): Promise<number> {
    let count = 0;
    let position: string | undefined;
    do {
        const answer = await page(position);
        count += answer.items?.length ?? 0;
        position = answer.position;
    } while (position);
    return count;
}

/** The account's answers: GetAccount, GetAccountSettings, and how many API keys and usage plans it has. */
export async function readAccount(apiGateway: APIGatewayClient, lambda: LambdaClient): Promise<AccountFacts> {
    const [account, settings, apiKeys, usagePlans] = await Promise.all([
        apiGateway.send(new GetAccountCommand({})),
        lambda.send(new GetAccountSettingsCommand({})),
        countAll((position) => apiGateway.send(new GetApiKeysCommand({ position, limit: 500 }))),
        countAll((position) => apiGateway.send(new GetUsagePlansCommand({ position, limit: 500 }))),
    ]);
    return {
        cloudwatchRoleArn: account.cloudwatchRoleArn,
        concurrentExecutions: settings.AccountLimit?.ConcurrentExecutions ?? 0,
        unreservedConcurrentExecutions: settings.AccountLimit?.UnreservedConcurrentExecutions ?? 0,
        apiKeys,
        usagePlans,
    };
}

function loggingRoleCheck(needs: StackNeeds, account: AccountFacts): Check {
    const name = "API Gateway CloudWatch Logs role";
    if (needs.managesApiGatewayAccount) {
        return { name, ok: true, detail: `stack ${needs.stack} sets it itself (manageApiGatewayAccount)` };
    }
    if (needs.loggingStages === 0) {
        return { name, ok: true, detail: `no stage of stack ${needs.stack} writes logs` };
    }
    if (account.cloudwatchRoleArn !== undefined && account.cloudwatchRoleArn !== "") {
        return { name, ok: true, detail: `set: ${account.cloudwatchRoleArn}` };
    }
    return {
        name,
        ok: false,
        detail: `not set in this account and Region, and stack ${needs.stack} does not set it: its stage's logging fails to deploy ("CloudWatch Logs role ARN must be set in account settings to enable logging")`,
        todo:
            `if ${needs.stack} is the first or only stack of this program in the account, let it own the role: ` +
            `\`pulumi config set manageApiGatewayAccount true --stack ${needs.stack}\`; otherwise deploy the stack that owns it first ` +
            '(dev sets it). docs/operations.md: "Who owns the account\'s logging role"',
    };
}

function concurrencyCheck(needs: StackNeeds, account: AccountFacts): Check {
    const name = "Lambda concurrency";
    if (needs.concurrency === 0) {
        return {
            name,
            ok: true,
            detail: `stack ${needs.stack} provisions and reserves no concurrency (account quota ${account.concurrentExecutions})`,
        };
    }
    const required = needs.concurrency + UNRESERVED_MINIMUM;
    const found =
        `stack ${needs.stack} provisions ${needs.concurrency}, and Lambda keeps ${UNRESERVED_MINIMUM} unreserved: it needs ${required} unreserved; ` +
        `the account has ${account.unreservedConcurrentExecutions} unreserved of a quota of ${account.concurrentExecutions}`;
    if (account.unreservedConcurrentExecutions >= required) {
        return { name, ok: true, detail: found };
    }
    const shrink = `or deploy without provisioned concurrency for now (\`release.provisionedConcurrency\` and each \`release.routes.<route>.provisionedConcurrency\` at 0 in Pulumi.${needs.stack}.yaml) and add it once the quota is raised`;
    const todo =
        account.concurrentExecutions < required
            ? `ask AWS for a Lambda concurrency quota of at least ${required} in ${needs.region} (Service Quotas, AWS Lambda, "Concurrent executions": ` +
              `\`aws service-quotas request-service-quota-increase --service-code lambda --quota-code L-B99A9384 --desired-value 1000 --region ${needs.region}\`; new accounts are often raised automatically with use), ${shrink}`
            : `other functions of the account reserve or provision ${account.concurrentExecutions - account.unreservedConcurrentExecutions}: free some of it, raise the quota (L-B99A9384), ${shrink}`;
    return {
        name,
        ok: false,
        detail:
            `${found}: creating the provisioned concurrency fails ("decreases account's UnreservedConcurrentExecution below its minimum value of [${UNRESERVED_MINIMUM}]"). ` +
            "(A stack already deployed holds its own share already: this check is for its first `up`.)",
        todo,
    };
}

function quotaCheck(name: string, have: number, adding: number, quota: number, todo: string): Check {
    const detail = `${have} in the account + ${adding} of this stack = ${have + adding} of a quota of ${quota.toLocaleString("en-US")}`;
    return have + adding <= quota ? { name, ok: true, detail } : { name, ok: false, detail, todo };
}

/** Every check, in the order a first `up` meets them. */
export function preflightChecks(needs: StackNeeds, account: AccountFacts): Check[] {
    return [
        loggingRoleCheck(needs, account),
        concurrencyCheck(needs, account),
        quotaCheck(
            "API Gateway API keys",
            account.apiKeys,
            needs.apiKeys,
            API_GATEWAY_QUOTAS.apiKeys,
            "delete API keys no longer used (`aws apigateway get-api-keys`, then `delete-api-key`); this quota cannot be raised",
        ),
        quotaCheck(
            "API Gateway usage plans",
            account.usagePlans,
            needs.usagePlans,
            API_GATEWAY_QUOTAS.usagePlans,
            'delete usage plans no longer used, or ask for more (Service Quotas, Amazon API Gateway, "Usage plans per account")',
        ),
    ];
}

export function formatChecks(where: string, needs: StackNeeds, checks: Check[]): string {
    const failed = checks.filter((c) => !c.ok);
    const lines = [`Preflight of stack "${needs.stack}" (${needs.region}) against ${where}:`];
    for (const check of checks) {
        lines.push(`  ${check.ok ? "OK  " : "FAIL"}  ${check.name}: ${check.detail}`);
        if (check.todo !== undefined) {
            lines.push(`        To do: ${check.todo}`);
        }
    }
    lines.push(
        failed.length === 0
            ? `The account can take \`pulumi up --stack ${needs.stack}\`.`
            : `${failed.length} of ${checks.length} checks need action before \`pulumi up --stack ${needs.stack}\`.`,
    );
    return lines.join("\n");
}

/** The local cloud running for the stack: where it serves, from its state folder. */
function localEndpoint(stateDir: string, stack: string): string {
    const server = readJsonFile<{ url?: string }>(path.join(stateDir, "server.json"), {});
    if (server.url === undefined) {
        throw new CliError(
            `no local cloud has run for stack ${stack} in ${stateDir}: start one with \`npm start -- --stack ${stack} [--account new]\` (or pass --aws to check the AWS account)`,
        );
    }
    return server.url.replace(/\/$/, "");
}

const USAGE = "usage: npm run preflight -- --stack <name> [--aws] [--json] [--state-dir <dir>]";

async function main(): Promise<void> {
    const parsed = parseCommand(
        process.argv.slice(2),
        {
            stack: { type: "string", default: "dev" },
            aws: { type: "boolean", default: false },
            json: { type: "boolean", default: false },
            "state-dir": { type: "string" },
            help: { type: "boolean", default: false },
        },
        USAGE,
    );
    if (parsed === undefined) {
        return;
    }
    const { values } = parsed;
    const stack = values.stack!;
    // The account first (a missing local cloud or missing credentials is said at once), then the
    // program, whose recording takes a while.
    const local = values.aws
        ? undefined
        : localEndpoint(path.resolve(values["state-dir"] ?? defaultStateDir(stack, PROJECT_DIR)), stack);
    const region = readProgramConfig({ projectDir: PROJECT_DIR, stack }).region;
    // The local control planes check no signature; the SDK still wants credentials.
    const apiGateway = new APIGatewayClient(
        local === undefined ? { region } : { ...LOCAL_CLIENT, region, endpoint: `${local}${CONTROL_PLANE_PATH}` },
    );
    const lambda = new LambdaClient(
        local === undefined
            ? { region }
            : { ...LOCAL_CLIENT, region, endpoint: `${local}${LAMBDA_CONTROL_PLANE_PATH}` },
    );
    let account: AccountFacts;
    try {
        account = await readAccount(apiGateway, lambda);
    } catch (err) {
        throw accountError(err, stack, local !== undefined);
    } finally {
        apiGateway.destroy();
        lambda.destroy();
    }
    process.stderr.write(`Reading what stack ${stack} declares (its program, under Pulumi mocks)...\n`);
    // Under mocks, from the program cache when nothing the recording depends on has changed.
    const needs = stackNeeds(await recordOrReuseProgram({ stack, projectDir: PROJECT_DIR }));
    const checks = preflightChecks(needs, account);
    const where =
        local === undefined
            ? `the AWS account of your credentials (${region})`
            : `the local cloud's account (${local})`;
    process.stdout.write(
        values.json
            ? `${JSON.stringify({ needs, account, checks }, null, 2)}\n`
            : `${formatChecks(where, needs, checks)}\n`,
    );
    process.exitCode = checks.every((c) => c.ok) ? 0 : 1;
}

const LOCAL_CLIENT = { credentials: { accessKeyId: "local", secretAccessKey: "local" } };

/** The account could not be asked: one line saying why, for the failures a user can fix. */
function accountError(err: unknown, stack: string, local: boolean): unknown {
    const code = (err as NodeJS.ErrnoException).code ?? (err as { cause?: NodeJS.ErrnoException }).cause?.code;
    if (local && code === "ECONNREFUSED") {
        return new CliError(
            `the local cloud for stack ${stack} is not running: start it with \`npm start -- --stack ${stack} [--account new]\``,
        );
    }
    if ((err as Error).name === "CredentialsProviderError") {
        return new CliError(
            "no AWS credentials (the SDK looks at AWS_PROFILE, AWS_ACCESS_KEY_ID and the rest of its default chain): sign in to the account the stack deploys to, or leave out --aws to ask a local cloud",
        );
    }
    return err;
}

if (require.main === module) {
    main().catch(fail);
}
