// Watches a program's sources for live reload: every `.ts` file under the project folder outside
// node_modules, .local, tests, dot-folders and this package's own folder (the emulator is not the
// program), plus the config files the program was read from (Pulumi.yaml, Pulumi.<stack>.yaml).
// One fs.watch per folder (Node 20's recursive watch is not dependable on Linux); a folder created
// later is watched from its first event. Events are gathered for a short quiet spell and a file
// whose content did not change (a save without edits, an editor's second event) is not reported.
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

const SKIPPED_FOLDERS = new Set(["node_modules", "tests", "bin"]);
/** Events closer than this are one change (an editor writes a file in several steps). */
const QUIET_MS = 40;

export interface SourceWatcher {
    close(): void;
}

export interface WatchOptions {
    root: string;
    /** Files in the watched folders to watch whatever their extension (the config files). */
    files: string[];
    /** Folders to leave out (absolute). */
    ignore: string[];
    /** Called with the changed files (absolute) and when the first event of the change arrived. */
    onChange: (files: string[], firstEventAt: number) => void;
}

export function watchSources(options: WatchOptions): SourceWatcher {
    const root = path.resolve(options.root);
    const configFiles = new Set(options.files.map((f) => path.resolve(f)));
    const ignored = options.ignore.map((dir) => path.resolve(dir));
    const watchers = new Map<string, fs.FSWatcher>();
    const hashes = new Map<string, string | undefined>();
    let pending = new Set<string>();
    let firstEventAt = 0;
    let timer: NodeJS.Timeout | undefined;
    let closed = false;

    const isSource = (file: string) => configFiles.has(file) || (file.endsWith(".ts") && !file.endsWith(".d.ts"));
    const skipFolder = (dir: string) => {
        const name = path.basename(dir);
        return (
            dir !== root &&
            (SKIPPED_FOLDERS.has(name) ||
                name.startsWith(".") ||
                ignored.some((i) => dir === i || dir.startsWith(i + path.sep)))
        );
    };
    const hashOf = (file: string): string | undefined => {
        try {
            return crypto.createHash("sha1").update(fs.readFileSync(file)).digest("hex");
        } catch {
            return undefined;
        }
    };

    const flush = () => {
        timer = undefined;
        const changed: string[] = [];
        for (const file of pending) {
            const hash = hashOf(file);
            if (hashes.get(file) !== hash) {
                hashes.set(file, hash);
                changed.push(file);
            }
        }
        pending = new Set();
        if (changed.length > 0 && !closed) {
            options.onChange(changed.sort(), firstEventAt);
        }
    };

    const watchFolder = (dir: string) => {
        if (closed || watchers.has(dir) || skipFolder(dir)) {
            return;
        }
        let entries: fs.Dirent[];
        try {
            entries = fs.readdirSync(dir, { withFileTypes: true });
            const watcher = fs.watch(dir, (_event, name) => onEvent(dir, name === null ? undefined : String(name)));
            watcher.on("error", () => {
                // The folder went away: forget it (its parent reports the removal).
                watcher.close();
                watchers.delete(dir);
            });
            watchers.set(dir, watcher);
        } catch {
            return;
        }
        for (const entry of entries) {
            const full = path.join(dir, entry.name);
            if (entry.isDirectory()) {
                watchFolder(full);
            } else if (isSource(full) && !hashes.has(full)) {
                hashes.set(full, hashOf(full));
            }
        }
    };

    const onEvent = (dir: string, name: string | undefined) => {
        if (closed || name === undefined) {
            return;
        }
        const full = path.join(dir, name);
        let isDirectory = false;
        try {
            isDirectory = fs.statSync(full).isDirectory();
        } catch {
            // Removed (or renamed away): a source file's removal is a change.
        }
        if (isDirectory) {
            // A new folder: watch it, and count the sources already in it as changed.
            const before = new Set(hashes.keys());
            watchFolder(full);
            for (const file of hashes.keys()) {
                if (!before.has(file)) {
                    hashes.set(file, undefined);
                    note(file);
                }
            }
            return;
        }
        if (isSource(full)) {
            note(full);
        }
    };

    const note = (file: string) => {
        if (pending.size === 0) {
            firstEventAt = Date.now();
        }
        pending.add(file);
        clearTimeout(timer);
        timer = setTimeout(flush, QUIET_MS);
        timer.unref();
    };

    watchFolder(root);
    return {
        close: () => {
            closed = true;
            clearTimeout(timer);
            for (const watcher of watchers.values()) {
                watcher.close();
            }
            watchers.clear();
        },
    };
}
