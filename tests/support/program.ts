// The one mocks module for tests: records the real program (index.ts) under Pulumi mocks for a
// stack, once per stack per process, and offers small lookups over the recorded resources.
// Recordings go through the local cloud's program cache (`recordOrReuseProgram`): the processes of
// a test run (mocha's workers, the scripts tests spawn) record each config once between them, and
// a recording is made again whenever a source, config, package or Node differs, as for `npm start`.
import { TYPES } from "local-cloud";
import {
    recordOrReuseProgram,
    recordProgram,
    type RecordOptions,
    type RecordedProgram,
    type RecordedResource,
} from "local-cloud";

const cache = new Map<string, Promise<RecordedProgram>>();

/** The program as recorded for a stack file (Pulumi.<stack>.yaml), shared by every test. */
export function stackProgram(stack: string): Promise<RecordedProgram> {
    let recorded = cache.get(stack);
    if (!recorded) {
        recorded = recordOrReuseProgram({ stack });
        cache.set(stack, recorded);
    }
    return recorded;
}

/** A one-off recording with changed config; not cached. Waits for cached runs to finish first. */
export async function programWith(options: RecordOptions): Promise<RecordedProgram> {
    await Promise.allSettled(cache.values());
    return recordOrReuseProgram(options);
}

/**
 * A recording made now, never read from the cache: for a test that watches the recording being made
 * (wraps Pulumi's mock monitor, say). Waits for cached runs to finish first.
 */
export async function recordedNow(options: RecordOptions): Promise<RecordedProgram> {
    await Promise.allSettled(cache.values());
    return recordProgram(options);
}

export const ofType = (program: RecordedProgram, type: string): RecordedResource[] =>
    program.resources.filter((r) => r.type === type);

export function one(program: RecordedProgram, type: string, name?: string): RecordedResource {
    const found = ofType(program, type).filter((r) => name === undefined || r.name === name);
    if (found.length !== 1) {
        throw new Error(`expected one ${type}${name ? ` named ${name}` : ""}, found ${found.length}`);
    }
    return found[0]!;
}

export const byUrn = (program: RecordedProgram, urn: string): RecordedResource | undefined =>
    program.resources.find((r) => r.urn === urn);

/** The OpenAPI (swagger 2.0) body awsx generated for the REST API. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function swaggerOf(program: RecordedProgram): any {
    return JSON.parse(one(program, TYPES.restApi).inputs["body"]);
}

export { TYPES } from "local-cloud";
