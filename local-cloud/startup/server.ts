// The HTTP side of the local cloud. `bindPort` takes the port first thing (a busy port is a cheap
// check, before anything is written); requests that arrive while the rest of the start runs wait
// for `serve`. Each request's headers are parsed once, here, and travel with it (requestHeaders.ts).
// A reload hands the server a new gateway with `swap`: requests already inside the old one finish
// there, every later request goes to the new one. Paths under CONTROL_PLANE_PATH go to the control
// plane (controlPlane.ts), which answers from the model of the gateway serving at that moment; a
// stage request's access-log line (accessLog.ts) is written once its answer is sent. Paths under the
// console's (console/console.ts, `/_local/` by default) go to the console, never to a gateway.
import * as http from "node:http";
import type * as net from "node:net";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { accessLogValues, renderAccessLog, type AccessLogFile } from "../accessLog";
import { CONSOLE_HEADER, type LocalConsole } from "../console/console";
import { isControlPlanePath, isLocalCaller, type ControlPlane } from "../controlPlane";
import { describeError, LIMITS, type Gateway, type GatewayAnswer } from "../gateway";
import type { IncomingRequest } from "../proxyEvent";
import { parseHeaders, type RequestHeaders } from "../requestHeaders";
import { LocalCloudError } from "../stateDir";
import type { Settings } from "./settings";

/** What serves beside the gateways, for the server's whole life. */
export interface ServerServices {
    controlPlane: ControlPlane;
    accessLog: AccessLogFile;
    /** The console in the browser, unless turned off. */
    console?: LocalConsole;
}

/** One gateway and the requests inside it; a replaced one is drained before its functions stop. */
interface Generation {
    gateway: Gateway;
    inFlight: number;
    /** Set once the generation is replaced: called when its last request is answered. */
    onDrained?: () => void;
}

export class LocalServer {
    private current?: Generation;
    private services?: ServerServices;
    private failure?: unknown;
    private markReady: () => void = () => undefined;
    private readonly ready = new Promise<void>((resolve) => {
        this.markReady = resolve;
    });
    private closing?: Promise<void>;

    private constructor(private readonly server: http.Server, readonly port: number, readonly baseUrl: string) {}

    /** Listens on the settings' port (0 = any free one); requests wait until `serve` or `fail`. */
    static async bind(settings: Pick<Settings, "port" | "host" | "onRequest" | "functionLog">): Promise<LocalServer> {
        const holder: { self?: LocalServer } = {};
        const server = http.createServer((req, res) => holder.self!.onRequest(req, res, settings));
        // Node hands CONNECT to this event and, with no listener, closes the socket unanswered.
        server.on("connect", (req: http.IncomingMessage, socket: Duplex) => holder.self!.onConnect(req, socket, settings));
        const port = await listen(server, settings.port, settings.host);
        const displayHost = settings.host === "0.0.0.0" || settings.host === "::" ? "127.0.0.1" : settings.host;
        holder.self = new LocalServer(server, port, `http://${displayHost}:${port}`);
        return holder.self;
    }

    /** Starts answering with this gateway (and the control plane, and the access log). */
    serve(gateway: Gateway, services: ServerServices): void {
        this.services = services;
        this.current = { gateway, inFlight: 0 };
        this.markReady();
    }

    /**
     * Answers every new request with `gateway` from now on. Resolves once the requests the previous
     * gateway had taken are answered (their functions can then be stopped).
     */
    swap(gateway: Gateway): Promise<void> {
        const previous = this.current;
        this.current = { gateway, inFlight: 0 };
        this.markReady();
        if (!previous || previous.inFlight === 0) {
            return Promise.resolve();
        }
        return new Promise((resolve) => {
            previous.onDrained = resolve;
        });
    }

    /** The start failed: waiting requests get a 503 saying why. */
    fail(err: unknown): void {
        this.failure = err;
        this.markReady();
    }

    /** Stops taking requests and drops open connections. */
    close(): Promise<void> {
        return (this.closing ??= (async () => {
            // Requests still waiting for a start that never finished get the 503.
            this.failure ??= new LocalCloudError("the local cloud stopped before it was ready");
            this.markReady();
            this.server.closeAllConnections();
            await new Promise<void>((resolve) => this.server.close(() => resolve()));
        })());
    }

    /**
     * A CONNECT (a proxy tunnel, which API Gateway does not offer) is answered as any other request
     * for a method no API defines: its target names no stage, so 403 `{"message":"Forbidden"}` (or,
     * for a target under a stage, that API's MISSING_AUTHENTICATION_TOKEN), a request-log line, and
     * the connection closed after the answer: no tunnel is ever opened.
     */
    private onConnect(req: http.IncomingMessage, socket: Duplex, settings: Pick<Settings, "onRequest" | "functionLog">): void {
        socket.on("error", () => undefined);
        const res = new http.ServerResponse(req);
        res.shouldKeepAlive = false;
        res.assignSocket(socket as net.Socket);
        res.on("finish", () => {
            res.detachSocket(socket as net.Socket);
            socket.end();
        });
        this.onRequest(req, res, settings);
    }

    private onRequest(req: http.IncomingMessage, res: http.ServerResponse, settings: Pick<Settings, "onRequest" | "functionLog">): void {
        const started = process.hrtime.bigint();
        const method = (req.method ?? "GET").toUpperCase();
        const url = req.url ?? "/";
        const q = url.indexOf("?");
        const requestPath = q < 0 ? url : url.slice(0, q);
        const headers = parseHeaders(req.rawHeaders);
        const log = (line: string) => {
            try {
                settings.functionLog(`[gateway] ${line}`);
            } catch {
                // A failing log sink must not take the server down.
            }
        };
        // The client may go away at any moment: while its body arrives, or while the function runs.
        let clientGone = false;
        res.on("close", () => {
            clientGone ||= !res.writableFinished;
        });
        let logged = false;
        const logRequest = (answer: GatewayAnswer) => {
            if (!logged) {
                logged = true;
                const latencyMs = Number(process.hrtime.bigint() - started) / 1e6;
                const accessLog = answer.accessLog ? this.writeAccessLog(answer, method, latencyMs, log) : undefined;
                settings.onRequest?.({
                    method, path: requestPath, status: answer.status, latencyMs,
                    consumer: answer.consumer, requestId: answer.requestId, refusal: answer.refusal,
                    ...(accessLog === undefined ? {} : { accessLog }),
                    ...(answer.functionRequestId === undefined ? {} : { functionRequestId: answer.functionRequestId }),
                    ...(answer.cache === undefined ? {} : { cache: answer.cache }),
                    ...(answer.functionVersion === undefined ? {} : { functionVersion: answer.functionVersion }),
                });
            }
        };
        const send = (answer: GatewayAnswer) => {
            for (const name of res.getHeaderNames()) {
                res.removeHeader(name);
            }
            for (const [name, values] of Object.entries(answer.headers)) {
                // One comma-joined line per header (Set-Cookie keeps one line per value).
                res.setHeader(name, name.toLowerCase() === "set-cookie" ? values : values.join(","));
            }
            res.statusCode = answer.status;
            res.end(method === "HEAD" ? undefined : answer.body);
        };
        let gateway: Gateway | undefined;
        /**
         * Sends the gateway's generic 500 for a fault (the API's DEFAULT_5XX headers, CORS among them)
         * and returns it; when Node refuses even those headers, the same 500 without them.
         */
        const sendFault = (err: unknown, failed?: GatewayAnswer): GatewayAnswer => {
            // The failed answer's request id and access-log facts (route, key, integration) carry over.
            const sourceIp = (req.socket.remoteAddress ?? "127.0.0.1").replace(/^::ffff:/, "");
            const answer = gateway!.internalError({ method, path: requestPath, rawHeaders: req.rawHeaders, headers, sourceIp }, err, failed?.requestId, failed?.accessLog?.facts);
            try {
                send(answer);
                return answer;
            } catch (again) {
                log(`${method} ${requestPath}: the API's DEFAULT_5XX headers cannot be sent (${describeError(again)}); sent the 500 without them`);
                const bare: GatewayAnswer = {
                    ...answer,
                    headers: { "Content-Type": ["application/json"], "x-amzn-ErrorType": ["InternalServerErrorException"], "x-amzn-RequestId": [answer.requestId] },
                    body: Buffer.from("{\"message\": \"Internal server error\"}"),
                };
                send(bare);
                return bare;
            }
        };
        void (async () => {
            await this.ready;
            if (!this.current) {
                res.writeHead(503, { "Content-Type": "application/json" }).end(JSON.stringify({ message: `local cloud failed to start: ${String(this.failure)}` }));
                return;
            }
            const localConsole = this.services?.console;
            if (localConsole?.owns(requestPath) && !decodes(requestPath)) {
                // The console reads its paths decoded: one that does not decode ("%", "%zz") is the
                // client's mistake, answered as such before the console sees it.
                res.writeHead(400, { "Content-Type": "application/json; charset=utf-8", "X-Content-Type-Options": "nosniff" })
                    .end(JSON.stringify({ message: `Malformed path: ${JSON.stringify(requestPath)} has a % that does not start a percent-encoded UTF-8 character` }));
                return;
            }
            if (localConsole?.owns(requestPath)) {
                // The console's pages and events: not a stage, no request-log line, no body to read.
                localConsole.handle(req, res, method, requestPath, q < 0 ? "" : url.slice(q + 1));
                return;
            }
            const read = await readBody(req, headers);
            if ("unread" in read) {
                closeIfBodyNeverComes(req, res);
            }
            if ("closed" in read) {
                // The gateway never saw this request: no answer, no request-log line, and nothing
                // charged to a key's throttle or quota (the API key is read only once the whole
                // request is in, as API Gateway does not bill requests it never received).
                log(`client closed the connection: ${method} ${requestPath} (before the end of the request; not counted)`);
                return;
            }
            if (isControlPlanePath(requestPath)) {
                // Not a stage: no gateway checks, no usage counted, no access log.
                const controlPlane = this.services!.controlPlane;
                const control = isLocalCaller(req.socket.remoteAddress, req.headers.host)
                    ? controlPlane.handle(method, requestPath, q < 0 ? "" : url.slice(q + 1), this.current.gateway.model)
                    : controlPlane.refuse();
                send(control);
                if (headers.get(CONSOLE_HEADER) !== undefined) {
                    // The console page's own refresh (every few seconds): not worth a line each time.
                    return;
                }
                settings.onRequest?.({
                    method, path: requestPath, status: control.status, latencyMs: Number(process.hrtime.bigint() - started) / 1e6,
                    requestId: control.requestId, operation: control.operation ?? "(unknown operation)", refusal: control.errorType,
                });
                return;
            }
            const request: IncomingRequest & { tooLarge: boolean } = {
                method,
                path: requestPath,
                rawQuery: q < 0 ? "" : url.slice(q + 1),
                rawHeaders: req.rawHeaders,
                headers,
                body: read.body,
                sourceIp: (req.socket.remoteAddress ?? "127.0.0.1").replace(/^::ffff:/, ""),
                localPort: req.socket.localPort ?? 0,
                tooLarge: read.tooLarge,
            };
            // The gateway of the moment the request is complete; a reload does not move it.
            const generation = this.current;
            gateway = generation.gateway;
            generation.inFlight++;
            let answer: GatewayAnswer;
            try {
                // Never rejects: the gateway answers its own faults with the API's generic 500.
                answer = await gateway.handle(request);
            } finally {
                if (--generation.inFlight === 0) {
                    generation.onDrained?.();
                }
            }
            if (clientGone) {
                // Read in full and handled (and counted, as on AWS, where the function runs on too),
                // but there is nobody left to answer: one line, and the request log keeps the status.
                log(`client closed the connection: ${method} ${requestPath} (before the answer; ${answer.status} not sent, request ${answer.requestId})`);
                logRequest(answer);
                return;
            }
            try {
                send(answer);
            } catch (err) {
                // Node refused the answer (a header it cannot send): the generic 500 instead, same request id.
                answer = sendFault(err, answer);
            }
            logRequest(answer);
        })().catch((err) => {
            // Last resort (an answer Node refused twice, a throwing request-log callback): one line,
            // the generic 500 with the API's headers when nothing was sent yet, never a crash.
            if (!gateway || res.headersSent || clientGone) {
                log(`${method} ${requestPath}: request failed: ${describeError(err)}`);
                if (!res.writableEnded) {
                    res.destroy();
                }
                return;
            }
            try {
                logRequest(sendFault(err));
            } catch (again) {
                log(`${method} ${requestPath}: request failed: ${describeError(again)}`);
                if (!res.writableEnded) {
                    res.destroy();
                }
            }
        });
    }

    /**
     * Renders a stage request's access-log line now that its answer is out, appends it to access.log
     * and returns it for the request log. A line that cannot be rendered is reported, never thrown.
     */
    private writeAccessLog(answer: GatewayAnswer, method: string, latencyMs: number, log: (line: string) => void): string | undefined {
        try {
            const { format, facts } = answer.accessLog!;
            const line = renderAccessLog(format, accessLogValues(facts, {
                status: answer.status,
                responseLength: method === "HEAD" ? 0 : answer.body.length,
                responseLatencyMs: latencyMs,
            }));
            this.services?.accessLog.append(line);
            return line;
        } catch (err) {
            log(`access log line of request ${answer.requestId} failed: ${describeError(err)}`);
            return undefined;
        }
    }
}

async function listen(server: http.Server, port: number, host: string): Promise<number> {
    await new Promise<void>((resolve, reject) => {
        const onError = (err: NodeJS.ErrnoException) => {
            server.off("listening", onListening);
            reject(err.code === "EADDRINUSE"
                ? new LocalCloudError(`Port ${port} on ${host} is already in use (is another local cloud running?). Pass --port <n> to use another one.`)
                : err.code === "EACCES"
                    ? new LocalCloudError(`Not allowed to listen on port ${port} on ${host}; pick a port above 1023 with --port <n>.`)
                    : err);
        };
        const onListening = () => {
            server.off("error", onError);
            resolve();
        };
        server.once("error", onError);
        server.once("listening", onListening);
        server.listen(port, host);
    });
    return (server.address() as AddressInfo).port;
}

/**
 * Reads a request body up to the gateway's limit; past it, the rest is drained and dropped. A
 * declared length over the limit is not waited for: `unread`, at once. Never rejects: a client that
 * goes away before the end of its request gives `{ closed: true }`.
 */
function readBody(req: http.IncomingMessage, headers: RequestHeaders): Promise<{ body: Buffer; tooLarge: boolean } | { body: Buffer; tooLarge: true; unread: true } | { closed: true }> {
    return new Promise((resolve) => {
        if (req.destroyed) {
            // Gone while the server was still starting: its body was dropped with the socket.
            resolve({ closed: true });
            return;
        }
        if (Number(headers.get("content-length") ?? 0) > LIMITS.gatewayRequestBytes) {
            // Refused on its declared length, before a byte of the body: waiting for a body that
            // may never come would hold the answer until Node's request timeout. Whatever arrives
            // is discarded (closeIfBodyNeverComes).
            req.resume();
            resolve({ body: Buffer.alloc(0), tooLarge: true, unread: true });
            return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        let tooLarge = false;
        req.on("data", (chunk: Buffer) => {
            size += chunk.length;
            if (size > LIMITS.gatewayRequestBytes) {
                tooLarge = true;
            }
            if (!tooLarge) {
                chunks.push(chunk);
            }
        });
        // The first of these settles the promise; "close" after "end" changes nothing.
        req.on("end", () => resolve({ body: tooLarge ? Buffer.alloc(0) : Buffer.concat(chunks), tooLarge }));
        req.on("error", () => resolve({ closed: true }));
        req.on("close", () => resolve({ closed: true }));
    });
}

/** How long a connection waits, after an early 413, for the body it declared before it is closed. */
const UNREAD_BODY_GRACE_MS = 1000;

/**
 * After the early 413 for a declared length over the limit: a client that sends its body meanwhile
 * has it discarded and keeps its connection; one whose body is not all in a second after the answer
 * has the connection closed (it could carry no other request). Closing right after the answer would reset
 * a client still writing a large body, maybe before it read the 413.
 */
function closeIfBodyNeverComes(req: http.IncomingMessage, res: http.ServerResponse): void {
    res.once("finish", () => {
        if (req.complete) {
            return;
        }
        const timer = setTimeout(() => req.socket.destroy(), UNREAD_BODY_GRACE_MS).unref();
        req.once("end", () => clearTimeout(timer));
    });
}

/** Whether a path's percent-encoding decodes (`%` followed by two hex digits of valid UTF-8). */
function decodes(requestPath: string): boolean {
    try {
        decodeURIComponent(requestPath);
        return true;
    } catch {
        return false;
    }
}
