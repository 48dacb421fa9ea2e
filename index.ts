// posts-api: a serverless posts REST API that only API-key holders can call.
// Read top to bottom: config -> data -> api -> keys -> outputs. Each concern lives in its folder.
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { CURSOR_SECRET_NAME, loadStackConfig } from "./config/stackConfig";
import { PostsTable } from "./data/postsTable";
import { PostsApi } from "./api/postsApi";
import { ApiKeys, checkMethodThrottles } from "./api/keys";

// 1. Config: every setting validated once; a bad value stops `pulumi up` with its key named.
const config = loadStackConfig();
checkMethodThrottles(config.plans); // needs the route table, so it lives with the keys

// The key that signs list cursors: `cursorSecret` when set, otherwise 32 random bytes generated
// once for this stack and kept, encrypted, in its state (never a value from this source).
// Rotate with `pulumi up --replace <its URN>` (README); outstanding cursors then answer 400.
const cursorKey = config.secrets.cursorSecret
    ?? pulumi.secret(new random.RandomBytes(CURSOR_SECRET_NAME, { length: 32 }).hex);

// 2. Data: the posts table (backups and deletion protection on production stacks).
const table = new PostsTable("posts", { production: config.production, stack: config.stack });

// 3. API: one least-privilege Lambda per route, stage named after the stack.
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
});

// 4. Keys: one API key per consumer, in its usage plan, bound to this stage.
const keys = new ApiKeys("keys", {
    restApiId: api.restApiId,
    stageName: api.stageName,
    plans: config.plans,
    consumers: config.consumers,
    keyValues: config.secrets.apiKeyValues,
});

// 5. Outputs. Key values are secrets: read them with `pulumi stack output --show-secrets apiKey`.
export const url = api.url;
export const tableName = table.name;
export const apiKeys = keys.values;
export const apiKey = pulumi.secret(keys.values.apply((values) => values[config.consumers[0]!.name]!));
