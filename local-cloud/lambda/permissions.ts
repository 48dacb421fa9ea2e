// Lambda's resource-based policy as API Gateway meets it. API Gateway may invoke a function only
// where an `aws.lambda.Permission` lets it: principal `apigateway.amazonaws.com`, action
// `lambda:InvokeFunction`, on the qualifier the integration invokes (the function's own policy and
// each alias's or version's are separate, so a permission on the function does not cover `…:live`),
// and a source ARN that matches this API, stage, method and path. Otherwise the client gets 500
// `Internal server error` and the execution log says "Invalid permissions on Lambda function" —
// the classic "works locally, 500s on AWS" mistake, which the local cloud therefore reproduces.
//
// Source ARNs are `arn:aws:execute-api:<region>:<account>:<api id>/<stage>/<METHOD>/<path>`,
// matched as IAM's ArnLike does (each colon-separated part on its own; `*` any run of characters,
// `/` included, `?` one). AWS's documentation does not say whether the path is the request's or
// the resource's template (`/posts/abc` or `/posts/{id}`); the evidence points to the template
// (aws/serverless-application-model#540: a `{param}` permission works when the name matches the
// definition's) but programs are written both ways (awsx's `{id}`, SAM's `*`), so a permission
// matching either is accepted: that cannot hide a missing qualifier, API, method or permission.
import { integrationFunctionArn, splitFunctionArn } from "./lambdaArn";

/** An `aws.lambda.Permission`, as the model reads it (model.ts). */
export interface PermissionModel {
    logicalName: string;
    /** The function's unqualified ARN. */
    functionArn: string;
    /** The alias or version it is on; undefined for the function itself ($LATEST, unqualified). */
    qualifier?: string;
    action: string;
    principal: string;
    sourceArn?: string;
    sourceAccount?: string;
}

/** Where an invocation comes from: API Gateway's side of the source ARN. */
export interface InvocationSource {
    region: string;
    account: string;
    apiId: string;
    stage: string;
    method: string;
    /** The request's path within the stage (`/posts/abc`). */
    path: string;
    /** The resource's template (`/posts/{id}`). */
    resourcePath: string;
}

const API_GATEWAY = "apigateway.amazonaws.com";

/** `$LATEST` is the function itself (an invocation may name it; a permission may not: model.ts refuses it). */
export function normalQualifier(qualifier: string | undefined): string | undefined {
    return qualifier === undefined || qualifier === "" || qualifier === "$LATEST" ? undefined : qualifier;
}

// Compiled once per pattern part: the gateway matches on every invocation, and a program's
// permissions hold only a handful of distinct parts.
const globs = new Map<string, RegExp>();

function glob(pattern: string): RegExp {
    let compiled = globs.get(pattern);
    if (compiled === undefined) {
        const source = pattern
            .replace(/[.+^${}()|[\]\\]/g, "\\$&")
            .replace(/\*/g, ".*")
            .replace(/\?/g, ".");
        compiled = new RegExp(`^${source}$`, "s");
        globs.set(pattern, compiled);
    }
    return compiled;
}

/** IAM's ArnLike: six colon-separated parts, each matched with `*` and `?` wildcards. */
export function arnLike(pattern: string, arn: string): boolean {
    const split = (text: string) => {
        const parts = text.split(":");
        return parts.length < 6 ? undefined : [...parts.slice(0, 5), parts.slice(5).join(":")];
    };
    const want = split(pattern);
    const have = split(arn);
    return want !== undefined && have !== undefined && want.every((part, i) => glob(part).test(have[i]!));
}

/** The source ARNs an invocation may be known by (the request's path, the resource's template). */
export function sourceArns(source: InvocationSource): string[] {
    const prefix = `arn:aws:execute-api:${source.region}:${source.account}:${source.apiId}/${source.stage}/${source.method.toUpperCase()}`;
    return [...new Set([`${prefix}${source.path}`, `${prefix}${source.resourcePath}`])];
}

/**
 * The permission that lets API Gateway invoke `invokedArn` (maybe qualified) from `source`, or
 * undefined when none does.
 */
export function permissionFor(
    permissions: readonly PermissionModel[],
    invokedArn: string,
    source: InvocationSource,
): PermissionModel | undefined {
    const { functionArn, qualifier: invoked } = splitFunctionArn(invokedArn);
    const qualifier = normalQualifier(invoked);
    const arns = sourceArns(source);
    return permissions.find(
        (p) =>
            p.functionArn === functionArn &&
            normalQualifier(p.qualifier) === qualifier &&
            ["lambda:invokefunction", "lambda:*", "*"].includes(p.action.toLowerCase()) &&
            (p.principal === API_GATEWAY || p.principal === "*") &&
            (p.sourceAccount === undefined || p.sourceAccount === source.account) &&
            (p.sourceArn === undefined || arns.some((arn) => arnLike(p.sourceArn!, arn))),
    );
}

/** What to tell the developer when no permission matches: what AWS checks, and what would pass. */
export function describeMissingPermission(
    permissions: readonly PermissionModel[],
    invokedArn: string,
    source: InvocationSource,
): string {
    const { functionArn, qualifier: invoked } = splitFunctionArn(invokedArn);
    const qualifier = normalQualifier(invoked);
    const onFunction = permissions.filter((p) => p.functionArn === functionArn);
    const near =
        onFunction.length === 0
            ? "the function has no aws.lambda.Permission"
            : `its permissions (${onFunction.map((p) => `${p.logicalName}: qualifier ${normalQualifier(p.qualifier) ?? "none"}, principal ${p.principal}, sourceArn ${p.sourceArn ?? "any"}`).join("; ")}) do not cover it`;
    return (
        `Execution failed due to configuration error: Invalid permissions on Lambda function ${invokedArn}: ${near}. ` +
        `API Gateway needs principal ${API_GATEWAY}, action lambda:InvokeFunction${qualifier ? `, qualifier "${qualifier}" (a permission on the function does not cover its aliases)` : " on the function itself (no qualifier)"} and a sourceArn matching ${sourceArns(source)[0]}`
    );
}

const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/** What permissionWarnings reads of the model (model.ts's CloudModel), so this file needs no import of it. */
interface PermissionScope {
    region: string;
    permissions?: readonly PermissionModel[];
    restApis: ReadonlyArray<{
        logicalName: string;
        id: string;
        stages: ReadonlyArray<{ name: string }>;
        operations: ReadonlyArray<{
            method: string;
            resourcePath: string;
            integration?: { type?: unknown; uri?: unknown };
        }>;
    }>;
}

/**
 * At start: every Lambda route API Gateway may not invoke on some stage, so the developer hears of
 * it before the first 500. Checked with the resource's template as the path, which a permission
 * written with `*` or with the template matches.
 */
export function permissionWarnings(model: PermissionScope, account: string): string[] {
    const permissions = model.permissions;
    if (permissions === undefined) {
        return [];
    }
    const warnings: string[] = [];
    for (const api of model.restApis) {
        for (const op of api.operations) {
            if (String(op.integration?.type ?? "").toLowerCase() !== "aws_proxy") {
                continue;
            }
            const invokedArn = integrationFunctionArn(op.integration?.uri);
            if (invokedArn === undefined) {
                continue;
            }
            const denied = api.stages.filter((stage) =>
                (op.method === "ANY" ? METHODS : [op.method]).every(
                    (method) =>
                        permissionFor(permissions, invokedArn, {
                            region: model.region,
                            account,
                            apiId: api.id,
                            stage: stage.name,
                            method,
                            path: op.resourcePath,
                            resourcePath: op.resourcePath,
                        }) === undefined,
                ),
            );
            if (denied.length > 0) {
                const source = {
                    region: model.region,
                    account,
                    apiId: api.id,
                    stage: denied[0]!.name,
                    method: op.method === "ANY" ? "GET" : op.method,
                    path: op.resourcePath,
                    resourcePath: op.resourcePath,
                };
                warnings.push(
                    `REST API ${api.logicalName}: ${op.method} ${op.resourcePath} will answer 500 on stage${denied.length > 1 ? "s" : ""} ${denied.map((s) => s.name).join(", ")}, as on AWS. ${describeMissingPermission(permissions, invokedArn, source).replace(/^Execution failed due to configuration error: /, "")}`,
                );
            }
        }
    }
    return warnings;
}
