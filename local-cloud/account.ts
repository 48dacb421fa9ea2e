// The AWS account a local cloud plays: the account-wide settings that belong to no stack, which a
// tool reads before deploying (`npm run preflight`), answered through the same SDK clients as AWS:
//
// - API Gateway `GetAccount` (`GET /account` on the API Gateway control plane, controlPlane.ts):
//   `{"cloudwatchRoleArn"?, "throttleSettings": {"burstLimit", "rateLimit"}, "features": [...],
//   "apiKeyVersion"}` (docs.aws.amazon.com/apigateway/latest/api/API_GetAccount.html);
//   `cloudwatchRoleArn` is absent until someone sets it, as in a new account.
// - Lambda `GetAccountSettings` (`GET /2016-08-19/account-settings/` under LAMBDA_CONTROL_PLANE_PATH):
//   `{"AccountLimit": {"CodeSizeUnzipped", "CodeSizeZipped", "ConcurrentExecutions",
//   "TotalCodeSize", "UnreservedConcurrentExecutions"}, "AccountUsage": {"FunctionCount",
//   "TotalCodeSize"}}` (docs.aws.amazon.com/lambda/latest/api/API_GetAccountSettings.html).
//
// The answers are the account as it stands before the program served here is deployed into it:
// what the local cloud serves is not counted in them (its functions are not in AccountUsage, its
// provisioned concurrency is not taken from UnreservedConcurrentExecutions). That is the question
// a preflight asks: can this account take the stack's first `up`?
export interface AccountSettings {
    /**
     * Lambda's concurrency quota for the Region (`ConcurrentExecutions`); 1,000 by default, 10 in many new accounts.
     */
    concurrentExecutions: number;
    /** Concurrency already reserved or provisioned by other functions of the account. */
    reservedConcurrentExecutions: number;
    /** API Gateway's CloudWatch Logs role (`cloudwatchRoleArn`); unset in a new account. */
    cloudwatchRoleArn?: string;
}

/**
 * Where the Lambda control plane is served on the local cloud's port (the `endpoint` of a LambdaClient is the URL plus
 * this).
 */
export const LAMBDA_CONTROL_PLANE_PATH = "/.aws/lambda";

/**
 * Named accounts for `npm start -- --account <name>`: `default`, an account in use (AWS's default
 * quota of 1,000, a logging role set); `new`, as AWS hands out many new accounts (a quota of 10, no
 * logging role: docs/decisions/0022-first-up-in-a-new-account.md).
 */
export const ACCOUNT_PROFILES: Readonly<Record<string, AccountSettings>> = {
    default: {
        concurrentExecutions: 1000,
        reservedConcurrentExecutions: 0,
        cloudwatchRoleArn: "arn:aws:iam::123456789012:role/api-gateway-cloudwatch-logs",
    },
    new: { concurrentExecutions: 10, reservedConcurrentExecutions: 0 },
};

export const DEFAULT_ACCOUNT = ACCOUNT_PROFILES["default"]!;

/** AWS's account-level throttle for API Gateway in most Regions: 10,000 requests a second, burst 5,000. */
const API_GATEWAY_THROTTLE = { burstLimit: 5000, rateLimit: 10000 };
/** Lambda's fixed code-size limits (bytes): 75 GB of storage, 250 MB unzipped, 50 MB zipped upload. */
const LAMBDA_CODE_LIMITS = { TotalCodeSize: 80_530_636_800, CodeSizeUnzipped: 262_144_000, CodeSizeZipped: 52_428_800 };

/** GetAccount's body. */
export function apiGatewayAccountJson(account: AccountSettings): unknown {
    return {
        ...(account.cloudwatchRoleArn === undefined ? {} : { cloudwatchRoleArn: account.cloudwatchRoleArn }),
        throttleSettings: API_GATEWAY_THROTTLE,
        features: ["UsagePlans"],
        apiKeyVersion: "4",
    };
}

/** GetAccountSettings' body. */
export function lambdaAccountSettingsJson(account: AccountSettings): unknown {
    return {
        AccountLimit: {
            ...LAMBDA_CODE_LIMITS,
            ConcurrentExecutions: account.concurrentExecutions,
            UnreservedConcurrentExecutions: account.concurrentExecutions - account.reservedConcurrentExecutions,
        },
        AccountUsage: { FunctionCount: 0, TotalCodeSize: 0 },
    };
}
