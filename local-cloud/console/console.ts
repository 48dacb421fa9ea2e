// The local console: a few pages in the browser, served by the local cloud on its own port under
// CONSOLE_PATH (`/_local/` unless moved), for what a terminal shows badly:
//   - Reference: the stack's OpenAPI document in Swagger UI (swagger-ui-dist, served from
//     node_modules), pointed at the local stage, with a consumer's API key filled in, so "try it"
//     sends real requests through the local gateway (403s and 429s included);
//   - Consumers: each API key's plan, key, throttle and quota used in the current period, read by the
//     page from the control plane (controlPlane.ts) on the same origin;
//   - Live requests: the request log as it happens (feed.ts: Server-Sent Events), with the function's
//     log lines of a 5xx;
//   - Stack: routes and their functions, tables, outputs (secret ones masked) and warnings.
// The page is plain HTML, CSS and JavaScript in static/ (no build step, no framework, nothing fetched
// from outside: its Content-Security-Policy allows this origin only). This module answers the page's
// files and its JSON and event endpoints under `api/`; it never reads a program of its own: what it
// shows comes from the running cloud (`attach`) and the options (`openApiDocument`).
//
// Why a path on the API's own port and not a port of its own: one thing to bind, print and find, as
// for the control plane. Unlike the control plane's `/.aws`, the console's first segment is a valid
// stage name, so a program's stage could be named like it: the start (and a reload) refuses that
// (`checkConsolePath`) instead of letting one hide the other.
//
// Loopback only: the page shows key values (GetApiKeys with includeValues). Whatever `host` the
// cloud listens on, the console answers only peers on this machine, and only under a loopback host
// name, so a web page elsewhere cannot reach it through DNS rebinding (the control plane's rule,
// `isLocalCaller`).
import * as fs from "node:fs";
import type * as http from "node:http";
import * as path from "node:path";
import { CONTROL_PLANE_PATH, isLocalCaller } from "../apigateway/controlPlane";
import { TYPES } from "../program/resourceTypes";
import { runtimeWarnings } from "../lambda/runtimeCheck";
import type { LocalCloud, Settings } from "../types";
import type { ConsoleSettings } from "./consolePath";
import { RequestFeed } from "./feed";

// The path's rules live in consolePath.ts; named here too, for the console's callers and tests.
export { checkConsolePath, DEFAULT_CONSOLE_PATH, normalizeConsolePath, type ConsoleSettings } from "./consolePath";
export type { ConsoleStage, OpenApiDocumentSource } from "../types";

/* eslint-disable @typescript-eslint/no-explicit-any */

/**
 * A request header the console's page sends with its own control-plane reads: the server leaves those
 * out of the request log, or the page's refresh every few seconds would print a line each time in
 * `npm start`'s terminal and fill the live table with the console's own traffic.
 */
export const CONSOLE_HEADER = "x-local-console";

/** What the console reads of the running cloud: its handle, whose getters follow reloads. */
export type ConsoleView = Pick<
    LocalCloud,
    | "stack"
    | "url"
    | "port"
    | "controlPlaneUrl"
    | "stageUrls"
    | "program"
    | "model"
    | "outputs"
    | "secretOutputs"
    | "routes"
> &
    Partial<Pick<LocalCloud, "capacity">>;

/** Files of static/ the page loads, by the name it asks for. */
const OWN_FILES: Record<string, string> = {
    "": "index.html",
    "console.js": "console.js",
    "console.css": "console.css",
};
/** Files of swagger-ui-dist the reference loads (under `vendor/swagger-ui/`); nothing else of the package is served. */
const SWAGGER_FILES = new Set(["swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png"]);
const CONTENT_TYPES: Record<string, string> = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".png": "image/png",
};
/**
 * This origin only: the page and Swagger UI load nothing from elsewhere, and a CDN link slipped in
 * would fail loudly (the browser tests fail on any console error). Swagger UI sets inline styles.
 */
const CONTENT_SECURITY_POLICY =
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; font-src 'self' data:; frame-ancestors 'none'; base-uri 'self'; form-action 'self'";

const SECRET = "[secret]";
const isLoopbackAddress = (host: string) => host === "localhost" || host === "::1" || /^127\./.test(host);
/** Warnings of the start and reloads shown on the Stack panel (the newest, if there are more). */
const WARNING_LIMIT = 100;

export class LocalConsole {
    readonly feed = new RequestFeed();
    private readonly warnings: string[] = [];
    private view?: ConsoleView;
    private readonly swaggerDir: string | undefined;
    /**
     * The Reference panel's answers (JSON text) by the stage asked for, made for `referencesOf`: twenty
     * page loads at once build and serialize the document once, not twenty times on the serving thread.
     */
    private readonly references = new Map<string, Promise<string | undefined>>();
    private referencesOf?: ConsoleView["program"];

    /**
     * `host`: where the cloud listens (a warning when not loopback); `now`: its clock, whose day the Consumers panel
     * asks usage for.
     */
    constructor(
        readonly settings: ConsoleSettings,
        private readonly host: string,
        private readonly now: () => number,
    ) {
        try {
            this.swaggerDir = path.dirname(require.resolve("swagger-ui-dist/package.json"));
        } catch {
            // Not installed: the page still works, its Reference panel says what is missing.
            this.swaggerDir = undefined;
        }
    }

    /** The settings with the request log, function log, warnings and reloads also going to the console. */
    tap(settings: Settings): Settings {
        const quietly = (f: () => void) => {
            try {
                f();
            } catch {
                // The console must never cost a request its answer or a log line.
            }
        };
        return {
            ...settings,
            onRequest: (entry) => {
                quietly(() => this.feed.record(entry));
                settings.onRequest?.(entry);
            },
            functionLog: (line) => {
                quietly(() => this.feed.functionLog(line));
                settings.functionLog(line);
            },
            warn: (message) => {
                quietly(() => this.noteWarning(message));
                settings.warn(message);
            },
            onReload: (report) => {
                quietly(() => {
                    if (!report.ok) {
                        this.noteWarning(
                            `reload failed, still serving the last good version: ${report.error instanceof Error ? report.error.message : String(report.error)}`,
                        );
                    }
                    this.feed.notify("reload", { ok: report.ok, changes: report.changes });
                });
                settings.onReload(report);
            },
        };
    }

    /** The running cloud, once started: what the panels show. */
    attach(view: ConsoleView): void {
        this.view = view;
    }

    /** Whether a request path is the console's (the path itself, with or without its last slash). */
    owns(requestPath: string): boolean {
        return requestPath.startsWith(this.settings.path) || requestPath === this.settings.path.slice(0, -1);
    }

    /** Answers one request under the console path. Never throws; a failure is a 500 with its message. */
    handle(
        req: http.IncomingMessage,
        res: http.ServerResponse,
        method: string,
        requestPath: string,
        rawQuery: string,
    ): void {
        this.answer(req, res, method, requestPath, rawQuery).catch((err) => {
            if (!res.headersSent) {
                sendJson(res, 500, { message: `the local console failed: ${(err as Error)?.message ?? String(err)}` });
            } else if (!res.writableEnded) {
                res.destroy();
            }
        });
    }

    close(): void {
        this.feed.close();
    }

    private noteWarning(message: string): void {
        if (!this.warnings.includes(message)) {
            this.warnings.push(message);
            this.warnings.splice(0, Math.max(0, this.warnings.length - WARNING_LIMIT));
        }
    }

    private async answer(
        req: http.IncomingMessage,
        res: http.ServerResponse,
        method: string,
        requestPath: string,
        rawQuery: string,
    ): Promise<void> {
        // The control plane's own rule (it hands out key values too): this machine, by a loopback name.
        if (!isLocalCaller(req.socket.remoteAddress, req.headers.host)) {
            sendText(
                res,
                403,
                "The local console answers only this machine, at a loopback address such as http://127.0.0.1:<port>/ (it shows API key values).\n",
            );
            return;
        }
        if (method !== "GET" && method !== "HEAD") {
            res.setHeader("Allow", "GET, HEAD");
            sendJson(res, 405, { message: `The local console only reads: ${method} is not allowed` });
            return;
        }
        if (!requestPath.startsWith(this.settings.path)) {
            // The path without its last slash: the page's relative links need the slash.
            res.writeHead(308, { Location: `${this.settings.path}${rawQuery === "" ? "" : `?${rawQuery}`}` }).end();
            return;
        }
        const view = this.view;
        if (!view) {
            sendJson(res, 503, { message: "the local cloud is still starting" });
            return;
        }
        const rest = requestPath.slice(this.settings.path.length);
        const query = new URLSearchParams(rawQuery);
        if (rest === "api/overview") {
            sendJson(res, 200, this.overview(view));
        } else if (rest === "api/openapi") {
            const found = await this.referenceText(view, query.get("stage") ?? undefined);
            if (found === undefined) {
                sendJson(res, 404, { message: `No stage ${JSON.stringify(query.get("stage"))} in this program` });
            } else {
                sendJsonText(res, 200, found);
            }
        } else if (rest === "api/capacity" && view.capacity) {
            // DynamoDB units per table, index and partition (dynamoCapacity.ts), for the Stack panel.
            sendJson(res, 200, view.capacity());
        } else if (rest === "api/events") {
            this.feed.subscribe(req, res);
        } else if (rest.startsWith("api/requests/")) {
            const detail = this.feed.detail(decodeURIComponent(rest.slice("api/requests/".length)));
            sendJson(
                res,
                detail ? 200 : 404,
                detail ?? { message: `Request not among the last ${this.feed.recent().length} kept` },
            );
        } else if (Object.hasOwn(OWN_FILES, rest)) {
            await sendFile(res, method, path.join(__dirname, "static", OWN_FILES[rest]!));
        } else if (
            rest.startsWith("vendor/swagger-ui/") &&
            SWAGGER_FILES.has(rest.slice("vendor/swagger-ui/".length)) &&
            this.swaggerDir
        ) {
            await sendFile(res, method, path.join(this.swaggerDir, rest.slice("vendor/swagger-ui/".length)));
        } else {
            sendJson(res, 404, { message: `Nothing at ${requestPath} in the local console` });
        }
    }

    /** The Stack panel, and the names the other panels need (key ids to consumers, stages). */
    private overview(view: ConsoleView): unknown {
        const model = view.model;
        const stageUrls = view.stageUrls;
        const warnings = [...runtimeWarnings(model.functions), ...this.warnings];
        if (!isLoopbackAddress(this.host)) {
            warnings.unshift(
                `The API listens on ${this.host} (--host): other machines can call its stages; the console and the control plane answer this machine only.`,
            );
        }
        return {
            stack: view.stack,
            url: view.url,
            consolePath: this.settings.path,
            controlPlanePath: CONTROL_PLANE_PATH,
            controlPlaneUrl: view.controlPlaneUrl,
            consoleHeader: CONSOLE_HEADER,
            node: process.versions.node,
            // The cloud's clock (tests may move it): the page asks GetUsage for the days around it.
            now: this.now(),
            region: model.region,
            stages: model.restApis.flatMap((api) =>
                api.stages.map((stage) => ({
                    name: stage.name,
                    api: api.logicalName,
                    apiId: api.id,
                    url: stageUrls[stage.name],
                    accessLog: stage.accessLog !== undefined,
                })),
            ),
            routes: view.routes,
            functions: model.functions.map((f) => ({
                logicalName: f.logicalName,
                name: f.name,
                runtime: f.runtime,
                handler: f.handler,
                timeoutSeconds: f.timeoutSeconds,
                memorySize: f.memorySize,
            })),
            tables: model.tables.map((t) => ({
                logicalName: t.logicalName,
                name: t.name,
                hashKey: t.hashKey,
                rangeKey: t.rangeKey,
                indexes: [
                    ...t.globalSecondaryIndexes.map((i) => ({
                        kind: "GSI",
                        name: i.name,
                        hashKey: i.hashKey,
                        rangeKey: i.rangeKey,
                    })),
                    ...t.localSecondaryIndexes.map((i) => ({
                        kind: "LSI",
                        name: i.name,
                        hashKey: t.hashKey,
                        rangeKey: i.rangeKey,
                    })),
                ],
            })),
            outputs: Object.keys(view.outputs)
                .sort()
                .map((name) => {
                    const secret = view.secretOutputs.includes(name);
                    return { name, secret, value: secret ? SECRET : view.outputs[name] };
                }),
            // Ids to names only: key values are the control plane's to give (the Consumers panel asks it).
            apiKeys: model.apiKeys.map((k) => ({
                logicalName: k.logicalName,
                id: k.id,
                name: k.name ?? k.logicalName,
                enabled: k.enabled,
            })),
            usagePlans: model.usagePlans.map((p) => ({
                logicalName: p.logicalName,
                id: p.id,
                name: p.name ?? p.logicalName,
            })),
            warnings,
        };
    }

    /** `reference` as JSON text, made once per stage and program version (and shared while it is made). */
    private referenceText(view: ConsoleView, stageName: string | undefined): Promise<string | undefined> {
        if (this.referencesOf !== view.program) {
            this.references.clear();
            this.referencesOf = view.program;
        }
        const key = stageName ?? "";
        let text = this.references.get(key);
        if (text === undefined) {
            const made = this.reference(view, stageName).then((found) =>
                found === undefined ? undefined : JSON.stringify(found),
            );
            text = made;
            this.references.set(key, made);
            // Only answers are kept: a stage name that is not there, or a failure, is asked again next time.
            const forget = () => {
                if (this.references.get(key) === made) {
                    this.references.delete(key);
                }
            };
            made.then((found) => found === undefined && forget(), forget);
        }
        return text;
    }

    /** The Reference panel's document for a stage (the first one by default), pointed at the local stage. */
    private async reference(view: ConsoleView, stageName?: string): Promise<unknown> {
        const model = view.model;
        const api = model.restApis.find((a) => a.stages.some((s) => stageName === undefined || s.name === stageName));
        const stage = api?.stages.find((s) => stageName === undefined || s.name === stageName);
        if (!api || !stage) {
            return undefined;
        }
        const url = view.stageUrls[stage.name] ?? `${view.url}/${stage.name}/`;
        let document: any;
        let source = "program";
        let note: string | undefined;
        if (this.settings.openApiDocument) {
            try {
                document = await this.settings.openApiDocument({
                    name: stage.name,
                    url,
                    apiId: api.id,
                    api: api.logicalName,
                    region: model.region,
                    port: view.port,
                });
            } catch (err) {
                note = `The program's OpenAPI document failed (${(err as Error)?.message ?? String(err)}); this is the RestApi's recorded body instead.`;
            }
        }
        if (document === undefined || document === null) {
            source = "recorded";
            const body = view.program.resources.find((r) => r.type === TYPES.restApi && r.name === api.logicalName)
                ?.inputs["body"];
            try {
                document = typeof body === "string" ? JSON.parse(body) : body;
            } catch {
                document = undefined;
            }
            if (document === undefined || document === null || typeof document !== "object") {
                source = "none";
                document = { swagger: "2.0", info: { title: api.name, version: "local" }, paths: {} };
                note = `REST API ${api.logicalName} has no OpenAPI body to show.`;
            }
        }
        // A copy: the program's object is its own, and JSON is what the page gets anyway.
        const pointed = pointAt(JSON.parse(JSON.stringify(document)), url);
        return {
            stage: stage.name,
            url,
            source,
            ...(note === undefined ? {} : { note }),
            apiKeyScheme: apiKeyScheme(pointed),
            document: pointed,
        };
    }
}

/** The document's server set to the local stage only: "try it" then calls this cloud, never AWS. */
function pointAt(document: any, stageUrl: string): any {
    if (typeof document.openapi === "string") {
        document.servers = [{ url: stageUrl.replace(/\/+$/, ""), description: "This local cloud's stage" }];
    } else {
        const url = new URL(stageUrl);
        document.host = url.host;
        document.basePath = url.pathname.replace(/\/+$/, "") || "/";
        document.schemes = ["http"];
    }
    return document;
}

/** The security scheme that sends `x-api-key` in a header (OpenAPI 3 or Swagger 2): the one the key picker fills. */
function apiKeyScheme(document: any): string | undefined {
    const schemes: Record<string, any> = document.components?.securitySchemes ?? document.securityDefinitions ?? {};
    return Object.entries(schemes).find(
        ([, s]) => s?.type === "apiKey" && s.in === "header" && String(s.name).toLowerCase() === "x-api-key",
    )?.[0];
}

function securityHeaders(res: http.ServerResponse): void {
    res.setHeader("X-Content-Type-Options", "nosniff");
    res.setHeader("Referrer-Policy", "no-referrer");
    res.setHeader("Cache-Control", "no-store");
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
    securityHeaders(res);
    res.writeHead(status, { "Content-Type": "application/json; charset=utf-8" }).end(JSON.stringify(body));
}

/** JSON already made (a cached answer). */
function sendJsonText(res: http.ServerResponse, status: number, json: string): void {
    securityHeaders(res);
    res.writeHead(status, { "Content-Type": "application/json; charset=utf-8" }).end(json);
}

function sendText(res: http.ServerResponse, status: number, text: string): void {
    securityHeaders(res);
    res.writeHead(status, { "Content-Type": "text/plain; charset=utf-8" }).end(text);
}

async function sendFile(res: http.ServerResponse, method: string, file: string): Promise<void> {
    let content: Buffer;
    try {
        content = await fs.promises.readFile(file);
    } catch {
        sendJson(res, 404, { message: `${path.basename(file)} is missing from this installation` });
        return;
    }
    securityHeaders(res);
    // Read from disk on each load: an edited page shows on the next reload of the browser.
    res.setHeader("Cache-Control", "no-cache");
    if (file.endsWith(".html")) {
        res.setHeader("Content-Security-Policy", CONTENT_SECURITY_POLICY);
        res.setHeader("X-Frame-Options", "DENY");
    }
    res.writeHead(200, {
        "Content-Type": CONTENT_TYPES[path.extname(file)] ?? "application/octet-stream",
        "Content-Length": content.length,
    });
    res.end(method === "HEAD" ? undefined : content);
}
