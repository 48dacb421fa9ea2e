// Every API Gateway stage writes an access log line per request, as JSON, naming the request, the
// caller's API key and the status: so "who called, and what did they get" can always be answered
// (from CloudWatch Logs Insights), also for the requests API Gateway refuses itself (403, 429).
import { describe, TYPES, type ResourceRule } from "./types";

/** The `$context` variables every access log line must carry, and what each answers. */
export const REQUIRED_ACCESS_LOG_VARIABLES: readonly { variable: string; field: string; what: string }[] = [
    { variable: "$context.requestId", field: "requestId", what: "which request" },
    { variable: "$context.identity.apiKeyId", field: "apiKeyId", what: "which API key called" },
    { variable: "$context.status", field: "status", what: "what status it got" },
];

const FIX_FORMAT =
    "use a JSON object with one field per `$context` variable, each value quoted (api/accessLog.ts ACCESS_LOG_FORMAT)";

/** Every string value inside a parsed JSON value (object values, array items, at any depth). */
function stringValues(value: unknown): string[] {
    if (typeof value === "string") {
        return [value];
    }
    if (Array.isArray(value)) {
        return value.flatMap(stringValues);
    }
    if (value !== null && typeof value === "object") {
        return Object.values(value).flatMap(stringValues);
    }
    return [];
}

/** True when `text` names `variable` itself (`$context.status`, not `$context.statusX`). */
function names(text: string, variable: string): boolean {
    const escaped = variable.replace(/[.$]/g, (c) => `\\${c}`);
    return new RegExp(`${escaped}(?![A-Za-z0-9_])`).test(text);
}

/** Problems with an access log `format`, each phrased to follow "the access log format ". */
export function accessLogFormatProblems(format: unknown): string[] {
    if (typeof format !== "string" || format.trim() === "") {
        return [`is empty: ${FIX_FORMAT}`];
    }
    let parsed: unknown;
    try {
        parsed = JSON.parse(format);
    } catch {
        return [
            `is not JSON (${JSON.stringify(format.length > 80 ? `${format.slice(0, 77)}...` : format)}), so Logs Insights cannot query its fields: ${FIX_FORMAT}`,
        ];
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
        return [`is JSON but not an object: ${FIX_FORMAT}`];
    }
    const values = stringValues(parsed);
    const missing = REQUIRED_ACCESS_LOG_VARIABLES.filter(({ variable }) => !values.some((v) => names(v, variable)));
    if (missing.length === 0) {
        return [];
    }
    return [
        `lacks ${missing.map((m) => `${m.variable} (${m.what})`).join(", ")}: add ${missing.map((m) => `"${m.field}": "${m.variable}"`).join(", ")}`,
    ];
}

export const stageAccessLog: ResourceRule = {
    kind: "resource",
    name: "api-stage-json-access-log",
    description:
        "Every API Gateway stage writes a JSON access log (accessLogSettings) with the request id, the caller's API key id and the status.",
    enforcementLevel: "mandatory",
    resourceTypes: [TYPES.stage],
    check(resource) {
        const where = describe(resource);
        const settings = resource.props["accessLogSettings"];
        if (settings === undefined || settings === null) {
            return [
                `${where} writes no access log, so who called and what they got cannot be answered: set \`accessLogSettings: { destinationArn: <log group ARN>, format: <JSON> }\` (api/postsApi.ts, api/accessLog.ts).`,
            ];
        }
        const violations: string[] = [];
        // The format first: it is a plain value, known in a preview of a new stack, while the
        // destination (a log group's ARN) is not. In CrossGuard, reading an unknown value throws and
        // turns the whole rule into an advisory "cannot run during preview"; so the destination is
        // read last, and a value still unknown counts as set (the update checks it again).
        for (const problem of accessLogFormatProblems(settings["format"])) {
            violations.push(`${where} access log format ${problem}.`);
        }
        let destination: unknown;
        try {
            destination = "destinationArn" in settings ? settings["destinationArn"] : undefined;
        } catch {
            destination = "(known after the update)";
        }
        if (typeof destination !== "string" || destination === "") {
            violations.push(
                `${where} has accessLogSettings without a destinationArn: set it to the ARN of the log group (or Firehose stream) the access log goes to.`,
            );
        }
        return violations;
    },
};
