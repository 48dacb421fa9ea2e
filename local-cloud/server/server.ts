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
import { accessLogValues, renderAccessLog, type AccessLogFile } from "../apigateway/accessLog";
import { CONSOLE_HEADER, type LocalConsole } from "../console/console";
import { isControlPlanePath, isLocalCaller, type ControlPlane } from "../apigateway/controlPlane";
import { describeError, LIMITS, type Gateway, type GatewayAnswer } from "../apigateway/gateway";
import type { IncomingRequest } from "../apigateway/proxyEvent";
import type { RequestHeaders } from "../apigateway/requestHeaders";
import { LocalCloudError } from "../state/stateDir";
import { Exchange } from "./exchange";
import type { Settings } from "../types";

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

    private constructor(
        private readonly server: http.Server,
        readonly port: number,
        readonly baseUrl: string,
    ) {}

    /** Listens on the settings' port (0 = any free one); requests wait until `serve` or `fail`. */
    static async bind(settings: Pick<Settings, "port" | "host" | "onRequest" | "functionLog">): Promise<LocalServer> {
        const holder: { self?: LocalServer } = {};
        const server = http.createServer((req, res) => holder.self!.onRequest(req, res, settings));
        // Node hands CONNECT to this event and, with no listener, closes the socket unanswered.
        server.on("connect", (req: http.IncomingMessage, socket: Duplex) =>
            holder.self!.onConnect(req, socket, settings),
        );
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
    private onConnect(
        req: http.IncomingMessage,
        socket: Duplex,
        settings: Pick<Settings, "onRequest" | "functionLog">,
    ): void {
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

    private onRequest(
        req: http.IncomingMessage,
        res: http.ServerResponse,
        settings: Pick<Settings, "onRequest" | "functionLog">,
    ): void {
        const exchange = new Exchange(req, res, settings, (answer, method, latencyMs, log) =>
            this.writeAccessLog(answer, method, latencyMs, log),
        );
        void this.serveRequest(exchange).catch((err) => exchange.fail(err));
    }

    /** One request: read → dispatch (console, control plane or gateway) → write → log. */
    private async serveRequest(x: Exchange): Promise<void> {
        await this.ready;
        if (!this.current) {
            x.res
                .writeHead(503, { "Content-Type": "application/json" })
                .end(JSON.stringify({ message: `local cloud failed to start: ${String(this.failure)}` }));
            return;
        }
        if (this.serveConsole(x)) {
            return;
        }
        const read = await readBody(x.req, x.headers);
        if ("unread" in read) {
            closeIfBodyNeverComes(x.req, x.res);
        }
        if ("closed" in read) {
            // The gateway never saw this request: no answer, no request-log line, and nothing
            // charged to a key's throttle or quota (the API key is read only once the whole
            // request is in, as API Gateway does not bill requests it never received).
            x.log(
                `client closed the connection: ${x.method} ${x.requestPath} (before the end of the request; not counted)`,
            );
            return;
        }
        if (isControlPlanePath(x.requestPath)) {
            this.serveControlPlane(x);
            return;
        }
        x.respond(await this.dispatch(x, read));
    }

    /** The console's pages and events: not a stage, no request-log line, no body to read. */
    private serveConsole(x: Exchange): boolean {
        const localConsole = this.services?.console;
        if (!localConsole?.owns(x.requestPath)) {
            return false;
        }
        if (!decodes(x.requestPath)) {
            // The console reads its paths decoded: one that does not decode ("%", "%zz") is the
            // client's mistake, answered as such before the console sees it.
            x.res
                .writeHead(400, {
                    "Content-Type": "application/json; charset=utf-8",
                    "X-Content-Type-Options": "nosniff",
                })
                .end(
                    JSON.stringify({
                        message: `Malformed path: ${JSON.stringify(x.requestPath)} has a % that does not start a percent-encoded UTF-8 character`,
                    }),
                );
            return true;
        }
        localConsole.handle(x.req, x.res, x.method, x.requestPath, x.rawQuery);
        return true;
    }

    /** Not a stage: no gateway checks, no usage counted, no access log. */
    private serveControlPlane(x: Exchange): void {
        const controlPlane = this.services!.controlPlane;
        const control = isLocalCaller(x.req.socket.remoteAddress, x.req.headers.host)
            ? controlPlane.handle(x.method, x.requestPath, x.rawQuery, this.current!.gateway.model)
            : controlPlane.refuse();
        x.send(control);
        if (x.headers.get(CONSOLE_HEADER) !== undefined) {
            // The console page's own refresh (every few seconds): not worth a line each time.
            return;
        }
        x.requestLog({
            method: x.method,
            path: x.requestPath,
            status: control.status,
            latencyMs: Number(process.hrtime.bigint() - x.started) / 1e6,
            requestId: control.requestId,
            operation: control.operation ?? "(unknown operation)",
            refusal: control.errorType,
        });
    }

    /** The gateway of the moment the request is complete (a reload does not move it) answers it. */
    private async dispatch(x: Exchange, read: { body: Buffer; tooLarge: boolean }): Promise<GatewayAnswer> {
        const request: IncomingRequest & { tooLarge: boolean } = {
            method: x.method,
            path: x.requestPath,
            rawQuery: x.rawQuery,
            rawHeaders: x.req.rawHeaders,
            headers: x.headers,
            body: read.body,
            sourceIp: x.sourceIp,
            localPort: x.req.socket.localPort ?? 0,
            tooLarge: read.tooLarge,
        };
        const generation = this.current!;
        x.gateway = generation.gateway;
        generation.inFlight++;
        try {
            // Never rejects: the gateway answers its own faults with the API's generic 500.
            return await generation.gateway.handle(request);
        } finally {
            if (--generation.inFlight === 0) {
                generation.onDrained?.();
            }
        }
    }

    /**
     * Renders a stage request's access-log line now that its answer is out, appends it to access.log
     * and returns it for the request log. A line that cannot be rendered is reported, never thrown.
     */
    private writeAccessLog(
        answer: GatewayAnswer,
        method: string,
        latencyMs: number,
        log: (line: string) => void,
    ): string | undefined {
        try {
            const { format, facts } = answer.accessLog!;
            const line = renderAccessLog(
                format,
                accessLogValues(facts, {
                    status: answer.status,
                    responseLength: method === "HEAD" ? 0 : answer.body.length,
                    responseLatencyMs: latencyMs,
                }),
            );
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
            reject(
                err.code === "EADDRINUSE"
                    ? new LocalCloudError(
                          `Port ${port} on ${host} is already in use (is another local cloud running?). Pass --port <n> to use another one.`,
                      )
                    : err.code === "EACCES"
                      ? new LocalCloudError(
                            `Not allowed to listen on port ${port} on ${host}; pick a port above 1023 with --port <n>.`,
                        )
                      : err,
            );
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
function readBody(
    req: http.IncomingMessage,
    headers: RequestHeaders,
): Promise<{ body: Buffer; tooLarge: boolean } | { body: Buffer; tooLarge: true; unread: true } | { closed: true }> {
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
