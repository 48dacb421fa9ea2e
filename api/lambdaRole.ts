// One IAM role per Lambda function, allowed exactly what its route does and nothing else.
//
// Built by hand because CallbackFunction, when given no role, creates one with nine AWS managed
// *FullAccess / power-user policies (DynamoDB, S3, Lambda, SQS, Kinesis, ...) on every resource.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

export type DynamoDbAction =
    "dynamodb:GetItem" | "dynamodb:PutItem" | "dynamodb:UpdateItem" | "dynamodb:DeleteItem" | "dynamodb:Query";

export interface LambdaRoleArgs {
    /** Actions allowed on the table itself (items addressed by key). */
    tableActions: DynamoDbAction[];
    /** Actions allowed on the listing index only. */
    indexActions: DynamoDbAction[];
    /**
     * Partition keys (IAM `dynamodb:LeadingKeys` patterns) the table actions may touch, so a route
     * that edits posts cannot reach idempotency records, and the reverse.
     */
    leadingKeys: string[];
    tableArn: pulumi.Input<string>;
    indexArn: pulumi.Input<string>;
    /** The function's own log group; it may write there and nowhere else. */
    logGroupArn: pulumi.Input<string>;
    /** X-Ray active tracing is on: Lambda then sends the function's trace segments with this role. */
    tracing: boolean;
}

/** What Lambda needs to send an actively traced function's segments (the X-Ray SDK's sampling
 *  actions are not needed: the handlers use no X-Ray SDK). */
export const XRAY_ACTIONS = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"];

const lambdaAssumeRolePolicy: aws.iam.PolicyDocument = {
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: "lambda.amazonaws.com" }, Action: "sts:AssumeRole" }],
};

/** The permission document, separate from the resources so tests and policy rules can read it. */
export function lambdaPolicyDocument(args: LambdaRoleArgs): pulumi.Output<aws.iam.PolicyDocument> {
    return pulumi
        .all([args.tableArn, args.indexArn, args.logGroupArn])
        .apply(([tableArn, indexArn, logGroupArn]): aws.iam.PolicyDocument => {
            const statements: aws.iam.PolicyStatement[] = [];
            if (args.tableActions.length > 0) {
                const Condition = { "ForAllValues:StringLike": { "dynamodb:LeadingKeys": [...args.leadingKeys] } };
                statements.push({
                    Sid: "TableItems",
                    Effect: "Allow",
                    Action: [...args.tableActions],
                    Resource: tableArn,
                    Condition,
                });
            }
            if (args.indexActions.length > 0) {
                // The index is sparse (posts only) and read-only here, so no key condition is needed.
                statements.push({
                    Sid: "ListingIndex",
                    Effect: "Allow",
                    Action: [...args.indexActions],
                    Resource: indexArn,
                });
            }
            statements.push({
                Sid: "OwnLogGroup",
                Effect: "Allow",
                // No logs:CreateLogGroup: the program creates the group, with its retention.
                Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
                Resource: `${logGroupArn}:*`,
            });
            if (args.tracing) {
                // X-Ray has no resource-level permissions for these actions: "*" is the only Resource.
                statements.push({ Sid: "XRayTracing", Effect: "Allow", Action: [...XRAY_ACTIONS], Resource: "*" });
            }
            return { Version: "2012-10-17", Statement: statements };
        });
}

export function createLambdaRole(
    name: string,
    args: LambdaRoleArgs,
    opts: pulumi.ResourceOptions,
): {
    role: aws.iam.Role;
    policy: aws.iam.RolePolicy;
} {
    const role = new aws.iam.Role(
        name,
        {
            assumeRolePolicy: JSON.stringify(lambdaAssumeRolePolicy),
            description: `Least-privilege role of the ${name} Lambda function`,
        },
        opts,
    );
    const policy = new aws.iam.RolePolicy(
        name,
        {
            role: role.id,
            policy: lambdaPolicyDocument(args).apply((doc) => JSON.stringify(doc)),
        },
        opts,
    );
    return { role, policy };
}
