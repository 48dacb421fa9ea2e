// Deploy time: compiles a zod schema into the plain plan the Lambdas interpret
// (api/validation/validate.ts), so the one schema stays the TypeScript type, the OpenAPI source
// and the validator, while zod itself stays out of the archives.
//
// It reads zod's own description of each schema (`_zod.def`, zod 4) and accepts only what the
// API's schemas use: strict or stripping objects with refinements, strings with transforms
// (`.trim()`), refinements and formats, `optional`, `default` and unions. Anything else is a
// deploy-time error naming the construct, never a silently weaker validator. Refinement
// predicates and type-error customizers are the schema's own functions: Pulumi serializes them
// into the archive with whatever they capture (regexes, limits), exactly as before. Refinement
// messages must be fixed strings (zod's second argument); they are read here once.
import type { z } from "zod";
import { received, type CompiledSchema, type Plan, type StringStep, type TypeErrorMessage } from "./validate";

// The parts of zod's definitions this compiler reads (zod 4's `$ZodTypeDef` and its checks).
interface Def {
    type: string;
    error?: (issue: object) => unknown;
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
}
interface CheckDef {
    check: string;
    fn?: (value: never) => unknown;
    tx?: (value: string) => string;
    error?: (issue: object) => unknown;
    abort?: boolean;
    when?: unknown;
    format?: string;
    pattern?: RegExp;
}
interface Node { _zod: { def: Def } }

/** A customizer's answer (zod accepts a string or `{ message }`), or undefined to use the default. */
function messageOf(answer: unknown): string | undefined {
    if (typeof answer === "string") {
        return answer;
    }
    if (typeof answer === "object" && answer !== null && typeof (answer as { message?: unknown }).message === "string") {
        return (answer as { message: string }).message;
    }
    return undefined;
}

/** A refinement's or format's fixed message, read once from its customizer. */
function fixedMessage(error: CheckDef["error"], fallback: string): string {
    return messageOf(error?.({ code: "custom", input: undefined })) ?? fallback;
}

/**
 * The type error of a string or union: the schema's customizer (it may depend on the input, e.g.
 * "is required" vs "must be a string"), else zod's default wording.
 */
function typeErrorMessage(error: Def["error"], fallback: (input: unknown) => string): TypeErrorMessage {
    if (error === undefined) {
        return (issue) => fallback(issue.input);
    }
    return (issue) => messageOf(error(issue)) ?? fallback(issue.input);
}

function unsupported(path: string, what: string): Error {
    return new Error(`compileSchema: ${what} at ${path || "(root)"} is not supported by api/validation/compile.ts; extend the compiler (and its tests) or keep the schema to supported constructs`);
}

function stringSteps(def: Def, path: string): StringStep[] {
    const steps: StringStep[] = [];
    const checks = [...(def.checks ?? []).map((check) => check._zod.def)];
    // A format schema (z.iso.date()) is itself a check, and zod runs it first.
    if (def.check === "string_format") {
        checks.unshift({ check: "string_format", format: def.format, pattern: def.pattern, abort: def.abort, error: def.error });
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
            steps.push({ kind: "refine", test: check.fn as (value: string) => boolean, message: fixedMessage(check.error, "Invalid input"), abort: check.abort === true });
        } else if (check.check === "string_format" && check.pattern instanceof RegExp) {
            steps.push({ kind: "format", pattern: check.pattern, message: fixedMessage(check.error, `Invalid ${check.format ?? "format"}`), abort: check.abort === true });
        } else {
            throw unsupported(path, `the string check "${check.check}"${check.format ? ` (${check.format})` : ""}`);
        }
    }
    return steps;
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
                typeError: typeErrorMessage(def.error, (input) => `Invalid input: expected string, received ${received(input)}`),
                steps: stringSteps(def, path),
            };
        }
        case "optional":
            return { kind: "optional", inner: compileNode(def.innerType!, path) };
        case "default":
            // Read once: zod hands out a copy of the default, and the plan keeps that copy.
            return { kind: "default", value: structuredClone(def.defaultValue), inner: compileNode(def.innerType!, path) };
        case "union":
            return {
                kind: "union",
                options: def.options!.map((option, i) => compileNode(option, `${path}|${i}`)),
                error: typeErrorMessage(def.error, () => "Invalid input"),
            };
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
                    test: checkDef.fn as (value: Record<string, unknown>) => boolean,
                    message: fixedMessage(checkDef.error, "Invalid input"),
                    abort: checkDef.abort === true,
                };
            });
            return {
                kind: "object",
                fields: Object.entries(def.shape ?? {}).map(([key, field]) => [key, compileNode(field, path ? `${path}.${key}` : key)]),
                strict: catchall === "never",
                refinements,
            };
        }
        default:
            throw unsupported(path, `the zod type "${def.type}"`);
    }
}

/** Compiles a zod schema; the result validates to the schema's output type. */
export function compileSchema<S extends z.ZodType>(schema: S): CompiledSchema<z.output<S>> {
    return { plan: compileNode(schema as unknown as Node, "") };
}
