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
//
// Every browser is fed from the ring at its own pace: a client has a cursor (the last event sent to
// it), and the feed writes it the events after its cursor until its socket's buffer is full, then
// waits for `drain`. The replay on connect and the live events are the same loop, so neither holds
// more than about one socket buffer and one event per client: 30 tabs that stopped reading cost
// kilobytes, not a copy of the ring each (issue 18: 30 such clients took the server from 385 MB to
// 1.3 GB), and a connect never writes the whole ring in one go (twenty at once blocked requests
// for 1.3 s). Each event's SSE message is made once, as bytes, when a client first needs it, and shared.
import * as crypto from "node:crypto";
import type * as http from "node:http";
import type { RequestLog } from "../types";

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
/**
 * Bytes written to one client before the feed lets other work (requests) have a turn: a socket
 * whose reader keeps up takes megabytes without ever saying "full", so the buffer alone would not
 * stop a replay from being written in one go.
 */
export const BYTES_PER_TURN = 64 * 1024;
/**
 * Unsent bytes past which a client that does not read is dropped. Events wait in the ring for a
 * client that is behind (see `pump`); what can pile up past its buffer is only the rare notices and
 * keep-alives, so this is a backstop.
 */
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

/** A connected browser and how far it got. */
interface Subscriber {
    res: http.ServerResponse;
    /** The seq of the last request event written to it (or skipped: older than what Last-Event-ID named). */
    sent: number;
    /** Until its replay is written: `ready` is sent once it has caught up. */
    replaying: boolean;
    /** Its socket's buffer is full (nothing more until `drain`), or it had its turn (more on the next one). */
    waiting: boolean;
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
    private readonly clients = new Set<Subscriber>();
    /**
     * Each kept event's SSE message, made when a client first needs it (nobody watching: none made),
     * as bytes: a string would be copied into a new buffer on every write to every client, and those
     * copies (hundreds of MB for twenty replays of a ring of long paths) made the collector stop the
     * server for 100-300 ms at a time.
     */
    private readonly frames = new WeakMap<ConsoleEvent, Buffer>();
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
        for (const client of this.clients) {
            this.pump(client);
        }
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
        const id =
            fn?.[2] ??
            GATEWAY_LINE.exec(line)?.[1] ??
            (continued === undefined ? undefined : this.lastIdOf.get(continued));
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
        while (
            this.functionLines.size > FUNCTION_LOG_IDS ||
            (this.logChars > LOG_CHARS_KEPT && this.functionLines.size > 1)
        ) {
            const oldest = this.functionLines.keys().next().value!;
            this.logChars -= (this.functionLines.get(oldest) ?? []).reduce((sum, l) => sum + l.line.length, 0);
            this.functionLines.delete(oldest);
        }
    }

    /** The kept events, oldest first. */
    recent(): readonly ConsoleEvent[] {
        return this.events;
    }

    /**
     * One kept request by its API request id, with the log lines of its function invocation and of the gateway about
     * it.
     */
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
     * connect), then `ready`, then each new one as it comes, until the browser goes away or the cloud
     * closes. Returns at once: the replay is written as the client reads it (`pump`).
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
        const client: Subscriber = { res, sent: after, replaying: true, waiting: false };
        this.clients.add(client);
        res.on("close", () => this.clients.delete(client));
        this.pump(client);
        this.keepAlive ??= setInterval(() => {
            for (const c of this.clients) {
                // A client that is behind has data coming anyway: no comment piles up for it.
                if (!c.waiting && !c.res.write(": keep-alive\n\n")) {
                    this.waitForDrain(c);
                }
            }
        }, KEEP_ALIVE_MS).unref();
    }

    /** Clients connected now, and the bytes written to them that their sockets have not sent yet. */
    stats(): { clients: number; unsentBytes: number } {
        let unsentBytes = 0;
        for (const client of this.clients) {
            unsentBytes += client.res.writableLength;
        }
        return { clients: this.clients.size, unsentBytes };
    }

    /** Ends every open stream (the cloud is closing). */
    close(): void {
        clearInterval(this.keepAlive);
        this.keepAlive = undefined;
        for (const client of this.clients) {
            client.res.end();
        }
        this.clients.clear();
    }

    /**
     * Writes a client the kept events after its cursor until its socket's buffer is full (then again
     * on `drain`) or BYTES_PER_TURN are written (then again after the event loop's other work), and
     * `ready` once its replay is done. The work of one call is bounded, whatever the ring holds: a
     * connect, or twenty, never keeps the server from its requests for long.
     */
    private pump(client: Subscriber): void {
        if (client.waiting || client.res.destroyed) {
            return;
        }
        let budget = BYTES_PER_TURN;
        for (let event = this.after(client.sent); event !== undefined; event = this.after(client.sent)) {
            if (budget <= 0) {
                client.waiting = true;
                this.nextTurn(client);
                return;
            }
            const bytes = this.frameOf(event);
            budget -= bytes.length;
            client.sent = event.seq;
            if (!client.res.write(bytes)) {
                this.waitForDrain(client);
                return;
            }
        }
        if (client.replaying) {
            client.replaying = false;
            if (!client.res.write(frame("ready", JSON.stringify({ seq: this.seq, limit: EVENT_LIMIT })))) {
                this.waitForDrain(client);
            }
        }
    }

    private waitForDrain(client: Subscriber): void {
        client.waiting = true;
        // A socket whose kernel buffer has room finishes a write at once and says `drain` before the
        // event loop moves on: pumping right there would chain write after write without ever
        // letting a request in (measured: one 630 ms stretch for twenty replays of a 14 MB ring).
        client.res.once("drain", () => this.nextTurn(client));
    }

    /** Goes on with a client after the event loop's pending I/O (requests) had its turn. */
    private nextTurn(client: Subscriber): void {
        setImmediate(() => {
            client.waiting = false;
            this.pump(client);
        });
    }

    /**
     * The first kept event after `seq`. Seqs in the ring are consecutive, so it is found by index; a
     * client so far behind that its next events left the ring goes on with the oldest kept (what a
     * reconnect with its Last-Event-ID would get).
     */
    private after(seq: number): ConsoleEvent | undefined {
        const first = this.events[0];
        return first === undefined ? undefined : this.events[Math.max(0, seq + 1 - first.seq)];
    }

    private frameOf(event: ConsoleEvent): Buffer {
        let bytes = this.frames.get(event);
        if (bytes === undefined) {
            bytes = Buffer.from(frame("request", JSON.stringify(event), `${this.boot}-${event.seq}`));
            this.frames.set(event, bytes);
        }
        return bytes;
    }

    /** A notice (not a request event) to every client, behind or not: small and rare. */
    private broadcast(type: string, data: () => string): void {
        if (this.clients.size === 0) {
            // Nobody is watching (the usual case under load): not even a JSON text to make.
            return;
        }
        const text = frame(type, data());
        for (const client of this.clients) {
            if (client.res.writableLength > SLOW_CLIENT_BYTES) {
                // Not reading (a stopped tab, a stuck proxy) for a long time: dropped rather than
                // buffered without end. EventSource reconnects and Last-Event-ID replays what it missed.
                client.res.destroy();
                this.clients.delete(client);
                continue;
            }
            if (!client.res.write(text) && !client.waiting) {
                this.waitForDrain(client);
            }
        }
    }
}

/** One SSE message; `data` is one line of JSON (JSON.stringify never emits a raw line break). */
function frame(type: string, data: string, id?: string): string {
    return `${id === undefined ? "" : `id: ${id}\n`}event: ${type}\ndata: ${data}\n\n`;
}
