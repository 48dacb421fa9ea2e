// Step 6, a MOCK integration: the gateway answers by itself from the integration's templates.
import { mappedHeaders, renderTemplate, type TemplateContext } from "./gatewayResponses";
import { has, isBinary, nameMap, type IncomingRequest } from "./proxyEvent";
import { required, type InvocationContext, type PartialAnswer, type StepResult } from "./context";
import { refuse } from "./refusals";

/* eslint-disable @typescript-eslint/no-explicit-any */

/** The status the request template picks: `statusCode` of the rendered template, else 200. */
function requestedStatus(
    integration: any,
    ctx: TemplateContext,
    request: IncomingRequest,
    contentType: string,
): string {
    const templates: Record<string, string> = integration.requestTemplates ?? {};
    // The Content-Type is the client's: only the integration's own templates count.
    const template = has(templates, contentType)
        ? templates[contentType]
        : has(templates, "application/json")
          ? templates["application/json"]
          : undefined;
    try {
        const rendered = template === undefined ? request.body.toString("utf8") : renderTemplate(template, ctx);
        const parsed = JSON.parse(rendered);
        if (parsed && parsed.statusCode !== undefined) {
            return String(parsed.statusCode);
        }
    } catch {
        // No status in the template: API Gateway's MOCK then answers 200... when a response matches.
    }
    return "200";
}

/** A MOCK integration: the request template picks the status, the integration response maps headers and body. */
export function mockAnswer(
    integration: any,
    ctx: TemplateContext,
    request: IncomingRequest,
    requestContentType: string | undefined,
): PartialAnswer {
    const contentType = (requestContentType ?? "application/json").split(";")[0]!.trim();
    const statusCode = requestedStatus(integration, ctx, request, contentType);
    const responses: Record<string, any> = integration.responses ?? {};
    const selected =
        Object.entries(responses).find(
            ([pattern]) => pattern !== "default" && new RegExp(`^(?:${pattern})$`).test(statusCode),
        )?.[1] ?? (has(responses, "default") ? responses["default"] : undefined);
    const status = Number(selected?.statusCode ?? statusCode);
    const headers = nameMap<string[]>();
    headers["Content-Type"] = ["application/json"];
    for (const [name, value] of Object.entries(mappedHeaders(selected?.responseParameters, "method.response", ctx))) {
        headers[name] = [value];
    }
    const responseTemplates: Record<string, string> = selected?.responseTemplates ?? {};
    const bodyTemplate = has(responseTemplates, "application/json")
        ? responseTemplates["application/json"]
        : Object.values(responseTemplates)[0];
    return { status, headers, body: Buffer.from(bodyTemplate === undefined ? "" : renderTemplate(bodyTemplate, ctx)) };
}

export function mockIntegration(ctx: InvocationContext): StepResult {
    const integration = ctx.integration ?? {};
    if (String(integration.type ?? "").toLowerCase() !== "mock") {
        return undefined;
    }
    const { api } = required(ctx.deployed, "the stage");
    const { request } = ctx;
    // As on AWS: a request whose type is binary for this API (awsx declares `*/*`) reaches
    // a MOCK as raw bytes, its request template is skipped and the gateway answers 500,
    // unless the integration converts the request to text.
    const contentType = required(ctx.headers, "the headers").get("content-type");
    if (isBinary(contentType, api.binaryMediaTypes) && integration.contentHandling !== "CONVERT_TO_TEXT") {
        const resourcePath = required(ctx.match, "the route").resource.path;
        return refuse("API_CONFIGURATION_ERROR", {
            log: `${request.method} ${resourcePath}: MOCK integration cannot transform a binary request (set contentHandling: CONVERT_TO_TEXT)`,
        });
    }
    return {
        answer: {
            ...mockAnswer(integration, required(ctx.template, "the template context"), request, contentType),
            consumer: ctx.consumer,
        },
    };
}
