// `npm run smoke -- --url <stage url>`, with the API key in POSTS_API_KEY or on standard input:
// the contract's happy path and the 403 check against any deployment of the posts API, local
// (`npm start`) or on AWS (`pulumi up`). It creates one post and deletes it again.
//
// The key is never an argument: arguments end up in shell history, process listings and CI logs.
// Nothing it prints contains the key.
import { parseArgs } from "node:util";

export interface SmokeOptions {
    /** The stage URL, e.g. http://127.0.0.1:8080/dev/ or https://abc.execute-api.us-east-1.amazonaws.com/dev/ */
    url: string;
    key: string;
    log?: (line: string) => void;
}

export interface SmokeStep {
    name: string;
    ok: boolean;
    detail: string;
}

interface Answer {
    status: number;
    headers: Headers;
    body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
    text: string;
}

/** Runs every step (a failed step does not stop the others) and returns what happened. */
export async function runSmoke(options: SmokeOptions): Promise<SmokeStep[]> {
    const base = options.url.endsWith("/") ? options.url : `${options.url}/`;
    const log = options.log ?? (() => undefined);
    const steps: SmokeStep[] = [];
    const check = (name: string, ok: boolean, detail: string) => {
        steps.push({ name, ok, detail });
        log(`${ok ? "ok  " : "FAIL"} ${name}${ok ? "" : `: ${detail}`}`);
        return ok;
    };

    const send = async (
        method: string,
        path: string,
        init: { key?: string | null; body?: unknown; headers?: Record<string, string> } = {},
    ): Promise<Answer> => {
        const headers: Record<string, string> = { ...(init.headers ?? {}) };
        const key = init.key === undefined ? options.key : init.key;
        if (key !== null) {
            headers["x-api-key"] = key;
        }
        if (init.body !== undefined) {
            headers["Content-Type"] = "application/json";
        }
        // A deployed plan may throttle a quick run: wait and retry a few times, as a client would.
        for (let attempt = 0; ; attempt++) {
            const response = await fetch(new URL(path, base), {
                method,
                headers,
                body: init.body === undefined ? undefined : JSON.stringify(init.body),
            });
            const text = await response.text();
            if (response.status === 429 && text.includes("Too Many Requests") && attempt < 5) {
                await new Promise((r) => setTimeout(r, 1000 * (attempt + 1)));
                continue;
            }
            let body: unknown;
            try {
                body = text ? JSON.parse(text) : undefined;
            } catch {
                body = undefined;
            }
            return { status: response.status, headers: response.headers, body, text };
        }
    };
    const describe = (a: Answer) => `${a.status} ${a.text.slice(0, 200)}`;

    const title = `smoke test ${new Date().toISOString()}`;
    const created = await send("POST", "posts", {
        body: { title, author: "smoke", publicationDate: "2026-11-21", description: "created by npm run smoke" },
    });
    const id: string | undefined = created.body?.id;
    check(
        "POST /posts creates a post (201, Location, id)",
        created.status === 201 && typeof id === "string" && created.headers.get("location") === `posts/${id}`,
        describe(created),
    );
    if (id) {
        const read = await send("GET", `posts/${id}`);
        check(
            'GET /posts/{id} returns it with ETag "1"',
            read.status === 200 && read.body?.title === title && read.headers.get("etag") === '"1"',
            describe(read),
        );

        const list = await send("GET", "posts?limit=100");
        check(
            "GET /posts lists it",
            list.status === 200 &&
                Array.isArray(list.body?.items) &&
                list.body.items.some((p: { id: string }) => p.id === id),
            describe(list),
        );

        const patched = await send("PATCH", `posts/${id}`, {
            body: { description: "patched" },
            headers: { "If-Match": '"1"' },
        });
        check(
            "PATCH /posts/{id} with If-Match updates it (version 2)",
            patched.status === 200 && patched.body?.version === 2 && patched.body?.description === "patched",
            describe(patched),
        );

        const stale = await send("PUT", `posts/${id}`, {
            body: { title, author: "smoke", publicationDate: "2026-11-21" },
            headers: { "If-Match": '"1"' },
        });
        check("PUT /posts/{id} with a stale If-Match is 412", stale.status === 412, describe(stale));

        const replaced = await send("PUT", `posts/${id}`, {
            body: { title: `${title} (replaced)`, author: "smoke", publicationDate: "2026-11-22" },
        });
        check(
            "PUT /posts/{id} replaces it",
            replaced.status === 200 && replaced.body?.version === 3 && replaced.body?.description === "",
            describe(replaced),
        );

        const deleted = await send("DELETE", `posts/${id}`);
        check("DELETE /posts/{id} is 204", deleted.status === 204 && deleted.text === "", describe(deleted));

        const gone = await send("GET", `posts/${id}`);
        check(
            "GET /posts/{id} after delete is 404",
            gone.status === 404 && gone.body?.message === "Post not found",
            describe(gone),
        );
    }

    const preflight = await send("OPTIONS", "posts", {
        key: null,
        headers: { Origin: "https://example.com", "Access-Control-Request-Method": "POST" },
    });
    check(
        "OPTIONS /posts needs no key and allows x-api-key",
        preflight.status >= 200 &&
            preflight.status < 300 &&
            (preflight.headers.get("access-control-allow-headers") ?? "").toLowerCase().includes("x-api-key"),
        describe(preflight),
    );

    const noKey = await send("GET", "posts", { key: null });
    check(
        'GET /posts without a key is 403 {"message":"Forbidden"}',
        noKey.status === 403 && noKey.text === '{"message":"Forbidden"}',
        describe(noKey),
    );

    const wrongKey = await send("GET", "posts", { key: "x".repeat(40) });
    check(
        'GET /posts with a wrong key is 403 {"message":"Forbidden"}',
        wrongKey.status === 403 && wrongKey.text === '{"message":"Forbidden"}',
        describe(wrongKey),
    );
    return steps;
}

export const KEY_VARIABLE = "POSTS_API_KEY";

const USAGE = `usage: npm run smoke -- --url <stage url>   (the API key in ${KEY_VARIABLE} or on standard input)
  e.g. npm run -s outputs -- --stack dev --show-secrets apiKey | npm run smoke -- --url http://127.0.0.1:8080/dev/
       pulumi stack output --show-secrets apiKey | npm run smoke -- --url "$(pulumi stack output url)"
`;

/** The key from the environment, else the first line of standard input (never from a TTY prompt). */
async function readKey(): Promise<string | undefined> {
    const fromEnv = process.env[KEY_VARIABLE]?.trim();
    if (fromEnv) {
        return fromEnv;
    }
    if (process.stdin.isTTY) {
        return undefined;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) {
        chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks).toString("utf8").split(/\r?\n/)[0]?.trim() || undefined;
}

async function main() {
    let url: string | undefined;
    try {
        url = parseArgs({ options: { url: { type: "string" } }, strict: true }).values.url;
    } catch (err) {
        // e.g. `--key`: refused without echoing the arguments (one of them may be the key).
        process.stderr.write(`${(err as Error).message.split("'")[0]?.trim() ?? "bad arguments"}\n${USAGE}`);
        process.exit(2);
    }
    const key = await readKey();
    if (!url || !key) {
        process.stderr.write(
            `${!url ? "--url is missing" : `no API key: set ${KEY_VARIABLE} or pipe the key in`}\n${USAGE}`,
        );
        process.exit(2);
    }
    const steps = await runSmoke({ url, key, log: (line) => process.stdout.write(`${line}\n`) });
    const failed = steps.filter((s) => !s.ok).length;
    process.stdout.write(
        failed === 0
            ? `\nAll ${steps.length} checks passed against ${url}\n`
            : `\n${failed} of ${steps.length} checks failed\n`,
    );
    process.exit(failed === 0 ? 0 : 1);
}

if (require.main === module) {
    main().catch((err) => {
        process.stderr.write(`error: ${(err as Error).message} (is --url pointing at a running API?)\n`);
        process.exit(1);
    });
}
