// Helpers for code that starts throwaway local clouds (the tests and the benchmark): a fresh state
// folder inside the project's gitignored `.local/`, a free port, quiet logs, and a small HTTP client.
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { startLocalCloud } from "./localCloud";
import type { LocalCloud, LocalCloudOptions } from "./types";

/** A fresh folder under `<cwd>/.local/tmp` (the caller's project, where `.local/` is ignored). */
export function tempStateDir(label: string): string {
    const dir = path.join(process.cwd(), ".local", "tmp", `${label}-${crypto.randomBytes(4).toString("hex")}`);
    fs.mkdirSync(path.dirname(dir), { recursive: true });
    return dir;
}

export function removeStateDir(dir: string): void {
    fs.rmSync(dir, { recursive: true, force: true });
}

/** The stack file most test programs need: the region, nothing else. */
export const TEST_STACK_FILE = "config:\n  aws:region: us-east-1\n";

/**
 * Writes a one-file test program: `index.ts`, `Pulumi.yaml` naming the project, and
 * `Pulumi.v1.yaml` (pass null when the test writes its own stack file).
 */
export function writeTestProgram(
    dir: string,
    project: string,
    program: string,
    stackFile: string | null = TEST_STACK_FILE,
): void {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "index.ts"), program);
    fs.writeFileSync(path.join(dir, "Pulumi.yaml"), `name: ${project}\nruntime: nodejs\n`);
    if (stackFile !== null) {
        fs.writeFileSync(path.join(dir, "Pulumi.v1.yaml"), stackFile);
    }
}

/** A local cloud on a free port with its own state folder, logging nothing unless LOCAL_CLOUD_LOGS is set. */
export function startTestCloud(options: Partial<LocalCloudOptions> & { stack: string }): Promise<LocalCloud> {
    const verbose = process.env["LOCAL_CLOUD_LOGS"] !== undefined;
    return startLocalCloud({
        port: 0,
        stateDir: options.stateDir ?? tempStateDir(options.stack),
        onFunctionLog: verbose ? (line) => console.log(line) : undefined,
        onRequest: verbose
            ? (e) =>
                  console.log(
                      `${e.method} ${e.path} ${e.status} ${e.latencyMs.toFixed(1)}ms ${e.consumer ?? e.operation ?? "-"}${e.accessLog ? `\n  access: ${e.accessLog}` : ""}`,
                  )
            : undefined,
        ...options,
    });
}

export interface HttpResult {
    status: number;
    headers: Headers;
    text: string;
    /** Parsed JSON body, or undefined when the body is empty or not JSON. */
    json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** One HTTP call; `body` objects are sent as JSON. */
export async function call(
    url: string,
    init: { method?: string; headers?: Record<string, string>; body?: unknown } = {},
): Promise<HttpResult> {
    const body =
        init.body === undefined
            ? undefined
            : typeof init.body === "string" || Buffer.isBuffer(init.body)
              ? init.body
              : JSON.stringify(init.body);
    const response = await fetch(url, {
        method: init.method ?? "GET",
        headers: { ...(body !== undefined ? { "Content-Type": "application/json" } : {}), ...(init.headers ?? {}) },
        body: body as RequestInit["body"],
    });
    const text = await response.text();
    let json: unknown;
    try {
        json = text === "" ? undefined : JSON.parse(text);
    } catch {
        json = undefined;
    }
    return { status: response.status, headers: response.headers, text, json };
}

/**
 * What `probe` gives once it gives something, trying every 20 ms; throws "timed out waiting for
 * <what>" past `timeoutMs`.
 */
export async function waitFor<T>(
    what: string,
    probe: () => Promise<T | undefined> | T | undefined,
    timeoutMs = 30_000,
): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const value = await probe();
        if (value !== undefined) {
            return value;
        }
        if (Date.now() > deadline) {
            throw new Error(`timed out waiting for ${what}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
    }
}
