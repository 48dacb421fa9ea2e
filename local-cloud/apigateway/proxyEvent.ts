// The Lambda proxy integration (payload 1.0): the event API Gateway builds from a request, and
// the checks it applies to the function's answer (AWS's guide, "Lambda proxy integrations"; docs/internals.md).
import * as crypto from "node:crypto";
import { parseHeaders, type RequestHeaders } from "./requestHeaders";

/* eslint-disable @typescript-eslint/no-explicit-any */

export interface IncomingRequest {
    method: string;
    /** Raw path after the stage, not decoded, e.g. `/items/abc`. */
    path: string;
    rawQuery: string;
    /** Node's rawHeaders: name, value, name, value... in the client's casing. */
    rawHeaders: string[];
    /** `rawHeaders` parsed, once, by whoever received the request; parsed here when absent. */
    headers?: RequestHeaders;
    body: Buffer;
    sourceIp: string;
    localPort: number;
}

export interface EventTarget {
    apiId: string;
    stage: string;
    deploymentId: string;
    stageVariables: Record<string, string> | null;
    resourcePath: string;
    resourceId: string;
    pathParameters: Record<string, string> | null;
    binaryMediaTypes: string[];
    apiKey?: { value: string; id: string };
    accountId: string;
    requestId: string;
    extendedRequestId: string;
    traceId: string;
    now: Date;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** `21/Nov/2026:09:30:00 +0000` */
export function requestTime(date: Date): string {
    const pad = (n: number) => String(n).padStart(2, "0");
    return `${pad(date.getUTCDate())}/${MONTHS[date.getUTCMonth()]}/${date.getUTCFullYear()}:${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}

/** Random bytes for request ids, drawn 4 KiB at a time (one call into the CSPRNG per 340 ids, not per id). */
const entropy = { pool: Buffer.alloc(0), used: 0 };
function randomBytes(n: number): Buffer {
    if (entropy.used + n > entropy.pool.length) {
        entropy.pool = crypto.randomBytes(4096);
        entropy.used = 0;
    }
    entropy.used += n;
    return entropy.pool.subarray(entropy.used - n, entropy.used);
}

/** API Gateway's extended request id: 16 characters ending in `=`. */
export const newExtendedRequestId = () => randomBytes(12).toString("base64").slice(0, 15) + "=";

export const newTraceId = (now: Date) =>
    `Root=1-${Math.floor(now.getTime() / 1000).toString(16)}-${randomBytes(12).toString("hex")}`;

/** Answers of `isBinary` per list of binary media types and Content-Type (a client sends few distinct types). */
const binaryAnswers = new WeakMap<string[], Map<string | undefined, boolean>>();

/** Does a Content-Type match one of the API's binary media types (`*\/*`, `image/*`, `image/png`)? */
export function isBinary(contentType: string | undefined, binaryMediaTypes: string[]): boolean {
    if (binaryMediaTypes.length === 0) {
        return false;
    }
    let answers = binaryAnswers.get(binaryMediaTypes);
    if (!answers) {
        answers = new Map();
        binaryAnswers.set(binaryMediaTypes, answers);
    }
    let answer = answers.get(contentType);
    if (answer === undefined) {
        answer = matchesBinaryType(contentType, binaryMediaTypes);
        if (answers.size < 256) {
            answers.set(contentType, answer);
        }
    }
    return answer;
}

function matchesBinaryType(contentType: string | undefined, binaryMediaTypes: string[]): boolean {
    // Without a Content-Type API Gateway treats the body as application/json.
    const type = (contentType ?? "application/json").split(";")[0]!.trim().toLowerCase();
    const [major] = type.split("/");
    return binaryMediaTypes.some((pattern) => {
        // OpenAPI escapes the slash ("image~1png") in some tools.
        const p = pattern.replace(/~1/g, "/").toLowerCase();
        return p === "*/*" || p === type || p === `${major}/*`;
    });
}

/**
 * A map keyed by names the client chose (query keys, header names): no prototype, so `constructor`,
 * `__proto__` or `toString` are names like any other, both when looked up and in the event's JSON.
 */
export const nameMap = <T>(): Record<string, T> => Object.create(null) as Record<string, T>;

/** Does a name map (or an object from configuration) hold `name` itself, not through its prototype? */
export const has = (map: object | null | undefined, name: string): boolean =>
    map !== null && map !== undefined && Object.hasOwn(map, name);

/** Query values are URL-decoded; a repeated key keeps its last value in the single map. */
export function parseQuery(rawQuery: string): {
    single: Record<string, string> | null;
    multi: Record<string, string[]> | null;
} {
    if (rawQuery === "") {
        return { single: null, multi: null };
    }
    const single = nameMap<string>();
    const multi = nameMap<string[]>();
    for (const part of rawQuery.split("&")) {
        if (part === "") {
            continue;
        }
        const eq = part.indexOf("=");
        const decode = (s: string) => {
            try {
                return decodeURIComponent(s);
            } catch {
                return s;
            }
        };
        const name = decode(eq < 0 ? part : part.slice(0, eq));
        const value = eq < 0 ? "" : decode(part.slice(eq + 1));
        single[name] = value;
        (multi[name] ??= []).push(value);
    }
    return Object.keys(single).length === 0 ? { single: null, multi: null } : { single, multi };
}

/** Header maps as the event carries them: client casing, no Content-Length, gateway headers added. */
export function eventHeaders(
    request: IncomingRequest,
    target: EventTarget,
    parsed: RequestHeaders = request.headers ?? parseHeaders(request.rawHeaders),
): { single: Record<string, string>; multi: Record<string, string[]> } {
    const single = nameMap<string>();
    const multi = nameMap<string[]>();
    const casing = new Map<string, string>();
    const add = (name: string, value: string) => {
        const lower = name.toLowerCase();
        const key = casing.get(lower) ?? name;
        casing.set(lower, key);
        single[key] = value;
        (multi[key] ??= []).push(value);
    };
    for (const [name, values] of Object.entries(parsed.multi)) {
        if (
            [
                "content-length",
                "x-amzn-trace-id",
                "x-forwarded-for",
                "x-forwarded-port",
                "x-forwarded-proto",
                "connection",
            ].includes(name.toLowerCase())
        ) {
            continue;
        }
        casing.set(name.toLowerCase(), name);
        single[name] = parsed.single[name]!;
        multi[name] = [...values];
    }
    const clientForwarded = parsed.values("x-forwarded-for")?.[0];
    const forwarded = clientForwarded === undefined ? request.sourceIp : `${clientForwarded}, ${request.sourceIp}`;
    add("X-Amzn-Trace-Id", target.traceId);
    add("X-Forwarded-For", forwarded);
    add("X-Forwarded-Port", String(request.localPort));
    add("X-Forwarded-Proto", "http");
    return { single, multi };
}

export function buildProxyEvent(request: IncomingRequest, target: EventTarget): Record<string, unknown> {
    const parsed = request.headers ?? parseHeaders(request.rawHeaders);
    const headers = eventHeaders(request, target, parsed);
    const query = parseQuery(request.rawQuery);
    const header = parsed.get;
    const host = header("host") ?? `127.0.0.1:${request.localPort}`;
    const binary = isBinary(header("content-type"), target.binaryMediaTypes);
    const body =
        request.body.length === 0 ? null : binary ? request.body.toString("base64") : request.body.toString("utf8");
    return {
        resource: target.resourcePath,
        path: request.path,
        httpMethod: request.method,
        headers: headers.single,
        multiValueHeaders: headers.multi,
        queryStringParameters: query.single,
        multiValueQueryStringParameters: query.multi,
        pathParameters: target.pathParameters,
        stageVariables: target.stageVariables,
        requestContext: {
            resourceId: target.resourceId,
            resourcePath: target.resourcePath,
            httpMethod: request.method,
            extendedRequestId: target.extendedRequestId,
            requestTime: requestTime(target.now),
            path: `/${target.stage}${request.path}`,
            accountId: target.accountId,
            protocol: "HTTP/1.1",
            stage: target.stage,
            domainPrefix: host.split(".")[0]!.split(":")[0],
            requestTimeEpoch: target.now.getTime(),
            requestId: target.requestId,
            identity: {
                cognitoIdentityPoolId: null,
                cognitoIdentityId: null,
                apiKey: target.apiKey?.value ?? null,
                principalOrgId: null,
                cognitoAuthenticationType: null,
                userArn: null,
                apiKeyId: target.apiKey?.id ?? null,
                userAgent: header("user-agent") ?? null,
                accountId: null,
                caller: null,
                sourceIp: request.sourceIp,
                accessKey: null,
                cognitoAuthenticationProvider: null,
                user: null,
            },
            domainName: host,
            deploymentId: target.deploymentId,
            apiId: target.apiId,
        },
        body,
        isBase64Encoded: body !== null && binary,
    };
}

export interface ProxyAnswer {
    status: number;
    /** Header name -> values; one value per line on the wire only for Set-Cookie. */
    headers: Record<string, string[]>;
    body: Buffer;
}

const ALLOWED_KEYS = new Set(["statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded"]);

/** Headers API Gateway owns: a function's value for them arrives as `X-Amzn-Remapped-<name>`. */
const REMAPPED = new Set([
    "authorization",
    "connection",
    "content-md5",
    "date",
    "expect",
    "host",
    "max-forwards",
    "proxy-authenticate",
    "server",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "user-agent",
    "via",
    "warn",
    "www-authenticate",
]);

/** RFC 9110 token characters: what a header name may be made of. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** What Node (and HTTP/1.1) lets through in a header value: no control characters, nothing past U+00FF. */
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/**
 * Why a header from the function's answer cannot go on the wire, if it cannot. Unsure what AWS
 * does with such a header (drops it or refuses the answer); the local cloud counts it as a
 * malformed answer (502), so the function's author sees it in the log instead of a lost header.
 */
function unsendableHeader(name: string, value: string): string | undefined {
    if (!HEADER_NAME.test(name)) {
        return `${JSON.stringify(name)} is not a valid header name`;
    }
    if (!HEADER_VALUE.test(value)) {
        return `the value of ${name} holds characters HTTP headers cannot carry (control characters or non-Latin-1 text)`;
    }
    return undefined;
}

const headerValue = (value: unknown): string | undefined =>
    typeof value === "string"
        ? value
        : typeof value === "number" || typeof value === "boolean"
          ? String(value)
          : undefined;

/**
 * The function's answer as the client gets it, or a reason it is malformed (API Gateway then
 * answers 502). `payload` is the JSON the function returned.
 */
export function mapProxyResult(payload: string): ProxyAnswer | { malformed: string } {
    let result: any;
    try {
        result = JSON.parse(payload);
    } catch {
        return { malformed: "the answer is not JSON" };
    }
    if (typeof result !== "object" || result === null || Array.isArray(result)) {
        return { malformed: "the answer is not an object" };
    }
    const extra = Object.keys(result).filter((k) => !ALLOWED_KEYS.has(k));
    if (extra.length > 0) {
        return { malformed: `unexpected field(s) ${extra.join(", ")}` };
    }
    let status = 200;
    if (result.statusCode !== undefined && result.statusCode !== null) {
        const code =
            typeof result.statusCode === "string" && /^\d+$/.test(result.statusCode)
                ? Number(result.statusCode)
                : result.statusCode;
        if (typeof code !== "number" || !Number.isInteger(code) || code < 100 || code > 599) {
            return { malformed: "statusCode is not a number" };
        }
        status = code;
    }
    if (result.body !== undefined && result.body !== null && typeof result.body !== "string") {
        return { malformed: "body is not a string" };
    }
    const headers = nameMap<string[]>();
    const casing = new Map<string, string>();
    /** Adds one header, or says why HTTP cannot carry it. */
    const add = (given: string, value: string): string | undefined => {
        const unsendable = unsendableHeader(given, value);
        if (unsendable !== undefined) {
            return unsendable;
        }
        const lower = given.toLowerCase();
        if (lower === "content-length") {
            // The gateway sends the length of the body it actually sends.
            return undefined;
        }
        const name = REMAPPED.has(lower) ? `X-Amzn-Remapped-${given}` : given;
        const key = casing.get(name.toLowerCase()) ?? name;
        casing.set(name.toLowerCase(), key);
        (headers[key] ??= []).push(value);
        return undefined;
    };
    if (result.multiValueHeaders !== undefined && result.multiValueHeaders !== null) {
        if (typeof result.multiValueHeaders !== "object" || Array.isArray(result.multiValueHeaders)) {
            return { malformed: "multiValueHeaders is not an object" };
        }
        for (const [name, values] of Object.entries<unknown>(result.multiValueHeaders)) {
            if (!Array.isArray(values)) {
                return { malformed: `multiValueHeaders.${name} is not a list` };
            }
            for (const v of values) {
                const text = headerValue(v);
                if (text === undefined) {
                    return { malformed: `multiValueHeaders.${name} holds a value that is not text` };
                }
                const unsendable = add(name, text);
                if (unsendable !== undefined) {
                    return { malformed: `multiValueHeaders: ${unsendable}` };
                }
            }
        }
    }
    if (result.headers !== undefined && result.headers !== null) {
        if (typeof result.headers !== "object" || Array.isArray(result.headers)) {
            return { malformed: "headers is not an object" };
        }
        for (const [name, v] of Object.entries<unknown>(result.headers)) {
            const text = headerValue(v);
            if (text === undefined) {
                return { malformed: `headers.${name} is not text` };
            }
            const unsendable = add(name, text);
            if (unsendable !== undefined) {
                return { malformed: `headers: ${unsendable}` };
            }
        }
    }
    if (!Object.keys(headers).some((h) => h.toLowerCase() === "content-type")) {
        headers["Content-Type"] = ["application/json"];
    }
    const text: string = result.body ?? "";
    const body = result.isBase64Encoded === true ? Buffer.from(text, "base64") : Buffer.from(text, "utf8");
    return { status, headers, body };
}
