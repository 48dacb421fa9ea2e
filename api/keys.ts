// API keys and usage plans: one key per consumer, attached to its plan; every plan bound to this
// stack's stage with the throttle and quota from config.
//
// Logical names are the consumer and plan names, never list positions: adding, removing or
// reordering consumers leaves every other consumer's key (and its value) untouched. This is why
// awsx's createAssociatedAPIKeys (named `name-0`, `name-1`, ...) is not used.
//
// Changes that replace resources, and why they deploy cleanly (docs/decisions/0004-deploying-changes-safely.md):
// - a consumer moved to another plan (or a plan renamed): the UsagePlanKey's keyId/usagePlanId
//   force a replacement (ForceNew in the provider), and AWS keeps a key in at most one plan per
//   stage, so the old attachment is deleted before the new one is created (`deleteBeforeReplace`);
//   the key answers 403 for the second or so in between;
// - a consumer renamed: `renamedFrom` aliases the key and its attachment to the old name, so the
//   same AWS key (and value) is kept; otherwise a new key would be created before the old one is
//   deleted, which AWS refuses for a value pinned in apiKeyValues (values are unique).
//
// Key rotation: a consumer's `keys` lists its live key generations. Each generation is its own
// ApiKey and UsagePlanKey (logical name `<consumer>` for generation 1, `<consumer>.key<N>` after),
// so adding generation 2 creates a key beside the old one (both accepted: same plan, same stage)
// and removing generation 1 deletes only that key and its attachment. Nothing of any other
// consumer, and nothing of the generations that stay, changes. A removed generation is gone for
// good: listing it again is a new ApiKey resource (same URN, new create), so AWS gives it a new id
// and, unless apiKeyValues pins one, a new value. Every generation's key is named after its
// consumer (the `name` AWS shows): the newer generation of the same name is what tells the local
// cloud a key was replaced and not just cut from the config for a moment
// (docs/decisions/0020-keys-retired-for-good.md).
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { apiKeyLogicalName, ConfigError, type Consumer, type Plan } from "../config/stackConfig";
import { routes } from "./routes";

export interface ApiKeysArgs {
    restApiId: pulumi.Input<string>;
    stageName: pulumi.Input<string>;
    plans: Record<string, Plan>;
    consumers: Consumer[];
    /** Key logical name -> configured key value; keys without one get an AWS-generated value. */
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
                throw new ConfigError(
                    `posts-api:plans.${planName}.methodThrottles."${key}": no such operation (operations: ${operations.join(", ")})`,
                );
            }
        }
    }
}

export class ApiKeys extends pulumi.ComponentResource {
    readonly usagePlans: Record<string, aws.apigateway.UsagePlan> = {};
    /** Consumer name -> its live keys, oldest generation first. */
    readonly keys: Record<string, aws.apigateway.ApiKey[]> = {};
    /** Consumer name -> the value of its newest key, secret. */
    readonly values: pulumi.Output<Record<string, string>>;
    /** Consumer name -> the ids of its live keys, oldest first (not secret: for usage reports). */
    readonly keyIds: pulumi.Output<Record<string, string[]>>;
    /** Plan name -> usage plan id (not secret). */
    readonly usagePlanIds: pulumi.Output<Record<string, string>>;

    constructor(name: string, args: ApiKeysArgs, opts?: pulumi.ComponentResourceOptions) {
        super("posts:api:ApiKeys", name, {}, opts);

        checkMethodThrottles(args.plans);
        for (const [planName, plan] of Object.entries(args.plans)) {
            this.usagePlans[planName] = new aws.apigateway.UsagePlan(
                planName,
                {
                    description: `posts-api "${planName}" plan`,
                    apiStages: [
                        {
                            apiId: args.restApiId,
                            stage: args.stageName,
                            throttles: Object.entries(plan.methodThrottles).map(([path, limits]) => ({
                                path,
                                ...limits,
                            })),
                        },
                    ],
                    throttleSettings: plan.throttle,
                    quotaSettings: plan.quota,
                },
                { parent: this },
            );
        }

        for (const consumer of args.consumers) {
            const plan = this.usagePlans[consumer.plan];
            if (!plan) {
                // parseStackConfig already refuses this; kept so the types need no `!`.
                throw new Error(`consumer ${consumer.name}: unknown plan ${consumer.plan}`);
            }
            this.keys[consumer.name] = consumer.keys.map((generation) => {
                const keyName = apiKeyLogicalName(consumer.name, generation);
                // Same parent, same type, the old name: the resources the old name created.
                const aliases =
                    consumer.renamedFrom === undefined
                        ? undefined
                        : [{ name: apiKeyLogicalName(consumer.renamedFrom, generation) }];
                const key = new aws.apigateway.ApiKey(
                    keyName,
                    {
                        // The consumer's name for every generation (AWS key names need not be unique;
                        // changing a key's name updates it in place, value and id kept).
                        name: consumer.name,
                        description:
                            generation === 1
                                ? `posts-api key of ${consumer.name}`
                                : `posts-api key of ${consumer.name} (generation ${generation})`,
                        // A disabled key stays (its value is kept) but API Gateway refuses it with 403.
                        enabled: consumer.enabled,
                        value: args.keyValues.apply((values) => values[keyName]),
                    },
                    { parent: this, aliases },
                );
                new aws.apigateway.UsagePlanKey(
                    keyName,
                    {
                        keyId: key.id,
                        keyType: "API_KEY",
                        usagePlanId: plan.id,
                    },
                    {
                        parent: this,
                        aliases,
                        // The provider reports the key's value on this resource too, unmarked: keep it
                        // encrypted in the state like ApiKey.value.
                        additionalSecretOutputs: ["value"],
                        // Every input forces a replacement, and the new attachment (same key, same stage)
                        // cannot exist next to the old one: delete first.
                        deleteBeforeReplace: true,
                    },
                );
                return key;
            });
        }

        // ApiKey.value is already a secret output; wrapping again keeps the map secret under every
        // engine (and under mocks, where a mock's value would otherwise be plain).
        this.values = pulumi.secret(
            pulumi.all(
                Object.fromEntries(
                    Object.entries(this.keys).map(([consumer, keys]) => [consumer, keys[keys.length - 1]!.value]),
                ),
            ),
        );
        this.keyIds = pulumi.all(
            Object.fromEntries(
                Object.entries(this.keys).map(([consumer, keys]) => [consumer, pulumi.all(keys.map((k) => k.id))]),
            ),
        );
        this.usagePlanIds = pulumi.all(
            Object.fromEntries(Object.entries(this.usagePlans).map(([plan, usagePlan]) => [plan, usagePlan.id])),
        );
        this.registerOutputs({ values: this.values, keyIds: this.keyIds, usagePlanIds: this.usagePlanIds });
    }
}
