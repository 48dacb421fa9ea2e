// The Lambda's validator (a plan compiled from the zod schemas at deploy time, run with no
// library) against zod itself, side by side on generated bodies: same verdict, same value (trimmed,
// defaulted) and the same issues in the same order. Then the same bodies through the serialized
// handlers (what AWS runs, zod absent), whose 400 must list exactly what zod's issues give.
// fast-check runs with a fixed seed, so a failure reproduces; it prints the smallest body found.
import { expect } from "chai";
import fc from "fast-check";
import { z } from "zod";
import { postSchemas, CLIENT_FIELDS } from "../../api/schema";
import { compileSchema } from "../../api/validation/compile";
import { postValidators } from "../../api/validation/postValidators";
import { fieldErrors, validate, validateBody } from "../../api/validation/validate";
import { closureClient, type ApiCall } from "../support/client";
import { loadLambdas, localSdkEnv, type LoadedLambdas } from "../support/lambdas";
import { stackProgram } from "../support/program";
import type { RouteName } from "../../api/handlers";

const SEED = 20261202;

// Pieces chosen for the rules: blanks around text (trim), control characters and line breaks
// (allowed only in the description), lone and paired surrogates (valid Unicode), astral
// characters (counted as one), letters with combining marks.
const PIECES = [
    " ",
    "  ",
    "\t",
    "\n",
    "\r",
    "\u0000",
    "\u001f",
    "\u007f",
    "\u00a0",
    "\ud800",
    "\udc00",
    "\ud83d\ude00",
    "a",
    "é",
    "e\u0301",
    "Ω",
    "x",
];
const piece = fc.constantFrom(...PIECES);
// Lengths at each limit (1, 100, 200, 10 000) and just past it, of one repeated piece.
const atLimit = fc
    .tuple(
        fc.constantFrom("a", "\ud83d\ude00", " ", "é"),
        fc.constantFrom(0, 1, 2, 99, 100, 101, 199, 200, 201, 9_999, 10_000, 10_001),
        fc.constantFrom("", " ", "\n"),
    )
    .map(([unit, count, edge]) => edge + unit.repeat(count) + edge);
const text = fc.oneof(
    { weight: 3, arbitrary: fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 40 }) },
    fc.array(piece, { maxLength: 12 }).map((parts) => parts.join("")),
    fc.string({ maxLength: 20 }),
    fc.string({ unit: "binary", maxLength: 20 }),
    atLimit,
);
const notAString = fc.constantFrom<unknown>(null, 0, 42, -1.5, true, false, [], ["a"], {}, { a: 1 });

// Dates: real and impossible calendar days, leap years (2024 yes, 2100 no, 2000 yes), the
// date-time forms zod accepts (Z, ±hh:mm, fractions) and near misses (no offset, space, ±hhmm).
const day = fc.constantFrom(
    "2026-11-21",
    "2024-02-29",
    "2100-02-29",
    "2000-02-29",
    "2026-02-30",
    "2026-13-01",
    "2026-1-5",
    "0000-01-01",
    "9999-12-31",
);
const time = fc.constantFrom(
    "T09:30:00Z",
    "T09:30:00.123Z",
    "T23:59:59+05:30",
    "T00:00:00-12:00",
    "T24:00:00Z",
    "T09:30:00",
    "T09:30Z",
    " 09:30:00Z",
    "t09:30:00z",
    "T09:30:00+0100",
    "T09:30:60Z",
);
const date = fc.oneof(
    { weight: 2, arbitrary: day },
    fc.tuple(day, time).map(([d, t]) => d + t),
    fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
    fc.string({ maxLength: 25 }),
);

const value = (main: fc.Arbitrary<unknown>) =>
    fc.oneof({ weight: 6, arbitrary: main }, { weight: 1, arbitrary: notAString });
const unknownKeys = fc.dictionary(
    fc.constantFrom("id", "version", "createdAt", "Title", "extra", "__proto__", "constructor", ""),
    fc.jsonValue({ maxDepth: 1 }),
    { maxKeys: 3 },
);

/**
 * Bodies as JSON.parse gives them: any subset of the fields, sometimes none (so some bodies hold
 * only keys that are not fields: PATCH then owes both "unknown field" and "send at least one"),
 * sometimes with keys that are not fields.
 */
const body = fc
    .tuple(
        fc.oneof(
            {
                weight: 9,
                arbitrary: fc.record(
                    { title: value(text), description: value(text), author: value(text), publicationDate: value(date) },
                    { requiredKeys: [] },
                ),
            },
            { weight: 1, arbitrary: fc.constant({}) },
        ),
        fc.oneof({ weight: 3, arbitrary: fc.constant({}) }, { weight: 1, arbitrary: unknownKeys }),
    )
    .map(([fields, extra]) => JSON.parse(JSON.stringify({ ...extra, ...fields })) as Record<string, unknown>);

type Outcome = { ok: true; data: unknown } | { ok: false; issues: unknown[] };

function viaZod(schema: z.ZodType, input: unknown): Outcome {
    const result = schema.safeParse(input);
    return result.success
        ? { ok: true, data: result.data }
        : {
              ok: false,
              issues: result.error.issues.map((issue) => ({
                  code: issue.code,
                  path: issue.path.map(String),
                  message: issue.message,
                  ...("keys" in issue ? { keys: issue.keys } : {}),
              })),
          };
}

function viaCompiled(schema: Parameters<typeof validate>[0], input: unknown): Outcome {
    const result = validate(schema, input);
    return result.success ? { ok: true, data: result.data } : { ok: false, issues: result.issues };
}

const zodSchemas = postSchemas();
const PAIRS = [
    ["create (POST)", zodSchemas.create, postValidators.create],
    ["replace (PUT)", zodSchemas.replace, postValidators.replace],
    ["patch (PATCH)", zodSchemas.patch, postValidators.patch],
] as const;

describe("validation: the compiled validator against zod", () => {
    for (const [label, zodSchema, compiled] of PAIRS) {
        it(`${label}: the same verdict, value and issues on 3000 generated bodies`, () => {
            let valid = 0;
            fc.assert(
                fc.property(body, (input) => {
                    const expected = viaZod(zodSchema, input);
                    expect(viaCompiled(compiled, input)).to.deep.equal(expected);
                    valid += expected.ok ? 1 : 0;
                }),
                { seed: SEED, numRuns: 3000 },
            );
            // The generator reaches both sides of the rules, not only refusals.
            expect(valid, "valid bodies among the generated").to.be.greaterThan(50);
        });
    }

    it("agrees on bodies that are not objects", () => {
        for (const input of [null, [], ["title"], "text", 0, true]) {
            for (const [, zodSchema, compiled] of PAIRS) {
                expect(viaCompiled(compiled, input)).to.deep.equal(viaZod(zodSchema, input));
            }
        }
    });

    it("PATCH with only unknown keys: both the unknown field and 'send at least one', as zod says", () => {
        const expected = viaZod(zodSchemas.patch, { extra: 1 });
        expect(expected.ok).to.equal(false);
        expect(viaCompiled(postValidators.patch, { extra: 1 })).to.deep.equal(expected);
        expect(expected.ok ? [] : expected.issues.map((issue) => (issue as { code: string }).code)).to.deep.equal([
            "unrecognized_keys",
            "custom",
        ]);
    });

    it("turns issues into the API's field errors, one per unknown key", () => {
        const result = validate(postValidators.create, {
            title: " ",
            author: "Ada",
            publicationDate: "2026-11-21",
            id: "x",
            version: 3,
        });
        expect(result.success).to.equal(false);
        const errors = fieldErrors(result.success ? [] : result.issues, CLIENT_FIELDS);
        expect(errors).to.deep.equal([
            { field: "title", message: "title must be 1–200 characters after trimming" },
            { field: "id", message: "Unknown field; allowed fields are title, description, author, publicationDate" },
            {
                field: "version",
                message: "Unknown field; allowed fields are title, description, author, publicationDate",
            },
        ]);
        expect(() => validateBody(postValidators.create, { title: 5 })).to.throw("Request body is invalid");
    });

    it("refuses at deploy time what it cannot reproduce, naming it, instead of validating differently", () => {
        const protoKey = Object.defineProperty({}, "__proto__", { value: z.string(), enumerable: true }) as Record<
            string,
            z.ZodString
        >;
        const refused: Array<[string, z.ZodType, RegExp]> = [
            ["a number", z.strictObject({ n: z.number() }), /zod type "number" at n/],
            ["a length check", z.strictObject({ s: z.string().min(3) }), /string check "min_length" at s/],
            ["a passthrough object", z.looseObject({ s: z.string() }), /catchall of unknown/],
            ["a coercing string", z.object({ s: z.coerce.string() }), /coercing string at s/],
            ["a nullable", z.object({ s: z.string().nullable() }), /zod type "nullable" at s/],
            [
                "an exclusive union",
                z.object({ s: z.xor([z.string(), z.string().trim()]) }),
                /exclusive union \(z.xor\) at s/,
            ],
            ["a one-option union", z.object({ s: z.union([z.string()]) }), /fewer than two options at s/],
            [
                "an optional around a default",
                z.object({ d: z.string().default("").optional() }),
                /optional around a default at d/,
            ],
            [
                "a partial of a default",
                z.strictObject({ d: z.string().default("") }).partial(),
                /optional around a default at d/,
            ],
            ["an object default", z.object({ d: z.object({ a: z.string() }).default({ a: "x" }) }), /not a constant/],
            [
                "a default computed per parse",
                z.object({ d: z.string().default(() => String(Math.random())) }),
                /not a constant/,
            ],
            ["an async refinement", z.object({ s: z.string().refine(async () => true, "m") }), /async refinement at s/],
            [
                "a refinement reported elsewhere",
                z.object({ s: z.string() }).refine(() => true, { message: "m", path: ["s"] }),
                /another path \(s\)/,
            ],
            [
                "a message that depends on the input",
                z.object({
                    s: z.string().refine(() => true, { error: (issue) => (issue.input === undefined ? "a" : "b") }),
                }),
                /message that depends on the input at s/,
            ],
            ["ipv6 (checked by more than a pattern)", z.object({ s: z.ipv6() }), /string format "ipv6" at s/],
            ["url (checked by more than a pattern)", z.object({ s: z.url() }), /string format "url" at s/],
            [
                "a field named like a prototype member",
                z.object({ constructor: z.string() }),
                /named like an Object.prototype member \("constructor"\)/,
            ],
            ["a __proto__ field", z.object(protoKey), /named like an Object.prototype member \("__proto__"\)/],
        ];
        for (const [what, schema, message] of refused) {
            expect(() => compileSchema(schema), what).to.throw(message);
        }
        z.config({ customError: () => "mine" });
        try {
            expect(() => compileSchema(z.string())).to.throw(/global zod error map/);
        } finally {
            z.config({ customError: undefined });
        }
    });

    it("reproduces zod where it accepts: union choices, stateful patterns, default wording, owner messages", () => {
        const agree = (what: string, schema: z.ZodType, inputs: unknown[]) => {
            const compiled = compileSchema(schema);
            // Each input twice in a row: a validator must not carry state from one body to the next.
            for (const input of [...inputs, ...inputs]) {
                expect(viaCompiled(compiled, input), `${what}: ${JSON.stringify(input)}`).to.deep.equal(
                    viaZod(schema, input),
                );
            }
        };
        // One option failed only with issues that do not stop it: zod answers with that option's issues.
        agree(
            "a union of strict objects",
            z.union([z.strictObject({ a: z.string() }), z.strictObject({ b: z.string() })]),
            [{ a: "x", z: 1 }, { b: "y" }, { a: 1 }, { c: 1 }, "s"],
        );
        agree(
            "a union whose options both refine",
            z.union([z.string().refine((v) => v.length > 3, "long"), z.string().refine((v) => v.startsWith("a"), "a")]),
            ["ab", "bcde", "b", 1],
        );
        agree("a pattern with the g flag", z.object({ s: z.string().regex(/a/g) }), [
            { s: "a" },
            { s: "a" },
            { s: "b" },
        ]);
        agree(
            "zod's default wording",
            z.object({ d: z.iso.date(), p: z.string().startsWith("ab"), e: z.email(), r: z.string().regex(/^x+$/) }),
            [{ d: "x", p: "b", e: "@", r: "y" }, { d: "2026-02-29", p: "abc", e: "a@b.co", r: "xx" }, {}],
        );
        agree(
            "a refinement with no message of its own",
            z.object({
                s: z
                    .string({ error: (issue) => (issue.input === undefined ? "s is required" : "s is wrong") })
                    .refine((v) => v !== "no"),
            }),
            [{ s: "no" }, { s: "yes" }, {}, { s: 1 }],
        );
        agree(
            "an object refinement after a stopping field",
            z.strictObject({ a: z.string().optional() }).refine((v) => Object.keys(v).length > 0, "one"),
            [{}, { a: 1 }, { b: 1 }, { a: "x" }],
        );
        agree(
            "an aborting refinement",
            z.object({
                s: z
                    .string()
                    .refine((v) => v.length > 1, { message: "short", abort: true })
                    .refine((v) => v !== "x", "not x"),
            }),
            [{ s: "x" }, { s: "xx" }],
        );
    });

    it("strips unknown keys of a non-strict object, as zod does, and keeps its defaults", () => {
        const schema = z.object({ a: z.string().trim(), b: z.string().default("x") });
        const compiled = compileSchema(schema);
        for (const input of [{ a: " 1 ", extra: 1 }, { a: "2", b: "3" }, { b: 4 }]) {
            expect(viaCompiled(compiled, input)).to.deep.equal(viaZod(schema, input));
        }
    });
});

describe("validation: the serialized handlers (no zod in the archive) answer what zod decides", function () {
    this.timeout(120_000);
    let lambdas: LoadedLambdas;
    let call: ApiCall;

    before(async () => {
        // Invalid bodies are refused before any database call, so no database runs here; a valid
        // body would fail to connect (and is never sent).
        lambdas = await loadLambdas(await stackProgram("dev"), {
            ...localSdkEnv("http://127.0.0.1:9"),
            TABLE_NAME: "unused",
        });
        call = closureClient(lambdas.handlers as Record<RouteName, never>);
    });

    after(() => lambdas?.unload());

    const ROUTES: Array<[RouteName, z.ZodType, { id?: string }]> = [
        ["createPost", zodSchemas.create, {}],
        ["replacePost", zodSchemas.replace, { id: "0b6f8f3e-6b8e-4f57-9d3c-1c2b3a4d5e6f" }],
        ["updatePost", zodSchemas.patch, { id: "0b6f8f3e-6b8e-4f57-9d3c-1c2b3a4d5e6f" }],
    ];
    for (const [route, zodSchema, options] of ROUTES) {
        it(`${route}: 400 with zod's field errors on 300 generated invalid bodies`, async () => {
            const invalid = body.filter((input) => !zodSchema.safeParse(input).success);
            await fc.assert(
                fc.asyncProperty(invalid, async (input) => {
                    const result = zodSchema.safeParse(input);
                    const answer = await call(route, { ...options, body: input });
                    expect(answer.statusCode, answer.rawBody).to.equal(400);
                    expect(answer.body).to.deep.equal({
                        message: "Request body is invalid",
                        errors: fieldErrors(result.error!.issues, CLIENT_FIELDS),
                    });
                }),
                { seed: SEED, numRuns: 300 },
            );
        });
    }
});
