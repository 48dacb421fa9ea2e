// posts-api: a serverless posts REST API that only API-key holders can call.
// Read top to bottom: config -> data -> api -> keys -> operations -> outputs. Each concern lives in
// its folder.
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { CURSOR_SECRET_NAME, loadStackConfig } from "./config/stackConfig";
import { PostsTable } from "./data/postsTable";
import { PostsApi } from "./api/postsApi";
import { ApiKeys, checkMethodThrottles } from "./api/keys";
import { checkRelease } from "./api/release";
import { checkCache } from "./api/stageCache";
import { ApiGatewayAccount } from "./api/gatewayAccount";
import { Monitoring } from "./monitoring/monitoring";

// 1. Config: every setting validated once; a bad value stops `pulumi up` with its key named.
const config = loadStackConfig();
// These need the route table, so each lives with what it configures, in api/.
checkMethodThrottles(config.plans);
checkRelease(config.release);
checkCache(config.cache);

// The key that signs list cursors: `cursorSecret` when set, otherwise 32 random bytes generated
// once for this stack and kept, encrypted, in its state (never a value from this source).
// Rotate with `pulumi up --replace <its URN>` (docs/deploy.md); outstanding cursors then answer 400.
const cursorKey =
    config.secrets.cursorSecret ?? pulumi.secret(new random.RandomBytes(CURSOR_SECRET_NAME, { length: 32 }).hex);

// 2. Data: the posts table (backups and deletion protection on production stacks).
const table = new PostsTable("posts", { production: config.production, stack: config.stack });

// 3. API: one least-privilege Lambda per route, invoked through its `live` alias (a published
// version, or the stack's pin and canary: api/release.ts), stage named after the stack, with JSON
// access logs, per-method metrics, an execution log, and where configured X-Ray tracing,
// provisioned concurrency and a stage cache (api/stageCache.ts). API Gateway writes logs with one
// IAM role per account and region: the stack with manageApiGatewayAccount sets it
// (api/gatewayAccount.ts), and its stage waits for it.
const gatewayAccount = config.manageApiGatewayAccount ? new ApiGatewayAccount("apigateway-account") : undefined;
const api = new PostsApi("posts-api", {
    stage: config.stack,
    tableName: table.name,
    tableArn: table.arn,
    indexArn: table.indexArn,
    memorySize: config.lambdaMemorySize,
    timeout: config.lambdaTimeout,
    logRetentionDays: config.logRetentionDays,
    corsAllowOrigin: config.corsAllowOrigin,
    cursorKey,
    tracing: config.tracing,
    functionLogLevel: config.functionLogLevel,
    listShards: config.listShards,
    executionLogLevel: config.executionLogLevel,
    gatewayAccount: gatewayAccount?.account,
    release: config.release,
    cache: config.cache,
});

// 4. Keys: one API key per consumer, in its usage plan, bound to this stage.
const keys = new ApiKeys("keys", {
    restApiId: api.restApiId,
    stageName: api.stageName,
    plans: config.plans,
    consumers: config.consumers,
    keyValues: config.secrets.apiKeyValues,
});

// 5. Operations: alarms to an SNS topic (e-mails from config) and a dashboard of the same metrics,
// over the API and each route's function, every version of it (monitoring/).
const monitoring = new Monitoring("monitoring", {
    stack: config.stack,
    apiName: api.apiName,
    stage: config.stack,
    functions: Object.entries(api.functions).map(([route, fn]) => ({ route, functionName: fn.function.name })),
    alarms: config.alarms,
});

// 6. Outputs. Key values are secrets: read them with `pulumi stack output --show-secrets apiKey`.
// `apiKeys` holds each consumer's newest key (the one to hand out during a rotation). The ids are
// not secret; `npm run usage -- --aws` reads them to ask API Gateway who used how much.
export const url = api.url;
export const tableName = table.name;
export const apiKeys = keys.values;
export const apiKey = pulumi.secret(keys.values.apply((values) => values[config.consumers[0]!.name]!));
export const apiKeyIds = keys.keyIds;
export const usagePlanIds = keys.usagePlanIds;
export const dashboardUrl = monitoring.dashboardUrl;
// Route -> { published, live, canary? }: the versions to pin or promote
// (docs/decisions/0014-releases-warm-aliases-stage-cache.md runbook).
export const releases = api.releases;
