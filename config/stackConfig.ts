// Every stack setting, read once and validated in one place. Other modules receive the plain typed
// `StackConfig` and never call `new pulumi.Config()` themselves.
//
// `parseStackConfig` is a pure function of the raw values so tests (and the local cloud) can run
// it without a Pulumi engine; `loadStackConfig` is the thin Pulumi-facing wrapper.
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { MAX_LIST_SHARDS } from "../data/tableDesign";

export const PROJECT = "posts-api";

/** The retention values CloudWatch Logs accepts (0 = never expire, refused here on purpose). */
const LOG_RETENTION_DAYS = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/** API Gateway gives up on an integration after 29 s, so a longer Lambda timeout only hides bugs. */
export const MAX_LAMBDA_TIMEOUT_SECONDS = 29;
/** API Gateway accepts at most 20 per-method throttles per stage in a usage plan. */
const MAX_METHOD_THROTTLES = 20;

const positive = (what: string) =>
    z.number({ error: `${what} must be a number` }).positive({ error: `${what} must be greater than 0` });
const positiveInt = (what: string) =>
    z
        .number({ error: `${what} must be a number` })
        .int({ error: `${what} must be a whole number` })
        .positive({ error: `${what} must be greater than 0` });

const throttleSchema = z.strictObject({
    // Tokens per second; API Gateway accepts fractions (0.5 = one request every two seconds).
    rateLimit: positive("rateLimit"),
    // The bucket's capacity: a whole number of requests.
    burstLimit: positiveInt("burstLimit"),
});

const quotaSchema = z.strictObject({
    limit: positiveInt("limit"),
    period: z.enum(["DAY", "WEEK", "MONTH"], { error: "period must be one of DAY, WEEK, MONTH" }),
    // AWS's own documents disagree on what a non-zero offset means (requests subtracted in the
    // first period, or the day a WEEK/MONTH period starts): only 0 is accepted until that is
    // settled against AWS (docs/decisions/0004-deploying-changes-safely.md).
    offset: z
        .literal(0, {
            error: "offset must be 0 (AWS documents two different meanings for other values; see docs/decisions/0004-deploying-changes-safely.md)",
        })
        .default(0),
});

// "{resourcePath}/{METHOD}", the key API Gateway uses for per-method throttles ("/posts/POST").
const methodThrottleKey = z.string().regex(/^\/.*\/(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS|\*)$/, {
    error: 'method throttle keys look like "/posts/POST" (resource path, slash, HTTP method)',
});

const planSchema = z.strictObject({
    throttle: throttleSchema,
    quota: quotaSchema,
    methodThrottles: z
        .record(methodThrottleKey, throttleSchema)
        .default({})
        .refine((m) => Object.keys(m).length <= MAX_METHOD_THROTTLES, {
            error: `at most ${MAX_METHOD_THROTTLES} method throttles per plan`,
        }),
});

const CONSUMER_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
/** A rotation overlaps two keys; a third would mean the old one was never retired. */
const MAX_KEYS_PER_CONSUMER = 2;

/**
 * The logical name of a consumer's key (and of its plan attachment) of one generation: the
 * consumer's name for generation 1, so keys created before rotation existed keep their URNs, and
 * `<consumer>.key<N>` after (a dot cannot appear in a consumer name, so no two names collide).
 */
export function apiKeyLogicalName(consumer: string, generation: number): string {
    return generation === 1 ? consumer : `${consumer}.key${generation}`;
}

const consumerSchema = z.strictObject({
    // Becomes the API key's logical name, so it must be stable and URN-safe.
    name: z.string().regex(CONSUMER_NAME, { error: "consumer names are 1-63 lowercase letters, digits or dashes" }),
    plan: z.string().min(1),
    enabled: z.boolean().default(true),
    // The consumer's previous name, after a rename: the key and its plan attachment are carried
    // over (Pulumi aliases) instead of a new key being created next to the old one, which AWS
    // refuses when the value is pinned in apiKeyValues (values are unique). See
    // docs/decisions/0004-deploying-changes-safely.md.
    renamedFrom: z
        .string()
        .regex(CONSUMER_NAME, { error: "renamedFrom is a consumer name: 1-63 lowercase letters, digits or dashes" })
        .optional(),
    // The consumer's live key generations, oldest first: [1] until a rotation, [1, 2] while the
    // consumer moves to its new key (both accepted), [2] once the old one is retired (it answers
    // 403 after that `pulumi up`). Generation 1 is the key the consumer always had (same logical
    // name, same URN); generation N is the key `<consumer>.keyN` (docs/decisions/0013-operating-the-api.md).
    keys: z
        .array(
            z
                .number({ error: "key generations are numbers" })
                .int({ error: "key generations are whole numbers" })
                .min(1, { error: "key generations start at 1" }),
            { error: "keys is a list of key generations, e.g. [1, 2]" },
        )
        .min(1, { error: "a consumer needs at least one key (disable it with enabled: false instead)" })
        .max(MAX_KEYS_PER_CONSUMER, {
            error: `at most ${MAX_KEYS_PER_CONSUMER} keys per consumer: retire the old key before the next rotation`,
        })
        .refine((gens) => gens.every((g, i) => i === 0 || g > gens[i - 1]!), {
            error: "keys must be increasing generations, oldest first, e.g. [1, 2]",
        })
        .default([1]),
});

/** A fraction of requests, as API Gateway's `Average` of 4XXError/5XXError reports it (0.01 = 1 %). */
const rate = (what: string) =>
    z
        .number({ error: `${what} must be a number` })
        .min(0, { error: `${what} must be between 0 and 1 (a fraction of requests: 0.01 = 1 %)` })
        .max(1, { error: `${what} must be between 0 and 1 (a fraction of requests: 0.01 = 1 %)` });

// Alarms of one stack (monitoring/): thresholds with defaults, and who hears about them.
const alarmsSchema = z.strictObject({
    enabled: z.boolean({ error: "enabled must be true or false" }).default(true),
    // Each address gets an SNS subscription, which AWS asks it to confirm once by email.
    emails: z
        .array(z.email({ error: "emails are e-mail addresses like ops@example.com" }), {
            error: "emails is a list of e-mail addresses",
        })
        .refine((list) => new Set(list).size === list.length, { error: "emails lists an address twice" })
        .default([]),
    // Existing SNS topics that page someone elsewhere (an on-call tool's topic, a shared ops topic):
    // every alarm that pages also publishes there. Not created or changed by this stack.
    topicArns: z
        .array(
            z.string().regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/, {
                error: "topicArns are SNS topic ARNs like arn:aws:sns:us-east-1:123456789012:oncall",
            }),
            { error: "topicArns is a list of SNS topic ARNs" },
        )
        .refine((list) => new Set(list).size === list.length, { error: "topicArns lists a topic twice" })
        .default([]),
    serverErrorRate: rate("serverErrorRate").default(0.01),
    latencyP99Ms: positiveInt("latencyP99Ms").default(2500),
    // Advisory: many 4XX answers usually mean a misbehaving client or a revoked key, not an outage.
    clientErrorRate: rate("clientErrorRate").default(0.25),
    functionErrors: positiveInt("functionErrors").default(1),
    functionThrottles: positiveInt("functionThrottles").default(1),
    // API Gateway and Lambda publish one data point a minute, so a period is whole minutes.
    periodSeconds: positiveInt("periodSeconds")
        .refine((s) => s % 60 === 0, {
            error: "periodSeconds must be a multiple of 60 (API Gateway and Lambda metrics are per minute)",
        })
        .default(300),
    evaluationPeriods: positiveInt("evaluationPeriods").default(1),
});

const nonNegativeInt = (what: string) =>
    z
        .number({ error: `${what} must be a number` })
        .int({ error: `${what} must be a whole number` })
        .min(0, { error: `${what} must be 0 or more` });

// Releases (api/release.ts): every deploy publishes a version of each route's function and its
// `live` alias points at it, unless the route is pinned to an earlier version (a rollback); with
// pins, `canaryWeight` sends that share of the pinned routes' calls to the newly published version.
// Route names are checked against the route table in api/release.ts (config/ does not import it).
const routeReleaseSchema = z.strictObject({
    // A version number Lambda published for this route (the `releases` output lists them).
    pin: positiveInt("pin").optional(),
    provisionedConcurrency: nonNegativeInt("provisionedConcurrency").optional(),
});

const releaseSchema = z.strictObject({
    // Below 1: a weight of 1 sends every call to the new version, which is a promotion (remove the
    // pin instead, so the alias itself moves and the release output says so).
    canaryWeight: z
        .number({ error: "canaryWeight must be a number" })
        .min(0, {
            error: "canaryWeight must be at least 0 and below 1 (the share of calls for the new version: 0.1 = 10 %)",
        })
        .lt(1, {
            error: "canaryWeight must be at least 0 and below 1 (the share of calls for the new version: 0.1 = 10 %)",
        })
        .default(0),
    // Warm environments kept on each route's `live` alias, unless the route sets its own; billed
    // by the hour whether used or not (docs/decisions/0014-releases-warm-aliases-stage-cache.md).
    provisionedConcurrency: nonNegativeInt("provisionedConcurrency").default(0),
    routes: z
        .record(z.string(), routeReleaseSchema, {
            error: "routes is a map of route name to { pin, provisionedConcurrency }",
        })
        .default({}),
});

/** The cache cluster sizes API Gateway offers, in GB (cacheClusterSize). */
export const CACHE_SIZES_GB = [0.5, 1.6, 6.1, 13.5, 28.4, 58.2, 118, 237] as const;
/** API Gateway's TTL range for cached responses; 0 turns caching off for the method. */
const MAX_CACHE_TTL_SECONDS = 3600;

// The stage cache (api/stageCache.ts). Which routes may be cached is the route table's call
// (`cacheable`), checked in api/stageCache.ts.
const cacheSchema = z.strictObject({
    enabled: z.boolean({ error: "enabled must be true or false" }).default(false),
    sizeGb: z
        .number({ error: "sizeGb must be a number" })
        .refine((gb) => (CACHE_SIZES_GB as readonly number[]).includes(gb), {
            error: `sizeGb must be one of ${CACHE_SIZES_GB.join(", ")}`,
        })
        .default(0.5),
    ttlSeconds: z
        .number({ error: "ttlSeconds must be a number" })
        .int({ error: "ttlSeconds must be a whole number of seconds" })
        .min(0, { error: `ttlSeconds must be between 0 and ${MAX_CACHE_TTL_SECONDS}` })
        .max(MAX_CACHE_TTL_SECONDS, { error: `ttlSeconds must be between 0 and ${MAX_CACHE_TTL_SECONDS}` })
        .default(300),
    routes: z
        .array(z.string({ error: "routes lists route names, e.g. [listPosts]" }), {
            error: "routes is a list of route names, e.g. [listPosts]",
        })
        .refine((list) => new Set(list).size === list.length, { error: "routes lists a route twice" })
        .default([]),
});

const rawConfigSchema = z.strictObject({
    plans: z.record(
        z
            .string()
            .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, { error: "plan names are 1-63 lowercase letters, digits or dashes" }),
        planSchema,
        { error: "plans is required: a map of plan name to { throttle, quota }" },
    ),
    consumers: z
        .array(consumerSchema, { error: "consumers is required: a list of { name, plan }" })
        .min(1, { error: "at least one consumer is required" }),
    lambdaMemorySize: z.number().int().min(128).max(10240).default(256),
    lambdaTimeout: z
        .number()
        .int({ error: "lambdaTimeout must be a whole number of seconds" })
        .min(1)
        .max(MAX_LAMBDA_TIMEOUT_SECONDS, {
            error: `lambdaTimeout must be at most ${MAX_LAMBDA_TIMEOUT_SECONDS} seconds (API Gateway's integration timeout)`,
        })
        .default(10),
    logRetentionDays: z
        .number()
        .refine((d) => (LOG_RETENTION_DAYS as readonly number[]).includes(d), {
            error: `logRetentionDays must be one of ${LOG_RETENTION_DAYS.join(", ")}`,
        })
        .default(14),
    corsAllowOrigin: z
        .string()
        .regex(/^(\*|https?:\/\/[^\s/]+)$/, {
            error: 'corsAllowOrigin must be "*" or one origin like https://example.com',
        })
        .default("*"),
    production: z.boolean().default(false),
    // API Gateway's execution log (per method, in its own log group); access logs are always on.
    executionLogLevel: z
        .enum(["OFF", "ERROR", "INFO"], { error: "executionLogLevel must be one of OFF, ERROR, INFO" })
        .default("ERROR"),
    // API Gateway writes logs with one IAM role per account and region: exactly one stack there sets it.
    manageApiGatewayAccount: z.boolean({ error: "manageApiGatewayAccount must be true or false" }).default(false),
    // X-Ray active tracing on the stage and every function.
    tracing: z.boolean({ error: "tracing must be true or false" }).default(false),
    // The lowest level of the functions' own log lines that reaches CloudWatch (JSON log format).
    functionLogLevel: z
        .enum(["DEBUG", "INFO", "WARN", "ERROR"], { error: "functionLogLevel must be one of DEBUG, INFO, WARN, ERROR" })
        .default("INFO"),
    // Listing-index partitions new posts spread over: each takes at most 1,000 write units a second
    // (data/tableDesign.ts). Raising or lowering it needs no migration: readers query every shard
    // ever used (docs/decisions/0023-listing-index-shards.md).
    listShards: z
        .number({ error: "listShards must be a number" })
        .int({ error: "listShards must be a whole number" })
        .min(1, { error: `listShards must be from 1 to ${MAX_LIST_SHARDS}` })
        .max(MAX_LIST_SHARDS, { error: `listShards must be from 1 to ${MAX_LIST_SHARDS}` })
        .default(1),
    alarms: alarmsSchema.prefault({}),
    release: releaseSchema.prefault({}),
    cache: cacheSchema.prefault({}),
});

export type Plan = z.infer<typeof planSchema>;
export type AlarmSettings = z.infer<typeof alarmsSchema>;
export type ExecutionLogLevel = z.infer<typeof rawConfigSchema>["executionLogLevel"];
export type FunctionLogLevel = z.infer<typeof rawConfigSchema>["functionLogLevel"];
export type Consumer = z.infer<typeof consumerSchema>;
export type ReleaseSettings = z.infer<typeof releaseSchema>;
export type CacheSettings = z.infer<typeof cacheSchema>;

export interface StackConfig extends z.infer<typeof rawConfigSchema> {
    stack: string;
}

/** Thrown for any bad setting; the message names the config key and the problem. */
export class ConfigError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "ConfigError";
    }
}

const configKey = (path: PropertyKey[]) =>
    `${PROJECT}:` +
    path.map((p, i) => (typeof p === "number" ? `[${p}]` : `${i === 0 ? "" : "."}${String(p)}`)).join("");

/**
 * Validates raw config values (keys without the `posts-api:` prefix, values already parsed from
 * YAML/JSON). Throws a ConfigError listing every problem, each prefixed with its full key.
 */
export function parseStackConfig(stack: string, raw: Record<string, unknown>): StackConfig {
    // The stage is named after the stack, and API Gateway stage names allow only these characters.
    if (!/^[A-Za-z0-9_-]{1,128}$/.test(stack)) {
        throw new ConfigError(
            `Stack name "${stack}" cannot be an API Gateway stage name: use letters, digits, "-" or "_"`,
        );
    }
    const parsed = rawConfigSchema.safeParse(raw);
    if (!parsed.success) {
        const problems = parsed.error.issues.map((issue) => {
            if (issue.code === "unrecognized_keys") {
                return issue.keys.map((k) => `${configKey([...issue.path, k])}: unknown key`).join("\n");
            }
            if (issue.code === "invalid_key") {
                // A bad record key (a method throttle such as "POST /posts"): say why it is bad.
                return `${configKey(issue.path)}: ${issue.issues.map((i) => i.message).join("; ")}`;
            }
            return `${configKey(issue.path)}: ${issue.message}`;
        });
        throw new ConfigError(`Invalid configuration for stack "${stack}":\n${problems.join("\n")}`);
    }
    const config = parsed.data;

    const problems: string[] = [];
    const seen = new Set<string>();
    const names = new Set(config.consumers.map((c) => c.name));
    const oldNames = new Set<string>();
    config.consumers.forEach((consumer, i) => {
        if (seen.has(consumer.name)) {
            problems.push(`${configKey(["consumers", i, "name"])}: duplicate consumer name "${consumer.name}"`);
        }
        seen.add(consumer.name);
        if (!Object.hasOwn(config.plans, consumer.plan)) {
            problems.push(
                `${configKey(["consumers", i, "plan"])}: unknown plan "${consumer.plan}" (plans: ${Object.keys(config.plans).join(", ") || "none"})`,
            );
        }
        const old = consumer.renamedFrom;
        if (old !== undefined) {
            // Two resources cannot both be the old key: the old name must be gone and claimed once.
            if (names.has(old)) {
                problems.push(
                    `${configKey(["consumers", i, "renamedFrom"])}: "${old}" is still a consumer; a renamed consumer's old name must no longer be in the list`,
                );
            } else if (oldNames.has(old)) {
                problems.push(`${configKey(["consumers", i, "renamedFrom"])}: two consumers are renamed from "${old}"`);
            }
            oldNames.add(old);
        }
    });
    // A canary splits a pinned route's calls between its pin and the published version: without
    // a pin there is nothing to split, and the weight would silently do nothing.
    if (config.release.canaryWeight > 0 && !Object.values(config.release.routes).some((r) => r.pin !== undefined)) {
        problems.push(
            `${configKey(["release", "canaryWeight"])}: a canary needs at least one route pinned to its stable version (release.routes.<route>.pin); without a pin every route already runs the published version`,
        );
    }
    // Provisioned concurrency may stay on an alias with canary weights, but Lambda refuses to
    // create, change or remove it while weights are in place; that is about two deploys (the one
    // before and this one), which config cannot see, so docs/releases.md says it instead.
    // The cluster is billed by the hour from the moment it exists.
    if (config.cache.enabled && config.cache.routes.length === 0) {
        problems.push(
            `${configKey(["cache", "routes"])}: the cache is enabled but caches no route; list the routes to cache (e.g. [listPosts]) or set cache.enabled to false`,
        );
    }
    if (config.cache.enabled && config.cache.ttlSeconds === 0) {
        problems.push(
            `${configKey(["cache", "ttlSeconds"])}: 0 caches nothing while the cache is enabled; give a TTL or set cache.enabled to false`,
        );
    }
    if (problems.length > 0) {
        throw new ConfigError(`Invalid configuration for stack "${stack}":\n${problems.join("\n")}`);
    }
    return { ...config, stack };
}

/** Logical name of the generated cursor key (a RandomBytes) when `cursorSecret` is not set. */
export const CURSOR_SECRET_NAME = "cursor-secret";

/** Secret settings, read as Outputs so their values never appear in plain text. */
const SECRET_KEYS = ["apiKeyValues", "cursorSecret"];

/**
 * Optional secret settings:
 * - `apiKeyValues`: key name (the consumer's name for its first key, `<consumer>.key<N>` for a
 *   rotated one) -> API key value (20-128 letters and digits, unique); otherwise AWS generates one.
 * - `cursorSecret`: HMAC key for list cursors; without it the program generates a random one per
 *   stack (index.ts, docs/decisions/0004-deploying-changes-safely.md).
 */
export interface StackSecrets {
    apiKeyValues: pulumi.Output<Record<string, string>>;
    /** `cursorSecret` when set; undefined means "generate one for this stack". */
    cursorSecret: pulumi.Output<string> | undefined;
}

/** Pulumi hands every value over as a string; structured and numeric ones are JSON. */
function parseConfigValue(text: string): unknown {
    try {
        return JSON.parse(text);
    } catch {
        return text;
    }
}

export function loadStackConfig(): StackConfig & { secrets: StackSecrets } {
    const config = new pulumi.Config(PROJECT);
    const raw: Record<string, unknown> = {};
    // Reading every `posts-api:*` key (not just the known ones) lets a typo such as
    // `lambdaTimout` fail as an unknown key instead of silently falling back to the default.
    for (const fullKey of Object.keys(pulumi.runtime.allConfig())) {
        const key = fullKey.slice(`${PROJECT}:`.length);
        if (!fullKey.startsWith(`${PROJECT}:`) || SECRET_KEYS.includes(key)) {
            continue;
        }
        raw[key] = parseConfigValue(config.require(key));
    }
    const stackConfig = parseStackConfig(pulumi.getStack(), raw);
    const cursorSecret = config.getSecret("cursorSecret");
    // Values are pinned per key: `<consumer>` for generation 1, `<consumer>.key<N>` after.
    const keyNames = new Set(
        stackConfig.consumers.flatMap((c) => c.keys.map((generation) => apiKeyLogicalName(c.name, generation))),
    );

    // Checked here, before any resource is declared (inside an `apply` a bad value would surface
    // late, as an unhandled rejection); the values are wrapped as a secret at once, and no error
    // message ever quotes one.
    const rawKeyValues = pulumi.runtime.allConfig()[`${PROJECT}:apiKeyValues`];
    const keyValues = rawKeyValues === undefined ? {} : parseConfigValue(rawKeyValues);
    if (typeof keyValues !== "object" || keyValues === null || Array.isArray(keyValues)) {
        throw new ConfigError(
            `${PROJECT}:apiKeyValues: must be a map of consumer name to key value (set one with: pulumi config set --secret --path 'apiKeyValues.<consumer>' <value>)`,
        );
    }
    const apiKeyValues = pulumi.secret(validateApiKeyValues(keyValues as Record<string, unknown>, keyNames));
    return {
        ...stackConfig,
        secrets: { apiKeyValues, cursorSecret },
    };
}

/** What API Gateway accepts as a key value: 20-128 letters and digits (AWS-generated ones are 40). */
export const API_KEY_VALUE = /^[A-Za-z0-9]{20,128}$/;

/**
 * API Gateway refuses other key values, and a value already used by another key (ConflictException),
 * late and obscurely in the middle of a deployment. Errors name the key, never the secret value.
 */
export function validateApiKeyValues(values: Record<string, unknown>, keyNames: Set<string>): Record<string, string> {
    const result: Record<string, string> = {};
    const owners = new Map<string, string>();
    for (const [name, value] of Object.entries(values)) {
        if (!keyNames.has(name)) {
            throw new ConfigError(
                `${PROJECT}:apiKeyValues.${name}: no live key named "${name}" (keys: ${[...keyNames].join(", ")}; a consumer's first key is its name, a rotated one <consumer>.key<N>)`,
            );
        }
        if (typeof value !== "string" || !API_KEY_VALUE.test(value)) {
            throw new ConfigError(
                `${PROJECT}:apiKeyValues.${name}: an API key value must be 20-128 letters (A-Z, a-z) and digits`,
            );
        }
        const other = owners.get(value);
        if (other !== undefined) {
            throw new ConfigError(
                `${PROJECT}:apiKeyValues.${name}: the same value as ${PROJECT}:apiKeyValues.${other}; API Gateway needs every key value to be unique`,
            );
        }
        owners.set(value, name);
        result[name] = value;
    }
    return result;
}
