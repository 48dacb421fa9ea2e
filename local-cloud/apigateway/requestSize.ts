// Step 2, the request's size: over API Gateway's 10 MB the server stopped reading it (server/server.ts).
import type { InvocationContext, StepResult } from "./context";
import { refuse } from "./refusals";

export function checkRequestSize(ctx: InvocationContext): StepResult {
    return ctx.request.tooLarge ? refuse("REQUEST_TOO_LARGE") : undefined;
}
