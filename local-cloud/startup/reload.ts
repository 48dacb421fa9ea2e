// Live reload: a change to the program's sources (watch.ts) runs the start's program steps again
// (read config, record, model, tables, functions) and swaps the new version in; the data (tables,
// keys.json, usage counts) is the running cloud's and stays. One reload at a time: changes that
// arrive during one are gathered into the next. A failed reload changes nothing that serves.
import * as path from "node:path";
import type { CloudModel } from "../program/model";
import type { ReloadReport } from "../types";
import type { FunctionChanges } from "../lambda/functions";

/** Errors whose message says it all (a config check, a stack file); anything else also gets its name. */
const PLAIN_ERRORS = new Set(["LocalCloudError", "StackFileError", "ConfigError"]);

/** One line for the console: `reloaded in 1.2 s: 2 functions changed: a, b` or why it failed. */
export function describeReload(report: ReloadReport): string {
    const seconds = `${(report.ms / 1000).toFixed(1)} s`;
    const cause =
        report.files.length > 0
            ? ` (${report.files.slice(0, 3).join(", ")}${report.files.length > 3 ? `, +${report.files.length - 3}` : ""})`
            : "";
    if (report.ok) {
        return `reloaded in ${seconds}${cause}: ${report.changes.length > 0 ? report.changes.join("; ") : "no changes"}`;
    }
    const err = report.error as Error | undefined;
    const message =
        err instanceof Error
            ? `${PLAIN_ERRORS.has(err.name) ? "" : `${err.name}: `}${err.message}`
            : String(report.error);
    // A compiler's report runs over several lines: keep them, indented under the first.
    const lines = message
        .trim()
        .split("\n")
        .map((line, i) => (i === 0 ? line : `    ${line}`));
    return `reload failed after ${seconds}${cause}, still serving the last good version: ${lines.join("\n")}`;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** What a reload changed, in phrases for `describeReload`. */
export function describeChanges(
    previous: CloudModel,
    next: CloudModel,
    functions: FunctionChanges,
    createdTables: string[],
): string[] {
    const phrases: string[] = [];
    const list = (names: string[]) => [...names].sort().join(", ");
    if (functions.changed.length > 0) {
        phrases.push(`${plural(functions.changed.length, "function")} changed: ${list(functions.changed)}`);
    }
    if (functions.added.length > 0) {
        phrases.push(`${plural(functions.added.length, "function")} added: ${list(functions.added)}`);
    }
    if (functions.removed.length > 0) {
        phrases.push(`${plural(functions.removed.length, "function")} removed: ${list(functions.removed)}`);
    }
    const routes = (model: CloudModel) =>
        new Set(
            model.restApis.flatMap((api) =>
                api.stages.flatMap((s) => api.operations.map((op) => `${op.method} /${s.name}${op.resourcePath}`)),
            ),
        );
    const [before, after] = [routes(previous), routes(next)];
    const addedRoutes = [...after].filter((r) => !before.has(r));
    const removedRoutes = [...before].filter((r) => !after.has(r));
    if (addedRoutes.length > 0) {
        phrases.push(`${plural(addedRoutes.length, "route")} added: ${list(addedRoutes)}`);
    }
    if (removedRoutes.length > 0) {
        phrases.push(`${plural(removedRoutes.length, "route")} removed: ${list(removedRoutes)}`);
    }
    const apisChanged = JSON.stringify(previous.restApis) !== JSON.stringify(next.restApis);
    if (apisChanged && addedRoutes.length === 0 && removedRoutes.length === 0) {
        phrases.push("API definition changed");
    }
    if (createdTables.length > 0) {
        phrases.push(`${plural(createdTables.length, "table")} created: ${list(createdTables)}`);
    }
    const byName = <T extends { logicalName: string }>(items: T[]) =>
        new Map(items.map((i) => [i.logicalName, JSON.stringify(i)]));
    for (const [kind, a, b] of [
        ["API key", byName(previous.apiKeys), byName(next.apiKeys)],
        ["usage plan", byName(previous.usagePlans), byName(next.usagePlans)],
    ] as const) {
        const added = [...b.keys()].filter((k) => !a.has(k));
        const removed = [...a.keys()].filter((k) => !b.has(k));
        const changed = [...b.keys()].filter((k) => a.has(k) && a.get(k) !== b.get(k));
        for (const [names, verb] of [
            [added, "added"],
            [removed, "removed"],
            [changed, "changed"],
        ] as const) {
            if (names.length > 0) {
                phrases.push(`${plural(names.length, kind)} ${verb}: ${list(names)}`);
            }
        }
    }
    return phrases;
}

/**
 * Runs reloads one at a time. `request` while one runs gathers the files into the next run (one
 * run for any number of changes meanwhile); its time counts from the first change it covers.
 */
export class Reloader {
    private running?: Promise<unknown>;
    private next?: { files: Set<string>; since: number; done: Promise<ReloadReport> };
    private closed = false;

    constructor(
        private readonly projectDir: string,
        /** One reload; returns what changed. Throws to keep the last good version. */
        private readonly reload: () => Promise<string[]>,
        private readonly onReport: (report: ReloadReport) => void,
    ) {}

    request(files: string[] = [], since = Date.now()): Promise<ReloadReport> {
        if (this.next) {
            files.forEach((f) => this.next!.files.add(f));
            this.next.since = Math.min(this.next.since, since);
            return this.next.done;
        }
        const next = { files: new Set(files), since, done: Promise.resolve() as unknown as Promise<ReloadReport> };
        this.next = next;
        next.done = (async () => {
            while (this.running) {
                await this.running;
            }
            // From here on, further requests make a new run.
            this.next = undefined;
            const run = this.run(next.files, next.since);
            this.running = run;
            try {
                return await run;
            } finally {
                this.running = undefined;
            }
        })();
        return next.done;
    }

    /** No more reloads; waits for one that is running. */
    async close(): Promise<void> {
        this.closed = true;
        await this.running;
    }

    private async run(files: Set<string>, since: number): Promise<ReloadReport> {
        const relative = [...files].map((f) => path.relative(this.projectDir, f) || f);
        let report: ReloadReport;
        if (this.closed) {
            report = {
                ok: false,
                ms: 0,
                files: relative,
                changes: [],
                error: new Error("the local cloud is stopping"),
            };
            return report;
        }
        try {
            const changes = await this.reload();
            report = { ok: true, ms: Date.now() - since, files: relative, changes };
        } catch (error) {
            report = { ok: false, ms: Date.now() - since, files: relative, changes: [], error };
        }
        try {
            this.onReport(report);
        } catch {
            // A failing report sink must not stop later reloads.
        }
        return report;
    }
}
