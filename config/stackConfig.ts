// Every stack setting, read once and validated in one place. Other modules receive the plain typed
// `StackConfig` and never call `new pulumi.Config()` themselves.
//
// `parseStackConfig` is a pure function of the raw values so tests (and the local cloud) can run
// it without a Pulumi engine; `loadStackConfig` is the thin Pulumi-facing wrapper.
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";

export const PROJECT = "posts-api";

/** The retention values CloudWatch Logs accepts (0 = never expire, refused here on purpose). */
const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

/** API Gateway gives up on an integration after 29 s, so a longer Lambda timeout only hides bugs. */
export const MAX_LAMBDA_TIMEOUT_SECONDS = 29;
/** API Gateway accepts at most 20 per-method throttles per stage in a usage plan. */
const MAX_METHOD_THROTTLES = 20;

const positive = (what: string) => z.number({ error: `${what} must be a number` }).positive({ error: `${what} must be greater than 0` });
const positiveInt = (what: string) => z.number({ error: `${what} must be a number` }).int({ error: `${what} must be a whole number` }).positive({ error: `${what} must be greater than 0` });

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
    // settled against AWS (../shared/docs/apigateway.md, docs/decisions.md).
    offset: z.literal(0, { error: "offset must be 0 (AWS documents two different meanings for other values; see docs/decisions.md)" }).default(0),
});

// "{resourcePath}/{METHOD}", the key API Gateway uses for per-method throttles ("/posts/POST").
const methodThrottleKey = z.string().regex(/^\/.*\/(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS|\*)$/, {
    error: "method throttle keys look like \"/posts/POST\" (resource path, slash, HTTP method)",
});

const planSchema = z.strictObject({
    throttle: throttleSchema,
    quota: quotaSchema,
    methodThrottles: z.record(methodThrottleKey, throttleSchema).default({})
        .refine((m) => Object.keys(m).length <= MAX_METHOD_THROTTLES, { error: `at most ${MAX_METHOD_THROTTLES} method throttles per plan` }),
});

const CONSUMER_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

const consumerSchema = z.strictObject({
    // Becomes the API key's logical name, so it must be stable and URN-safe.
    name: z.string().regex(CONSUMER_NAME, { error: "consumer names are 1-63 lowercase letters, digits or dashes" }),
    plan: z.string().min(1),
    enabled: z.boolean().default(true),
    // The consumer's previous name, after a rename: the key and its plan attachment are carried
    // over (Pulumi aliases) instead of a new key being created next to the old one, which AWS
    // refuses when the value is pinned in apiKeyValues (values are unique). See docs/decisions.md.
    renamedFrom: z.string().regex(CONSUMER_NAME, { error: "renamedFrom is a consumer name: 1-63 lowercase letters, digits or dashes" }).optional(),
});

const rawConfigSchema = z.strictObject({
    plans: z.record(z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, { error: "plan names are 1-63 lowercase letters, digits or dashes" }), planSchema, { error: "plans is required: a map of plan name to { throttle, quota }" }),
    consumers: z.array(consumerSchema, { error: "consumers is required: a list of { name, plan }" }).min(1, { error: "at least one consumer is required" }),
    lambdaMemorySize: z.number().int().min(128).max(10240).default(256),
    lambdaTimeout: z.number().int({ error: "lambdaTimeout must be a whole number of seconds" }).min(1)
        .max(MAX_LAMBDA_TIMEOUT_SECONDS, { error: `lambdaTimeout must be at most ${MAX_LAMBDA_TIMEOUT_SECONDS} seconds (API Gateway's integration timeout)` })
        .default(10),
    logRetentionDays: z.number().refine((d) => (LOG_RETENTION_DAYS as readonly number[]).includes(d), {
        error: `logRetentionDays must be one of ${LOG_RETENTION_DAYS.join(", ")}`,
    }).default(14),
    corsAllowOrigin: z.string().regex(/^(\*|https?:\/\/[^\s/]+)$/, { error: "corsAllowOrigin must be \"*\" or one origin like https://example.com" }).default("*"),
    production: z.boolean().default(false),
});

export type Plan = z.infer<typeof planSchema>;
export type Consumer = z.infer<typeof consumerSchema>;

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

const keyName = (path: PropertyKey[]) =>
    `${PROJECT}:` + path.map((p, i) => (typeof p === "number" ? `[${p}]` : `${i === 0 ? "" : "."}${String(p)}`)).join("");

/**
 * Validates raw config values (keys without the `posts-api:` prefix, values already parsed from
 * YAML/JSON). Throws a ConfigError listing every problem, each prefixed with its full key.
 */
export function parseStackConfig(stack: string, raw: Record<string, unknown>): StackConfig {
    // The stage is named after the stack, and API Gateway stage names allow only these characters.
    if (!/^[A-Za-z0-9_-]{1,128}$/.test(stack)) {
        throw new ConfigError(`Stack name "${stack}" cannot be an API Gateway stage name: use letters, digits, "-" or "_"`);
    }
    const parsed = rawConfigSchema.safeParse(raw);
    if (!parsed.success) {
        const problems = parsed.error.issues.map((issue) => {
            if (issue.code === "unrecognized_keys") {
                return issue.keys.map((k) => `${keyName([...issue.path, k])}: unknown key`).join("\n");
            }
            if (issue.code === "invalid_key") {
                // A bad record key (a method throttle such as "POST /posts"): say why it is bad.
                return `${keyName(issue.path)}: ${issue.issues.map((i) => i.message).join("; ")}`;
            }
            return `${keyName(issue.path)}: ${issue.message}`;
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
            problems.push(`${keyName(["consumers", i, "name"])}: duplicate consumer name "${consumer.name}"`);
        }
        seen.add(consumer.name);
        if (!Object.hasOwn(config.plans, consumer.plan)) {
            problems.push(`${keyName(["consumers", i, "plan"])}: unknown plan "${consumer.plan}" (plans: ${Object.keys(config.plans).join(", ") || "none"})`);
        }
        const old = consumer.renamedFrom;
        if (old !== undefined) {
            // Two resources cannot both be the old key: the old name must be gone and claimed once.
            if (names.has(old)) {
                problems.push(`${keyName(["consumers", i, "renamedFrom"])}: "${old}" is still a consumer; a renamed consumer's old name must no longer be in the list`);
            } else if (oldNames.has(old)) {
                problems.push(`${keyName(["consumers", i, "renamedFrom"])}: two consumers are renamed from "${old}"`);
            }
            oldNames.add(old);
        }
    });
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
 * - `apiKeyValues`: consumer name -> API key value (20-128 letters and digits, unique); otherwise
 *   AWS generates one.
 * - `cursorSecret`: HMAC key for list cursors; without it the program generates a random one per
 *   stack (index.ts, docs/decisions.md).
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
    const consumerNames = new Set(stackConfig.consumers.map((c) => c.name));

    // Checked here, before any resource is declared (inside an `apply` a bad value would surface
    // late, as an unhandled rejection); the values are wrapped as a secret at once, and no error
    // message ever quotes one.
    const rawKeyValues = pulumi.runtime.allConfig()[`${PROJECT}:apiKeyValues`];
    const keyValues = rawKeyValues === undefined ? {} : parseConfigValue(rawKeyValues);
    if (typeof keyValues !== "object" || keyValues === null || Array.isArray(keyValues)) {
        throw new ConfigError(`${PROJECT}:apiKeyValues: must be a map of consumer name to key value (set one with: pulumi config set --secret --path 'apiKeyValues.<consumer>' <value>)`);
    }
    const apiKeyValues = pulumi.secret(validateApiKeyValues(keyValues as Record<string, unknown>, consumerNames));
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
export function validateApiKeyValues(values: Record<string, unknown>, consumerNames: Set<string>): Record<string, string> {
    const result: Record<string, string> = {};
    const owners = new Map<string, string>();
    for (const [name, value] of Object.entries(values)) {
        if (!consumerNames.has(name)) {
            throw new ConfigError(`${PROJECT}:apiKeyValues.${name}: no consumer named "${name}"`);
        }
        if (typeof value !== "string" || !API_KEY_VALUE.test(value)) {
            throw new ConfigError(`${PROJECT}:apiKeyValues.${name}: an API key value must be 20-128 letters (A-Z, a-z) and digits`);
        }
        const other = owners.get(value);
        if (other !== undefined) {
            throw new ConfigError(`${PROJECT}:apiKeyValues.${name}: the same value as ${PROJECT}:apiKeyValues.${other}; API Gateway needs every key value to be unique`);
        }
        owners.set(value, name);
        result[name] = value;
    }
    return result;
}
