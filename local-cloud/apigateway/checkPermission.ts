// Step 10, Lambda's resource policy: may API Gateway invoke this function, at this qualifier, from
// this API, stage, method and path? Checked after the cache: a cached answer invokes nothing.
import { describeMissingPermission, permissionFor } from "../lambda/permissions";
import { MOCK_ACCOUNT } from "../program/recordProgram";
import { required, type GatewayDeps, type InvocationContext, type StepResult } from "./context";
import { refuse } from "./refusals";

export function checkPermission(ctx: InvocationContext, deps: Pick<GatewayDeps, "model">): StepResult {
    const permissions = deps.model.permissions;
    const functionArn = ctx.functionArn;
    if (permissions === undefined || functionArn === undefined) {
        // A hand-made model without permissions is not checked (model.ts).
        return undefined;
    }
    const { api, stage } = required(ctx.deployed, "the stage");
    const resourcePath = required(ctx.match, "the route").resource.path;
    const method = ctx.request.method;
    const source = {
        region: deps.model.region,
        account: MOCK_ACCOUNT,
        apiId: api.id,
        stage: stage.name,
        method,
        path: required(ctx.pathInStage, "the stage"),
        resourcePath,
    };
    if (permissionFor(permissions, functionArn, source) !== undefined) {
        return undefined;
    }
    return refuse("API_CONFIGURATION_ERROR", {
        log: `${method} ${resourcePath}: ${describeMissingPermission(permissions, functionArn, source)}`,
    });
}
