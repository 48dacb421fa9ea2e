// The validators the handlers run, compiled from the zod schemas (api/schema.ts) when the program
// loads, i.e. at deploy time. What a handler captures from here is plain data and the schema's
// own small functions; zod is not among it (tests/program/closures.test.ts reads the archives).
import { postSchemas } from "../schema";
import { compileSchema } from "./compile";

function compilePostValidators() {
    const schemas = postSchemas();
    return {
        create: compileSchema(schemas.create),
        replace: compileSchema(schemas.replace),
        patch: compileSchema(schemas.patch),
    };
}

export const postValidators = compilePostValidators();
