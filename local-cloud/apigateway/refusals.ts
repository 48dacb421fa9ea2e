// Refusals as values: a step says which gateway response ends the request (and what to log), and
// `renderRefusal` is the one place that turns it into an answer, through the API's own gateway
// responses (gatewayResponses.ts), as LocalStack's gateway_exception.py renders every refusal.
import { defaultBody, GATEWAY_DEFAULTS, gatewayResponse } from "./gatewayResponses";
import { nameMap } from "./proxyEvent";
import {
    required,
    type GatewayAnswer,
    type GatewayDeps,
    type InvocationContext,
    type PartialAnswer,
    type Refusal,
    type RequestIds,
} from "./context";

export type { Refusal } from "./context";

export const refuse = (type: Refusal["type"], more: Omit<Refusal, "type"> = {}): { refuse: Refusal } => ({
    refuse: { type, ...more },
});

/** No stage of that name: API Gateway's plain 403, which no gateway response of an API changes. */
export const FORBIDDEN_NO_STAGE: Pick<GatewayAnswer, "status" | "headers" | "body"> = {
    status: 403,
    headers: { "Content-Type": ["application/json"], "x-amzn-ErrorType": ["ForbiddenException"] },
    body: Buffer.from(defaultBody(403, "Forbidden")),
};

/** Adds the ids every answer carries; header maps stay prototype-free. */
export function withIds(partial: PartialAnswer, ids: RequestIds): GatewayAnswer {
    const headers = Object.assign(nameMap<string[]>(), partial.headers);
    headers["x-amzn-RequestId"] = [ids.requestId];
    headers["x-amz-apigw-id"] = [ids.extendedRequestId];
    headers["X-Amzn-Trace-Id"] = [ids.traceId];
    return { ...partial, headers, requestId: ids.requestId };
}

/** A step's answer, with the stage's pending access-log line and the request's ids. */
export function finish(ctx: InvocationContext, partial: PartialAnswer): GatewayAnswer {
    return withIds(ctx.accessLog ? { ...partial, accessLog: ctx.accessLog } : partial, ctx.ids);
}

/** A rendered gateway response's headers, its error type first. */
export function responseHeaders(rendered: {
    errorType: string;
    headers: Record<string, string>;
}): Record<string, string[]> {
    const headers = nameMap<string[]>();
    headers["x-amzn-ErrorType"] = [rendered.errorType];
    for (const [name, value] of Object.entries(rendered.headers)) {
        headers[name] = [value];
    }
    return headers;
}

/** Who called (once the key check passed) and the cache's verdict (once the cache step decided). */
function callerNotes(ctx: InvocationContext, refusal: Refusal): Partial<PartialAnswer> {
    return {
        ...("consumer" in ctx ? { consumer: ctx.consumer } : {}),
        ...(ctx.cache && !refusal.withoutCacheVerdict ? { cache: ctx.cache.verdict } : {}),
    };
}

/** The one place a refusal becomes an answer: logged, noted in the access log, rendered. */
export function renderRefusal(ctx: InvocationContext, refusal: Refusal, deps: Pick<GatewayDeps, "log">): GatewayAnswer {
    if (refusal.log !== undefined) {
        deps.log(refusal.log);
    }
    if (refusal.type === "NO_SUCH_STAGE") {
        return finish(ctx, {
            ...FORBIDDEN_NO_STAGE,
            headers: { ...FORBIDDEN_NO_STAGE.headers },
            refusal: "no such stage",
        });
    }
    if (ctx.access) {
        ctx.access.error = { message: GATEWAY_DEFAULTS[refusal.type].message, responseType: refusal.type };
    }
    const rendered = gatewayResponse(
        refusal.type,
        required(ctx.deployed, "the stage").api.gatewayResponses,
        required(ctx.template, "the template context"),
    );
    return finish(ctx, {
        status: rendered.status,
        headers: responseHeaders(rendered),
        body: Buffer.from(rendered.body),
        refusal: refusal.type,
        ...callerNotes(ctx, refusal),
    });
}
