// What the console's "Live requests" panel shows: the request log (RequestLog, one entry per request
// the server answered) as events, the last EVENT_LIMIT of them kept in a ring buffer that a browser
// gets when it connects and then live, over Server-Sent Events; and the functions' log lines, kept by
// the Lambda request id that prefixes them (lambdaRuntime.ts: `time  requestId  LEVEL  message`), so
// a click on a 5xx shows what the function said. Both are bounded: a local cloud left running for
// days must not grow with its traffic.
//
// Why SSE and not WebSocket or polling: one direction is enough (the server tells, the browser
// listens), EventSource reconnects by itself and sends `Last-Event-ID`, so a reconnect gets only
// what it missed, and it is plain HTTP on the same port: nothing to add to the server.
import * as crypto from "node:crypto";
import type * as http from "node:http";
import type { RequestLog } from "../localCloud";

/** Events kept and replayed to a browser that connects (the panel shows as many). */
export const EVENT_LIMIT = 500;
/** Lambda request ids whose log lines are kept (the oldest go first). */
export const FUNCTION_LOG_IDS = 2000;
/** Lines kept per request id, and characters per line: enough for an error and its stack's first frames. */
const LINES_PER_ID = 40;
const LINE_CHARS = 4000;
/**
 * All kept log text together, in characters: the per-id limits alone allow 2000 × 40 × 4000 (over
 * 300 MB), and every invocation logs, watched or not. The oldest ids go first past this.
 */
const LOG_CHARS_KEPT = 8 * 1024 * 1024;
/** A comment every so often keeps idle connections (and proxies in between) from timing out. */
const KEEP_ALIVE_MS = 15_000;
/** Unsent bytes past which a client that does not read is dropped. */
const SLOW_CLIENT_BYTES = 1024 * 1024;

/** One request as the console shows it: the request log's fields, numbered and timed. */
export interface ConsoleEvent extends RequestLog {
    /** 1, 2, 3, ... for this process (the SSE event id). */
    seq: number;
    /** When the answer went out (ms since the epoch, the host's clock). */
    time: number;
}

/** A function's log line, parsed from the `[function] time  requestId  LEVEL  message` the runtime writes. */
export interface FunctionLogLine {
    /** The function's logical name, or `gateway` for the gateway's own lines. */
    source: string;
    line: string;
}

// `[getPost] 2026-03-02T10:00:00.000Z	<uuid>	ERROR	message`: the runtime's prefix (lambdaRuntime.ts).
const FUNCTION_LINE = /^\[([^\]]+)\] \S+\t([0-9A-Fa-f-]{36})\t/;
// The gateway's own lines name the API request they are about: `... (request <uuid>) ...`.
const GATEWAY_LINE = /^\[gateway\] .*\brequest ([0-9A-Fa-f-]{36})\b/;
// A message of several lines (a stack trace, an inspected object) has the prefix on its first line
// only; the rest start with white space or a closing bracket.
const CONTINUATION = /^\[([^\]]+)\] (?:\s|[}\])])/;

export class RequestFeed {
    private readonly events: ConsoleEvent[] = [];
    private seq = 0;
    /** This process: event ids carry it, since `seq` restarts at 1 with every process. */
    private readonly boot = crypto.randomBytes(4).toString("hex");
    private readonly clients = new Set<http.ServerResponse>();
    /** Request id (Lambda's, or the API's for gateway lines) -> its lines, oldest id first. */
    private readonly functionLines = new Map<string, FunctionLogLine[]>();
    /** Function -> the request id of its last prefixed line: where its continuation lines go. */
    private readonly lastIdOf = new Map<string, string>();
    /** Characters of all kept log lines (LOG_CHARS_KEPT). */
    private logChars = 0;
    private keepAlive?: NodeJS.Timeout;

    /** A request the server answered: kept, and sent to every connected browser. */
    record(entry: RequestLog, time = Date.now()): ConsoleEvent {
        const event: ConsoleEvent = { ...entry, seq: ++this.seq, time };
        this.events.push(event);
        if (this.events.length > EVENT_LIMIT) {
            this.events.splice(0, this.events.length - EVENT_LIMIT);
        }
        this.broadcast("request", () => JSON.stringify(event), `${this.boot}-${event.seq}`);
        return event;
    }

    /** Something else the page should know now (`reload`: the program changed; the page fetches it again). */
    notify(type: string, data: unknown): void {
        this.broadcast(type, () => JSON.stringify(data));
    }

    /** A line from `onFunctionLog`: kept under the request id it carries, if it carries one. */
    functionLog(line: string): void {
        const fn = FUNCTION_LINE.exec(line);
        if (fn) {
            this.lastIdOf.set(fn[1]!, fn[2]!.toLowerCase());
        }
        // Several instances of one function may write at once: a continuation line goes with the
        // function's last prefixed line, which is right unless two of its messages interleave.
        const continued = fn ? undefined : CONTINUATION.exec(line)?.[1];
        const id = fn?.[2] ?? GATEWAY_LINE.exec(line)?.[1] ?? (continued === undefined ? undefined : this.lastIdOf.get(continued));
        if (id === undefined) {
            return;
        }
        const key = id.toLowerCase();
        let lines = this.functionLines.get(key);
        if (lines === undefined) {
            lines = [];
            this.functionLines.set(key, lines);
        }
        if (lines.length < LINES_PER_ID) {
            const kept = line.length > LINE_CHARS ? `${line.slice(0, LINE_CHARS)}...` : line;
            lines.push({ source: fn?.[1] ?? continued ?? "gateway", line: kept });
            this.logChars += kept.length;
        }
        // A Map iterates in insertion order: the first key is the oldest id.
        while (this.functionLines.size > FUNCTION_LOG_IDS || (this.logChars > LOG_CHARS_KEPT && this.functionLines.size > 1)) {
            const oldest = this.functionLines.keys().next().value!;
            this.logChars -= (this.functionLines.get(oldest) ?? []).reduce((sum, l) => sum + l.line.length, 0);
            this.functionLines.delete(oldest);
        }
    }

    /** The kept events, oldest first. */
    recent(): readonly ConsoleEvent[] {
        return this.events;
    }

    /** One kept request by its API request id, with the log lines of its function invocation and of the gateway about it. */
    detail(requestId: string): { event: ConsoleEvent; functionLog: FunctionLogLine[] } | undefined {
        const event = this.events.find((e) => e.requestId === requestId);
        if (!event) {
            return undefined;
        }
        const ids = [event.functionRequestId, event.requestId].filter((id): id is string => id !== undefined);
        return { event, functionLog: ids.flatMap((id) => this.functionLines.get(id.toLowerCase()) ?? []) };
    }

    /**
     * Answers a browser's EventSource: the kept events after `Last-Event-ID` (all of them on a first
     * connect), then each new one as it comes, until the browser goes away or the cloud closes.
     */
    subscribe(req: http.IncomingMessage, res: http.ServerResponse): void {
        res.writeHead(200, {
            "Content-Type": "text/event-stream; charset=utf-8",
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        });
        // How long the browser waits before reconnecting, e.g. across a restart of `npm start`.
        res.write("retry: 2000\n\n");
        // Event ids are `<boot>-<seq>`: numbers restart at 1 in every process, so a Last-Event-ID of
        // another process (a restart of `npm start`) means "replay everything", and the page, told
        // the boot first, forgets the old process's events instead of taking new ones for old.
        res.write(frame("hello", JSON.stringify({ boot: this.boot })));
        const [boot, seq] = String(req.headers["last-event-id"] ?? "").split("-");
        const last = boot === this.boot ? Number(seq) : 0;
        const after = Number.isSafeInteger(last) && last > 0 && last <= this.seq ? last : 0;
        for (const event of this.events) {
            if (event.seq > after) {
                res.write(frame("request", JSON.stringify(event), `${this.boot}-${event.seq}`));
            }
        }
        res.write(frame("ready", JSON.stringify({ seq: this.seq, limit: EVENT_LIMIT })));
        this.clients.add(res);
        res.on("close", () => this.clients.delete(res));
        this.keepAlive ??= setInterval(() => {
            for (const client of this.clients) {
                client.write(": keep-alive\n\n");
            }
        }, KEEP_ALIVE_MS).unref();
    }

    /** Ends every open stream (the cloud is closing). */
    close(): void {
        clearInterval(this.keepAlive);
        this.keepAlive = undefined;
        for (const client of this.clients) {
            client.end();
        }
        this.clients.clear();
    }

    private broadcast(type: string, data: () => string, id?: string): void {
        if (this.clients.size === 0) {
            // Nobody is watching (the usual case under load): not even a JSON text to make.
            return;
        }
        const text = frame(type, data(), id);
        for (const client of this.clients) {
            if (client.writableLength > SLOW_CLIENT_BYTES) {
                // Not reading (a stopped tab, a stuck proxy): dropped rather than buffered without end.
                // EventSource reconnects and Last-Event-ID replays what it missed from the ring.
                client.destroy();
                this.clients.delete(client);
                continue;
            }
            client.write(text);
        }
    }
}

/** One SSE message; `data` is one line of JSON (JSON.stringify never emits a raw line break). */
function frame(type: string, data: string, id?: string): string {
    return `${id === undefined ? "" : `id: ${id}\n`}event: ${type}\ndata: ${data}\n\n`;
}
