// API keys and usage plans: one key per consumer, attached to its plan; every plan bound to this
// stack's stage with the throttle and quota from config.
//
// Logical names are the consumer and plan names, never list positions: adding, removing or
// reordering consumers leaves every other consumer's key (and its value) untouched. This is why
// awsx's createAssociatedAPIKeys (named `name-0`, `name-1`, ...) is not used.
//
// Changes that replace resources, and why they deploy cleanly (docs/decisions.md):
// - a consumer moved to another plan (or a plan renamed): the UsagePlanKey's keyId/usagePlanId
//   force a replacement (ForceNew in the provider), and AWS keeps a key in at most one plan per
//   stage, so the old attachment is deleted before the new one is created (`deleteBeforeReplace`);
//   the key answers 403 for the second or so in between;
// - a consumer renamed: `renamedFrom` aliases the key and its attachment to the old name, so the
//   same AWS key (and value) is kept; otherwise a new key would be created before the old one is
//   deleted, which AWS refuses for a value pinned in apiKeyValues (values are unique).
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, type Consumer, type Plan } from "../config/stackConfig";
import { routes } from "./routes";

export interface ApiKeysArgs {
    restApiId: pulumi.Input<string>;
    stageName: pulumi.Input<string>;
    plans: Record<string, Plan>;
    consumers: Consumer[];
    /** Consumer name -> configured key value; consumers without one get an AWS-generated value. */
    keyValues: pulumi.Output<Record<string, string>>;
}

/**
 * A throttle on an operation the API does not have would be accepted by AWS and do nothing, so it
 * is refused. index.ts calls this with the rest of the config checks, before any resource exists:
 * a program that throws after declaring resources leaves their RPCs in flight.
 */
export function checkMethodThrottles(plans: Record<string, Plan>): void {
    const operations = routes.map((r) => `${r.path}/${r.method}`);
    for (const [planName, plan] of Object.entries(plans)) {
        for (const key of Object.keys(plan.methodThrottles)) {
            if (!operations.includes(key)) {
                throw new ConfigError(`posts-api:plans.${planName}.methodThrottles."${key}": no such operation (operations: ${operations.join(", ")})`);
            }
        }
    }
}

export class ApiKeys extends pulumi.ComponentResource {
    readonly usagePlans: Record<string, aws.apigateway.UsagePlan> = {};
    readonly keys: Record<string, aws.apigateway.ApiKey> = {};
    /** Consumer name -> key value, secret. */
    readonly values: pulumi.Output<Record<string, string>>;

    constructor(name: string, args: ApiKeysArgs, opts?: pulumi.ComponentResourceOptions) {
        super("posts:api:ApiKeys", name, {}, opts);

        checkMethodThrottles(args.plans);
        for (const [planName, plan] of Object.entries(args.plans)) {
            this.usagePlans[planName] = new aws.apigateway.UsagePlan(planName, {
                description: `posts-api "${planName}" plan`,
                apiStages: [{
                    apiId: args.restApiId,
                    stage: args.stageName,
                    throttles: Object.entries(plan.methodThrottles).map(([path, limits]) => ({ path, ...limits })),
                }],
                throttleSettings: plan.throttle,
                quotaSettings: plan.quota,
            }, { parent: this });
        }

        for (const consumer of args.consumers) {
            const plan = this.usagePlans[consumer.plan];
            if (!plan) {
                // parseStackConfig already refuses this; kept so the types need no `!`.
                throw new Error(`consumer ${consumer.name}: unknown plan ${consumer.plan}`);
            }
            // Same parent, same type, the old name: the resources the old name created.
            const aliases = consumer.renamedFrom === undefined ? undefined : [{ name: consumer.renamedFrom }];
            const key = new aws.apigateway.ApiKey(consumer.name, {
                description: `posts-api key of ${consumer.name}`,
                // A disabled key stays (its value is kept) but API Gateway refuses it with 403.
                enabled: consumer.enabled,
                value: args.keyValues.apply((values) => values[consumer.name]),
            }, { parent: this, aliases });
            new aws.apigateway.UsagePlanKey(consumer.name, {
                keyId: key.id,
                keyType: "API_KEY",
                usagePlanId: plan.id,
            }, {
                parent: this,
                aliases,
                // The provider reports the key's value on this resource too, unmarked: keep it
                // encrypted in the state like ApiKey.value.
                additionalSecretOutputs: ["value"],
                // Every input forces a replacement, and the new attachment (same key, same stage)
                // cannot exist next to the old one: delete first.
                deleteBeforeReplace: true,
            });
            this.keys[consumer.name] = key;
        }

        // ApiKey.value is already a secret output; wrapping again keeps the map secret under every
        // engine (and under mocks, where a mock's value would otherwise be plain).
        this.values = pulumi.secret(pulumi.all(
            Object.fromEntries(Object.entries(this.keys).map(([consumer, key]) => [consumer, key.value])),
        ));
        this.registerOutputs({ values: this.values });
    }
}
