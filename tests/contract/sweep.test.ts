// A bad-input sweep: hundreds of generated malformed or hostile requests across the write and
// list routes. Every one must be a 4xx with a JSON {message} and CORS headers, none a 5xx, and
// the table must be byte-for-byte what it was before (compared with a full Scan, in the test).
// Runs in both modes: the handlers directly, and the serialized closures (tests/support/lambdas.ts).
import { expect } from "chai";
import { startTestDynamo, dumpTable, type TestDynamo } from "../support/dynamo";
import { ALLOW_ORIGIN, CURSOR_KEY, MODES, validPost, type ApiCall, type CallOptions } from "../support/client";
import { loadApiUnderTest, type ContractApi } from "../support/lambdas";
import type { RouteName } from "../../api/handlers";
import { encodeCursor } from "../../api/cursor";

interface Case {
    name: string;
    route: RouteName;
    options: CallOptions;
}

const WRONG_TYPES: unknown[] = [0, 5, -1, 1.5, true, false, null, [], ["x"], {}, { x: 1 }, { __proto__: "x" }];

const BAD_VALUES: Record<string, unknown[]> = {
    title: [
        ...WRONG_TYPES,
        "",
        " ",
        "\t\n ",
        "t".repeat(201),
        "😀".repeat(201),
        "bad\u0000nul",
        "line\nbreak",
        "lone \ud800 surrogate",
        "\udc00",
        "x".repeat(50_000),
    ],
    description: [...WRONG_TYPES, "d".repeat(10_001), "€".repeat(10_001), "nul\u0000", "bell\u0007", "\ud83d"],
    author: [...WRONG_TYPES, "", "   ", "a".repeat(101), "esc\u001b[31m", "\udfff", "tab\tinside"],
    publicationDate: [
        ...WRONG_TYPES,
        "",
        "2026-02-30",
        "2026-02-29",
        "2026-13-01",
        "2026-00-10",
        "2026-11-21T09:30:00",
        "2026-11-21T09:30Z",
        "2026-11-21T24:00:00Z",
        "2026-11-21T09:30:00+25:00",
        "2026-11-21T09:30:00z",
        "2026-11-21 09:30:00Z",
        " 2026-11-21",
        "2026-11-21\u0000",
        "20261121",
        "2026-W47-6",
        "2026-325",
        "+002026-11-21",
        "tomorrow",
        "Sat, 21 Nov 2026 09:30:00 GMT",
    ],
};

const UNKNOWN_KEYS = [
    "__proto__",
    "constructor",
    "prototype",
    "pk",
    "listPk",
    "listSk",
    "id",
    "version",
    "createdAt",
    "updatedAt",
    "expiresAt",
    "status",
    "requestHash",
    "toString",
    "hasOwnProperty",
    "Title",
    "TITLE",
    " title",
    "title ",
    "",
    "\u0000",
    "title\u0000",
    "$where",
    "a.b",
];

const BROKEN_JSON = [
    "{",
    "}",
    "{title:'x'}",
    '{"title":"x",}',
    '{"title":"x"',
    '{"title":"x"}}',
    '{"title":"x"} {"title":"y"}',
    "\uFEFF{}",
    "NaN",
    "undefined",
    "{'a':1}",
    '{"a":01}',
    '{"a":"\\x41"}',
    '{"a":"unterminated}',
    "<xml/>",
    "title=x&author=y",
    '{"a":1e999999}x',
    "[".repeat(2000),
    '{"a":[1,2,]}',
    '{"a":"\t"}',
    "\u0000",
    "   ",
    "",
];

const NON_OBJECT_JSON = [
    "[]",
    "[{}]",
    "null",
    "0",
    "-1",
    "1e3",
    '"string"',
    "true",
    "false",
    '[{"title":"x"}]',
    "[".repeat(500) + "]".repeat(500),
];

const BAD_LIMITS = [
    "0",
    "101",
    "1000",
    "-1",
    "+1",
    "1e1",
    "10.0",
    "1.5",
    " 5",
    "5 ",
    "05",
    "",
    "ten",
    "0x10",
    "1_0",
    "١٠",
    "Infinity",
    "NaN",
    "5,5",
    "５",
];

const BAD_IF_MATCH = ["1", '"1', '1"', "", "W/1", "abc", "'1'", "*, *", "\u00ff", '"1" "2"'];

const BAD_IDEMPOTENCY_KEYS = [
    "",
    " ",
    "a b",
    "x".repeat(129),
    "tab\tkey",
    "ü",
    "line\nkey",
    "\u007f",
    "\u0000",
    "é".repeat(10),
];

const NOT_UUIDS = [
    "not-a-uuid",
    "00000000-0000-0000-0000-000000000000",
    "A0000000-0000-4000-8000-000000000000",
    "../../etc/passwd",
    "%00",
    "POST#x",
];

function badCursors(valid: string): string[] {
    const [payload, signature] = valid.split(".") as [string, string];
    const forged = (key: unknown) => `${Buffer.from(JSON.stringify(key)).toString("base64url")}.${signature}`;
    // An empty `cursor=` is not here: it is the first page (the contract; Postman's default import sends it).
    return [
        "x",
        "null",
        "{}",
        valid.slice(0, -1),
        valid + "x",
        valid.toUpperCase(),
        valid.replace(".", ""),
        `${payload}.${signature.slice(1)}A`,
        `${signature}.${payload}`,
        forged({ pk: "IDEMPOTENCY#a#b", listPk: "POSTS", listSk: "x" }),
        forged({ pk: "POST#x", listPk: "POSTS", listSk: "x", extra: 1 }),
        forged({ __proto__: { polluted: true } }),
        encodeCursor({ pk: "POST#x", listPk: "POSTS", listSk: "x" }, `${CURSOR_KEY}-other`),
        Buffer.from("not json").toString("base64url") + "." + signature,
        "a".repeat(2000),
        `${payload}.${signature}=`,
        `${payload}+.${signature}`,
        " " + valid,
        "💥.💥",
    ];
}

function cases(existingId: string, cursor: string): Case[] {
    const all: Case[] = [];
    const writeRoutes: { route: RouteName; id?: string }[] = [
        { route: "createPost" },
        { route: "replacePost", id: existingId },
        { route: "updatePost", id: existingId },
    ];

    // One bad value at a time, every other field valid: each must still be refused.
    for (const [field, values] of Object.entries(BAD_VALUES)) {
        values.forEach((value, index) => {
            for (const { route, id } of writeRoutes) {
                const body = route === "updatePost" ? { [field]: value } : validPost({ [field]: value });
                all.push({ name: `${route} ${field}#${index}`, route, options: { id, body } });
            }
        });
    }

    for (const key of UNKNOWN_KEYS) {
        for (const { route, id } of writeRoutes) {
            // Built as text so keys like __proto__ arrive as own properties, as JSON.parse makes them.
            const body = JSON.stringify(validPost()).slice(0, -1) + `,${JSON.stringify(key)}:"x"}`;
            all.push({ name: `${route} unknown key ${JSON.stringify(key)}`, route, options: { id, body } });
        }
    }

    for (const body of [...BROKEN_JSON, ...NON_OBJECT_JSON]) {
        for (const { route, id } of writeRoutes) {
            all.push({ name: `${route} body ${JSON.stringify(body.slice(0, 20))}`, route, options: { id, body } });
        }
    }

    for (const { route, id } of writeRoutes) {
        all.push({ name: `${route} no body`, route, options: { id } });
        all.push({
            name: `${route} 64 KiB + 1`,
            route,
            options: { id, body: JSON.stringify(validPost({ description: "x".repeat(70_000) })) },
        });
        all.push({ name: `${route} not UTF-8`, route, options: { id, body: Buffer.from([0x7b, 0xc3, 0x28, 0x7d]) } });
    }
    all.push({ name: "updatePost empty patch", route: "updatePost", options: { id: existingId, body: {} } });

    for (const limit of BAD_LIMITS) {
        all.push({ name: `list limit ${JSON.stringify(limit)}`, route: "listPosts", options: { query: { limit } } });
    }
    all.push({ name: "list repeated limit", route: "listPosts", options: { query: { limit: ["1", "2"] } } });
    for (const bad of badCursors(cursor)) {
        all.push({
            name: `list cursor ${JSON.stringify(bad.slice(0, 20))}`,
            route: "listPosts",
            options: { query: { cursor: bad } },
        });
    }

    for (const value of [...BAD_IF_MATCH, '"99"', 'W/"1"', '"abc"']) {
        all.push({
            name: `PUT If-Match ${JSON.stringify(value)}`,
            route: "replacePost",
            options: { id: existingId, body: validPost(), headers: { "If-Match": value } },
        });
        all.push({
            name: `PATCH If-Match ${JSON.stringify(value)}`,
            route: "updatePost",
            options: { id: existingId, body: { title: "x" }, headers: { "If-Match": value } },
        });
    }

    for (const key of BAD_IDEMPOTENCY_KEYS) {
        all.push({
            name: `POST Idempotency-Key ${JSON.stringify(key.slice(0, 10))}`,
            route: "createPost",
            options: { body: validPost(), headers: { "Idempotency-Key": key } },
        });
    }
    // A key that is already taken, with a different body.
    all.push({
        name: "POST reused Idempotency-Key",
        route: "createPost",
        options: { body: validPost({ title: "other" }), headers: { "Idempotency-Key": "seeded" } },
    });

    for (const id of NOT_UUIDS) {
        all.push({ name: `PUT id ${id}`, route: "replacePost", options: { id, body: validPost() } });
        all.push({ name: `PATCH id ${id}`, route: "updatePost", options: { id, body: { title: "x" } } });
    }
    return all;
}

for (const mode of MODES)
    describe(`bad-input sweep (dynalite, ${mode})`, () => {
        let dynamo: TestDynamo;
        let api: ContractApi;
        let call: ApiCall;
        let existingId: string;
        let cursor: string;

        before(async () => {
            dynamo = await startTestDynamo();
            api = await loadApiUnderTest(mode, { endpoint: dynamo.endpoint, tableName: dynamo.tableName });
            call = api.call;
            for (let i = 0; i < 3; i++) {
                const created = await call("createPost", { body: validPost({ title: `seed ${i}` }) });
                existingId = (created.body as { id: string }).id;
            }
            await call("updatePost", { id: existingId, body: { title: "seed at version 2" } });
            await call("createPost", { body: validPost(), headers: { "Idempotency-Key": "seeded" } });
            cursor = ((await call("listPosts", { query: { limit: "1" } })).body as { nextCursor: string }).nextCursor;
        });

        after(async () => {
            api.close();
            await dynamo.close();
        });

        it("refuses every generated bad request with a 4xx JSON message and leaves the table unchanged", async () => {
            const all = cases(existingId, cursor);
            expect(all.length).to.be.at.least(300);
            const before = await dumpTable(dynamo.db, dynamo.tableName);
            const failures: string[] = [];

            for (const [index, { name, route, options }] of all.entries()) {
                const result = await call(route, options);
                const body = result.body as { message?: unknown } | null;
                const ok =
                    result.statusCode >= 400 &&
                    result.statusCode < 500 &&
                    result.headers["Content-Type"] === "application/json" &&
                    result.headers["Access-Control-Allow-Origin"] === ALLOW_ORIGIN &&
                    typeof body?.message === "string";
                if (!ok) {
                    failures.push(`#${index} ${name}: ${result.statusCode} ${result.rawBody.slice(0, 200)}`);
                }
            }

            expect(failures).to.deep.equal([]);
            expect(await dumpTable(dynamo.db, dynamo.tableName)).to.deep.equal(before);
        });

        it("answers 400 for validation problems with a field-named errors list", async () => {
            const result = await call("createPost", {
                body: { title: 5, author: "", publicationDate: "2026-02-30", pk: "x" },
            });

            expect(result.statusCode).to.equal(400);
            const errors = (result.body as { errors: { field: string }[] }).errors;
            expect(errors.map((error) => error.field)).to.have.members(["title", "author", "publicationDate", "pk"]);
        });
    });
