// No AWS managed *FullAccess, power-user or administrator policy on any role. These grant whole
// services (or everything) on every resource; a function needs a few actions on its own table.
import { awsManagedPolicyName, asList } from "./iamDocuments";
import { describe, TYPES, type ResourceRule } from "./types";

const BROAD = [/FullAccess/i, /PowerUser/i, /^AdministratorAccess/i];

/** What aws.lambda.CallbackFunction attaches when it is given no `role` (@pulumi/aws lambdaMixins). */
const CALLBACK_FUNCTION_DEFAULTS = new Set([
    "AWSLambda_FullAccess",
    "CloudWatchFullAccessV2",
    "CloudWatchEventsFullAccess",
    "AmazonS3FullAccess",
    "AmazonDynamoDBFullAccess",
    "AmazonSQSFullAccess",
    "AmazonKinesisFullAccess",
    "AmazonCognitoPowerUser",
]);

export function isBroadManagedPolicy(arn: unknown): boolean {
    const name = awsManagedPolicyName(arn);
    return name !== undefined && BROAD.some((pattern) => pattern.test(name));
}

function message(where: string, arn: string): string {
    const name = awsManagedPolicyName(arn) ?? arn;
    const hint = CALLBACK_FUNCTION_DEFAULTS.has(name)
        ? " If this came from an aws.lambda.CallbackFunction without `role`, pass a least-privilege role (api/lambdaRole.ts)."
        : "";
    return (
        `${where} attaches the AWS managed policy ${name} (${arn}), which grants far more than any route needs: ` +
        `remove it and grant the exact actions on the exact resources in an inline policy instead.${hint}`
    );
}

export const noBroadManagedPolicies: ResourceRule = {
    kind: "resource",
    name: "no-broad-managed-policies",
    description: "No AWS managed *FullAccess, power-user or AdministratorAccess policy is attached to any IAM role.",
    enforcementLevel: "mandatory",
    resourceTypes: [
        TYPES.rolePolicyAttachment,
        TYPES.role,
        TYPES.rolePolicyAttachmentsExclusive,
        TYPES.policyAttachment,
    ],
    check(resource) {
        const { props } = resource;
        let arns: string[];
        switch (resource.type) {
            case TYPES.role:
                arns = asList(props["managedPolicyArns"]);
                break;
            case TYPES.rolePolicyAttachmentsExclusive:
                arns = asList(props["policyArns"]);
                break;
            case TYPES.policyAttachment:
                arns = asList(props["roles"]).length > 0 ? asList(props["policyArn"]) : [];
                break;
            default:
                arns = asList(props["policyArn"]);
        }
        return arns.filter(isBroadManagedPolicy).map((arn) => message(describe(resource), arn));
    },
};
