// API Gateway access logs: a stage whose `accessLogSettings` has a `format` gets one line per request,
// that format with its `$context.*` variables filled in, appended to `<stateDir>/access.log` and
// handed to the request log (`RequestLog.accessLog`). AWS sends the lines to CloudWatch Logs or
// Firehose (`destinationArn`); locally the file and the console stand in for both.
//
// What the request's variables are made of is gathered in two places: the gateway knows the
// request, the route, the key, the refusal and the integration (`AccessFacts`); the server adds the
// status, the length and the latency once the answer is sent (`AccessOutcome`). `accessLogValues`
// turns both into AWS's variable names, in one table. A variable AWS defines that the local cloud
// cannot fill (authorizers, WAF, Cognito, mutual TLS) and any unknown name become `-`, as on AWS.
//
// Escaping: in a JSON format (one that starts with `{`), a variable inside a quoted string is
// JSON-string-escaped, so a user agent holding `"` or `\` keeps the line valid JSON. A variable
// outside quotes is written as it is (as AWS does, `"status": $context.status` stays a number).
// Line breaks never reach the file: each request is one line.
import * as fs from "node:fs";
import { requestTime } from "./proxyEvent";

/** What the gateway knows of a request by the time it answers. */
export interface AccessFacts {
    requestId: string;
    extendedRequestId: string;
    /** The `X-Amzn-Trace-Id` header's value (`Root=1-...`). */
    traceId: string;
    /** When the request arrived (ms since the epoch). */
    time: number;
    accountId: string;
    apiId: string;
    stage: string;
    deploymentId: string;
    httpMethod: string;
    /** `/{stage}/...`, as `$context.path` shows it. */
    path: string;
    sourceIp: string;
    userAgent?: string;
    /** The Host header. */
    domainName?: string;
    /** The matched resource; unset when no route matched. */
    resourcePath?: string;
    resourceId?: string;
    /** The key that called, when the method required one and the key was valid. */
    apiKey?: string;
    apiKeyId?: string;
    /** Set when the gateway answered by itself (a gateway response). */
    error?: { message: string; responseType: string };
    /** Set once a Lambda integration was called. */
    integration?: {
        latencyMs: number;
        /** Lambda's own status for the invocation (200 when it ran, function errors included). */
        integrationStatus?: number;
        /** The function's `statusCode`, when its answer was a valid proxy answer. */
        status?: number;
        /** The invocation's request id (the function's `context.awsRequestId`). */
        requestId: string;
        error?: string;
    };
}

/** What the server adds once the answer is sent. */
export interface AccessOutcome {
    status: number;
    /** Bytes of the response body sent (0 for HEAD). */
    responseLength: number;
    responseLatencyMs: number;
}

/** The stage's format and what the gateway knew: the server renders it once the answer is out. */
export interface PendingAccessLog {
    format: string;
    facts: AccessFacts;
}

/** Every `$context` variable the local cloud fills, by its name after `$context.`. */
export function accessLogValues(facts: AccessFacts, outcome: AccessOutcome): Map<string, string | number | undefined> {
    const host = facts.domainName;
    const integration = facts.integration;
    const integrationError = integration?.error;
    return new Map<string, string | number | undefined>([
        ["accountId", facts.accountId],
        ["apiId", facts.apiId],
        ["deploymentId", facts.deploymentId],
        ["domainName", host],
        ["domainPrefix", host?.split(".")[0]?.split(":")[0]],
        ["error.message", facts.error?.message],
        ["error.messageString", facts.error ? JSON.stringify(facts.error.message) : undefined],
        ["error.responseType", facts.error?.responseType],
        ["extendedRequestId", facts.extendedRequestId],
        ["httpMethod", facts.httpMethod],
        ["identity.apiKey", facts.apiKey],
        ["identity.apiKeyId", facts.apiKeyId],
        ["identity.sourceIp", facts.sourceIp],
        ["identity.userAgent", facts.userAgent],
        ["path", facts.path],
        ["protocol", "HTTP/1.1"],
        ["requestId", facts.requestId],
        ["requestTime", requestTime(new Date(facts.time))],
        ["requestTimeEpoch", facts.time],
        ["resourceId", facts.resourceId],
        ["resourcePath", facts.resourcePath],
        ["stage", facts.stage],
        ["status", outcome.status],
        ["responseLength", outcome.responseLength],
        ["responseLatency", Math.round(outcome.responseLatencyMs)],
        ["xrayTraceId", facts.traceId.replace(/^Root=/, "")],
        ["awsEndpointRequestId", integration?.requestId],
        ["integrationLatency", integration ? Math.round(integration.latencyMs) : undefined],
        ["integrationStatus", integration?.integrationStatus],
        ["integrationErrorMessage", integrationError],
        ["integration.latency", integration ? Math.round(integration.latencyMs) : undefined],
        ["integration.integrationStatus", integration?.integrationStatus],
        ["integration.status", integration?.status],
        ["integration.requestId", integration?.requestId],
        ["integration.error", integrationError],
    ]);
}

/** A format cut into literal text and variables, each variable knowing whether a JSON string holds it. */
type Part = string | { name: string; jsonQuoted: boolean };

const VARIABLE = /\$context((?:\.[A-Za-z0-9_]+)+)/g;
const compiled = new Map<string, Part[]>();

function compile(format: string): Part[] {
    const cached = compiled.get(format);
    if (cached) {
        return cached;
    }
    const json = format.trimStart().startsWith("{");
    // Where each JSON string starts and ends: a variable between a quote and its closing quote is quoted.
    const quoted: boolean[] = new Array(format.length).fill(false);
    if (json) {
        let inString = false;
        for (let i = 0; i < format.length; i++) {
            const c = format[i];
            quoted[i] = inString;
            if (inString && c === "\\") {
                i++;
                quoted[i] = true;
            } else if (c === '"') {
                inString = !inString;
            }
        }
    }
    const parts: Part[] = [];
    let last = 0;
    for (const match of format.matchAll(VARIABLE)) {
        parts.push(format.slice(last, match.index));
        parts.push({ name: match[1]!.slice(1), jsonQuoted: quoted[match.index] === true });
        last = match.index + match[0].length;
    }
    parts.push(format.slice(last));
    if (compiled.size < 64) {
        compiled.set(format, parts);
    }
    return parts;
}

/** One request's line: `format` with every `$context.*` variable replaced (unknown or unset: `-`). */
export function renderAccessLog(format: string, values: Map<string, string | number | undefined>): string {
    let line = "";
    for (const part of compile(format)) {
        if (typeof part === "string") {
            line += part;
            continue;
        }
        const value = values.get(part.name);
        const text = value === undefined || value === "" ? "-" : String(value);
        line += part.jsonQuoted ? JSON.stringify(text).slice(1, -1) : text;
    }
    // One request, one line, whatever a value or the format held.
    return line.replace(/\r\n|[\r\n\u2028\u2029]/g, " ");
}

/**
 * `<stateDir>/access.log`: opened on the first line (a program without access logs never creates
 * it), appended to, never rewritten. A write that fails (a full disk) loses that line only: the
 * request is served anyway, with one warning until writes work again.
 */
export class AccessLogFile {
    private fd?: number;
    private failing = false;

    constructor(
        readonly file: string,
        private readonly warn: (message: string) => void,
    ) {}

    append(line: string): void {
        try {
            this.fd ??= fs.openSync(this.file, "a");
            fs.writeSync(this.fd, `${line}\n`);
            if (this.failing) {
                this.failing = false;
                this.warn(`${this.file} can be written again`);
            }
        } catch (err) {
            if (!this.failing) {
                this.failing = true;
                this.warn(
                    `${this.file} cannot be written (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): access log lines are lost until it can; requests are still served`,
                );
            }
        }
    }

    close(): void {
        if (this.fd !== undefined) {
            fs.closeSync(this.fd);
            this.fd = undefined;
        }
    }
}
