// `npm run postman [-- --check]`: writes docs/posts-api.postman_collection.json, the Postman
// collection of the API, from the OpenAPI document of the dev stack (scripts/openapi.ts). Never
// edit the file by hand: change the route table or api/openapi.ts and run this again; `--check`
// (and `npm test`) fails when the checked-in file is not what this writes.
//
// Two steps:
// 1. openapi-to-postmanv2, the converter behind Postman's own import, with the options the
//    import steps of docs/openapi.md choose (CONVERSION_OPTIONS): the "Reference" folder is exactly what a
//    user gets by importing the document.
// 2. A small post-processing step adds what a conversion cannot know: the `apiKey` variable its
//    auth uses, a test on every request (its status is one the document gives the operation), and
//    a "Walkthrough" folder that chains the requests (create → replay → read → replace with
//    If-Match from the ETag → patch → stale If-Match → list → delete → read 404 → no key 403).
//    Its requests are copies of the converted ones with variables filled in, so they follow the
//    document too. Item ids are derived from names, so the output is the same on every run.
//    (Portman, @apideck/portman, does step 2 from a config file; the chain here is short enough
//    that plain code reads better and keeps the dependency tree small.)
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import type { OpenApiDocument } from "../api/openapi";
import { stackDocument } from "./openapi";
import { PROJECT_DIR } from "./project";

/* eslint-disable @typescript-eslint/no-explicit-any */

export const COLLECTION_FILE = path.join(PROJECT_DIR, "docs", "posts-api.postman_collection.json");
/** The stack whose document the checked-in collection is made from. */
export const COLLECTION_STACK = "dev";

/**
 * Import options (openapi-to-postmanv2's older `convert`) for the checked-in collection:
 * parameters and bodies from the document's examples, and optional parameters left unticked, so
 * that the signed `cursor` (no valid example exists) and `If-Match` are not sent until a user fills
 * them in. A user's plain import takes the defaults instead (IMPORTS).
 */
export const CONVERSION_OPTIONS = {
    requestParametersResolution: "Example",
    exampleParametersResolution: "Example",
    enableOptionalParameters: false,
    folderStrategy: "Paths",
} as const;

/**
 * How Postman's import converts a document: `convertV2` is what the app's importer runs today, and
 * `convert` the older converter (other tools, older apps), each with its default options, i.e.
 * what a user gets by choosing the file and clicking Import.
 */
export const IMPORTS = {
    "convertV2, default options": { converter: "convertV2", options: {} },
    "convert, default options": { converter: "convert", options: {} },
} as const satisfies Record<string, { converter: "convert" | "convertV2"; options: object }>;

/** The document converted as Postman's import converts it (by default as the collection is made). */
export function convertDocument(
    doc: OpenApiDocument,
    how: { converter: "convert" | "convertV2"; options: object } = {
        converter: "convert",
        options: CONVERSION_OPTIONS,
    },
): Promise<any> {
    type Convert = (input: unknown, options: unknown, cb: (err: unknown, result: any) => void) => void;
    const converter = require("openapi-to-postmanv2") as Record<"convert" | "convertV2", Convert>;
    return new Promise((resolve, reject) => {
        converter[how.converter]({ type: "json", data: structuredClone(doc) }, how.options, (err, result) => {
            if (err || !result?.result) {
                reject(
                    new Error(`openapi-to-postmanv2 could not convert the document: ${String(err ?? result?.reason)}`),
                );
            } else {
                resolve(result.output[0].data);
            }
        });
    });
}

/** A UUID-shaped id derived from a name: the same item gets the same id on every run. */
const idFor = (name: string) => {
    const hex = crypto.createHash("sha1").update(name).digest("hex");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
};

/** Every request item of a collection (folders flattened), with the names of its folders. */
function requestItems(items: any[], folders: string[] = []): { item: any; path: string[] }[] {
    return items.flatMap((item) =>
        item.item ? requestItems(item.item, [...folders, item.name]) : [{ item, path: [...folders, item.name] }],
    );
}

/** `GET /posts/{id}` of a converted request (Postman writes path variables as `:id`). */
const operationOf = (request: any) =>
    `${request.method} /${request.url.path.map((p: string) => p.replace(/^:(.+)$/, "{$1}")).join("/")}`;

const script = (listen: "test" | "prerequest", lines: string[]) => ({
    listen,
    script: { type: "text/javascript", exec: lines },
});

/** The test every request gets: its status is one the document gives its operation. */
function documentedStatusTest(doc: OpenApiDocument, operation: string): any {
    const [method, route] = operation.split(" ");
    const statuses = Object.keys(doc.paths[route!]?.[method!.toLowerCase()]?.responses ?? {}).map(Number);
    if (statuses.length === 0) {
        throw new Error(`${operation} is not an operation of the document`);
    }
    return script("test", [
        `pm.test("status is one the OpenAPI document gives ${operation}", function () {`,
        `    pm.expect(pm.response.code).to.be.oneOf(${JSON.stringify(statuses)});`,
        "});",
    ]);
}

interface Step {
    name: string;
    /** The converted request to copy, e.g. `POST /posts`. */
    operation: string;
    /** Headers to send (a converted header of that name is replaced and ticked). */
    headers?: Record<string, string>;
    /** Query parameters to send. */
    query?: Record<string, string>;
    /** JSON body to send instead of the converted example. */
    body?: unknown;
    noAuth?: boolean;
    prerequest?: string[];
    tests: string[];
}

/** The chained walkthrough: one post through its whole life, each step checked. */
const WALKTHROUGH: Step[] = [
    {
        name: "Create a post",
        operation: "POST /posts",
        headers: { "Idempotency-Key": "{{idempotencyKey}}" },
        // A fresh key per run: a fixed one would replay the first run's answer.
        prerequest: ['pm.collectionVariables.set("idempotencyKey", pm.variables.replaceIn("{{$guid}}"));'],
        tests: [
            'pm.test("201 with the new post, its ETag and Location", function () {',
            "    pm.response.to.have.status(201);",
            "    const post = pm.response.json();",
            "    pm.expect(post.id).to.match(/^[0-9a-f-]{36}$/);",
            "    pm.expect(post.version).to.equal(1);",
            '    pm.expect(pm.response.headers.get("ETag")).to.equal(\'"1"\');',
            '    pm.expect(pm.response.headers.get("Location")).to.equal("posts/" + post.id);',
            '    pm.collectionVariables.set("postId", post.id);',
            '    pm.collectionVariables.set("etag", pm.response.headers.get("ETag"));',
            "});",
        ],
    },
    {
        name: "Retry the create with the same Idempotency-Key (replayed, nothing new)",
        operation: "POST /posts",
        headers: { "Idempotency-Key": "{{idempotencyKey}}" },
        tests: [
            'pm.test("the original 201, same post", function () {',
            "    pm.response.to.have.status(201);",
            '    pm.expect(pm.response.json().id).to.equal(pm.collectionVariables.get("postId"));',
            "});",
        ],
    },
    {
        name: "Read the post",
        operation: "GET /posts/{id}",
        tests: [
            'pm.test("200 with the post and its ETag", function () {',
            "    pm.response.to.have.status(200);",
            '    pm.expect(pm.response.json().id).to.equal(pm.collectionVariables.get("postId"));',
            '    pm.expect(pm.response.headers.get("ETag")).to.equal(pm.collectionVariables.get("etag"));',
            "});",
        ],
    },
    {
        name: "Replace the post with If-Match",
        operation: "PUT /posts/{id}",
        headers: { "If-Match": "{{etag}}" },
        body: { title: "Hello, posts API (replaced)", author: "Ada Lovelace", publicationDate: "2026-11-22" },
        tests: [
            'pm.test("200, version 2, description reset to empty", function () {',
            "    pm.response.to.have.status(200);",
            "    const post = pm.response.json();",
            "    pm.expect(post.version).to.equal(2);",
            '    pm.expect(post.description).to.equal("");',
            '    pm.collectionVariables.set("staleEtag", pm.collectionVariables.get("etag"));',
            '    pm.collectionVariables.set("etag", pm.response.headers.get("ETag"));',
            "});",
        ],
    },
    {
        name: "Patch the title with If-Match",
        operation: "PATCH /posts/{id}",
        headers: { "If-Match": "{{etag}}" },
        tests: [
            'pm.test("200, version 3, only the title changed", function () {',
            "    pm.response.to.have.status(200);",
            "    const post = pm.response.json();",
            "    pm.expect(post.version).to.equal(3);",
            '    pm.expect(post.author).to.equal("Ada Lovelace");',
            '    pm.collectionVariables.set("etag", pm.response.headers.get("ETag"));',
            "});",
        ],
    },
    {
        name: "Patch with a stale If-Match (refused, nothing changes)",
        operation: "PATCH /posts/{id}",
        headers: { "If-Match": "{{staleEtag}}" },
        tests: [
            'pm.test("412 Precondition failed", function () {',
            "    pm.response.to.have.status(412);",
            '    pm.expect(pm.response.json()).to.deep.equal({ message: "Precondition failed" });',
            "});",
        ],
    },
    {
        name: "List posts",
        operation: "GET /posts",
        query: { limit: "5" },
        tests: [
            'pm.test("200 with a page of at most 5, newest first", function () {',
            "    pm.response.to.have.status(200);",
            "    const page = pm.response.json();",
            "    pm.expect(page.items.length).to.be.within(1, 5);",
            "    const created = page.items.map(function (p) { return p.createdAt; });",
            "    pm.expect(created).to.deep.equal(created.slice().sort().reverse());",
            '    pm.expect(page).to.have.property("nextCursor");',
            "});",
        ],
    },
    {
        name: "Delete the post with If-Match",
        operation: "DELETE /posts/{id}",
        headers: { "If-Match": "{{etag}}" },
        tests: [
            'pm.test("204 with no body", function () {',
            "    pm.response.to.have.status(204);",
            '    pm.expect(pm.response.text()).to.equal("");',
            "});",
        ],
    },
    {
        name: "Read the deleted post",
        operation: "GET /posts/{id}",
        tests: [
            'pm.test("404 Post not found", function () {',
            "    pm.response.to.have.status(404);",
            '    pm.expect(pm.response.json()).to.deep.equal({ message: "Post not found" });',
            "});",
        ],
    },
    {
        name: "List posts without an API key",
        operation: "GET /posts",
        noAuth: true,
        tests: [
            'pm.test("403 Forbidden from API Gateway", function () {',
            "    pm.response.to.have.status(403);",
            '    pm.expect(pm.response.json()).to.deep.equal({ message: "Forbidden" });',
            "});",
        ],
    },
];

/** One walkthrough step: a copy of the converted request with the step's values filled in. */
function walkthroughItem(step: Step, converted: Map<string, any>, doc: OpenApiDocument): any {
    const source = converted.get(step.operation);
    if (source === undefined) {
        throw new Error(`the converted collection has no ${step.operation}`);
    }
    const request = structuredClone(source.request);
    delete request.description;
    request.name = step.name;
    for (const variable of request.url.variable ?? []) {
        if (variable.key === "id") {
            variable.value = "{{postId}}";
        }
    }
    request.url.query = Object.entries(step.query ?? {}).map(([key, value]) => ({ key, value }));
    const headers: any[] = (request.header ?? []).filter(
        (h: any) =>
            !(
                step.headers &&
                Object.keys(step.headers).some((name) => name.toLowerCase() === String(h.key).toLowerCase())
            ),
    );
    headers.push(...Object.entries(step.headers ?? {}).map(([key, value]) => ({ key, value })));
    request.header = headers.filter((h: any) => h.disabled !== true).map(({ key, value }: any) => ({ key, value }));
    if (step.body !== undefined) {
        request.body = { ...request.body, raw: JSON.stringify(step.body, null, 2) };
    }
    if (step.noAuth) {
        request.auth = { type: "noauth" };
    }
    return {
        name: step.name,
        event: [
            ...(step.prerequest ? [script("prerequest", step.prerequest)] : []),
            script("test", step.tests),
            documentedStatusTest(doc, step.operation),
        ],
        request,
    };
}

/** Ids from names (and `_postman_id` from the collection's name), everything else as converted. */
function withStableIds(node: any, trail: string): any {
    if (Array.isArray(node)) {
        return node.map((child, i) => withStableIds(child, `${trail}/${i}`));
    }
    if (node === null || typeof node !== "object") {
        return node;
    }
    const out: any = {};
    for (const [key, value] of Object.entries(node)) {
        if (key === "id" && typeof value === "string") {
            out[key] = idFor(`${trail}/${node.name ?? ""}`);
        } else if (key === "_postman_id") {
            out[key] = idFor(`collection/${node.name ?? ""}`);
        } else {
            out[key] = withStableIds(value, `${trail}/${key}`);
        }
    }
    return out;
}

/** The checked-in collection: the import, a test on each request, the walkthrough, the variables. */
export function postProcess(doc: OpenApiDocument, converted: any): any {
    const reference = requestItems(converted.item);
    const byOperation = new Map<string, any>();
    for (const { item } of reference) {
        byOperation.set(operationOf(item.request), item);
        item.event = [...(item.event ?? []), documentedStatusTest(doc, operationOf(item.request))];
    }
    const walkthrough = WALKTHROUGH.map((step) => walkthroughItem(step, byOperation, doc));
    const variables = [
        ...converted.variable,
        {
            key: "apiKey",
            value: "",
            type: "secret",
            description:
                "Your API key: `pulumi stack output --show-secrets apiKey`, or the key `npm start` prints. Set it here or pass `--env-var apiKey=…` to newman.",
        },
        ...["postId", "etag", "staleEtag", "idempotencyKey"].map((key) => ({
            key,
            value: "",
            type: "string",
            description: "Set by the Walkthrough's scripts.",
        })),
    ];
    return withStableIds(
        {
            info: {
                ...converted.info,
                description: {
                    content: `${converted.info.description?.content ?? ""}\n\nGenerated by \`npm run postman\` from the OpenAPI document; do not edit by hand. "Reference" is the document as Postman imports it; "Walkthrough" runs one post through its life (run the folder in order).`,
                    type: "text/plain",
                },
            },
            item: [
                { name: "Walkthrough", item: walkthrough },
                { name: "Reference", item: converted.item },
            ],
            event: converted.event ?? [],
            variable: variables,
            auth: converted.auth,
        },
        "collection",
    );
}

export async function buildCollection(): Promise<any> {
    const doc = await stackDocument(COLLECTION_STACK);
    return postProcess(doc, await convertDocument(doc));
}

export const serializeCollection = (collection: unknown) => JSON.stringify(collection, null, 2) + "\n";

async function main(args: string[]): Promise<void> {
    const text = serializeCollection(await buildCollection());
    const relative = path.relative(process.cwd(), COLLECTION_FILE);
    if (args.includes("--check")) {
        const current = fs.existsSync(COLLECTION_FILE) ? fs.readFileSync(COLLECTION_FILE, "utf8") : "";
        if (current !== text) {
            throw new Error(`${relative} is stale: run \`npm run postman\` and commit the result`);
        }
        console.log(`${relative} is up to date`);
        return;
    }
    fs.writeFileSync(COLLECTION_FILE, text);
    console.log(`wrote ${relative}`);
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        // The Pulumi runtime keeps handles open after a mocked run; nothing is left to wait for.
        () => process.exit(0),
        (err: unknown) => {
            console.error(err instanceof Error ? err.message : err);
            process.exit(1);
        },
    );
}
