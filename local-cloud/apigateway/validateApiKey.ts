// Step 4, the API key, for a method that requires one: it exists, is enabled, and is in a usage plan
// bound to this API and stage.
import type { ApiKeyModel, CloudModel, RestApiModel, UsagePlanModel } from "../program/model";
import { required, type GatewayDeps, type InvocationContext, type StepResult } from "./context";
import { refuse } from "./refusals";

function planFor(model: CloudModel, key: ApiKeyModel, api: RestApiModel, stage: string): UsagePlanModel | undefined {
    return model.usagePlans.find(
        (plan) => plan.keyIds.includes(key.id) && plan.apiStages.some((s) => s.apiId === api.id && s.stage === stage),
    );
}

export function validateApiKey(ctx: InvocationContext, deps: Pick<GatewayDeps, "keysByValue" | "model">): StepResult {
    if (!required(ctx.operation, "the route").apiKeyRequired) {
        ctx.consumer = undefined;
        return undefined;
    }
    const { api, stage } = required(ctx.deployed, "the stage");
    const value = required(ctx.headers, "the headers").get("x-api-key");
    const key = value === undefined ? undefined : deps.keysByValue.get(value);
    const plan = key?.enabled ? planFor(deps.model, key, api, stage.name) : undefined;
    if (!key || !plan) {
        return refuse("INVALID_API_KEY");
    }
    ctx.key = key;
    ctx.plan = plan;
    ctx.consumer = key.logicalName;
    if (ctx.access) {
        // The key is known from here on, refused by its plan's limits or not (as on AWS).
        ctx.access.apiKey = key.value;
        ctx.access.apiKeyId = key.id;
    }
    return undefined;
}
