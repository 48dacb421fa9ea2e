// Every API method except OPTIONS requires an API key. Read from the REST API's OpenAPI `body`
// (what awsx generates: swagger 2.0, `security` per operation) and from any stand-alone
// aws.apigateway.Method, so a route added either way is caught before it is deployed.
import { describe, TYPES, type ResourceRule } from "./types";

const HTTP_METHODS = [
    "get",
    "put",
    "post",
    "delete",
    "options",
    "head",
    "patch",
    "trace",
    "x-amazon-apigateway-any-method",
];
const API_KEY_HEADER = "x-api-key";
const FIX = `add \`security: [{"api_key": []}]\` with \`api_key\` an apiKey scheme on the ${API_KEY_HEADER} header (awsx: \`apiKeyRequired: true\` on the route)`;

/* eslint-disable @typescript-eslint/no-explicit-any */

/** Names of the security schemes that are an API key in the x-api-key header (swagger 2.0 or OpenAPI 3). */
function apiKeySchemes(doc: any): Set<string> {
    const schemes: Record<string, any> = {
        ...(doc?.securityDefinitions ?? {}),
        ...(doc?.components?.securitySchemes ?? {}),
    };
    return new Set(
        Object.entries(schemes)
            .filter(
                ([, s]) =>
                    s?.type === "apiKey" && s?.in === "header" && String(s?.name).toLowerCase() === API_KEY_HEADER,
            )
            .map(([name]) => name),
    );
}

/** Problems with one operation's effective `security`, or undefined when it requires a key. */
function securityProblem(security: unknown, schemes: Set<string>): string | undefined {
    if (!Array.isArray(security) || security.length === 0) {
        return "can be called without an API key";
    }
    // Requirements are alternatives: any one that names no API key scheme lets callers in without a key.
    const open = security.find((req) => !Object.keys(req ?? {}).some((name) => schemes.has(name)));
    if (open !== undefined) {
        return `can be called without an API key (security alternative ${JSON.stringify(open)} names no apiKey scheme on the ${API_KEY_HEADER} header)`;
    }
    return undefined;
}

export function openApiKeyViolations(body: unknown): string[] {
    let doc: any = body;
    if (typeof body === "string") {
        try {
            doc = JSON.parse(body);
        } catch {
            return [
                "the API's `body` is not valid JSON, so its routes cannot be checked for API keys: pass a JSON OpenAPI document",
            ];
        }
    }
    if (doc === null || typeof doc !== "object") {
        return [];
    }
    const schemes = apiKeySchemes(doc);
    const violations: string[] = [];
    for (const [path, operations] of Object.entries<any>(doc.paths ?? {})) {
        for (const [method, operation] of Object.entries<any>(operations ?? {})) {
            if (!HTTP_METHODS.includes(method) || method === "options") {
                continue;
            }
            const problem = securityProblem(operation?.security ?? doc.security, schemes);
            if (problem !== undefined) {
                const verb = method === "x-amazon-apigateway-any-method" ? "ANY" : method.toUpperCase();
                violations.push(`${verb} ${path} ${problem}: ${FIX}.`);
            }
        }
    }
    return violations;
}

export const apiKeyRequired: ResourceRule = {
    kind: "resource",
    name: "api-methods-require-api-key",
    description: "Every API Gateway method except OPTIONS requires an API key (x-api-key header).",
    enforcementLevel: "mandatory",
    resourceTypes: [TYPES.restApi, TYPES.method],
    check(resource) {
        if (resource.type === TYPES.restApi) {
            return resource.props["body"] === undefined ? [] : openApiKeyViolations(resource.props["body"]);
        }
        const method = String(resource.props["httpMethod"] ?? "").toUpperCase();
        if (method !== "OPTIONS" && resource.props["apiKeyRequired"] !== true) {
            return [
                `${describe(resource)} (${method || "?"}) can be called without an API key: set \`apiKeyRequired: true\`.`,
            ];
        }
        return [];
    },
};
