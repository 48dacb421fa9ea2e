// The validator the Lambdas run: a plain plan compiled from the zod schemas at deploy time
// (api/validation/compile.ts) and interpreted here with no library. It must not import zod (not
// even for a helper): Pulumi serializes what the handlers capture, and a captured `zod` would
// put the package's 840 files back into every archive (docs/decisions/0015-validation-compiled-at-deploy-time.md).
//
// The rules reproduce zod's own (v4) semantics for the constructs the compiler accepts, so a body
// gets the same verdict, value and messages in both: checks run in order and keep running after
// a failed refinement or format; a wrong type or a failed union stops that value's checks; an
// object's own refinements run only when no field stopped; unknown keys never stop anything.
// tests/api/validation.test.ts holds the two side by side over thousands of generated bodies.
import { badRequest, type FieldError } from "../http/errors";

/** An issue, shaped like the part of a zod issue the API uses (so `fieldErrors` takes either). */
export interface Issue {
    code: "invalid_type" | "invalid_union" | "invalid_format" | "custom" | "unrecognized_keys";
    path: string[];
    message: string;
    /** For `unrecognized_keys`: the keys, in the body's order. */
    keys?: string[];
}

/**
 * An issue's message, from what zod would hand a customizer (`code`, `input`, and `expected` for a
 * type error). Built by the compiler: a fixed text, or the schema's own customizer with zod's
 * default wording behind it.
 */
export type MessageFn = (issue: { code: string; input: unknown; expected?: string }) => string;

/** A step of a string: a transform (zod's `overwrite`, e.g. trim), a refinement or a format. */
export type StringStep =
    | { kind: "transform"; apply: (value: string) => string }
    | { kind: "refine"; test: (value: string) => boolean; message: MessageFn; abort: boolean }
    | { kind: "format"; pattern: RegExp; message: MessageFn; abort: boolean };

export type Plan =
    | { kind: "string"; typeError: MessageFn; steps: StringStep[] }
    | { kind: "optional"; inner: Plan }
    | { kind: "default"; value: string | number | boolean | null; inner: Plan }
    | { kind: "union"; options: Plan[]; error: MessageFn }
    | {
          kind: "object";
          fields: Array<[string, Plan]>;
          /** strictObject: unknown keys are an issue; otherwise they are dropped. */
          strict: boolean;
          refinements: Array<{ test: (value: Record<string, unknown>) => boolean; message: MessageFn; abort: boolean }>;
      };

/** A compiled schema; `T` is what a valid body becomes (the zod schema's output type). */
export interface CompiledSchema<T> {
    readonly plan: Plan;
    /** Type only: never set. */
    readonly __output?: T;
}

export type ValidationResult<T> = { success: true; data: T } | { success: false; issues: Issue[] };

// An issue stops the checks after it unless it is marked as continuing (zod's `continue`).
interface Tracked extends Issue {
    continues: boolean;
}

/** zod's description of a received value in its default messages. */
export function received(input: unknown): string {
    if (input === null) {
        return "null";
    }
    return Array.isArray(input) ? "array" : typeof input;
}

function stopped(issues: Tracked[], from: number): boolean {
    for (let i = from; i < issues.length; i++) {
        if (!issues[i]!.continues) {
            return true;
        }
    }
    return false;
}

function withPath(issues: Tracked[], from: number, key: string): void {
    for (let i = from; i < issues.length; i++) {
        issues[i]!.path.unshift(key);
    }
}

type UnionPlan = Extract<Plan, { kind: "union" }>;
type StringPlan = Extract<Plan, { kind: "string" }>;
type ObjectPlan = Extract<Plan, { kind: "object" }>;

/**
 * Runs one plan node; returns the output value (meaningful only when no issue was added).
 * Not named `run`: Pulumi's serializer takes a free variable that also exists on the global object
 * for that global and does not capture it, and test runners (mocha) define a global `run`.
 */
function runPlan(plan: Plan, input: unknown, issues: Tracked[]): unknown {
    switch (plan.kind) {
        case "optional":
            return input === undefined ? undefined : runPlan(plan.inner, input, issues);
        case "default":
            return input === undefined ? plan.value : runPlan(plan.inner, input, issues);
        case "union":
            return runUnion(plan, input, issues);
        case "string":
            return runString(plan, input, issues);
        case "object":
            return runObject(plan, input, issues);
    }
}

/**
 * zod: the first option without issues wins; else, if exactly one option failed only with issues
 * that do not stop (a refinement, unknown keys), its answer is the union's; else one invalid_union.
 * (A one-option union is refused by the compiler.)
 */
function runUnion(plan: UnionPlan, input: unknown, issues: Tracked[]): unknown {
    const attempts: Array<{ value: unknown; issues: Tracked[] }> = [];
    for (const option of plan.options) {
        const attempt: Tracked[] = [];
        const value = runPlan(option, input, attempt);
        if (attempt.length === 0) {
            return value;
        }
        attempts.push({ value, issues: attempt });
    }
    const open = attempts.filter((attempt) => !stopped(attempt.issues, 0));
    if (open.length === 1) {
        issues.push(...open[0]!.issues);
        return open[0]!.value;
    }
    issues.push({
        code: "invalid_union",
        path: [],
        message: plan.error({ code: "invalid_union", input }),
        continues: false,
    });
    return input;
}

/** A string: a wrong type stops it; else its steps run in order until an issue stops them. */
function runString(plan: StringPlan, input: unknown, issues: Tracked[]): unknown {
    if (typeof input !== "string") {
        issues.push({
            code: "invalid_type",
            path: [],
            message: plan.typeError({ code: "invalid_type", expected: "string", input }),
            continues: false,
        });
        return input;
    }
    let value = input;
    const start = issues.length;
    for (const step of plan.steps) {
        if (stopped(issues, start)) {
            break;
        }
        value = runStringStep(step, value, issues);
    }
    return value;
}

/** Runs one step of a string; returns the string, changed only by a transform. */
function runStringStep(step: StringStep, value: string, issues: Tracked[]): string {
    if (step.kind === "transform") {
        return step.apply(value);
    }
    if (step.kind === "refine") {
        if (!step.test(value)) {
            issues.push({
                code: "custom",
                path: [],
                message: step.message({ code: "custom", input: value }),
                continues: !step.abort,
            });
        }
        return value;
    }
    // As zod does: a pattern with the g or y flag keeps state between tests.
    step.pattern.lastIndex = 0;
    if (!step.pattern.test(value)) {
        issues.push({
            code: "invalid_format",
            path: [],
            message: step.message({ code: "invalid_format", input: value }),
            continues: !step.abort,
        });
    }
    return value;
}

/** An object: a wrong type stops it; else its fields, its unknown keys (if strict), then its refinements. */
function runObject(plan: ObjectPlan, input: unknown, issues: Tracked[]): unknown {
    if (typeof input !== "object" || input === null || Array.isArray(input)) {
        issues.push({
            code: "invalid_type",
            path: [],
            message: `Invalid input: expected object, received ${received(input)}`,
            continues: false,
        });
        return input;
    }
    const source = input as Record<string, unknown>;
    const start = issues.length;
    const output = runFields(plan.fields, source, issues);
    if (plan.strict) {
        reportUnknownKeys(plan.fields, source, issues);
    }
    runObjectRefinements(plan.refinements, output, issues, start);
    return output;
}

/** Runs each field's plan on the object's own property of that name; returns the fields that have a value. */
function runFields(
    fields: ObjectPlan["fields"],
    source: Record<string, unknown>,
    issues: Tracked[],
): Record<string, unknown> {
    const output: Record<string, unknown> = {};
    for (const [key, field] of fields) {
        const from = issues.length;
        const own = Object.prototype.hasOwnProperty.call(source, key) ? source[key] : undefined;
        const value = runPlan(field, own, issues);
        withPath(issues, from, key);
        if (value !== undefined) {
            output[key] = value;
        }
    }
    return output;
}

/** A strict object's keys that are not fields: one issue listing them all, which stops nothing. */
function reportUnknownKeys(fields: ObjectPlan["fields"], source: Record<string, unknown>, issues: Tracked[]): void {
    const known = new Set(fields.map(([key]) => key));
    const unknown = Object.keys(source).filter((key) => !known.has(key));
    if (unknown.length > 0) {
        const listed = unknown.map((key) => JSON.stringify(key)).join(", ");
        issues.push({
            code: "unrecognized_keys",
            path: [],
            keys: unknown,
            message: `Unrecognized key${unknown.length > 1 ? "s" : ""}: ${listed}`,
            continues: true,
        });
    }
}

/** The object's refinements, on its output, in order; none runs once an issue since `start` stopped. */
function runObjectRefinements(
    refinements: ObjectPlan["refinements"],
    output: Record<string, unknown>,
    issues: Tracked[],
    start: number,
): void {
    for (const refinement of refinements) {
        if (stopped(issues, start)) {
            break;
        }
        if (!refinement.test(output)) {
            issues.push({
                code: "custom",
                path: [],
                message: refinement.message({ code: "custom", input: output }),
                continues: !refinement.abort,
            });
        }
    }
}

/** Validates `input`; never throws for bad input. */
export function validate<T>(schema: CompiledSchema<T>, input: unknown): ValidationResult<T> {
    const tracked: Tracked[] = [];
    const data = runPlan(schema.plan, input, tracked);
    if (tracked.length > 0) {
        return { success: false, issues: tracked.map(({ continues: _, ...issue }) => issue) };
    }
    return { success: true, data: data as T };
}

/** Issues (ours or zod's) → the API's `errors` list: every problem, unknown keys one entry per field. */
export function fieldErrors(
    issues: ReadonlyArray<{
        code: string;
        path: ReadonlyArray<PropertyKey>;
        message: string;
        keys?: readonly string[];
    }>,
    allowedFields: readonly string[],
): FieldError[] {
    const errors: FieldError[] = [];
    for (const issue of issues) {
        const path = issue.path.map(String);
        if (issue.code === "unrecognized_keys") {
            for (const key of issue.keys ?? []) {
                errors.push({
                    field: [...path, key].join("."),
                    message: `Unknown field; allowed fields are ${allowedFields.join(", ")}`,
                });
            }
        } else {
            errors.push({ field: path.length > 0 ? path.join(".") : "body", message: issue.message });
        }
    }
    return errors;
}

/** The keys a body may have: the object's fields (its schema is the list). */
export function allowedFields(plan: Plan): string[] {
    return plan.kind === "object" ? plan.fields.map(([key]) => key) : [];
}

/** Validates a parsed JSON body; throws a 400 listing every problem. */
export function validateBody<T>(schema: CompiledSchema<T>, body: unknown): T {
    const result = validate(schema, body);
    if (!result.success) {
        throw badRequest("Request body is invalid", fieldErrors(result.issues, allowedFields(schema.plan)));
    }
    return result.data;
}
