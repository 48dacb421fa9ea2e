// Lambda functions behind API Gateway: a timeout the gateway can actually wait for, and a runtime
// chosen on purpose (CallbackFunction's default runtime changes with provider upgrades).
import { describe, TYPES, type ResourceRule, type RuleConfig } from "./types";

/** API Gateway REST integrations give up after 29 s; a longer function timeout only hides hung calls. */
export const DEFAULT_MAX_TIMEOUT_SECONDS = 29;
/** Node.js runtimes AWS Lambda supports (creation and updates) at the time of writing. */
export const DEFAULT_NODE_RUNTIMES = ["nodejs20.x", "nodejs22.x", "nodejs24.x"];

function numberSetting(config: RuleConfig, key: string, fallback: number): number {
    const value = config[key];
    return typeof value === "number" && Number.isFinite(value) ? value : fallback;
}

function listSetting(config: RuleConfig, key: string, fallback: string[]): string[] {
    const value = config[key];
    return Array.isArray(value) && value.every((v) => typeof v === "string") ? value : fallback;
}

export const lambdaTimeout: ResourceRule = {
    kind: "resource",
    name: "lambda-timeout-within-gateway-limit",
    description: `Lambda functions time out within API Gateway's integration limit (${DEFAULT_MAX_TIMEOUT_SECONDS} s by default).`,
    enforcementLevel: "mandatory",
    resourceTypes: [TYPES.function],
    configSchema: {
        properties: {
            maxTimeoutSeconds: { type: "integer", minimum: 1, maximum: 900, default: DEFAULT_MAX_TIMEOUT_SECONDS },
        },
    },
    check(resource, config) {
        const max = numberSetting(config, "maxTimeoutSeconds", DEFAULT_MAX_TIMEOUT_SECONDS);
        const timeout = resource.props["timeout"];
        // Unset means AWS's default of 3 s, which is within the limit.
        if (timeout !== undefined && !(typeof timeout === "number" && timeout <= max)) {
            return [
                `${describe(resource)} has timeout ${JSON.stringify(timeout)} s; API Gateway stops waiting after ${max} s: set \`timeout\` to at most ${max} (posts-api:lambdaTimeout).`,
            ];
        }
        return [];
    },
};

export const lambdaRuntime: ResourceRule = {
    kind: "resource",
    name: "lambda-runtime-supported-node",
    description: `Lambda functions set their runtime explicitly to a supported Node.js version (${DEFAULT_NODE_RUNTIMES.join(", ")}).`,
    enforcementLevel: "mandatory",
    resourceTypes: [TYPES.function],
    configSchema: {
        properties: {
            runtimes: { type: "array", items: { type: "string" }, default: DEFAULT_NODE_RUNTIMES },
        },
    },
    check(resource, config) {
        if (resource.props["packageType"] === "Image") {
            return [];
        }
        const allowed = listSetting(config, "runtimes", DEFAULT_NODE_RUNTIMES);
        const runtime = resource.props["runtime"];
        if (runtime === undefined || runtime === null || runtime === "") {
            return [
                `${describe(resource)} has no explicit runtime: set \`runtime\` to one of ${allowed.join(", ")} so a provider upgrade cannot change it.`,
            ];
        }
        if (!allowed.includes(String(runtime))) {
            return [
                `${describe(resource)} runs ${String(runtime)}, which is not a supported Node.js runtime here: set \`runtime\` to one of ${allowed.join(", ")}.`,
            ];
        }
        return [];
    },
};
