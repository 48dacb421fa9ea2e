// Every live answer held to the OpenAPI document (api/openapi.ts, the real one, built here once per
// stage from the route table and the zod-generated schemas), with openapi-backend (Ajv) as the
// validator. For a request to a described operation: its status must be one the operation
// documents, every header the document gives that status must be present (names compared
// case-insensitively) and match its schema, and the body must be the documented JSON (parsed
// from the text, validated against the schema), or empty where the status has no content (204).
// Headers the document does not name are allowed: transport and tracing ones (Date, Connection,
// x-amzn-RequestId, X-Amzn-Trace-Id, ...) in particular are never held against an answer.
// A path or method under the stage that the document does not describe must get the 404
// `{"message":"Not found"}` the document promises, and a path of the same server outside the
// stage the 403 `{"message":"Forbidden"}` (the local cloud serves one stage per server). Requests
// to other servers are left alone.
import * as fs from "node:fs";
import * as path from "node:path";
import { isDeepStrictEqual } from "node:util";
import addFormats from "ajv-formats";
import type { ErrorObject } from "ajv";
import OpenAPIBackend, { SetMatchType, type Document, type Operation } from "openapi-backend";
import { call, type HttpResult } from "local-cloud/testing";
import { openApiDocument, type OpenApiDocument } from "../../api/openapi";
import { routes } from "../../api/routes";
import { postJsonSchemas } from "../../api/schema";
import { PROJECT_DIR } from "../../scripts/project";

/* eslint-disable @typescript-eslint/no-explicit-any */

/** What the document promises for a path or method it does not describe, and for an unknown stage. */
export const NOT_FOUND_BODY = { message: "Not found" };
export const FORBIDDEN_BODY = { message: "Forbidden" };

/**
 * Transport and tracing headers: never documented, never required, never held against an answer.
 * (Any header the document does not name is allowed; these are dropped before validation so that
 * even a stricter match would not count them.)
 */
export const TRANSPORT_HEADERS = [
    "date",
    "connection",
    "keep-alive",
    "content-length",
    "transfer-encoding",
    "x-amz-apigw-id",
    "x-amzn-trace-id",
];
const isTransportHeader = (name: string) => TRANSPORT_HEADERS.includes(name) || name.startsWith("x-amzn-");

/** An answer that does not match the document. */
export class OpenApiMismatchError extends Error {
    constructor(
        readonly request: string,
        readonly status: number,
        readonly problems: string[],
        body: string,
    ) {
        super(
            `OpenAPI mismatch: ${request} answered ${status}:\n  - ${problems.join("\n  - ")}\n  body: ${body.length > 500 ? `${body.slice(0, 500)}…` : body || "(empty)"}`,
        );
        this.name = "OpenApiMismatchError";
    }
}

/** How an answer was checked. */
export type CheckOutcome =
    | { kind: "operation"; operationId: string; status: number }
    | { kind: "undescribed"; status: 404 }
    | { kind: "unknown-stage"; status: 403 }
    /** Another server (e.g. the local DynamoDB endpoint): not the API's. */
    | { kind: "unchecked" };

export interface RequestLine {
    method?: string;
    url: string;
}

/** Every answer checked by this process, by what it was checked against ("getPost 200", "undescribed 404", ...). */
export const checkedResponses = { total: 0, by: {} as Record<string, number> };

const version = (JSON.parse(fs.readFileSync(path.join(PROJECT_DIR, "package.json"), "utf8")) as { version: string })
    .version;
const backends = new Map<string, Promise<OpenAPIBackend>>();

/** The document of `stage` as the program describes it: openApiDocument, exactly as scripts/openapi.ts builds it. */
export function documentFor(stage: string): OpenApiDocument {
    return openApiDocument({
        servers: { stage, region: "us-east-1" },
        routes,
        schemas: postJsonSchemas({ target: "openapi-3.0" }),
        version,
    });
}

/** The validator for a stage's document, built (and the document validated as OpenAPI 3) once. */
function backendFor(stage: string): Promise<OpenAPIBackend> {
    let backend = backends.get(stage);
    if (backend === undefined) {
        const api = new OpenAPIBackend({
            definition: documentFor(stage) as unknown as Document,
            // Fail on a document that is not valid OpenAPI instead of warning and validating nothing.
            strict: true,
            // Every problem of an answer in one report, not only the first.
            ajvOpts: { allErrors: true },
            // Formats the generated schemas use (date, date-time, uuid); no format keywords needed.
            customizeAjv: (ajv) => addFormats(ajv, { mode: "full", keywords: false }),
        });
        backend = api.init();
        backends.set(stage, backend);
    }
    return backend;
}

/** The stage's name and path prefix from its URL (`http://127.0.0.1:port/dev/`). */
function stageOf(stageUrl: string): { origin: string; stage: string; prefix: string } {
    const url = new URL(stageUrl);
    const stage = url.pathname.split("/").filter(Boolean)[0];
    if (stage === undefined) {
        throw new Error(`openApiCheck: ${stageUrl} is not a stage URL (http://host:port/{stage}/)`);
    }
    return { origin: url.origin, stage, prefix: `/${stage}` };
}

function describeErrors(errors: ErrorObject[] | null | undefined, where: string): string[] {
    return (errors ?? []).map((e) => {
        const at = e.instancePath === "" ? where : `${where}${e.instancePath}`;
        const extra =
            e.keyword === "additionalProperties"
                ? ` (${String((e.params as { additionalProperty?: string }).additionalProperty)})`
                : "";
        return `${at} ${e.message ?? e.keyword}${extra}`;
    });
}

/** The documented response for a status: the exact code, then `4XX`-style ranges, then `default`. */
function documentedResponse(operation: Operation, status: number): { key: string; response: any } | undefined {
    const responses = (operation.responses ?? {}) as Record<string, any>;
    for (const key of [String(status), `${Math.floor(status / 100)}XX`, "default"]) {
        if (Object.hasOwn(responses, key)) {
            return { key, response: responses[key] };
        }
    }
    return undefined;
}

function plainHeaders(headers: Headers): Record<string, string> {
    const plain: Record<string, string> = {};
    headers.forEach((value, name) => {
        if (!isTransportHeader(name.toLowerCase())) {
            plain[name.toLowerCase()] = value;
        }
    });
    return plain;
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false; error: string } {
    try {
        return { ok: true, value: JSON.parse(text) };
    } catch (err) {
        return { ok: false, error: (err as Error).message };
    }
}

function count(label: string): void {
    checkedResponses.total++;
    checkedResponses.by[label] = (checkedResponses.by[label] ?? 0) + 1;
}

/** A fixed answer the document promises outside its operations (404 undescribed, 403 unknown stage). */
function expectFixed(request: string, result: HttpResult, status: number, body: unknown, why: string): void {
    const problems: string[] = [];
    if (result.status !== status) {
        problems.push(`${why}: the document promises ${status}, got ${result.status}`);
    }
    const parsed = parseJson(result.text);
    if (!parsed.ok || !isDeepStrictEqual(parsed.value, body)) {
        problems.push(`${why}: the document promises the body ${JSON.stringify(body)}`);
    }
    if (problems.length > 0) {
        throw new OpenApiMismatchError(request, result.status, problems, result.text);
    }
}

/**
 * Checks one answer against the document of the stage at `stageUrl`. Resolves with what it was
 * checked against; rejects with an OpenApiMismatchError naming the request, the operation, the
 * status and every problem found.
 */
export async function checkResponse(stageUrl: string, request: RequestLine, result: HttpResult): Promise<CheckOutcome> {
    const { origin, stage, prefix } = stageOf(stageUrl);
    const url = new URL(request.url);
    const method = (request.method ?? "GET").toUpperCase();
    const line = `${method} ${url.pathname}${url.search}`;
    if (url.origin !== origin) {
        return { kind: "unchecked" };
    }
    if (url.pathname !== prefix && !url.pathname.startsWith(`${prefix}/`)) {
        expectFixed(line, result, 403, FORBIDDEN_BODY, `not under stage "${stage}" (an unknown stage)`);
        count("unknown stage 403");
        return { kind: "unknown-stage", status: 403 };
    }
    const api = await backendFor(stage);
    const pathInStage = url.pathname.slice(prefix.length) || "/";
    const operation = api.matchOperation({ method, path: pathInStage, headers: {} });
    if (operation === undefined || operation.operationId === undefined) {
        expectFixed(line, result, 404, NOT_FOUND_BODY, `${method} ${pathInStage} is not an operation of the document`);
        count("undescribed 404");
        return { kind: "undescribed", status: 404 };
    }
    const operationId = operation.operationId;
    const name = `${line} (${operationId}: ${operation.method.toUpperCase()} ${operation.path})`;
    const documented = documentedResponse(operation, result.status);
    if (documented === undefined) {
        throw new OpenApiMismatchError(
            name,
            result.status,
            [
                `status ${result.status} is not documented for ${operationId} (documented: ${Object.keys(operation.responses ?? {}).join(", ")})`,
            ],
            result.text,
        );
    }
    const problems: string[] = [];

    // Headers: every documented one present and valid; undocumented ones allowed.
    const headers = api.validateResponseHeaders(plainHeaders(result.headers), operation, {
        statusCode: result.status,
        setMatchType: SetMatchType.Superset,
    });
    for (const e of headers.errors ?? []) {
        const header = e.instancePath.replace(/^\/headers\/?/, "");
        problems.push(
            header === "" ? `headers ${e.message ?? e.keyword}` : `header ${header} ${e.message ?? e.keyword}`,
        );
    }

    // Body: the documented JSON, or nothing.
    const content = documented.response.content as Record<string, { schema?: unknown }> | undefined;
    if (content === undefined || Object.keys(content).length === 0) {
        if (result.text !== "") {
            problems.push(`status ${result.status} has no documented body, got ${result.text.length} characters`);
        }
    } else {
        const mediaType = (result.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
        if (!Object.hasOwn(content, mediaType)) {
            problems.push(
                `Content-Type "${result.headers.get("content-type") ?? ""}" is not documented (documented: ${Object.keys(content).join(", ")})`,
            );
        }
        const validators = api.validator.getStatusBasedResponseValidatorForOperation(operationId) ?? {};
        if (content["application/json"]?.schema === undefined || validators[documented.key] === undefined) {
            problems.push(`status ${documented.key} documents no application/json schema to validate against`);
        }
        const parsed = parseJson(result.text);
        if (!parsed.ok) {
            problems.push(`body is not JSON (${parsed.error})`);
        } else {
            const body = api.validateResponse(parsed.value, operation, result.status);
            problems.push(...describeErrors(body.errors, "body"));
        }
    }
    if (problems.length > 0) {
        throw new OpenApiMismatchError(name, result.status, problems, result.text);
    }
    count(`${operationId} ${result.status}`);
    return { kind: "operation", operationId, status: result.status };
}

export type Call = typeof call;
export type CheckedCall = Call & {
    /** Answers checked through this function (undescribed 404s and unknown-stage 403s included). */
    readonly checked: number;
};

/**
 * `call` from local-cloud/testing, with every answer from the stage's server checked by
 * `checkResponse` before it is returned (a mismatch rejects the call).
 */
export function checkedCall(stageUrl: string | (() => string)): CheckedCall {
    let checked = 0;
    const checkedFn = async (url: string, init: Parameters<Call>[1] = {}) => {
        const result = await call(url, init);
        const outcome = await checkResponse(
            typeof stageUrl === "function" ? stageUrl() : stageUrl,
            { method: init.method, url },
            result,
        );
        if (outcome.kind !== "unchecked") {
            checked++;
        }
        return result;
    };
    return Object.defineProperty(checkedFn, "checked", { get: () => checked }) as CheckedCall;
}
