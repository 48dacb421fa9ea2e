// An append-only file of JSON records, the one durable primitive of the local cloud's state (the
// tables' journal and the usage counts). Each record is one line, `<crc32 hex> <json>\n`, written
// with a single positional write before the caller acknowledges anything, so:
// - kill -9 at any moment loses nothing that was acknowledged (the page cache outlives the
//   process; power loss is out of scope, see docs/internals.md);
// - a write cut short by a crash leaves an unterminated last line, which was never acknowledged:
//   it is cut off at open and reported;
// - any other damage (a flipped byte, a truncated middle, a missing header) fails the open with one
//   line naming the file and the way out, never a silent loss and never a rewrite over it;
// - a failed write (ENOSPC, EIO) is truncated back, so the file stays whole and the caller can
//   answer an error and carry on; the next write tries again.
// Compaction (`rewrite`) writes a temporary file, fsyncs it and renames it over the old one.
import * as fs from "node:fs";
import * as path from "node:path";
import * as zlib from "node:zlib";
import { LocalCloudError } from "./stateDir";

/** Faults a test can inject at the storage layer: throw from `beforeWrite` to fail a write. */
export interface StorageFaults {
    beforeWrite?(file: string): void;
    /** A slow engine: hold the embedded DynamoDB's answer to a call (by operation, e.g.
     *  "UpdateItem") this many ms after it was made; 0 or absent: answer at once. The write has
     *  committed, so a client whose attempt times out meanwhile retries a write that happened. */
    dynamoAnswerDelayMs?(operation: string): number;
}

export interface OpenedLog<T> {
    log: AppendLog;
    records: T[];
    /** Set when an unterminated last line (an interrupted, unacknowledged write) was cut off. */
    cutTail?: string;
}

const checksum = (json: string) => zlib.crc32(json).toString(16).padStart(8, "0");
const line = (record: unknown) => {
    const json = JSON.stringify(record);
    return `${checksum(json)} ${json}\n`;
};

/** The way out a damaged file's message names: nothing is deleted or rewritten for the user. */
const wayOut = (file: string) =>
    `the local cloud will not start over it. Restore it from a copy, or move it aside (mv ${file} ${file}.damaged) to start without its data`;

export class AppendLog {
    private size: number;

    private constructor(
        readonly file: string,
        private fd: number,
        private readonly faults: StorageFaults,
    ) {
        this.size = fs.fstatSync(fd).size;
    }

    /**
     * Opens (or creates, with `header` as its first record) a log and returns every record after
     * the header. A file whose header differs from `header.format` is refused.
     */
    static open<T>(
        file: string,
        header: { format: string; version: number },
        faults: StorageFaults = {},
    ): OpenedLog<T> {
        fs.mkdirSync(path.dirname(file), { recursive: true });
        if (!fs.existsSync(file)) {
            writeWhole(file, [line(header)], faults);
        }
        const text = fs.readFileSync(file, "utf8");
        const lines = text.split("\n");
        const tail = lines.pop() ?? "";
        const records: T[] = [];
        lines.forEach((raw, index) => {
            const record = parseLine(raw);
            if (record === undefined) {
                throw new LocalCloudError(
                    `${file} is damaged at line ${index + 1} (checksum mismatch); ${wayOut(file)}`,
                );
            }
            if (index === 0) {
                const found = record as { format?: unknown; version?: unknown };
                if (found.format !== header.format || found.version !== header.version) {
                    throw new LocalCloudError(
                        `${file} is not a ${header.format} v${header.version} file; ${wayOut(file)}`,
                    );
                }
                return;
            }
            records.push(record as T);
        });
        if (lines.length === 0) {
            throw new LocalCloudError(`${file} has no header line (truncated or overwritten); ${wayOut(file)}`);
        }
        const fd = fs.openSync(file, "r+");
        let cutTail: string | undefined;
        if (tail !== "") {
            // Only the last write can be cut short, and it was never acknowledged.
            fs.ftruncateSync(fd, Buffer.byteLength(text) - Buffer.byteLength(tail));
            cutTail = `${path.basename(file)}: dropped an unfinished last record (${Buffer.byteLength(tail)} bytes) left by a crash mid-write; it was never acknowledged`;
        }
        return { log: new AppendLog(file, fd, faults), records, cutTail };
    }

    /** Appends records as one write; throws (and leaves the file as it was) when the write fails. */
    append(records: unknown[]): void {
        if (records.length === 0) {
            return;
        }
        const buffer = Buffer.from(records.map(line).join(""));
        try {
            this.faults.beforeWrite?.(this.file);
            let written = 0;
            while (written < buffer.length) {
                written += fs.writeSync(this.fd, buffer, written, buffer.length - written, this.size + written);
            }
            this.size += buffer.length;
        } catch (err) {
            // A partial write would leave a damaged line in the middle once later writes succeed.
            try {
                fs.ftruncateSync(this.fd, this.size);
            } catch {
                // Still failing: the next append writes at `size` again, over whatever is there.
            }
            throw err;
        }
    }

    /** Replaces the whole file by `header` + `records` atomically (compaction). */
    rewrite(header: { format: string; version: number }, records: Iterable<unknown>): void {
        const lines = [line(header)];
        for (const record of records) {
            lines.push(line(record));
        }
        writeWhole(this.file, lines, this.faults);
        fs.closeSync(this.fd);
        this.fd = fs.openSync(this.file, "r+");
        this.size = fs.fstatSync(this.fd).size;
    }

    close(): void {
        if (this.fd >= 0) {
            fs.closeSync(this.fd);
            this.fd = -1;
        }
    }
}

function parseLine(raw: string): unknown {
    const space = raw.indexOf(" ");
    const json = raw.slice(space + 1);
    if (space !== 8 || checksum(json) !== raw.slice(0, 8)) {
        return undefined;
    }
    try {
        return JSON.parse(json) as unknown;
    } catch {
        return undefined;
    }
}

/** Temporary file, fsync, rename, fsync the folder: the old file stays whole until the new one is. */
function writeWhole(file: string, lines: string[], faults: StorageFaults): void {
    const temporary = `${file}.${process.pid}.tmp`;
    try {
        faults.beforeWrite?.(file);
        const fd = fs.openSync(temporary, "w");
        try {
            fs.writeFileSync(fd, lines.join(""));
            fs.fsyncSync(fd);
        } finally {
            fs.closeSync(fd);
        }
        fs.renameSync(temporary, file);
    } catch (err) {
        fs.rmSync(temporary, { force: true });
        throw err;
    }
    const dir = fs.openSync(path.dirname(file), "r");
    try {
        fs.fsyncSync(dir);
    } finally {
        fs.closeSync(dir);
    }
}
