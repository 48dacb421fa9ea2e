// The DynamoDB table that holds posts and idempotency records. Key design: data/tableDesign.ts.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { POSTS_INDEX, TTL_ATTRIBUTE, keyAttributes } from "./tableDesign";

export interface PostsTableArgs {
    /** Production stacks keep backups and refuse to be deleted, by AWS and by `pulumi destroy`. */
    production: boolean;
    stack: string;
}

export class PostsTable extends pulumi.ComponentResource {
    readonly table: aws.dynamodb.Table;
    readonly name: pulumi.Output<string>;
    readonly arn: pulumi.Output<string>;
    /** ARN of the listing index; only the list route may query it. */
    readonly indexArn: pulumi.Output<string>;

    constructor(name: string, args: PostsTableArgs, opts?: pulumi.ComponentResourceOptions) {
        super("posts:data:PostsTable", name, {}, opts);

        this.table = new aws.dynamodb.Table(
            name,
            {
                // On-demand: a blog's traffic is spiky and small; no capacity to plan or pay for idle.
                billingMode: "PAY_PER_REQUEST",
                hashKey: keyAttributes.partitionKey,
                attributes: [
                    { name: keyAttributes.partitionKey, type: "S" },
                    { name: keyAttributes.listPartitionKey, type: "S" },
                    { name: keyAttributes.listSortKey, type: "S" },
                ],
                // `keySchemas`, not the `hashKey`/`rangeKey` that @pulumi/aws 7 deprecates. The provider
                // treats the two spellings of the same keys as no change (upstream acceptance test
                // TestAccDynamoDBTable_GSI_transitionHashKeyToKeySchema_noChange), but some releases
                // planned a rebuild of the index instead: check `pulumi preview --diff` on the
                // protected prod table before `pulumi up` (docs/decisions/0004-deploying-changes-safely.md).
                globalSecondaryIndexes: [
                    {
                        name: POSTS_INDEX,
                        keySchemas: [
                            { attributeName: keyAttributes.listPartitionKey, keyType: "HASH" },
                            { attributeName: keyAttributes.listSortKey, keyType: "RANGE" },
                        ],
                        projectionType: "ALL",
                    },
                ],
                // Idempotency records expire after 24 h; TTL deletes them at no cost.
                ttl: { attributeName: TTL_ATTRIBUTE, enabled: true },
                serverSideEncryption: { enabled: true },
                pointInTimeRecovery: { enabled: args.production },
                deletionProtectionEnabled: args.production,
                // The policy pack (policies/guardrails) reads `environment` to hold production
                // tables to production rules.
                tags: {
                    project: "posts-api",
                    stack: args.stack,
                    environment: args.production ? "production" : "development",
                },
            },
            {
                parent: this,
                // Belt and braces with deletionProtectionEnabled: `pulumi destroy` stops before AWS is asked.
                protect: args.production,
            },
        );

        this.name = this.table.name;
        this.arn = this.table.arn;
        this.indexArn = pulumi.interpolate`${this.table.arn}/index/${POSTS_INDEX}`;
        this.registerOutputs({ name: this.name, arn: this.arn });
    }
}
