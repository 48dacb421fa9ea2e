// The post schemas: one zod definition is the TypeScript type (z.infer), the runtime validator
// and the source of the OpenAPI JSON Schema (z.toJSONSchema).
//
// zod runs at deploy time only. The Lambdas validate with a plan compiled from these schemas when
// the program loads (api/validation/), so zod stays out of their archives; that compiler accepts
// the constructs used here and refuses others at deploy time. Refinement messages are fixed
// strings (the compiler reads them once); type errors may depend on the input.
//
// Why a function and not module-level constants: nothing here should be captured by the Lambda
// code Pulumi serializes; a zod schema instance would be a large object graph.
import { z } from "zod";

/** The only fields a client may send. Everything else in a body is a 400 naming the field. */
export const CLIENT_FIELDS = ["title", "description", "author", "publicationDate"] as const;

/** The longest title, description and author a post may have, in characters (code points). */
const POST_FIELD_MAX_LENGTHS = {
    title: 200,
    description: 10_000,
    author: 100,
} as const;

/**
 * Length in Unicode code points, the way a person counts characters (and the way JSON Schema's
 * `maxLength` is defined), so 200 emoji are a valid title although they are 400 UTF-16 units.
 */
export function characterCount(value: string): number {
    return Array.from(value).length;
}

function requiredString(field: string) {
    return z.string({
        error: (issue) => (issue.input === undefined ? `${field} is required` : `${field} must be a string`),
    });
}

// Unpaired UTF-16 surrogates are not Unicode text: DynamoDB (UTF-8) would refuse them with a
// 500-shaped error, so they are a 400 here.
const UNPAIRED_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
// Single-line fields take no control characters; the description may keep tabs and line breaks.
// (Matching control characters is the point of these two, hence the lint exceptions.)
// eslint-disable-next-line no-control-regex
const CONTROL_SINGLE_LINE = /[\u0000-\u001f\u007f]/;
// eslint-disable-next-line no-control-regex
const CONTROL_MULTI_LINE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

/**
 * A string counted in code points; `singleLine` fields (title, author) are trimmed before
 * counting and storing, and may not contain control characters.
 */
function text(field: string, min: number, max: number, singleLine: boolean) {
    const base = singleLine ? requiredString(field).trim() : requiredString(field);
    const rule =
        min > 0 ? `${min}–${max} characters${singleLine ? " after trimming" : ""}` : `at most ${max} characters`;
    const control = singleLine ? CONTROL_SINGLE_LINE : CONTROL_MULTI_LINE;
    return base
        .refine((value) => {
            const count = characterCount(value);
            return count >= min && count <= max;
        }, `${field} must be ${rule}`)
        .refine((value) => !UNPAIRED_SURROGATE.test(value), `${field} must be valid Unicode text`)
        .refine(
            (value) => !control.test(value),
            singleLine
                ? `${field} must not contain control characters or line breaks`
                : `${field} must not contain control characters other than tab and line breaks`,
        )
        .meta({ minLength: min, maxLength: max });
}

function publicationDate() {
    // zod's ISO checks validate real calendar dates (no 2026-02-30, leap years honoured) and,
    // with `offset: true`, require `Z` or `±hh:mm` on a date-time. The value is stored as sent.
    return z.union([z.iso.date(), z.iso.datetime({ offset: true })], {
        error: (issue) =>
            issue.input === undefined
                ? "publicationDate is required"
                : "publicationDate must be an ISO-8601 date (2026-11-21) or date-time with offset (2026-11-21T09:30:00Z)",
    });
}

/** Builds every schema of the API. Call it at run time; do not keep the result at module scope. */
export function postSchemas() {
    const fields = {
        title: text("title", 1, POST_FIELD_MAX_LENGTHS.title, true),
        description: text("description", 0, POST_FIELD_MAX_LENGTHS.description, false),
        author: text("author", 1, POST_FIELD_MAX_LENGTHS.author, true),
        publicationDate: publicationDate(),
    };

    // POST and PUT: the full set of client fields (PUT replaces all of them, so an omitted
    // description becomes "" exactly as on create).
    const create = z.strictObject({
        title: fields.title,
        description: fields.description.default(""),
        author: fields.author,
        publicationDate: fields.publicationDate,
    });

    // PATCH is built from the bare fields, not `create.partial()`: zod applies a default even
    // inside an optional, which would silently reset `description` on every PATCH.
    const patch = z
        .strictObject({
            title: fields.title.optional(),
            description: fields.description.optional(),
            author: fields.author.optional(),
            publicationDate: fields.publicationDate.optional(),
        })
        .refine((value) => Object.keys(value).length > 0, {
            message: `Send at least one of: ${CLIENT_FIELDS.join(", ")}`,
        })
        .meta({ minProperties: 1 });

    // Response shapes, used only for documentation (OpenAPI); the store builds responses itself.
    const post = z.object({
        id: z.uuid(),
        title: z.string(),
        description: z.string(),
        author: z.string(),
        publicationDate: z.string(),
        createdAt: z.iso.datetime(),
        updatedAt: z.iso.datetime(),
        version: z.int().min(1),
    });
    const postList = z.object({ items: z.array(post), nextCursor: z.string().nullable() });
    const error = z.object({
        message: z.string(),
        errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
    });

    return { create, replace: create, patch, post, postList, error };
}

// What `create` and `patch` validate to is the store's PostInput and PostPatch
// (data/postsStore.ts, which may not import from api/): the handlers pass validateBody's result
// straight to the store, so the compiler checks there that the two agree.
export type PostSchemas = ReturnType<typeof postSchemas>;

/**
 * JSON Schemas for an OpenAPI generator, from the same definitions the Lambda validates with.
 * `options` go to z.toJSONSchema (e.g. `{ target: "openapi-3.0" }`).
 */
export function postJsonSchemas(options: Parameters<typeof z.toJSONSchema>[1] = {}) {
    const schemas = postSchemas();
    return {
        PostInput: z.toJSONSchema(schemas.create, { io: "input", ...options }),
        PostPatch: z.toJSONSchema(schemas.patch, { io: "input", ...options }),
        Post: z.toJSONSchema(schemas.post, { io: "output", ...options }),
        PostList: z.toJSONSchema(schemas.postList, { io: "output", ...options }),
        Error: z.toJSONSchema(schemas.error, { io: "output", ...options }),
    };
}
