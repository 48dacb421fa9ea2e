// API Gateway's own answers (403, 429, 502, ...): AWS's defaults, overridden by the API's
// `x-amazon-apigateway-gateway-responses` the way the deployed API would be, with the tiny part of
// the mapping-template language those overrides use.

/* eslint-disable @typescript-eslint/no-explicit-any */

export type GatewayResponseType =
    | "MISSING_AUTHENTICATION_TOKEN"
    | "INVALID_API_KEY"
    | "ACCESS_DENIED"
    | "THROTTLED"
    | "QUOTA_EXCEEDED"
    | "REQUEST_TOO_LARGE"
    | "API_CONFIGURATION_ERROR"
    | "INTEGRATION_FAILURE"
    | "INTEGRATION_TIMEOUT"
    | "DEFAULT_5XX";

interface Default {
    status: number;
    message: string;
    errorType: string;
}

/**
 * AWS's answer for each case when the API overrides nothing. The 413 message and error type are
 * unsure (not confirmed against AWS); a Lambda failure (throw, timeout, malformed answer) is a
 * DEFAULT_5XX 502, as API Gateway has no more specific type for it.
 */
export const GATEWAY_DEFAULTS: Record<GatewayResponseType, Default> = {
    MISSING_AUTHENTICATION_TOKEN: {
        status: 403,
        message: "Missing Authentication Token",
        errorType: "MissingAuthenticationTokenException",
    },
    INVALID_API_KEY: { status: 403, message: "Forbidden", errorType: "ForbiddenException" },
    // A cache invalidation refused by FAIL_WITH_403 (stageCache.ts); AWS documents only the status.
    ACCESS_DENIED: { status: 403, message: "Unauthorized", errorType: "AccessDeniedException" },
    THROTTLED: { status: 429, message: "Too Many Requests", errorType: "TooManyRequestsException" },
    QUOTA_EXCEEDED: { status: 429, message: "Limit Exceeded", errorType: "LimitExceededException" },
    REQUEST_TOO_LARGE: { status: 413, message: "Request Too Long", errorType: "RequestTooLargeException" },
    API_CONFIGURATION_ERROR: {
        status: 500,
        message: "Internal server error",
        errorType: "InternalServerErrorException",
    },
    INTEGRATION_FAILURE: { status: 502, message: "Internal server error", errorType: "InternalServerErrorException" },
    INTEGRATION_TIMEOUT: {
        status: 504,
        message: "Endpoint request timed out",
        errorType: "InternalServerErrorException",
    },
    DEFAULT_5XX: { status: 502, message: "Internal server error", errorType: "InternalServerErrorException" },
};

/**
 * AWS's own bodies differ by class: 4XX `{"message":"Forbidden"}`, 5XX `{"message": "Internal server error"}`
 * (with a space).
 */
export const defaultBody = (status: number, message: string) =>
    status >= 500 ? `{"message": ${JSON.stringify(message)}}` : `{"message":${JSON.stringify(message)}}`;

/** What a template or a parameter mapping can read about the request. */
export interface TemplateContext {
    context: Record<string, any>;
    request: { headers: Record<string, string>; query: Record<string, string>; path: Record<string, string> };
}

/** Own properties only: `$context.requestId.constructor` renders empty, not a function's source. */
function lookup(root: any, dotted: string): any {
    return dotted
        .split(".")
        .reduce(
            (value, part) =>
                typeof value === "object" && value !== null && Object.hasOwn(value, part) ? value[part] : undefined,
            root,
        );
}

/**
 * The subset of Velocity used by gateway-response and MOCK templates: `$context.a.b` and
 * `${context.a.b}` references (unknown ones render empty). No directives.
 */
export function renderTemplate(template: string, ctx: TemplateContext): string {
    return template.replace(
        /\$(?:\{([A-Za-z][\w.]*)\}|([A-Za-z][\w]*(?:\.[A-Za-z_][\w]*)*))/g,
        (_match, braced: string | undefined, bare: string | undefined) => {
            const name = braced ?? bare!;
            const [root, ...rest] = name.split(".");
            if (root !== "context") {
                return "";
            }
            const value = lookup(ctx.context, rest.join("."));
            return value === undefined || value === null ? "" : String(value);
        },
    );
}

/** `'literal'`, `method.request.header.Name`, `method.request.querystring.name`, `method.request.path.name`. */
export function mapParameter(expression: string, ctx: TemplateContext): string | undefined {
    const literal = /^'(.*)'$/s.exec(expression);
    if (literal) {
        return literal[1];
    }
    const source = /^method\.request\.(header|querystring|path)\.(.+)$/.exec(expression);
    if (source) {
        const [, where, name] = source;
        if (where === "header") {
            const wanted = name!.toLowerCase();
            return Object.entries(ctx.request.headers).find(([k]) => k.toLowerCase() === wanted)?.[1];
        }
        const values = where === "querystring" ? ctx.request.query : ctx.request.path;
        return Object.hasOwn(values, name!) ? values[name!] : undefined;
    }
    const context = /^context\.(.+)$/.exec(expression);
    if (context) {
        const value = lookup(ctx.context, context[1]!);
        return value === undefined ? undefined : String(value);
    }
    return undefined;
}

export interface RenderedResponse {
    status: number;
    headers: Record<string, string>;
    body: string;
}

/** Headers from `<prefix>.header.Name` parameter mappings. */
export function mappedHeaders(
    parameters: Record<string, string> | undefined,
    prefix: string,
    ctx: TemplateContext,
): Record<string, string> {
    const headers: Record<string, string> = Object.create(null);
    for (const [target, expression] of Object.entries(parameters ?? {})) {
        if (target.startsWith(`${prefix}.header.`)) {
            const value = mapParameter(expression, ctx);
            if (value !== undefined) {
                headers[target.slice(`${prefix}.header.`.length)] = value;
            }
        }
    }
    return headers;
}

/**
 * The gateway's answer of one type for this API: the type's own override if the API has one,
 * otherwise DEFAULT_4XX or DEFAULT_5XX (whose statusCode, when set, applies to the whole class),
 * otherwise AWS's default. An override without a template keeps AWS's default template.
 */
export function gatewayResponse(
    type: GatewayResponseType,
    overrides: Record<string, any>,
    ctx: TemplateContext,
    defaults: Partial<Default> = {},
): RenderedResponse & { errorType: string } {
    const fallback = { ...GATEWAY_DEFAULTS[type], ...defaults };
    const text = fallback.message;
    const own = Object.hasOwn(overrides, type) ? overrides[type] : undefined;
    const classType = fallback.status >= 500 ? "DEFAULT_5XX" : "DEFAULT_4XX";
    const classDefault = Object.hasOwn(overrides, classType) ? overrides[classType] : undefined;
    const override = own ?? classDefault;
    const status = Number(own?.statusCode ?? classDefault?.statusCode ?? fallback.status);
    const headers = { "Content-Type": "application/json" };
    if (!override) {
        return { status, headers, body: defaultBody(status, text), errorType: fallback.errorType };
    }
    const context = {
        ...ctx,
        context: { ...ctx.context, error: { message: text, messageString: JSON.stringify(text), responseType: type } },
    };
    const templates: Record<string, string> = override.responseTemplates ?? {};
    const template =
        (Object.hasOwn(templates, "application/json") ? templates["application/json"] : Object.values(templates)[0]) ??
        '{"message":$context.error.messageString}';
    return {
        status,
        headers: { ...headers, ...mappedHeaders(override.responseParameters, "gatewayresponse", context) },
        body: renderTemplate(template, context),
        errorType: fallback.errorType,
    };
}
