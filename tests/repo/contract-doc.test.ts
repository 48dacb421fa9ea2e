// docs/api.md is the repository's copy of the HTTP contract, shared/docs/posts-api.md (a folder
// next to the repository, absent from a fresh clone). Where the shared file exists the copy must
// equal it except for the repository note under the title and the links rewritten to resolve
// inside the repository (LINK_REWRITES). Where it does not, the test says so on the console and
// checks what the copy can show alone: its POST row lists 409 and it describes Retry-After. Either
// way the copy's links must resolve and every status its route table names must be in the OpenAPI
// document (api/openapi.ts) for that route.
import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { openApiDocument } from "../../api/openapi";
import { routes } from "../../api/routes";
import { postJsonSchemas } from "../../api/schema";
const PROJECT_DIR = path.resolve(__dirname, "../..");

/* eslint-disable @typescript-eslint/no-explicit-any */

const COPY = path.join(PROJECT_DIR, "docs", "api.md");
const SHARED = path.join(PROJECT_DIR, "..", "shared", "docs", "posts-api.md");

/** shared text → the copy's text: references that only resolve next to the shared folder. */
const LINK_REWRITES: [string, string][] = [
    ["write the decision down in the README.", "write the decision down in the [README](../README.md)."],
    ["(see `apigateway.md`)", "(see [local-cloud/README.md](../local-cloud/README.md))"],
];

const copy = () => fs.readFileSync(COPY, "utf8");

/** The copy without its repository note (the blockquote right under the title). */
function withoutNote(text: string): string {
    const [title, ...rest] = text.split("\n");
    let i = 0;
    while (rest[i] === "") i++;
    while (rest[i]?.startsWith(">")) i++;
    return [title, ...rest.slice(i)].join("\n");
}

/** Rows of the Routes table: "POST /posts" → the text of its other cells. */
function routeRows(text: string): Map<string, string> {
    const rows = new Map<string, string>();
    for (const line of text.split("\n")) {
        const match = /^\| `(GET|POST|PUT|PATCH|DELETE) ([^`?]+)[^`]*` \|(.*)$/.exec(line);
        if (match) {
            rows.set(`${match[1]} ${match[2]}`, match[3]!);
        }
    }
    return rows;
}

describe("docs/api.md, the repository's copy of the HTTP contract", () => {
    const sharedExists = fs.existsSync(SHARED);

    if (sharedExists) {
        it("equals ../shared/docs/posts-api.md except for its note and its rewritten links", () => {
            let expected = fs.readFileSync(SHARED, "utf8");
            for (const [from, to] of LINK_REWRITES) {
                expect(
                    expected,
                    `the shared contract no longer contains ${JSON.stringify(from)}: update LINK_REWRITES`,
                ).to.include(from);
                expected = expected.replace(from, to);
            }
            const actual = withoutNote(copy());
            const a = actual.split("\n");
            const e = expected.split("\n");
            const line = a.findIndex((text, i) => text !== e[i]);
            expect(
                actual,
                `docs/api.md differs from the shared contract at line ${line + 1} (after its note): ` +
                    `${JSON.stringify(a[line])} vs ${JSON.stringify(e[line])}. Copy the shared file again and re-apply LINK_REWRITES.`,
            ).to.equal(expected);
        });
    } else {
        it("(../shared/docs/posts-api.md is absent here: checks the copy's own rows only)", () => {
            console.log(
                `      note: ${SHARED} not found (a fresh clone); docs/api.md was NOT compared with the shared contract`,
            );
            const post = routeRows(copy()).get("POST /posts");
            expect(post, "POST /posts row").to.match(/409 same `Idempotency-Key` in progress/);
            expect(copy()).to.match(/409 `\{"message":"\.\.\."\}` with `Retry-After`/);
        });
    }

    it("has only links that resolve inside the repository", () => {
        const links = [...copy().matchAll(/\]\(([^)]+)\)/g)].map((m) => m[1]!).filter((link) => !/^[a-z]+:/.test(link));
        expect(links.length).to.be.greaterThan(0);
        for (const link of links) {
            const target = path.resolve(path.dirname(COPY), link.split("#")[0]!);
            expect(fs.existsSync(target), `${link} from docs/api.md`).to.equal(true);
            expect(path.relative(PROJECT_DIR, target).startsWith(".."), `${link} leaves the repository`).to.equal(
                false,
            );
        }
        expect(copy()).not.to.include("../shared");
    });

    it("names no status for a route that the OpenAPI document does not give it; 409 with Retry-After on POST in both", () => {
        const doc = openApiDocument({
            servers: { stage: "dev", region: "us-east-1" },
            routes,
            schemas: postJsonSchemas({ target: "openapi-3.0" }),
            version: "0",
        });
        const rows = routeRows(copy());
        expect([...rows.keys()]).to.have.members(routes.map((route) => `${route.method} ${route.path}`));
        for (const [route, cells] of rows) {
            const [method, routePath] = route.split(" ");
            const documented = Object.keys(doc.paths[routePath!]![method!.toLowerCase()].responses);
            // A status opens a cell or follows a comma or semicolon ("400, 404 (never creates), 412");
            // other numbers ("integer 1–100") are not statuses.
            const named = [...cells.matchAll(/(?:^|[|;,])\s*([1-5]\d\d)\b/g)].map((m) => m[1]!);
            expect(named.length, route).to.be.greaterThan(0);
            expect(documented, route).to.include.members(named);
        }
        expect(rows.get("POST /posts")).to.include("409");
        const conflict = doc.paths["/posts"]!.post.responses["409"];
        const resolved = (doc.components as any).responses[conflict.$ref.split("/").pop()];
        expect(Object.keys(resolved.headers)).to.include("Retry-After");
        expect(resolved.content["application/json"].example).to.deep.equal({
            message: "A request with this Idempotency-Key is in progress",
        });
    });
});
