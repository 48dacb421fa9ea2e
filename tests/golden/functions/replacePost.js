
var __env_1 = {requireSecondsEnv: __requireSecondsEnv, requireEnv: __requireEnv, countEnv: __countEnv};
var __exports = {};
var __exports_ENV = {functionTimeout: "FUNCTION_TIMEOUT_SECONDS", tableName: "TABLE_NAME", listShards: "LIST_SHARDS", cursorKey: "CURSOR_KEY", corsAllowOrigin: "CORS_ALLOW_ORIGIN"};
__exports.ENV = __exports_ENV;
var __dynamoClientConfig_1 = {dynamoClientConfig: __dynamoClientConfig};
var __postsStore_1 = {};
var __tableDesign_1 = {};
var __tableDesign_1_RECENT_WRITE_ATTRIBUTES = ["recentWrite1", "recentWrite2", "recentWrite3", "recentWrite4"];
__tableDesign_1.RECENT_WRITE_ATTRIBUTES = __tableDesign_1_RECENT_WRITE_ATTRIBUTES;
__tableDesign_1.postKey = __f2;
__tableDesign_1.listPartition = __f3;
__tableDesign_1.LIST_PARTITION = "POSTS";
__tableDesign_1.listShardOf = __listShardOf;
__tableDesign_1.listSortKey = __f4;
__tableDesign_1.listingKey = __f5;
__tableDesign_1.LISTING_KEY_PATTERN = "META#listing";
__tableDesign_1.idempotencyKey = __f6;
__tableDesign_1.POSTS_INDEX = "byCreatedAt";
__tableDesign_1.MAX_LIST_SHARDS = 32;
var __storeErrors_1 = {storeError: __storeError, isStoreError: __isStoreError};
__postsStore_1.dynamoPostsStore = __dynamoPostsStore;
__postsStore_1.LEASE_MARGIN_SECONDS = 5;
__postsStore_1.IDEMPOTENCY_TTL_SECONDS = 86400;
var __postsStore_1_IN_PROGRESS_WAITS_MS = [100, 200, 300, 400];
__postsStore_1.IN_PROGRESS_WAITS_MS = __postsStore_1_IN_PROGRESS_WAITS_MS;
var __adapter_1 = {};
var __errors_1 = {payloadTooLarge: __payloadTooLarge, badRequest: __badRequest, postNotFound: __postNotFound, preconditionFailed: __preconditionFailed, idempotencyKeyReused: __idempotencyKeyReused, idempotencyInProgress: __idempotencyInProgress, isHttpError: __isHttpError, errorBody: __errorBody};
var __cors_1 = {};
__cors_1.corsHeaders = __corsHeaders;
var __cors_1_CORS_EXPOSE_HEADERS = ["ETag", "Location", "x-amzn-RequestId", "Retry-After"];
__cors_1.CORS_EXPOSE_HEADERS = __cors_1_CORS_EXPOSE_HEADERS;
var __cors_1_CORS_ALLOW_HEADERS = ["Content-Type", "X-Api-Key", "If-Match", "Idempotency-Key"];
__cors_1.CORS_ALLOW_HEADERS = __cors_1_CORS_ALLOW_HEADERS;
__adapter_1.handleEvent = __handleEvent;
__adapter_1.MAX_BODY_BYTES = 65536;
var __adapter_1_CORS_ALLOW_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
__adapter_1.CORS_ALLOW_METHODS = __adapter_1_CORS_ALLOW_METHODS;
var __POST_ID = new RegExp("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", "");
var __OUR_ETAG = new RegExp("^\"([1-9][0-9]{0,14})\"$", "");
var __ANY_ETAG = new RegExp("^(?:W\\/)?\"[\\x21\\x23-\\x7e\\x80-\\xff]*\"$", "");
var __shared_1 = {postIdFrom: __postIdFrom, parseIfMatch: __parseIfMatch, parseJsonObject: __parseJsonObject, postResponse: __postResponse};
var __validate_1 = {validateBody: __validateBody, received: __received};
var __postValidators_1 = {};
var __postValidators_1_postValidators = {};
var __postValidators_1_postValidators_replace = {};
var __postValidators_1_postValidators_replace_plan = {};
__postValidators_1_postValidators_replace_plan.kind = "object";
var __postValidators_1_postValidators_replace_plan_fields = [];
var __postValidators_1_postValidators_replace_plan_fields_0 = [];
__postValidators_1_postValidators_replace_plan_fields_0[0] = "title";
var __postValidators_1_postValidators_replace_plan_fields_0_1 = {};
__postValidators_1_postValidators_replace_plan_fields_0_1.kind = "string";
__postValidators_1_postValidators_replace_plan_fields_0_1.typeError = __f8;
var __postValidators_1_postValidators_replace_plan_fields_0_1_steps = [];
var __postValidators_1_postValidators_replace_plan_fields_0_1_steps_0 = {kind: "transform", apply: __f11};
__postValidators_1_postValidators_replace_plan_fields_0_1_steps[0] = __postValidators_1_postValidators_replace_plan_fields_0_1_steps_0;
var __postValidators_1_postValidators_replace_plan_fields_0_1_steps_1 = {kind: "refine", test: __f12, message: __f13, abort: false};
__postValidators_1_postValidators_replace_plan_fields_0_1_steps[1] = __postValidators_1_postValidators_replace_plan_fields_0_1_steps_1;
var __UNPAIRED_SURROGATE = new RegExp("[\\ud800-\\udbff](?![\\udc00-\\udfff])|(?<![\\ud800-\\udbff])[\\udc00-\\udfff]", "");
var __postValidators_1_postValidators_replace_plan_fields_0_1_steps_2 = {kind: "refine", test: __f14, message: __f15, abort: false};
__postValidators_1_postValidators_replace_plan_fields_0_1_steps[2] = __postValidators_1_postValidators_replace_plan_fields_0_1_steps_2;
var __control = new RegExp("[\\u0000-\\u001f\\u007f]", "");
var __postValidators_1_postValidators_replace_plan_fields_0_1_steps_3 = {kind: "refine", test: __f16, message: __f17, abort: false};
__postValidators_1_postValidators_replace_plan_fields_0_1_steps[3] = __postValidators_1_postValidators_replace_plan_fields_0_1_steps_3;
__postValidators_1_postValidators_replace_plan_fields_0_1.steps = __postValidators_1_postValidators_replace_plan_fields_0_1_steps;
__postValidators_1_postValidators_replace_plan_fields_0[1] = __postValidators_1_postValidators_replace_plan_fields_0_1;
__postValidators_1_postValidators_replace_plan_fields[0] = __postValidators_1_postValidators_replace_plan_fields_0;
var __postValidators_1_postValidators_replace_plan_fields_1 = [];
__postValidators_1_postValidators_replace_plan_fields_1[0] = "description";
var __postValidators_1_postValidators_replace_plan_fields_1_1 = {};
__postValidators_1_postValidators_replace_plan_fields_1_1.kind = "default";
__postValidators_1_postValidators_replace_plan_fields_1_1.value = "";
var __postValidators_1_postValidators_replace_plan_fields_1_1_inner = {};
__postValidators_1_postValidators_replace_plan_fields_1_1_inner.kind = "string";
__postValidators_1_postValidators_replace_plan_fields_1_1_inner.typeError = __f18;
var __postValidators_1_postValidators_replace_plan_fields_1_1_inner_steps = [];
var __postValidators_1_postValidators_replace_plan_fields_1_1_inner_steps_0 = {kind: "refine", test: __f21, message: __f22, abort: false};
__postValidators_1_postValidators_replace_plan_fields_1_1_inner_steps[0] = __postValidators_1_postValidators_replace_plan_fields_1_1_inner_steps_0;
var __postValidators_1_postValidators_replace_plan_fields_1_1_inner_steps_1 = {kind: "refine", test: __f23, message: __f24, abort: false};
__postValidators_1_postValidators_replace_plan_fields_1_1_inner_steps[1] = __postValidators_1_postValidators_replace_plan_fields_1_1_inner_steps_1;
var __0_control = new RegExp("[\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f]", "");
var __postValidators_1_postValidators_replace_plan_fields_1_1_inner_steps_2 = {kind: "refine", test: __f25, message: __f26, abort: false};
__postValidators_1_postValidators_replace_plan_fields_1_1_inner_steps[2] = __postValidators_1_postValidators_replace_plan_fields_1_1_inner_steps_2;
__postValidators_1_postValidators_replace_plan_fields_1_1_inner.steps = __postValidators_1_postValidators_replace_plan_fields_1_1_inner_steps;
__postValidators_1_postValidators_replace_plan_fields_1_1.inner = __postValidators_1_postValidators_replace_plan_fields_1_1_inner;
__postValidators_1_postValidators_replace_plan_fields_1[1] = __postValidators_1_postValidators_replace_plan_fields_1_1;
__postValidators_1_postValidators_replace_plan_fields[1] = __postValidators_1_postValidators_replace_plan_fields_1;
var __postValidators_1_postValidators_replace_plan_fields_2 = [];
__postValidators_1_postValidators_replace_plan_fields_2[0] = "author";
var __postValidators_1_postValidators_replace_plan_fields_2_1 = {};
__postValidators_1_postValidators_replace_plan_fields_2_1.kind = "string";
__postValidators_1_postValidators_replace_plan_fields_2_1.typeError = __f27;
var __postValidators_1_postValidators_replace_plan_fields_2_1_steps = [];
var __postValidators_1_postValidators_replace_plan_fields_2_1_steps_0 = {kind: "transform", apply: __f11};
__postValidators_1_postValidators_replace_plan_fields_2_1_steps[0] = __postValidators_1_postValidators_replace_plan_fields_2_1_steps_0;
var __postValidators_1_postValidators_replace_plan_fields_2_1_steps_1 = {kind: "refine", test: __f30, message: __f31, abort: false};
__postValidators_1_postValidators_replace_plan_fields_2_1_steps[1] = __postValidators_1_postValidators_replace_plan_fields_2_1_steps_1;
var __postValidators_1_postValidators_replace_plan_fields_2_1_steps_2 = {kind: "refine", test: __f32, message: __f33, abort: false};
__postValidators_1_postValidators_replace_plan_fields_2_1_steps[2] = __postValidators_1_postValidators_replace_plan_fields_2_1_steps_2;
var __postValidators_1_postValidators_replace_plan_fields_2_1_steps_3 = {kind: "refine", test: __f34, message: __f35, abort: false};
__postValidators_1_postValidators_replace_plan_fields_2_1_steps[3] = __postValidators_1_postValidators_replace_plan_fields_2_1_steps_3;
__postValidators_1_postValidators_replace_plan_fields_2_1.steps = __postValidators_1_postValidators_replace_plan_fields_2_1_steps;
__postValidators_1_postValidators_replace_plan_fields_2[1] = __postValidators_1_postValidators_replace_plan_fields_2_1;
__postValidators_1_postValidators_replace_plan_fields[2] = __postValidators_1_postValidators_replace_plan_fields_2;
var __postValidators_1_postValidators_replace_plan_fields_3 = [];
__postValidators_1_postValidators_replace_plan_fields_3[0] = "publicationDate";
var __postValidators_1_postValidators_replace_plan_fields_3_1 = {};
__postValidators_1_postValidators_replace_plan_fields_3_1.kind = "union";
var __postValidators_1_postValidators_replace_plan_fields_3_1_options = [];
var __postValidators_1_postValidators_replace_plan_fields_3_1_options_0 = {};
__postValidators_1_postValidators_replace_plan_fields_3_1_options_0.kind = "string";
__postValidators_1_postValidators_replace_plan_fields_3_1_options_0.typeError = __f36;
var __postValidators_1_postValidators_replace_plan_fields_3_1_options_0_steps = [];
var __postValidators_1_postValidators_replace_plan_fields_3_1_options_0_steps_0 = {};
__postValidators_1_postValidators_replace_plan_fields_3_1_options_0_steps_0.kind = "format";
var __postValidators_1_postValidators_replace_plan_fields_3_1_options_0_steps_0_pattern = new RegExp("^(?:(?:\\d\\d[2468][048]|\\d\\d[13579][26]|\\d\\d0[48]|[02468][048]00|[13579][26]00)-02-29|\\d{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12]\\d|3[01])|(?:0[469]|11)-(?:0[1-9]|[12]\\d|30)|(?:02)-(?:0[1-9]|1\\d|2[0-8])))$", "");
__postValidators_1_postValidators_replace_plan_fields_3_1_options_0_steps_0.pattern = __postValidators_1_postValidators_replace_plan_fields_3_1_options_0_steps_0_pattern;
__postValidators_1_postValidators_replace_plan_fields_3_1_options_0_steps_0.message = __f38;
__postValidators_1_postValidators_replace_plan_fields_3_1_options_0_steps_0.abort = false;
__postValidators_1_postValidators_replace_plan_fields_3_1_options_0_steps[0] = __postValidators_1_postValidators_replace_plan_fields_3_1_options_0_steps_0;
__postValidators_1_postValidators_replace_plan_fields_3_1_options_0.steps = __postValidators_1_postValidators_replace_plan_fields_3_1_options_0_steps;
__postValidators_1_postValidators_replace_plan_fields_3_1_options[0] = __postValidators_1_postValidators_replace_plan_fields_3_1_options_0;
var __postValidators_1_postValidators_replace_plan_fields_3_1_options_1 = {};
__postValidators_1_postValidators_replace_plan_fields_3_1_options_1.kind = "string";
__postValidators_1_postValidators_replace_plan_fields_3_1_options_1.typeError = __f39;
var __postValidators_1_postValidators_replace_plan_fields_3_1_options_1_steps = [];
var __postValidators_1_postValidators_replace_plan_fields_3_1_options_1_steps_0 = {};
__postValidators_1_postValidators_replace_plan_fields_3_1_options_1_steps_0.kind = "format";
var __postValidators_1_postValidators_replace_plan_fields_3_1_options_1_steps_0_pattern = new RegExp("^(?:(?:\\d\\d[2468][048]|\\d\\d[13579][26]|\\d\\d0[48]|[02468][048]00|[13579][26]00)-02-29|\\d{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12]\\d|3[01])|(?:0[469]|11)-(?:0[1-9]|[12]\\d|30)|(?:02)-(?:0[1-9]|1\\d|2[0-8])))T(?:(?:[01]\\d|2[0-3]):[0-5]\\d:[0-5]\\d(?:\\.\\d+)?(?:Z|([+-](?:[01]\\d|2[0-3]):[0-5]\\d)))$", "");
__postValidators_1_postValidators_replace_plan_fields_3_1_options_1_steps_0.pattern = __postValidators_1_postValidators_replace_plan_fields_3_1_options_1_steps_0_pattern;
__postValidators_1_postValidators_replace_plan_fields_3_1_options_1_steps_0.message = __f41;
__postValidators_1_postValidators_replace_plan_fields_3_1_options_1_steps_0.abort = false;
__postValidators_1_postValidators_replace_plan_fields_3_1_options_1_steps[0] = __postValidators_1_postValidators_replace_plan_fields_3_1_options_1_steps_0;
__postValidators_1_postValidators_replace_plan_fields_3_1_options_1.steps = __postValidators_1_postValidators_replace_plan_fields_3_1_options_1_steps;
__postValidators_1_postValidators_replace_plan_fields_3_1_options[1] = __postValidators_1_postValidators_replace_plan_fields_3_1_options_1;
__postValidators_1_postValidators_replace_plan_fields_3_1.options = __postValidators_1_postValidators_replace_plan_fields_3_1_options;
__postValidators_1_postValidators_replace_plan_fields_3_1.error = __f42;
__postValidators_1_postValidators_replace_plan_fields_3[1] = __postValidators_1_postValidators_replace_plan_fields_3_1;
__postValidators_1_postValidators_replace_plan_fields[3] = __postValidators_1_postValidators_replace_plan_fields_3;
__postValidators_1_postValidators_replace_plan.fields = __postValidators_1_postValidators_replace_plan_fields;
__postValidators_1_postValidators_replace_plan.strict = true;
var __postValidators_1_postValidators_replace_plan_refinements = [];
__postValidators_1_postValidators_replace_plan.refinements = __postValidators_1_postValidators_replace_plan_refinements;
__postValidators_1_postValidators_replace.plan = __postValidators_1_postValidators_replace_plan;
__postValidators_1_postValidators.replace = __postValidators_1_postValidators_replace;
__postValidators_1.postValidators = __postValidators_1_postValidators;

function __requireEnv(__0) {
  return (function() {
    with({ requireEnv: __requireEnv, this: undefined, arguments: undefined }) {

return function /*requireEnv*/(name, env = process.env) {
    const value = env[name];
    if (value === undefined || value.trim() === "") {
        throw new Error(`Missing required environment variable ${name}: the stack must set it on the function`);
    }
    return value;
};

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __requireSecondsEnv(__0) {
  return (function() {
    with({ requireEnv: __requireEnv, requireSecondsEnv: __requireSecondsEnv, this: undefined, arguments: undefined }) {

return function /*requireSecondsEnv*/(name, env = process.env) {
    const text = requireEnv(name, env);
    const seconds = Number(text);
    if (!Number.isFinite(seconds) || seconds <= 0) {
        throw new Error(`Environment variable ${name} must be a positive number of seconds, got "${text}"`);
    }
    return seconds;
};

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __countEnv(__0, __1, __2) {
  return (function() {
    with({ countEnv: __countEnv, this: undefined, arguments: undefined }) {

return function /*countEnv*/(name, fallback, max, env = process.env) {
    const text = env[name];
    if (text === undefined || text.trim() === "") {
        return fallback;
    }
    const count = Number(text);
    if (!Number.isInteger(count) || count < 1 || count > max) {
        throw new Error(`Environment variable ${name} must be a whole number from 1 to ${max}, got "${text}"`);
    }
    return count;
};

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __f1(__0) {
  return (function() {
    with({ this: undefined, arguments: undefined }) {

return (retry) => 1000 * 2 ** (retry - 1);

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __worstCase(__0, __1) {
  return (function() {
    with({ maxBackoffBeforeRetryMs: __f1, worstCase: __worstCase, this: undefined, arguments: undefined }) {

return function /*worstCase*/(attempts, requestTimeoutMs) {
    let total = attempts * requestTimeoutMs;
    for (let retry = 1; retry < attempts; retry++) {
        total += maxBackoffBeforeRetryMs(retry);
    }
    return total;
};

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __dynamoClientTimeouts(__0) {
  return (function() {
    with({ MAX_REQUEST_TIMEOUT_MS: 2000, MIN_REQUEST_TIMEOUT_MS: 200, REQUEST_TIMEOUT_SHARE: 0.1, CALL_BUDGET_SHARE: 0.5, MAX_ATTEMPTS: 3, worstCase: __worstCase, MAX_CONNECTION_TIMEOUT_MS: 1000, dynamoClientTimeouts: __dynamoClientTimeouts, this: undefined, arguments: undefined }) {

return function /*dynamoClientTimeouts*/(functionTimeoutSeconds) {
    if (!Number.isFinite(functionTimeoutSeconds) || functionTimeoutSeconds <= 0) {
        throw new Error(`The function timeout must be a positive number of seconds, got ${String(functionTimeoutSeconds)}`);
    }
    const functionTimeoutMs = functionTimeoutSeconds * 1000;
    const requestTimeoutMs = Math.round(Math.min(MAX_REQUEST_TIMEOUT_MS, Math.max(MIN_REQUEST_TIMEOUT_MS, functionTimeoutMs * REQUEST_TIMEOUT_SHARE)));
    const budgetMs = functionTimeoutMs * CALL_BUDGET_SHARE;
    let maxAttempts = 1;
    while (maxAttempts < MAX_ATTEMPTS && worstCase(maxAttempts + 1, requestTimeoutMs) <= budgetMs) {
        maxAttempts++;
    }
    return {
        connectionTimeoutMs: Math.min(requestTimeoutMs, MAX_CONNECTION_TIMEOUT_MS),
        requestTimeoutMs,
        maxAttempts,
        worstCaseMs: worstCase(maxAttempts, requestTimeoutMs),
    };
};

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __dynamoClientConfig(__0) {
  return (function() {
    with({ dynamoClientTimeouts: __dynamoClientTimeouts, dynamoClientConfig: __dynamoClientConfig, this: undefined, arguments: undefined }) {

return function /*dynamoClientConfig*/(functionTimeoutSeconds) {
    const t = dynamoClientTimeouts(functionTimeoutSeconds);
    return {
        maxAttempts: t.maxAttempts,
        // Fixed, so AWS_RETRY_MODE=adaptive cannot add client-side rate limiting waits to the budget.
        retryMode: "standard",
        requestHandler: {
            connectionTimeout: t.connectionTimeoutMs,
            requestTimeout: t.requestTimeoutMs,
            throwOnRequestTimeout: true,
            socketTimeout: t.requestTimeoutMs,
        },
    };
};

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __f2(__0) {
  return (function() {
    with({ this: undefined, arguments: undefined }) {

return (id) => ({ pk: `POST#${id}` });

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __f3(__0) {
  return (function() {
    with({ exports: __tableDesign_1, this: undefined, arguments: undefined }) {

return (shard) => (shard === 0 ? exports.LIST_PARTITION : `${exports.LIST_PARTITION}#${shard}`);

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __listShardOf(__0, __1) {
  return (function() {
    with({ listShardOf: __listShardOf, this: undefined, arguments: undefined }) {

return function /*listShardOf*/(id, shards) {
    let hash = 0x811c9dc5;
    for (let i = 0; i < id.length; i++) {
        hash ^= id.charCodeAt(i);
        hash = Math.imul(hash, 0x01000193) >>> 0;
    }
    return hash % shards;
};

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __f4(__0, __1) {
  return (function() {
    with({ this: undefined, arguments: undefined }) {

return (createdAt, id) => `${createdAt}#${id}`;

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __f5() {
  return (function() {
    with({ exports: __tableDesign_1, this: undefined, arguments: undefined }) {

return () => ({ pk: exports.LISTING_KEY_PATTERN });

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __f6(__0, __1) {
  return (function() {
    with({ this: undefined, arguments: undefined }) {

return (scope, key) => ({ pk: `IDEMPOTENCY#${scope}#${key}` });

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __toPost(__0) {
  return (function() {
    with({ toPost: __toPost, this: undefined, arguments: undefined }) {

return function /*toPost*/(item) {
    return {
        id: String(item.id),
        title: String(item.title),
        description: String(item.description),
        author: String(item.author),
        publicationDate: String(item.publicationDate),
        createdAt: String(item.createdAt),
        updatedAt: String(item.updatedAt),
        version: Number(item.version),
    };
};

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __newPost(__0, __1, __2) {
  return (function() {
    with({ newPost: __newPost, this: undefined, arguments: undefined }) {

return function /*newPost*/(id, createdAt, input) {
    return {
        id,
        title: input.title,
        description: input.description,
        author: input.author,
        publicationDate: input.publicationDate,
        createdAt,
        updatedAt: createdAt,
        version: 1,
    };
};

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __messageFor(__0, __1) {
  return (function() {
    with({ messageFor: __messageFor, this: undefined, arguments: undefined }) {

return function /*messageFor*/(kind, details) {
    switch (kind) {
        case "PostNotFound":
            return `Post ${String(details.postId)} not found`;
        case "VersionConflict":
            return `Post ${String(details.postId)} is not at the required version`;
        case "IdempotencyKeyReused":
            return "Idempotency key was already used with a different request";
        case "IdempotencyInProgress":
            return `Another request holds this idempotency key for ${String(details.retryAfterSeconds)} s more`;
    }
};

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __storeError(__0, __1) {
  return (function() {
    with({ messageFor: __messageFor, storeError: __storeError, this: undefined, arguments: undefined }) {

return function /*storeError*/(kind, details) {
    const error = Object.assign(new Error(messageFor(kind, details)), details, { isStoreError: true, kind });
    error.name = kind;
    return error;
};

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __isStoreError(__0) {
  return (function() {
    with({ isStoreError: __isStoreError, this: undefined, arguments: undefined }) {

return function /*isStoreError*/(value) {
    return (value instanceof Error &&
        value.isStoreError === true &&
        typeof value.kind === "string");
};

    }
  }).apply(undefined, undefined).apply(this, arguments);
}
const node_crypto_1 = require("crypto");

function __requestHash(__0) {
  return (function() {
    with({ requestHash: __requestHash, this: undefined, arguments: undefined }) {

return function /*requestHash*/(input) {
    const canonical = JSON.stringify([input.title, input.description, input.author, input.publicationDate]);
    return (0, node_crypto_1.createHash)("sha256").update(canonical).digest("hex");
};

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __inProgressWaits(__0) {
  return (function() {
    with({ exports: __postsStore_1, inProgressWaits: __inProgressWaits, this: undefined, arguments: undefined }) {

return function /*inProgressWaits*/(functionTimeoutSeconds) {
    const budgetMs = functionTimeoutSeconds !== undefined && Number.isFinite(functionTimeoutSeconds) && functionTimeoutSeconds > 0
        ? (functionTimeoutSeconds * 1000) / 4
        : Infinity;
    const waits = [];
    let total = 0;
    for (const wait of exports.IN_PROGRESS_WAITS_MS) {
        if (total + wait > budgetMs) {
            break;
        }
        waits.push(wait);
        total += wait;
    }
    return waits;
};

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __idempotentCreate(__0, __1) {
  return (function() {
    with({ MAX_FUNCTION_TIMEOUT_SECONDS: 29, exports: __postsStore_1, COMPLETED: "COMPLETED", LEGACY_COMPLETED: "completed", IN_PROGRESS: "IN_PROGRESS", newPost: __newPost, tableDesign_1: __tableDesign_1, requestHash: __requestHash, inProgressWaits: __inProgressWaits, storeErrors_1: __storeErrors_1, toPost: __toPost, idempotentCreate: __idempotentCreate, this: undefined, arguments: undefined }) {

return function /*idempotentCreate*/(deps, store) {
    // First, before the functions that use them (as in dynamoPostsStore).
    const { putNewPost, readPost, conditionally } = store;
    function epochSeconds(date) {
        return Math.floor(date.getTime() / 1000);
    }
    function leaseMs() {
        const timeout = deps.functionTimeoutSeconds;
        const seconds = timeout !== undefined && Number.isFinite(timeout) && timeout > 0 ? timeout : MAX_FUNCTION_TIMEOUT_SECONDS;
        return (seconds + exports.LEASE_MARGIN_SECONDS) * 1000;
    }
    const isCompleted = (record) => (record.status === COMPLETED || record.status === LEGACY_COMPLETED) && record.response !== undefined;
    /** A record of the previous version has no lease: it reads as expired. */
    const leaseEnd = (record) => record.inProgressExpiresAt ?? 0;
    async function readRecord(key) {
        const result = await deps.db.get({ TableName: deps.tableName, Key: key, ConsistentRead: true });
        return result.Item === undefined ? null : result.Item;
    }
    /** Step 1: a new IN_PROGRESS record, unless a live (unexpired) one exists. */
    function reserve(key, record, now) {
        return conditionally(() => deps.db.put({
            TableName: deps.tableName,
            Item: { ...key, ...record },
            ConditionExpression: "attribute_not_exists(pk) OR #expiresAt < :now",
            ExpressionAttributeNames: { "#expiresAt": "expiresAt" },
            ExpressionAttributeValues: { ":now": epochSeconds(now) },
            ReturnValuesOnConditionCheckFailure: "ALL_OLD",
        }), (found) => found?.owner === record.owner); // the owner token is this attempt's own
    }
    /** The condition "the record is still exactly as `seen` left it": its status, post and owner. */
    function unchangedSince(seen) {
        return {
            expression: `#status = :seenStatus AND #postId = :seenPostId AND ${seen.owner === undefined ? "attribute_not_exists(#owner)" : "#owner = :seenOwner"}`,
            names: { "#status": "status", "#postId": "postId", "#owner": "owner" },
            values: {
                ":seenStatus": seen.status,
                ":seenPostId": seen.postId,
                ...(seen.owner === undefined ? {} : { ":seenOwner": seen.owner }),
            },
        };
    }
    /** Step 3, or a taker's adoption: COMPLETED with the post, if the record is still as `seen`. */
    function complete(key, seen, post) {
        const condition = unchangedSince(seen);
        return conditionally(() => deps.db.update({
            TableName: deps.tableName,
            Key: key,
            UpdateExpression: "SET #status = :completed, #response = :response",
            ConditionExpression: condition.expression,
            ExpressionAttributeNames: { ...condition.names, "#response": "response" },
            ExpressionAttributeValues: { ...condition.values, ":completed": COMPLETED, ":response": post },
            ReturnValuesOnConditionCheckFailure: "ALL_OLD",
        }), (found) => found?.status === COMPLETED && found.postId === post.id); // completed with this very post
    }
    /** A taker's restart: it becomes the owner of `seen`'s record, with a new lease and post id. */
    function restart(key, seen, next) {
        const condition = unchangedSince(seen);
        return conditionally(() => deps.db.update({
            TableName: deps.tableName,
            Key: key,
            UpdateExpression: "SET #status = :inProgress, #owner = :owner, #inProgressExpiresAt = :lease, #postId = :postId, #createdAt = :createdAt",
            ConditionExpression: condition.expression,
            ExpressionAttributeNames: {
                ...condition.names,
                "#inProgressExpiresAt": "inProgressExpiresAt",
                "#createdAt": "createdAt",
            },
            ExpressionAttributeValues: {
                ...condition.values,
                ":inProgress": IN_PROGRESS,
                ":owner": next.owner,
                ":lease": next.inProgressExpiresAt,
                ":postId": next.postId,
                ":createdAt": next.createdAt,
            },
            ReturnValuesOnConditionCheckFailure: "ALL_OLD",
        }), (found) => found?.owner === next.owner); // the new owner token is this attempt's own
    }
    /**
     * Steps 2 and 3 for the record this call owns. Returns the post, or null when the record was
     * taken over meanwhile and the caller must answer from the record instead.
     */
    async function runAsOwner(key, record, input) {
        const steps = deps.idempotencySteps;
        const holder = { owner: String(record.owner), postId: record.postId };
        await steps?.afterReserve?.(holder);
        const post = newPost(record.postId, record.createdAt, input);
        await putNewPost(post); // nobody else ever writes this id; a lost answer is recognised inside
        await steps?.afterPostWrite?.(holder);
        if (await complete(key, record, post)) {
            return post;
        }
        // Our lease ended and another request took the record over (or it expired and was reserved anew).
        const current = await readRecord(key);
        if (current !== null && current.postId === record.postId) {
            return post; // adopted: the record answers with this very post
        }
        // The record moved on to another post: ours is an orphan no response named. Remove it.
        await deps.db.delete({ TableName: deps.tableName, Key: (0, tableDesign_1.postKey)(post.id) });
        return null;
    }
    /**
     * POST with an Idempotency-Key: one post per (caller, key) for 24 hours. `scope` is the API key
     * id (so two clients cannot collide on a key) or "anonymous".
     */
    async function createPostIdempotent(scope, idempotencyKeyValue, input) {
        const key = (0, tableDesign_1.idempotencyKey)(scope, idempotencyKeyValue);
        const hash = requestHash(input);
        const sleep = deps.idempotencySteps?.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
        const fresh = (now) => ({
            status: IN_PROGRESS,
            owner: deps.newId(),
            inProgressExpiresAt: now.getTime() + leaseMs(),
            postId: deps.newId(),
            createdAt: now.toISOString(),
            requestHash: hash,
            expiresAt: epochSeconds(now) + exports.IDEMPOTENCY_TTL_SECONDS,
        });
        const pauses = inProgressWaits(deps.functionTimeoutSeconds);
        let waits = 0;
        let seen = null;
        // Bounded: each round either answers, waits (at most IN_PROGRESS_WAITS_MS.length times), or
        // lost a race for the record to a request that now holds it.
        for (let round = 0; round < exports.IN_PROGRESS_WAITS_MS.length + 6; round++) {
            if (seen === null) {
                const now = deps.now();
                const record = fresh(now);
                if (await reserve(key, record, now)) {
                    const post = await runAsOwner(key, record, input);
                    if (post !== null) {
                        return post;
                    }
                }
                seen = await readRecord(key);
                if (seen === null) {
                    continue; // TTL deleted it between our condition check and this read
                }
            }
            const now = deps.now();
            if (seen.expiresAt < epochSeconds(now)) {
                seen = null; // EXPIRED: reserve anew
                continue;
            }
            if (seen.requestHash !== hash) {
                throw (0, storeErrors_1.storeError)("IdempotencyKeyReused", {});
            }
            if (isCompleted(seen)) {
                return toPost(seen.response);
            }
            if (leaseEnd(seen) > now.getTime()) {
                const wait = pauses[waits++];
                if (wait === undefined) {
                    throw (0, storeErrors_1.storeError)("IdempotencyInProgress", {
                        retryAfterSeconds: Math.max(1, Math.ceil((leaseEnd(seen) - now.getTime()) / 1000)),
                    });
                }
                await sleep(wait);
                seen = await readRecord(key);
                continue;
            }
            // The lease is over: its owner is gone. Adopt its post, or restart under a new id.
            if ((await readPost(seen.postId)) !== null) {
                const post = newPost(seen.postId, seen.createdAt, input);
                if (await complete(key, seen, post)) {
                    return post;
                }
            }
            else {
                const next = { ...fresh(now), expiresAt: seen.expiresAt };
                if (await restart(key, seen, next)) {
                    const post = await runAsOwner(key, next, input);
                    if (post !== null) {
                        return post;
                    }
                }
            }
            seen = await readRecord(key); // another request won the record: see what it did
        }
        throw new Error("Idempotency record kept changing; giving up");
    }
    return createPostIdempotent;
};

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __shardedListing(__0) {
  return (function() {
    with({ tableDesign_1: __tableDesign_1, toPost: __toPost, shardedListing: __shardedListing, this: undefined, arguments: undefined }) {

return function /*shardedListing*/(deps) {
    /** How many shards any writer ever used: a consistent read, so no announced shard is missed. */
    async function readShards() {
        const result = await deps.db.get({ TableName: deps.tableName, Key: (0, tableDesign_1.listingKey)(), ConsistentRead: true });
        const shards = Number(result.Item?.readShards ?? 1);
        return Number.isInteger(shards) && shards > 1 ? shards : 1;
    }
    async function readShard(shard, bound, count) {
        const result = await deps.db.query({
            TableName: deps.tableName,
            IndexName: tableDesign_1.POSTS_INDEX,
            KeyConditionExpression: bound === null ? "#listPk = :listPk" : "#listPk = :listPk AND #listSk < :bound",
            ExpressionAttributeNames: { "#listPk": "listPk", ...(bound === null ? {} : { "#listSk": "listSk" }) },
            ExpressionAttributeValues: { ":listPk": shard.listPk, ...(bound === null ? {} : { ":bound": bound }) },
            ScanIndexForward: false,
            Limit: count,
            ...(shard.startKey === undefined ? {} : { ExclusiveStartKey: shard.startKey }),
        });
        const found = result.Items ?? [];
        shard.unplaced.push(...found);
        const last = found[found.length - 1];
        if (last !== undefined) {
            shard.frontier = String(last.listSk);
        }
        shard.startKey = result.LastEvaluatedKey;
        shard.done = result.LastEvaluatedKey === undefined;
        return found.length;
    }
    /**
     * One page, newest first: a k-way merge of the shards below one bound (the cursor's sort key;
     * every shard is ordered by it). Each shard first gives about limit/shards items; then only the
     * shard that holds back the merge (the one whose last read item is newest: older items of
     * other shards cannot be placed before it has shown what it holds above them) is read further,
     * a share of what is still missing at a time. So a page reads at most 2 × limit + shards
     * items, not shards × limit. It places `limit + 1` items when it can: the extra one only tells
     * that another page exists, so the last page never comes with a cursor to an empty page.
     */
    async function listPosts(limit, startKey) {
        const shardCount = await readShards();
        const bound = startKey === null ? null : startKey.listSk;
        const shards = Array.from({ length: shardCount }, (_, shard) => ({
            listPk: (0, tableDesign_1.listPartition)(shard),
            unplaced: [],
            frontier: null,
            startKey: undefined,
            done: false,
        }));
        const wanted = limit + 1;
        let budget = 2 * limit + shardCount;
        const first = shardCount === 1 ? wanted : Math.ceil(limit / shardCount);
        const counts = await Promise.all(shards.map((shard) => readShard(shard, bound, first)));
        budget -= counts.reduce((sum, n) => sum + n, 0);
        const placed = [];
        for (;;) {
            placeReadyItems(shards, placed, wanted);
            const open = shards.filter((shard) => !shard.done);
            if (placed.length >= wanted || open.length === 0) {
                break;
            }
            const missing = wanted - placed.length;
            const count = Math.min(Math.ceil(Math.min(missing, limit) / open.length), budget);
            if (count <= 0) {
                break; // the read budget is spent: a shorter page, with a cursor
            }
            budget -= await readShard(holdingBack(open), bound, count);
        }
        const items = placed.slice(0, limit).map(toPost);
        const last = items[items.length - 1];
        const more = placed.length > limit || shards.some((shard) => !shard.done || shard.unplaced.length > 0);
        // The cursor keeps the shape it had before sharding (its listPk is shard 0's): only its
        // sort key is the bound, and a cursor from before sharding still works.
        const nextKey = more && last !== undefined
            ? { ...(0, tableDesign_1.postKey)(last.id), listPk: tableDesign_1.LIST_PARTITION, listSk: (0, tableDesign_1.listSortKey)(last.createdAt, last.id) }
            : null;
        return { items, nextKey };
    }
    /** The open shard whose last read item is the newest (an open shard that read nothing yet first). */
    function holdingBack(open) {
        return open.reduce((a, b) => a.frontier === null || (b.frontier !== null && a.frontier >= b.frontier) ? a : b);
    }
    /**
     * Moves read items into `placed`, newest first, while they are certainly next: no open shard
     * can still hold a newer one (each open shard's unread items are older than its frontier).
     */
    function placeReadyItems(shards, placed, wanted) {
        const open = shards.filter((shard) => !shard.done);
        const limitKey = open.length === 0
            ? null
            : open.some((shard) => shard.frontier === null)
                ? "\uffff"
                : holdingBack(open).frontier;
        while (placed.length < wanted) {
            let newest;
            for (const shard of shards) {
                const head = shard.unplaced[0];
                if (head !== undefined &&
                    (newest === undefined || String(head.listSk) > String(newest.unplaced[0].listSk))) {
                    newest = shard;
                }
            }
            if (newest === undefined || (limitKey !== null && String(newest.unplaced[0].listSk) < limitKey)) {
                return;
            }
            placed.push(newest.unplaced.shift());
        }
    }
    return listPosts;
};

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __dynamoPostsStore(__0) {
  return (function() {
    with({ CONDITIONAL_CHECK_FAILED: "ConditionalCheckFailedException", tableDesign_1: __tableDesign_1, toPost: __toPost, newPost: __newPost, storeErrors_1: __storeErrors_1, idempotentCreate: __idempotentCreate, shardedListing: __shardedListing, dynamoPostsStore: __dynamoPostsStore, this: undefined, arguments: undefined }) {

return function /*dynamoPostsStore*/(deps) {
    // First, before any function that uses them: Pulumi's serializer resolves a nested function's
    // free variables against the declarations above it.
    /** How many listing shards this writer spreads new posts over. */
    const writeShards = deps.listShards !== undefined && Number.isInteger(deps.listShards) && deps.listShards > 1 ? deps.listShards : 1;
    /** The shard count this instance has seen announced (it only ever grows). */
    let announced = 1;
    function isConditionFailure(error) {
        return error instanceof Error && error.name === CONDITIONAL_CHECK_FAILED;
    }
    /** A value in DynamoDB's wire form ({S: "…"}, {N: "…"}, {M: {…}}, …) as a plain value. */
    function plainValue(value) {
        if (value === null || typeof value !== "object" || Object.keys(value).length !== 1) {
            return value; // already plain (an SDK that unmarshalls the item itself)
        }
        const [type, inner] = Object.entries(value)[0];
        switch (type) {
            case "S":
                return inner;
            case "N":
                return Number(inner);
            case "BOOL":
                return inner;
            case "NULL":
                return null;
            case "L":
                return inner.map(plainValue);
            case "M":
                return plainItem(inner);
            default:
                return value;
        }
    }
    function plainItem(item) {
        return Object.fromEntries(Object.entries(item).map(([name, value]) => [name, plainValue(value)]));
    }
    /**
     * The item as it stood when a conditional write failed: DynamoDB returns it with the failure
     * (ReturnValuesOnConditionCheckFailure: ALL_OLD, no extra read, no read units), and
     * lib-dynamodb leaves it in the wire form. Null when no item exists.
     */
    function itemAtFailure(error) {
        return error.Item === undefined || error.Item === null ? null : plainItem(error.Item);
    }
    /** Whether the SDK sent this call more than once (an earlier attempt may have committed). */
    function wasRetried(error) {
        return (error.$metadata?.attempts ?? 1) > 1;
    }
    /** Whether one of the item's recent writes carries `token` (data/tableDesign.ts). */
    function writtenWith(item, token) {
        return item !== null && tableDesign_1.RECENT_WRITE_ATTRIBUTES.some((name) => item[name] === token);
    }
    function toItem(post, writeToken) {
        return {
            ...(0, tableDesign_1.postKey)(post.id),
            [tableDesign_1.RECENT_WRITE_ATTRIBUTES[0]]: writeToken,
            listPk: (0, tableDesign_1.listPartition)((0, tableDesign_1.listShardOf)(post.id, writeShards)),
            listSk: (0, tableDesign_1.listSortKey)(post.createdAt, post.id),
            id: post.id,
            title: post.title,
            description: post.description,
            author: post.author,
            publicationDate: post.publicationDate,
            createdAt: post.createdAt,
            updatedAt: post.updatedAt,
            version: post.version,
        };
    }
    /** A consistent read: the post, or null when there is none. */
    async function readPost(id) {
        const result = await deps.db.get({ TableName: deps.tableName, Key: (0, tableDesign_1.postKey)(id), ConsistentRead: true });
        return result.Item === undefined ? null : toPost(result.Item);
    }
    /**
     * Writes a new post (never over an existing item). A failed condition whose item carries this
     * call's write token is this call's own earlier attempt (the SDK retried a put whose answer was
     * lost): the post is stored. Any other item under the id is a collision: fail loudly.
     */
    async function putNewPost(post) {
        await announceWriteShards();
        const writeToken = deps.newId();
        try {
            await deps.db.put({
                TableName: deps.tableName,
                Item: toItem(post, writeToken),
                ConditionExpression: "attribute_not_exists(pk)",
                ReturnValuesOnConditionCheckFailure: "ALL_OLD",
            });
        }
        catch (error) {
            if (isConditionFailure(error) && writtenWith(itemAtFailure(error), writeToken)) {
                return;
            }
            if (isConditionFailure(error)) {
                throw new Error(`Post id collision on create: ${post.id}`, { cause: error });
            }
            throw error;
        }
    }
    /** Creates a post with a fresh id. Without an Idempotency-Key every call creates one. */
    async function createPost(input) {
        const post = newPost(deps.newId(), deps.now().toISOString(), input);
        await putNewPost(post);
        return post;
    }
    /**
     * After a conditional write failed, not by this call's own earlier attempt: PostNotFound when
     * no item exists, else VersionConflict (the item exists, so its version did not match). The
     * old item comes with the failure (ALL_OLD), from DynamoDB and from the local engine alike.
     */
    function conditionFailure(id, item) {
        return item === null
            ? (0, storeErrors_1.storeError)("PostNotFound", { postId: id })
            : (0, storeErrors_1.storeError)("VersionConflict", { postId: id });
    }
    function versionCondition(condition) {
        switch (condition.kind) {
            case "none":
                return { expression: "attribute_exists(pk)", values: {} };
            case "version":
                return {
                    expression: "attribute_exists(pk) AND #version = :expected",
                    values: { ":expected": condition.version },
                };
            case "never":
                // Versions start at 1, so 0 never matches: the write fails and conditionFailure tells
                // PostNotFound from VersionConflict.
                return { expression: "attribute_exists(pk) AND #version = :expected", values: { ":expected": 0 } };
        }
    }
    /**
     * PUT and PATCH: sets the given client fields, bumps the version and updatedAt, all in one
     * conditional UpdateItem. Never creates: a missing post is PostNotFound, a version mismatch
     * VersionConflict. The write token goes into the item's recent writes and the condition refuses
     * it, so an SDK retry of an attempt that committed never steps the version twice: it fails, and
     * the old item, which carries the token, is this update's answer.
     */
    async function updatePost(id, fields, condition) {
        const writeToken = deps.newId();
        const names = { "#version": "version", "#updatedAt": "updatedAt" };
        const values = {
            ":one": 1,
            ":updatedAt": deps.now().toISOString(),
            ":writeToken": writeToken,
            ":noWrite": "",
        };
        const sets = ["#updatedAt = :updatedAt", "#version = #version + :one"];
        for (const [field, value] of Object.entries(fields)) {
            if (value === undefined) {
                continue;
            }
            names[`#${field}`] = field;
            values[`:${field}`] = value;
            sets.push(`#${field} = :${field}`);
        }
        // Shift the recent writes down one (the oldest drops out), the newest first.
        const slots = tableDesign_1.RECENT_WRITE_ATTRIBUTES.map((name, i) => {
            names[`#recentWrite${i}`] = name;
            return `#recentWrite${i}`;
        });
        for (let i = slots.length - 1; i > 0; i--) {
            sets.push(`${slots[i]} = if_not_exists(${slots[i - 1]}, :noWrite)`);
        }
        sets.push(`${slots[0]} = :writeToken`);
        const notThisWrite = slots
            .map((slot) => `(attribute_not_exists(${slot}) OR ${slot} <> :writeToken)`)
            .join(" AND ");
        const check = versionCondition(condition);
        try {
            const result = await deps.db.update({
                TableName: deps.tableName,
                Key: (0, tableDesign_1.postKey)(id),
                UpdateExpression: `SET ${sets.join(", ")}`,
                ConditionExpression: `${check.expression} AND ${notThisWrite}`,
                ExpressionAttributeNames: names,
                ExpressionAttributeValues: { ...values, ...check.values },
                ReturnValues: "ALL_NEW",
                ReturnValuesOnConditionCheckFailure: "ALL_OLD",
            });
            return toPost(result.Attributes ?? {});
        }
        catch (error) {
            if (!isConditionFailure(error)) {
                throw error;
            }
            const item = itemAtFailure(error);
            if (writtenWith(item, writeToken)) {
                return toPost(item); // our own earlier attempt committed: the post as it stands
            }
            throw conditionFailure(id, item);
        }
    }
    /**
     * A DELETE leaves no item to carry a token. A failed condition with no item after the SDK
     * retried means the post is gone, most likely by this call's own first attempt: the client
     * asked for it gone and it is, so that is success (a 204), never a 404 for a delete that was
     * made (docs/decisions/0017-writes-answer-their-own-retries.md).
     */
    async function deletePost(id, condition) {
        const check = versionCondition(condition);
        const usesVersion = condition.kind !== "none";
        try {
            await deps.db.delete({
                TableName: deps.tableName,
                Key: (0, tableDesign_1.postKey)(id),
                ConditionExpression: check.expression,
                ...(usesVersion ? { ExpressionAttributeNames: { "#version": "version" } } : {}),
                ...(usesVersion ? { ExpressionAttributeValues: check.values } : {}),
                ReturnValuesOnConditionCheckFailure: "ALL_OLD",
            });
        }
        catch (error) {
            if (!isConditionFailure(error)) {
                throw error;
            }
            const item = itemAtFailure(error);
            if (item === null && wasRetried(error)) {
                return;
            }
            throw conditionFailure(id, item);
        }
    }
    /**
     * Runs a conditional write on an idempotency record (or the listing record): true when it was
     * made, by this attempt or by an earlier attempt of the same call whose answer was lost (the SDK
     * retried, the retry failed its condition, and the record DynamoDB returns with the failure is
     * as that attempt left it: `madeIt`). False when the condition failed for another reason.
     */
    async function conditionally(write, madeIt) {
        try {
            await write();
            return true;
        }
        catch (error) {
            if (isConditionFailure(error)) {
                return madeIt(itemAtFailure(error));
            }
            throw error;
        }
    }
    // Listing: the index is sharded (data/tableDesign.ts). Writers announce how many shards they
    // use in the listing record before writing into them; readers query every shard ever announced.
    /** Raises the listing record's `readShards` to this writer's count, once per instance. */
    async function announceWriteShards() {
        if (writeShards <= announced) {
            return;
        }
        await conditionally(() => deps.db.update({
            TableName: deps.tableName,
            Key: (0, tableDesign_1.listingKey)(),
            UpdateExpression: "SET #readShards = :shards",
            ConditionExpression: "attribute_not_exists(#readShards) OR #readShards < :shards",
            ExpressionAttributeNames: { "#readShards": "readShards" },
            ExpressionAttributeValues: { ":shards": writeShards },
        }), () => true); // failed: already as high or higher, which is all a writer needs
        announced = writeShards;
    }
    return {
        getPost: async (id) => {
            const post = await readPost(id);
            if (post === null) {
                throw (0, storeErrors_1.storeError)("PostNotFound", { postId: id });
            }
            return post;
        },
        createPost,
        createPostIdempotent: idempotentCreate(deps, { putNewPost, readPost, conditionally }),
        updatePost,
        deletePost,
        listPosts: shardedListing(deps),
    };
};

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __copyMap(__0) {
  return (function() {
    with({ copyMap: __copyMap, this: undefined, arguments: undefined }) {

return function /*copyMap*/(map) {
    const result = {};
    for (const [name, value] of Object.entries(map ?? {})) {
        if (value !== undefined && value !== null) {
            result[name] = value;
        }
    }
    return result;
};

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __copyMultiMap(__0) {
  return (function() {
    with({ copyMultiMap: __copyMultiMap, this: undefined, arguments: undefined }) {

return function /*copyMultiMap*/(map) {
    const result = {};
    for (const [name, values] of Object.entries(map ?? {})) {
        if (Array.isArray(values)) {
            result[name] = [...values];
        }
    }
    return result;
};

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __lowerCaseKeys(__0) {
  return (function() {
    with({ lowerCaseKeys: __lowerCaseKeys, this: undefined, arguments: undefined }) {

return function /*lowerCaseKeys*/(map) {
    const result = {};
    for (const [name, value] of Object.entries(map ?? {})) {
        if (value !== undefined && value !== null) {
            result[name.toLowerCase()] = value;
        }
    }
    return result;
};

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __httpError(__0, __1, __2) {
  return (function() {
    with({ httpError: __httpError, this: undefined, arguments: undefined }) {

return function /*httpError*/(statusCode, message, errors) {
    const error = new Error(message);
    error.name = "HttpError";
    error.isHttpError = true;
    error.statusCode = statusCode;
    if (errors !== undefined) {
        error.errors = errors;
    }
    return error;
};

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __payloadTooLarge(__0) {
  return (function() {
    with({ httpError: __httpError, payloadTooLarge: __payloadTooLarge, this: undefined, arguments: undefined }) {

return function /*payloadTooLarge*/(maxBytes) {
    return httpError(413, `Request body is larger than ${maxBytes} bytes`);
};

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __badRequest(__0, __1) {
  return (function() {
    with({ httpError: __httpError, badRequest: __badRequest, this: undefined, arguments: undefined }) {

return function /*badRequest*/(message, errors) {
    return httpError(400, message, errors);
};

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __postNotFound() {
  return (function() {
    with({ httpError: __httpError, postNotFound: __postNotFound, this: undefined, arguments: undefined }) {

return function /*postNotFound*/() {
    return httpError(404, "Post not found");
};

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __preconditionFailed() {
  return (function() {
    with({ httpError: __httpError, preconditionFailed: __preconditionFailed, this: undefined, arguments: undefined }) {

return function /*preconditionFailed*/() {
    return httpError(412, "Precondition failed");
};

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __idempotencyKeyReused() {
  return (function() {
    with({ httpError: __httpError, idempotencyKeyReused: __idempotencyKeyReused, this: undefined, arguments: undefined }) {

return function /*idempotencyKeyReused*/() {
    return httpError(422, "Idempotency-Key was already used with a different request body");
};

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __idempotencyInProgress(__0) {
  return (function() {
    with({ httpError: __httpError, idempotencyInProgress: __idempotencyInProgress, this: undefined, arguments: undefined }) {

return function /*idempotencyInProgress*/(retryAfterSeconds) {
    const error = httpError(409, "A request with this Idempotency-Key is in progress");
    error.headers = { "Retry-After": String(retryAfterSeconds) };
    return error;
};

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __isHttpError(__0) {
  return (function() {
    with({ isHttpError: __isHttpError, this: undefined, arguments: undefined }) {

return function /*isHttpError*/(value) {
    return (value instanceof Error &&
        value.isHttpError === true &&
        typeof value.statusCode === "number");
};

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __errorBody(__0) {
  return (function() {
    with({ errorBody: __errorBody, this: undefined, arguments: undefined }) {

return function /*errorBody*/(error) {
    return error.errors === undefined ? { message: error.message } : { message: error.message, errors: error.errors };
};

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __decodeBody(__0, __1) {
  return (function() {
    with({ errors_1: __errors_1, decodeBody: __decodeBody, this: undefined, arguments: undefined }) {

return function /*decodeBody*/(event, maxBytes) {
    if (event.body === null || event.body === undefined) {
        return null;
    }
    const bytes = event.isBase64Encoded ? Buffer.from(event.body, "base64") : Buffer.from(event.body, "utf8");
    if (bytes.length > maxBytes) {
        throw (0, errors_1.payloadTooLarge)(maxBytes);
    }
    try {
        return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    }
    catch {
        throw (0, errors_1.badRequest)("Request body is not valid UTF-8");
    }
};

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __toHttpRequest(__0, __1) {
  return (function() {
    with({ exports: __adapter_1, copyMap: __copyMap, copyMultiMap: __copyMultiMap, lowerCaseKeys: __lowerCaseKeys, decodeBody: __decodeBody, toHttpRequest: __toHttpRequest, this: undefined, arguments: undefined }) {

return function /*toHttpRequest*/(event, context, maxBodyBytes = exports.MAX_BODY_BYTES) {
    return {
        method: event.httpMethod,
        resource: event.resource,
        pathParameters: copyMap(event.pathParameters),
        query: copyMap(event.queryStringParameters),
        multiValueQuery: copyMultiMap(event.multiValueQueryStringParameters),
        headers: lowerCaseKeys(event.headers),
        body: decodeBody(event, maxBodyBytes),
        requestId: context.awsRequestId,
        apiKeyId: event.requestContext?.identity?.apiKeyId ?? null,
    };
};

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __corsHeaders(__0) {
  return (function() {
    with({ exports: __cors_1, corsHeaders: __corsHeaders, this: undefined, arguments: undefined }) {

return function /*corsHeaders*/(allowOrigin) {
    const headers = {
        "Access-Control-Allow-Origin": allowOrigin,
        "Access-Control-Expose-Headers": exports.CORS_EXPOSE_HEADERS.join(","),
    };
    // With one specific origin the answer still varies by request for caches in between.
    if (allowOrigin !== "*") {
        headers["Vary"] = "Origin";
    }
    return headers;
};

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __responseCorsHeaders(__0) {
  return (function() {
    with({ cors_1: __cors_1, exports: __adapter_1, responseCorsHeaders: __responseCorsHeaders, this: undefined, arguments: undefined }) {

return function /*responseCorsHeaders*/(allowOrigin) {
    return {
        ...(0, cors_1.corsHeaders)(allowOrigin),
        "Access-Control-Allow-Headers": cors_1.CORS_ALLOW_HEADERS.join(","),
        "Access-Control-Allow-Methods": exports.CORS_ALLOW_METHODS.join(","),
    };
};

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __toLambdaResult(__0, __1) {
  return (function() {
    with({ responseCorsHeaders: __responseCorsHeaders, toLambdaResult: __toLambdaResult, this: undefined, arguments: undefined }) {

return function /*toLambdaResult*/(response, allowOrigin) {
    const headers = { ...responseCorsHeaders(allowOrigin), ...(response.headers ?? {}) };
    if (response.statusCode === 204) {
        return { statusCode: 204, headers, body: "" };
    }
    headers["Content-Type"] = "application/json";
    return { statusCode: response.statusCode, headers, body: JSON.stringify(response.body ?? {}) };
};

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __httpErrorOf(__0) {
  return (function() {
    with({ errors_1: __errors_1, httpErrorOf: __httpErrorOf, this: undefined, arguments: undefined }) {

return function /*httpErrorOf*/(error) {
    switch (error.kind) {
        case "PostNotFound":
            return (0, errors_1.postNotFound)(); // 404
        case "VersionConflict":
            return (0, errors_1.preconditionFailed)(); // 412: If-Match named another version
        case "IdempotencyKeyReused":
            return (0, errors_1.idempotencyKeyReused)(); // 422
        case "IdempotencyInProgress":
            return (0, errors_1.idempotencyInProgress)(error.retryAfterSeconds); // 409 with Retry-After
    }
};

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __writeLog(__0, __1) {
  return (function() {
    with({ writeLog: __writeLog, this: undefined, arguments: undefined }) {

return function /*writeLog*/(record, options) {
    if (options.log) {
        options.log(JSON.stringify(record));
        return;
    }
    const entry = process.env["AWS_LAMBDA_LOG_FORMAT"]?.toUpperCase() === "JSON" ? record : JSON.stringify(record);
    if (record.level === "error") {
        console.error(entry);
    }
    else {
        console.info(entry);
    }
};

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __errorDetail(__0) {
  return (function() {
    with({ errorDetail: __errorDetail, this: undefined, arguments: undefined }) {

return function /*errorDetail*/(error) {
    if (error instanceof Error) {
        return {
            name: error.name,
            message: error.message,
            ...(error.stack === undefined ? {} : { stack: error.stack }),
        };
    }
    return { name: typeof error, message: String(error) };
};

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __respond(__0, __1, __2, __3, __4) {
  return (function() {
    with({ toHttpRequest: __toHttpRequest, exports: __adapter_1, toLambdaResult: __toLambdaResult, storeErrors_1: __storeErrors_1, httpErrorOf: __httpErrorOf, errors_1: __errors_1, writeLog: __writeLog, errorDetail: __errorDetail, respond: __respond, this: undefined, arguments: undefined }) {

return async function /*respond*/(handler, event, context, deps, options) {
    const requestId = context.awsRequestId;
    try {
        const request = toHttpRequest(event, context, options.maxBodyBytes ?? exports.MAX_BODY_BYTES);
        return toLambdaResult(await handler(request, deps), options.allowOrigin);
    }
    catch (thrown) {
        const error = (0, storeErrors_1.isStoreError)(thrown) ? httpErrorOf(thrown) : thrown;
        if ((0, errors_1.isHttpError)(error) && error.statusCode < 500) {
            return toLambdaResult({ statusCode: error.statusCode, headers: error.headers, body: (0, errors_1.errorBody)(error) }, options.allowOrigin);
        }
        writeLog({
            level: "error",
            message: "Unhandled error",
            requestId,
            apiGatewayRequestId: event.requestContext?.requestId ?? null,
            route: `${event.httpMethod} ${event.resource}`,
            error: errorDetail(error),
        }, options);
        return toLambdaResult({ statusCode: 500, body: { message: "Internal server error", requestId } }, options.allowOrigin);
    }
};

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __handleEvent(__0, __1, __2, __3, __4) {
  return (function() {
    with({ respond: __respond, writeLog: __writeLog, handleEvent: __handleEvent, this: undefined, arguments: undefined }) {

return async function /*handleEvent*/(handler, event, context, deps, options) {
    const started = Date.now();
    const result = await respond(handler, event, context, deps, options);
    writeLog({
        level: "info",
        message: "Request",
        requestId: context.awsRequestId,
        apiGatewayRequestId: event.requestContext?.requestId ?? null,
        route: `${event.httpMethod} ${event.resource}`,
        status: result.statusCode,
        latencyMs: Date.now() - started,
        apiKeyId: event.requestContext?.identity?.apiKeyId ?? null,
    }, options);
    return result;
};

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __postIdFrom(__0) {
  return (function() {
    with({ POST_ID: __POST_ID, errors_1: __errors_1, postIdFrom: __postIdFrom, this: undefined, arguments: undefined }) {

return function /*postIdFrom*/(request) {
    const id = request.pathParameters.id;
    if (id === undefined || !POST_ID.test(id)) {
        throw (0, errors_1.postNotFound)();
    }
    return id;
};

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __parseIfMatch(__0) {
  return (function() {
    with({ OUR_ETAG: __OUR_ETAG, ANY_ETAG: __ANY_ETAG, errors_1: __errors_1, parseIfMatch: __parseIfMatch, this: undefined, arguments: undefined }) {

return function /*parseIfMatch*/(request) {
    const header = request.headers["if-match"];
    if (header === undefined) {
        return { kind: "none" };
    }
    const value = header.trim();
    if (value === "*") {
        return { kind: "none" };
    }
    const ours = OUR_ETAG.exec(value);
    if (ours?.[1] !== undefined) {
        return { kind: "version", version: Number(ours[1]) };
    }
    const tags = value.split(",").map((tag) => tag.trim());
    if (tags.every((tag) => ANY_ETAG.test(tag))) {
        const versions = tags.map((tag) => OUR_ETAG.exec(tag)?.[1]).filter((v) => v !== undefined);
        if (tags.length > 1 && versions.length > 0) {
            throw (0, errors_1.badRequest)('If-Match must be a single entity tag such as "3" (lists are not supported)');
        }
        return { kind: "never" };
    }
    throw (0, errors_1.badRequest)('If-Match must be an entity tag such as "3" (the ETag of the post) or *');
};

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __parseJsonObject(__0) {
  return (function() {
    with({ errors_1: __errors_1, parseJsonObject: __parseJsonObject, this: undefined, arguments: undefined }) {

return function /*parseJsonObject*/(body) {
    if (body === null || body.trim() === "") {
        throw (0, errors_1.badRequest)("Request body is required");
    }
    let value;
    try {
        value = JSON.parse(body);
    }
    catch {
        throw (0, errors_1.badRequest)("Request body is not valid JSON");
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
        throw (0, errors_1.badRequest)("Request body must be a JSON object");
    }
    return value;
};

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __etag(__0) {
  return (function() {
    with({ etag: __etag, this: undefined, arguments: undefined }) {

return function /*etag*/(version) {
    return `"${version}"`;
};

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __postResponse(__0, __1) {
  return (function() {
    with({ etag: __etag, postResponse: __postResponse, this: undefined, arguments: undefined }) {

return function /*postResponse*/(statusCode, post, headers = {}) {
    return { statusCode, headers: { ETag: etag(post.version), ...headers }, body: post };
};

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __stopped(__0, __1) {
  return (function() {
    with({ stopped: __stopped, this: undefined, arguments: undefined }) {

return function /*stopped*/(issues, from) {
    for (let i = from; i < issues.length; i++) {
        if (!issues[i].continues) {
            return true;
        }
    }
    return false;
};

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __runUnion(__0, __1, __2) {
  return (function() {
    with({ runPlan: __runPlan, stopped: __stopped, runUnion: __runUnion, this: undefined, arguments: undefined }) {

return function /*runUnion*/(plan, input, issues) {
    const attempts = [];
    for (const option of plan.options) {
        const attempt = [];
        const value = runPlan(option, input, attempt);
        if (attempt.length === 0) {
            return value;
        }
        attempts.push({ value, issues: attempt });
    }
    const open = attempts.filter((attempt) => !stopped(attempt.issues, 0));
    if (open.length === 1) {
        issues.push(...open[0].issues);
        return open[0].value;
    }
    issues.push({
        code: "invalid_union",
        path: [],
        message: plan.error({ code: "invalid_union", input }),
        continues: false,
    });
    return input;
};

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __runStringStep(__0, __1, __2) {
  return (function() {
    with({ runStringStep: __runStringStep, this: undefined, arguments: undefined }) {

return function /*runStringStep*/(step, value, issues) {
    if (step.kind === "transform") {
        return step.apply(value);
    }
    if (step.kind === "refine") {
        if (!step.test(value)) {
            issues.push({
                code: "custom",
                path: [],
                message: step.message({ code: "custom", input: value }),
                continues: !step.abort,
            });
        }
        return value;
    }
    // As zod does: a pattern with the g or y flag keeps state between tests.
    step.pattern.lastIndex = 0;
    if (!step.pattern.test(value)) {
        issues.push({
            code: "invalid_format",
            path: [],
            message: step.message({ code: "invalid_format", input: value }),
            continues: !step.abort,
        });
    }
    return value;
};

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __runString(__0, __1, __2) {
  return (function() {
    with({ stopped: __stopped, runStringStep: __runStringStep, runString: __runString, this: undefined, arguments: undefined }) {

return function /*runString*/(plan, input, issues) {
    if (typeof input !== "string") {
        issues.push({
            code: "invalid_type",
            path: [],
            message: plan.typeError({ code: "invalid_type", expected: "string", input }),
            continues: false,
        });
        return input;
    }
    let value = input;
    const start = issues.length;
    for (const step of plan.steps) {
        if (stopped(issues, start)) {
            break;
        }
        value = runStringStep(step, value, issues);
    }
    return value;
};

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __received(__0) {
  return (function() {
    with({ received: __received, this: undefined, arguments: undefined }) {

return function /*received*/(input) {
    if (input === null) {
        return "null";
    }
    return Array.isArray(input) ? "array" : typeof input;
};

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __withPath(__0, __1, __2) {
  return (function() {
    with({ withPath: __withPath, this: undefined, arguments: undefined }) {

return function /*withPath*/(issues, from, key) {
    for (let i = from; i < issues.length; i++) {
        issues[i].path.unshift(key);
    }
};

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __runFields(__0, __1, __2) {
  return (function() {
    with({ runPlan: __runPlan, withPath: __withPath, runFields: __runFields, this: undefined, arguments: undefined }) {

return function /*runFields*/(fields, source, issues) {
    const output = {};
    for (const [key, field] of fields) {
        const from = issues.length;
        const own = Object.prototype.hasOwnProperty.call(source, key) ? source[key] : undefined;
        const value = runPlan(field, own, issues);
        withPath(issues, from, key);
        if (value !== undefined) {
            output[key] = value;
        }
    }
    return output;
};

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __reportUnknownKeys(__0, __1, __2) {
  return (function() {
    with({ reportUnknownKeys: __reportUnknownKeys, this: undefined, arguments: undefined }) {

return function /*reportUnknownKeys*/(fields, source, issues) {
    const known = new Set(fields.map(([key]) => key));
    const unknown = Object.keys(source).filter((key) => !known.has(key));
    if (unknown.length > 0) {
        const listed = unknown.map((key) => JSON.stringify(key)).join(", ");
        issues.push({
            code: "unrecognized_keys",
            path: [],
            keys: unknown,
            message: `Unrecognized key${unknown.length > 1 ? "s" : ""}: ${listed}`,
            continues: true,
        });
    }
};

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __runObjectRefinements(__0, __1, __2, __3) {
  return (function() {
    with({ stopped: __stopped, runObjectRefinements: __runObjectRefinements, this: undefined, arguments: undefined }) {

return function /*runObjectRefinements*/(refinements, output, issues, start) {
    for (const refinement of refinements) {
        if (stopped(issues, start)) {
            break;
        }
        if (!refinement.test(output)) {
            issues.push({
                code: "custom",
                path: [],
                message: refinement.message({ code: "custom", input: output }),
                continues: !refinement.abort,
            });
        }
    }
};

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __runObject(__0, __1, __2) {
  return (function() {
    with({ received: __received, runFields: __runFields, reportUnknownKeys: __reportUnknownKeys, runObjectRefinements: __runObjectRefinements, runObject: __runObject, this: undefined, arguments: undefined }) {

return function /*runObject*/(plan, input, issues) {
    if (typeof input !== "object" || input === null || Array.isArray(input)) {
        issues.push({
            code: "invalid_type",
            path: [],
            message: `Invalid input: expected object, received ${received(input)}`,
            continues: false,
        });
        return input;
    }
    const source = input;
    const start = issues.length;
    const output = runFields(plan.fields, source, issues);
    if (plan.strict) {
        reportUnknownKeys(plan.fields, source, issues);
    }
    runObjectRefinements(plan.refinements, output, issues, start);
    return output;
};

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __runPlan(__0, __1, __2) {
  return (function() {
    with({ runUnion: __runUnion, runString: __runString, runObject: __runObject, runPlan: __runPlan, this: undefined, arguments: undefined }) {

return function /*runPlan*/(plan, input, issues) {
    switch (plan.kind) {
        case "optional":
            return input === undefined ? undefined : runPlan(plan.inner, input, issues);
        case "default":
            return input === undefined ? plan.value : runPlan(plan.inner, input, issues);
        case "union":
            return runUnion(plan, input, issues);
        case "string":
            return runString(plan, input, issues);
        case "object":
            return runObject(plan, input, issues);
    }
};

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __validate(__0, __1) {
  return (function() {
    with({ runPlan: __runPlan, validate: __validate, this: undefined, arguments: undefined }) {

return function /*validate*/(schema, input) {
    const tracked = [];
    const data = runPlan(schema.plan, input, tracked);
    if (tracked.length > 0) {
        return { success: false, issues: tracked.map(({ continues: _, ...issue }) => issue) };
    }
    return { success: true, data: data };
};

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __fieldErrors(__0, __1) {
  return (function() {
    with({ fieldErrors: __fieldErrors, this: undefined, arguments: undefined }) {

return function /*fieldErrors*/(issues, allowedFields) {
    const errors = [];
    for (const issue of issues) {
        const path = issue.path.map(String);
        if (issue.code === "unrecognized_keys") {
            for (const key of issue.keys ?? []) {
                errors.push({
                    field: [...path, key].join("."),
                    message: `Unknown field; allowed fields are ${allowedFields.join(", ")}`,
                });
            }
        }
        else {
            errors.push({ field: path.length > 0 ? path.join(".") : "body", message: issue.message });
        }
    }
    return errors;
};

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __allowedFields(__0) {
  return (function() {
    with({ allowedFields: __allowedFields, this: undefined, arguments: undefined }) {

return function /*allowedFields*/(plan) {
    return plan.kind === "object" ? plan.fields.map(([key]) => key) : [];
};

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __validateBody(__0, __1) {
  return (function() {
    with({ validate: __validate, errors_1: __errors_1, fieldErrors: __fieldErrors, allowedFields: __allowedFields, validateBody: __validateBody, this: undefined, arguments: undefined }) {

return function /*validateBody*/(schema, body) {
    const result = validate(schema, body);
    if (!result.success) {
        throw (0, errors_1.badRequest)("Request body is invalid", fieldErrors(result.issues, allowedFields(schema.plan)));
    }
    return result.data;
};

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __messageOf(__0) {
  return (function() {
    with({ messageOf: __messageOf, this: undefined, arguments: undefined }) {

return function /*messageOf*/(answer) {
    if (typeof answer === "string") {
        return answer;
    }
    if (typeof answer === "object" &&
        answer !== null &&
        typeof answer.message === "string") {
        return answer.message;
    }
    return undefined;
};

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __f9(__0) {
  return (function() {
    with({ field: "title", this: undefined, arguments: undefined }) {

return (issue) => (issue.input === undefined ? `${field} is required` : `${field} must be a string`);

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __f10(__0) {
  return (function() {
    with({ validate_1: __validate_1, this: undefined, arguments: undefined }) {

return (input) => `Invalid input: expected string, received ${(0, validate_1.received)(input)}`;

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __f8(__0) {
  return (function() {
    with({ messageOf: __messageOf, error: __f9, fallback: __f10, this: undefined, arguments: undefined }) {

return (issue) => messageOf(error?.(issue)) ?? fallback(issue.input);

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __f11(__0) {
  return (function() {
    with({ this: undefined, arguments: undefined }) {

return (input) => input.trim();

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __characterCount(__0) {
  return (function() {
    with({ characterCount: __characterCount, this: undefined, arguments: undefined }) {

return function /*characterCount*/(value) {
    return Array.from(value).length;
};

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __f12(__0) {
  return (function() {
    with({ characterCount: __characterCount, min: 1, max: 200, this: undefined, arguments: undefined }) {

return (value) => {
        const count = characterCount(value);
        return count >= min && count <= max;
    };

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __f13() {
  return (function() {
    with({ fixed: "title must be 1–200 characters after trimming", this: undefined, arguments: undefined }) {

return () => fixed;

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __f14(__0) {
  return (function() {
    with({ UNPAIRED_SURROGATE: __UNPAIRED_SURROGATE, this: undefined, arguments: undefined }) {

return (value) => !UNPAIRED_SURROGATE.test(value);

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __f15() {
  return (function() {
    with({ fixed: "title must be valid Unicode text", this: undefined, arguments: undefined }) {

return () => fixed;

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __f16(__0) {
  return (function() {
    with({ control: __control, this: undefined, arguments: undefined }) {

return (value) => !control.test(value);

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __f17() {
  return (function() {
    with({ fixed: "title must not contain control characters or line breaks", this: undefined, arguments: undefined }) {

return () => fixed;

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __f19(__0) {
  return (function() {
    with({ field: "description", this: undefined, arguments: undefined }) {

return (issue) => (issue.input === undefined ? `${field} is required` : `${field} must be a string`);

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __f20(__0) {
  return (function() {
    with({ validate_1: __validate_1, this: undefined, arguments: undefined }) {

return (input) => `Invalid input: expected string, received ${(0, validate_1.received)(input)}`;

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __f18(__0) {
  return (function() {
    with({ messageOf: __messageOf, error: __f19, fallback: __f20, this: undefined, arguments: undefined }) {

return (issue) => messageOf(error?.(issue)) ?? fallback(issue.input);

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __f21(__0) {
  return (function() {
    with({ characterCount: __characterCount, min: 0, max: 10000, this: undefined, arguments: undefined }) {

return (value) => {
        const count = characterCount(value);
        return count >= min && count <= max;
    };

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __f22() {
  return (function() {
    with({ fixed: "description must be at most 10000 characters", this: undefined, arguments: undefined }) {

return () => fixed;

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __f23(__0) {
  return (function() {
    with({ UNPAIRED_SURROGATE: __UNPAIRED_SURROGATE, this: undefined, arguments: undefined }) {

return (value) => !UNPAIRED_SURROGATE.test(value);

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __f24() {
  return (function() {
    with({ fixed: "description must be valid Unicode text", this: undefined, arguments: undefined }) {

return () => fixed;

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __f25(__0) {
  return (function() {
    with({ control: __0_control, this: undefined, arguments: undefined }) {

return (value) => !control.test(value);

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __f26() {
  return (function() {
    with({ fixed: "description must not contain control characters other than tab and line breaks", this: undefined, arguments: undefined }) {

return () => fixed;

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __f28(__0) {
  return (function() {
    with({ field: "author", this: undefined, arguments: undefined }) {

return (issue) => (issue.input === undefined ? `${field} is required` : `${field} must be a string`);

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __f29(__0) {
  return (function() {
    with({ validate_1: __validate_1, this: undefined, arguments: undefined }) {

return (input) => `Invalid input: expected string, received ${(0, validate_1.received)(input)}`;

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __f27(__0) {
  return (function() {
    with({ messageOf: __messageOf, error: __f28, fallback: __f29, this: undefined, arguments: undefined }) {

return (issue) => messageOf(error?.(issue)) ?? fallback(issue.input);

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __f30(__0) {
  return (function() {
    with({ characterCount: __characterCount, min: 1, max: 100, this: undefined, arguments: undefined }) {

return (value) => {
        const count = characterCount(value);
        return count >= min && count <= max;
    };

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __f31() {
  return (function() {
    with({ fixed: "author must be 1–100 characters after trimming", this: undefined, arguments: undefined }) {

return () => fixed;

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __f32(__0) {
  return (function() {
    with({ UNPAIRED_SURROGATE: __UNPAIRED_SURROGATE, this: undefined, arguments: undefined }) {

return (value) => !UNPAIRED_SURROGATE.test(value);

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __f33() {
  return (function() {
    with({ fixed: "author must be valid Unicode text", this: undefined, arguments: undefined }) {

return () => fixed;

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __f34(__0) {
  return (function() {
    with({ control: __control, this: undefined, arguments: undefined }) {

return (value) => !control.test(value);

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __f35() {
  return (function() {
    with({ fixed: "author must not contain control characters or line breaks", this: undefined, arguments: undefined }) {

return () => fixed;

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __f37(__0) {
  return (function() {
    with({ validate_1: __validate_1, this: undefined, arguments: undefined }) {

return (input) => `Invalid input: expected string, received ${(0, validate_1.received)(input)}`;

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __f36(__0) {
  return (function() {
    with({ messageOf: __messageOf, error: undefined, fallback: __f37, this: undefined, arguments: undefined }) {

return (issue) => messageOf(error?.(issue)) ?? fallback(issue.input);

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __f38() {
  return (function() {
    with({ fallback: "Invalid ISO date", this: undefined, arguments: undefined }) {

return () => fallback;

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __f40(__0) {
  return (function() {
    with({ validate_1: __validate_1, this: undefined, arguments: undefined }) {

return (input) => `Invalid input: expected string, received ${(0, validate_1.received)(input)}`;

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __f39(__0) {
  return (function() {
    with({ messageOf: __messageOf, error: undefined, fallback: __f40, this: undefined, arguments: undefined }) {

return (issue) => messageOf(error?.(issue)) ?? fallback(issue.input);

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __f41() {
  return (function() {
    with({ fallback: "Invalid ISO datetime", this: undefined, arguments: undefined }) {

return () => fallback;

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __f43(__0) {
  return (function() {
    with({ this: undefined, arguments: undefined }) {

return (issue) => issue.input === undefined
            ? "publicationDate is required"
            : "publicationDate must be an ISO-8601 date (2026-11-21) or date-time with offset (2026-11-21T09:30:00Z)";

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __f44() {
  return (function() {
    with({ this: undefined, arguments: undefined }) {

return () => "Invalid input";

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __f42(__0) {
  return (function() {
    with({ messageOf: __messageOf, error: __f43, fallback: __f44, this: undefined, arguments: undefined }) {

return (issue) => messageOf(error?.(issue)) ?? fallback(issue.input);

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __f7(__0, __1) {
  return (function() {
    with({ shared_1: __shared_1, validate_1: __validate_1, postValidators_1: __postValidators_1, this: undefined, arguments: undefined }) {

return async (request, deps) => {
    const id = (0, shared_1.postIdFrom)(request);
    const condition = (0, shared_1.parseIfMatch)(request);
    const input = (0, validate_1.validateBody)(postValidators_1.postValidators.replace, (0, shared_1.parseJsonObject)(request.body));
    return (0, shared_1.postResponse)(200, await deps.store.updatePost(id, input, condition));
};

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

function __f0() {
  return (function() {
    with({ env_1: __env_1, exports: __exports, dynamoClientConfig_1: __dynamoClientConfig_1, postsStore_1: __postsStore_1, tableDesign_1: __tableDesign_1, adapter_1: __adapter_1, handler: __f7, this: undefined, arguments: undefined }) {

return () => {
        const { DynamoDBClient } = require("@aws-sdk/client-dynamodb");
        const { DynamoDBDocument } = require("@aws-sdk/lib-dynamodb");
        const { randomUUID } = require("node:crypto");
        const functionTimeoutSeconds = (0, env_1.requireSecondsEnv)(exports.ENV.functionTimeout);
        // Connection and request timeouts and bounded retries from the function's timeout: a hung
        // database is a logged 500 with requestId, not a Lambda timeout (api/http/dynamoClientConfig.ts).
        const client = new DynamoDBClient((0, dynamoClientConfig_1.dynamoClientConfig)(functionTimeoutSeconds));
        const deps = {
            store: (0, postsStore_1.dynamoPostsStore)({
                db: DynamoDBDocument.from(client, { marshallOptions: { removeUndefinedValues: true } }),
                tableName: (0, env_1.requireEnv)(exports.ENV.tableName),
                now: () => new Date(),
                newId: () => randomUUID(),
                functionTimeoutSeconds,
                listShards: (0, env_1.countEnv)(exports.ENV.listShards, 1, tableDesign_1.MAX_LIST_SHARDS),
            }),
            cursorKey: (0, env_1.requireEnv)(exports.ENV.cursorKey),
        };
        const allowOrigin = (0, env_1.requireEnv)(exports.ENV.corsAllowOrigin);
        return (event, context) => (0, adapter_1.handleEvent)(handler, event, context, deps, { allowOrigin });
    };

    }
  }).apply(undefined, undefined).apply(this, arguments);
}

exports.handler = __f0();