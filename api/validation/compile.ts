// Deploy time: compiles a zod schema into the plain plan the Lambdas interpret
// (api/validation/validate.ts), so the one schema stays the TypeScript type, the OpenAPI source
// and the validator, while zod itself stays out of the archives.
//
// It reads zod's own description of each schema (`_zod.def`, zod 4's introspection surface) and
// accepts only constructs whose zod behaviour the interpreter reproduces exactly: strict or
// stripping objects with refinements, strings with transforms (`.trim()`), refinements and
// pattern formats, `optional`, constant `default`s and inclusive unions. Anything else is a
// deploy-time error naming the construct, never a silently different validator. Refinement
// predicates and message customizers are the schema's own functions: Pulumi serializes them into
// the archive with whatever they capture (regexes, limits). A check's own message must not depend
// on the input (it is read here, once); a type error's may.
import { z } from "zod";
import { received, type CompiledSchema, type MessageFn, type Plan, type StringStep } from "./validate";

// The parts of zod's definitions this compiler reads (zod 4's `$ZodTypeDef` and its checks).
type Customizer = (issue: object) => unknown;
interface Def {
    type: string;
    error?: Customizer;
    checks?: Array<{ _zod: { def: CheckDef } }>;
    // string formats (z.iso.date(), z.email(), .regex()) are their own first check
    check?: string;
    format?: string;
    pattern?: RegExp;
    abort?: boolean;
    coerce?: boolean;
    shape?: Record<string, Node>;
    catchall?: Node;
    innerType?: Node;
    defaultValue?: unknown;
    options?: Node[];
    /** false for z.xor (exactly one option may match). */
    inclusive?: boolean;
}
interface CheckDef {
    check: string;
    fn?: (value: never) => unknown;
    tx?: (value: string) => string;
    error?: Customizer;
    abort?: boolean;
    when?: unknown;
    path?: unknown[];
    format?: string;
    pattern?: RegExp;
    prefix?: string;
    suffix?: string;
}
interface Node {
    _zod: { def: Def };
}

/**
 * Formats whose zod check is exactly "the pattern matches" (zod 4's $ZodCheckStringFormat).
 * Others (url, ipv6, cidrv6, base64, jwt, credit cards, custom formats) check more than their
 * pattern and are refused.
 */
const PATTERN_FORMATS = new Set([
    "date",
    "datetime",
    "time",
    "duration",
    "regex",
    "uuid",
    "guid",
    "email",
    "ipv4",
    "starts_with",
    "ends_with",
    "lowercase",
    "uppercase",
]);

/** A customizer's answer (zod accepts a string or `{ message }`), or undefined to use the next one. */
function messageOf(answer: unknown): string | undefined {
    if (typeof answer === "string") {
        return answer;
    }
    if (
        typeof answer === "object" &&
        answer !== null &&
        typeof (answer as { message?: unknown }).message === "string"
    ) {
        return (answer as { message: string }).message;
    }
    return undefined;
}

function unsupported(path: string, what: string): Error {
    return new Error(
        `compileSchema: ${what} at ${path || "(root)"} is not supported by api/validation/compile.ts; extend the compiler (and its tests) or keep the schema to supported constructs`,
    );
}

/** zod's default wording for an issue (its configured locale, English unless the program set one). */
function localeMessage(issue: object): string {
    const localeError = (z.config().localeError ?? z.locales.en().localeError) as Customizer;
    return messageOf(localeError(issue)) ?? "Invalid input";
}

/**
 * A check's message, resolved in zod's order: the check's own customizer (read once here: it must
 * not depend on the input), else the owning schema's customizer (run with the issue, so it may),
 * else zod's default wording.
 */
function checkMessage(
    path: string,
    own: Customizer | undefined,
    owner: Customizer | undefined,
    template: { code: string } & Record<string, unknown>,
): MessageFn {
    if (own !== undefined) {
        const fixed = messageOf(own({ ...template, input: undefined }));
        if (fixed !== messageOf(own({ ...template, input: "\u0000probe" }))) {
            throw unsupported(path, "a check message that depends on the input");
        }
        if (fixed !== undefined) {
            return () => fixed;
        }
    }
    const fallback = localeMessage({ ...template, input: "" });
    if (owner === undefined) {
        return () => fallback;
    }
    return (issue) => messageOf(owner({ ...template, ...issue })) ?? fallback;
}

/** A type error: the schema's customizer (it may depend on the input), else zod's default wording. */
function typeMessage(error: Customizer | undefined, fallback: (input: unknown) => string): MessageFn {
    return (issue) => messageOf(error?.(issue)) ?? fallback(issue.input);
}

function stringSteps(def: Def, path: string): StringStep[] {
    const steps: StringStep[] = [];
    const checks = (def.checks ?? []).map((check) => check._zod.def);
    // A format schema (z.iso.date()) is itself a check, zod runs it first, and its own customizer
    // is both the check's and the owning schema's.
    if (def.check === "string_format") {
        checks.unshift({
            check: "string_format",
            format: def.format,
            pattern: def.pattern,
            abort: def.abort,
            error: def.error,
        });
    }
    for (const check of checks) {
        if (!["overwrite", "custom", "string_format"].includes(check.check)) {
            throw unsupported(path, `the string check "${check.check}"${check.format ? ` (${check.format})` : ""}`);
        }
        if (check.when !== undefined) {
            throw unsupported(path, `a check with \`when\` (${check.check})`);
        }
        if (check.check === "overwrite" && check.tx) {
            steps.push({ kind: "transform", apply: check.tx });
        } else if (check.check === "custom" && check.fn) {
            steps.push({
                kind: "refine",
                test: refinement(check, path),
                message: checkMessage(path, check.error, def.error, { code: "custom" }),
                abort: check.abort === true,
            });
        } else if (
            check.check === "string_format" &&
            check.pattern instanceof RegExp &&
            PATTERN_FORMATS.has(check.format ?? "")
        ) {
            // What zod's issue carries for a format, so its wording ("Invalid ISO date", "must start with") follows.
            const template = {
                code: "invalid_format",
                origin: "string",
                format: check.format,
                pattern: String(check.pattern),
                prefix: check.prefix,
                suffix: check.suffix,
            };
            steps.push({
                kind: "format",
                pattern: check.pattern,
                message: checkMessage(path, check.error, def.error, template),
                abort: check.abort === true,
            });
        } else {
            throw unsupported(path, `the string format "${check.format ?? check.check}"`);
        }
    }
    return steps;
}

/** A refinement's predicate, once it is one the interpreter runs as zod does. */
function refinement<T>(check: CheckDef, path: string): (value: T) => boolean {
    if (check.fn!.constructor.name === "AsyncFunction") {
        throw unsupported(path, "an async refinement");
    }
    if (check.path !== undefined && check.path.length > 0) {
        throw unsupported(path, `a refinement that reports at another path (${check.path.join(".")})`);
    }
    return check.fn as unknown as (value: T) => boolean;
}

function constantDefault(def: Def, path: string): string | number | boolean | null {
    // zod reads `defaultValue` on every parse: a function default gives a new value each time.
    const first = def.defaultValue;
    const second = def.defaultValue;
    if (!(first === null || ["string", "number", "boolean"].includes(typeof first)) || !Object.is(first, second)) {
        throw unsupported(path, "a default that is not a constant string, number, boolean or null");
    }
    return first as string | number | boolean | null;
}

function compileNode(node: Node, path: string): Plan {
    const def = node._zod.def;
    switch (def.type) {
        case "string": {
            if (def.coerce) {
                throw unsupported(path, "a coercing string");
            }
            return {
                kind: "string",
                typeError: typeMessage(
                    def.error,
                    (input) => `Invalid input: expected string, received ${received(input)}`,
                ),
                steps: stringSteps(def, path),
            };
        }
        case "optional": {
            // zod runs a default (or another optional) inside an optional even for a missing value.
            const inner = def.innerType!._zod.def.type;
            if (inner === "default" || inner === "optional" || inner === "prefault") {
                throw unsupported(path, `an optional around a ${inner}`);
            }
            return { kind: "optional", inner: compileNode(def.innerType!, path) };
        }
        case "default":
            return { kind: "default", value: constantDefault(def, path), inner: compileNode(def.innerType!, path) };
        case "union": {
            if (def.inclusive === false) {
                throw unsupported(path, "an exclusive union (z.xor)");
            }
            if (def.options!.length < 2) {
                throw unsupported(path, "a union of fewer than two options");
            }
            const options = def.options!.map((option, i) => compileNode(option, `${path}|${i}`));
            if (options.some((option) => option.kind === "optional" || option.kind === "default")) {
                throw unsupported(path, "a union with an optional or defaulted option");
            }
            return { kind: "union", options, error: typeMessage(def.error, () => "Invalid input") };
        }
        case "object": {
            const catchall = def.catchall?._zod.def.type;
            if (catchall !== undefined && catchall !== "never") {
                throw unsupported(path, `an object with a catchall of ${catchall}`);
            }
            if (def.error !== undefined) {
                throw unsupported(path, "an object with its own type error");
            }
            const refinements = (def.checks ?? []).map((check) => {
                const checkDef = check._zod.def;
                if (checkDef.check !== "custom" || !checkDef.fn || checkDef.when !== undefined) {
                    throw unsupported(path, `the object check "${checkDef.check}"`);
                }
                return {
                    test: refinement<Record<string, unknown>>(checkDef, path),
                    message: checkMessage(path, checkDef.error, undefined, { code: "custom" }),
                    abort: checkDef.abort === true,
                };
            });
            const fields = Object.entries(def.shape ?? {}).map(([key, field]): [string, Plan] => {
                const fieldPath = path ? `${path}.${key}` : key;
                // zod reads such keys through the prototype (`constructor` of `{}` is a function);
                // the interpreter reads own keys only, so they are kept out rather than differ.
                if (key in Object.prototype) {
                    throw unsupported(fieldPath, `a field named like an Object.prototype member ("${key}")`);
                }
                return [key, compileNode(field, fieldPath)];
            });
            return { kind: "object", fields, strict: catchall === "never", refinements };
        }
        default:
            throw unsupported(path, `the zod type "${def.type}"`);
    }
}

/** Compiles a zod schema; the result validates to the schema's output type. */
export function compileSchema<S extends z.ZodType>(schema: S): CompiledSchema<z.output<S>> {
    if (z.config().customError !== undefined) {
        throw unsupported("", "a global zod error map (z.config({ customError }))");
    }
    return { plan: compileNode(schema as unknown as Node, "") };
}
