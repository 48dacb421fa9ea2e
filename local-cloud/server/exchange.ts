// One HTTP request and its answer, as the server sees them: what was asked (method, path, headers
// parsed once), how an answer is written, and the request-log line written once it is out. The
// server (server.ts) reads the body, dispatches to the console, the control plane or a gateway,
// then hands the gateway's answer here to be written and logged.
import type * as http from "node:http";
import { describeError, type Gateway, type GatewayAnswer } from "../apigateway/gateway";
import { parseHeaders, type RequestHeaders } from "../apigateway/requestHeaders";
import type { Settings } from "../types";

/** Renders and appends a stage request's access-log line; returns it for the request log. */
export type AccessLogWriter = (
    answer: GatewayAnswer,
    method: string,
    latencyMs: number,
    log: (line: string) => void,
) => string | undefined;

export class Exchange {
    readonly started = process.hrtime.bigint();
    readonly method: string;
    readonly requestPath: string;
    readonly rawQuery: string;
    readonly headers: RequestHeaders;
    /** The client went away before its answer was complete: while its body arrived, or while the function ran. */
    clientGone = false;
    /** The gateway of the moment the request was complete: it renders the answer to a fault. */
    gateway?: Gateway;
    private logged = false;

    constructor(
        readonly req: http.IncomingMessage,
        readonly res: http.ServerResponse,
        private readonly settings: Pick<Settings, "onRequest" | "functionLog">,
        private readonly writeAccessLog: AccessLogWriter,
    ) {
        this.method = (req.method ?? "GET").toUpperCase();
        const url = req.url ?? "/";
        const q = url.indexOf("?");
        this.requestPath = q < 0 ? url : url.slice(0, q);
        this.rawQuery = q < 0 ? "" : url.slice(q + 1);
        this.headers = parseHeaders(req.rawHeaders);
        res.on("close", () => {
            this.clientGone ||= !res.writableFinished;
        });
    }

    readonly log = (line: string): void => {
        try {
            this.settings.functionLog(`[gateway] ${line}`);
        } catch {
            // A failing log sink must not take the server down.
        }
    };

    get sourceIp(): string {
        return (this.req.socket.remoteAddress ?? "127.0.0.1").replace(/^::ffff:/, "");
    }

    /** A line of the request log (the console's list), through the settings' callback. */
    requestLog(entry: Parameters<NonNullable<Settings["onRequest"]>>[0]): void {
        this.settings.onRequest?.(entry);
    }

    /** The request-log line of a gateway answer (and its access-log line), once. */
    logRequest(answer: GatewayAnswer): void {
        if (this.logged) {
            return;
        }
        this.logged = true;
        const { method, requestPath } = this;
        const latencyMs = Number(process.hrtime.bigint() - this.started) / 1e6;
        const accessLog = answer.accessLog ? this.writeAccessLog(answer, method, latencyMs, this.log) : undefined;
        this.requestLog({
            method,
            path: requestPath,
            status: answer.status,
            latencyMs,
            consumer: answer.consumer,
            requestId: answer.requestId,
            refusal: answer.refusal,
            ...(accessLog === undefined ? {} : { accessLog }),
            ...(answer.functionRequestId === undefined ? {} : { functionRequestId: answer.functionRequestId }),
            ...(answer.cache === undefined ? {} : { cache: answer.cache }),
            ...(answer.functionVersion === undefined ? {} : { functionVersion: answer.functionVersion }),
        });
    }

    send(answer: Pick<GatewayAnswer, "status" | "headers" | "body">): void {
        const { res } = this;
        for (const name of res.getHeaderNames()) {
            res.removeHeader(name);
        }
        for (const [name, values] of Object.entries(answer.headers)) {
            // One comma-joined line per header (Set-Cookie keeps one line per value).
            res.setHeader(name, name.toLowerCase() === "set-cookie" ? values : values.join(","));
        }
        res.statusCode = answer.status;
        res.end(this.method === "HEAD" ? undefined : answer.body);
    }

    /**
     * Sends the gateway's generic 500 for a fault (the API's DEFAULT_5XX headers, CORS among them)
     * and returns it; when Node refuses even those headers, the same 500 without them.
     */
    sendFault(err: unknown, failed?: GatewayAnswer): GatewayAnswer {
        const { method, requestPath } = this;
        // The failed answer's request id and access-log facts (route, key, integration) carry over.
        const answer = this.gateway!.internalError(
            {
                method,
                path: requestPath,
                rawHeaders: this.req.rawHeaders,
                headers: this.headers,
                sourceIp: this.sourceIp,
            },
            err,
            failed?.requestId,
            failed?.accessLog?.facts,
        );
        try {
            this.send(answer);
            return answer;
        } catch (again) {
            this.log(
                `${method} ${requestPath}: the API's DEFAULT_5XX headers cannot be sent (${describeError(again)}); sent the 500 without them`,
            );
            const bare: GatewayAnswer = {
                ...answer,
                headers: {
                    "Content-Type": ["application/json"],
                    "x-amzn-ErrorType": ["InternalServerErrorException"],
                    "x-amzn-RequestId": [answer.requestId],
                },
                body: Buffer.from('{"message": "Internal server error"}'),
            };
            this.send(bare);
            return bare;
        }
    }

    /** Write, then log: a gateway's answer to the client, and its request-log line. */
    respond(answer: GatewayAnswer): void {
        if (this.clientGone) {
            // Read in full and handled (and counted, as on AWS, where the function runs on too),
            // but there is nobody left to answer: one line, and the request log keeps the status.
            this.log(
                `client closed the connection: ${this.method} ${this.requestPath} (before the answer; ${answer.status} not sent, request ${answer.requestId})`,
            );
            this.logRequest(answer);
            return;
        }
        let sent = answer;
        try {
            this.send(answer);
        } catch (err) {
            // Node refused the answer (a header it cannot send): the generic 500 instead, same request id.
            sent = this.sendFault(err, answer);
        }
        this.logRequest(sent);
    }

    /**
     * Last resort (an answer Node refused twice, a throwing request-log callback): one line, the
     * generic 500 with the API's headers when nothing was sent yet, never a crash.
     */
    fail(err: unknown): void {
        const { method, requestPath, res } = this;
        if (!this.gateway || res.headersSent || this.clientGone) {
            this.log(`${method} ${requestPath}: request failed: ${describeError(err)}`);
            if (!res.writableEnded) {
                res.destroy();
            }
            return;
        }
        try {
            this.logRequest(this.sendFault(err));
        } catch (again) {
            this.log(`${method} ${requestPath}: request failed: ${describeError(again)}`);
            if (!res.writableEnded) {
                res.destroy();
            }
        }
    }
}
