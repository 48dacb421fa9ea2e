// The IAM role API Gateway uses to write every REST API's logs (execution and access logs) to
// CloudWatch Logs. It is an account setting: one role per AWS account and region, shared by every
// API there, so exactly one stack sets it (posts-api:manageApiGatewayAccount, true on dev, which CI
// deploys first) and the other stacks of the account rely on it.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/**
 * Exactly the actions of the AWS managed policy AmazonAPIGatewayPushToCloudWatchLogs (v1,
 * docs.aws.amazon.com/aws-managed-policy/latest/reference/AmazonAPIGatewayPushToCloudWatchLogs.html),
 * granted inline instead of attaching that policy: API Gateway creates the execution log groups it
 * needs and checks the role with some of the read actions.
 */
export const API_GATEWAY_LOG_ACTIONS = [
    "logs:CreateLogGroup",
    "logs:CreateLogStream",
    "logs:DescribeLogGroups",
    "logs:DescribeLogStreams",
    "logs:PutLogEvents",
    "logs:GetLogEvents",
    "logs:FilterLogEvents",
];

const apiGatewayAssumeRolePolicy: aws.iam.PolicyDocument = {
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: "apigateway.amazonaws.com" }, Action: "sts:AssumeRole" }],
};

/**
 * The role's permission document. The managed policy allows every resource; this one allows the
 * log groups of this account and region, which is as tight as works: the role serves every API
 * in the region (other projects' too), whose log groups this program does not know.
 */
export function gatewayLogPolicyDocument(partition: string, region: string, accountId: string): aws.iam.PolicyDocument {
    return {
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "ApiGatewayLogs",
                Effect: "Allow",
                Action: [...API_GATEWAY_LOG_ACTIONS],
                // `*` also matches the log streams inside (`log-group:<name>:log-stream:<stream>`).
                Resource: `arn:${partition}:logs:${region}:${accountId}:log-group:*`,
            },
        ],
    };
}

export class ApiGatewayAccount extends pulumi.ComponentResource {
    readonly role: aws.iam.Role;
    readonly policy: aws.iam.RolePolicy;
    /** The account setting; the stage's logging waits for it. */
    readonly account: aws.apigateway.Account;

    constructor(name: string, opts?: pulumi.ComponentResourceOptions) {
        super("posts:api:ApiGatewayAccount", name, {}, opts);
        // Destroying this stack must not take logging away from the account's other stacks: deleting
        // an apigateway.Account resets the account's CloudWatch role (the Terraform AWS provider
        // behind @pulumi/aws 7 sends cloudwatchRoleArn=null on delete), and the role would be gone.
        // So the three stay in AWS when they leave this stack (destroy, or ownership moved).
        const childOpts = { parent: this, retainOnDelete: true };

        this.role = new aws.iam.Role(
            name,
            {
                assumeRolePolicy: JSON.stringify(apiGatewayAssumeRolePolicy),
                description: "API Gateway writes the logs of this account's REST APIs in this region with this role",
            },
            childOpts,
        );

        const identity = aws.getCallerIdentityOutput({}, { parent: this });
        const region = aws.getRegionOutput({}, { parent: this });
        this.policy = new aws.iam.RolePolicy(
            name,
            {
                role: this.role.id,
                policy: pulumi
                    .all([identity.arn, region.region, identity.accountId])
                    .apply(([callerArn, regionName, accountId]) =>
                        // The partition ("aws", "aws-cn", ...) is the second field of any ARN.
                        JSON.stringify(gatewayLogPolicyDocument(callerArn.split(":")[1]!, regionName, accountId)),
                    ),
            },
            childOpts,
        );

        // After the policy: API Gateway refuses a role that cannot write logs yet.
        this.account = new aws.apigateway.Account(
            name,
            {
                cloudwatchRoleArn: this.role.arn,
            },
            { ...childOpts, dependsOn: [this.policy] },
        );

        this.registerOutputs({ cloudwatchRoleArn: this.role.arn });
    }
}
