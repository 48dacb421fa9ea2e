// One route's Lambda function: its log group, its least-privilege role, the serialized closure, a
// published version per change and the `live` alias API Gateway invokes (api/release.ts), with
// provisioned concurrency on the alias where the stack asks for it.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from "aws-lambda";
import { createLambdaRole } from "./lambdaRole";
import type { Deps, RouteHandler } from "./http/contract";
import { dynamoPostsStore } from "../data/postsStore";
import { MAX_LIST_SHARDS } from "../data/tableDesign";
import { handleEvent } from "./http/adapter";
import { dynamoClientConfig } from "./http/dynamoClientConfig";
import { countEnv, requireEnv, requireSecondsEnv } from "./http/env";
import type { RouteDefinition } from "./routes";
import type { FunctionLogLevel } from "../config/stackConfig";
import { canaryRouting, LIVE_ALIAS, type RouteRelease } from "./release";

/** Explicit, so a provider upgrade never changes the runtime under a deployed function. */
const LAMBDA_RUNTIME = aws.lambda.Runtime.NodeJS22dX;
/** Graviton: cheaper per GB-second and the handlers are plain JavaScript. */
const LAMBDA_ARCHITECTURE = "arm64";

// The Node.js Lambda runtimes ship AWS SDK v3, so these stay out of every archive. CallbackFunction
// packages all of package.json's `dependencies`; exact names are required (no globs).
export const RUNTIME_PROVIDED_PACKAGES = ["@aws-sdk/client-dynamodb", "@aws-sdk/lib-dynamodb"];

// Needed by the program only: zod checks the stack's config and is compiled into the handlers'
// validators at deploy time (api/validation/), so the Lambda code never loads it. Packaged, it
// was 840 files and ~1.4 MB deflated in every archive.
export const DEPLOY_TIME_PACKAGES = ["zod"];

/** Environment variable names the handler reads at cold start. */
export const ENV = {
    tableName: "TABLE_NAME",
    corsAllowOrigin: "CORS_ALLOW_ORIGIN",
    cursorKey: "CURSOR_KEY",
    /** The function's own timeout (s); Lambda exposes it to no code, so the stack passes it. */
    functionTimeout: "FUNCTION_TIMEOUT_SECONDS",
    /** How many listing-index shards new posts spread over (posts-api:listShards; absent: 1). */
    listShards: "LIST_SHARDS",
} as const;

/** What every route's function gets alike: the table, sizing, logs, CORS and the cursor key. */
export interface FunctionSettings {
    tableName: pulumi.Input<string>;
    tableArn: pulumi.Input<string>;
    indexArn: pulumi.Input<string>;
    memorySize: number;
    timeout: number;
    logRetentionDays: number;
    corsAllowOrigin: string;
    cursorKey: pulumi.Input<string>;
    /** X-Ray active tracing (posts-api:tracing). */
    tracing: boolean;
    /** The lowest level of the handler's own log lines that reaches the log group (posts-api:functionLogLevel). */
    functionLogLevel: FunctionLogLevel;
    /** Listing-index shards for new posts (posts-api:listShards). */
    listShards: number;
}

export interface RouteFunctionArgs extends FunctionSettings {
    route: RouteDefinition;
    stack: string;
    /** Where the `live` alias points and how warm it is kept (posts-api:release). */
    release: RouteRelease;
}

/**
 * The code Pulumi serializes into the function's `__index.js`. The factory runs once per cold
 * start: SDK clients are built there (a client captured from program scope cannot be serialized)
 * and `require` keeps module loading out of the serialized text. Settings arrive as environment
 * variables, so the code is identical on every stack and the local cloud can repoint them.
 */
export function lambdaFactory(
    handler: RouteHandler,
): aws.lambda.CallbackFactory<APIGatewayProxyEvent, APIGatewayProxyResult> {
    return () => {
        const { DynamoDBClient } = require("@aws-sdk/client-dynamodb");
        const { DynamoDBDocument } = require("@aws-sdk/lib-dynamodb");
        const { randomUUID } = require("node:crypto");
        const functionTimeoutSeconds = requireSecondsEnv(ENV.functionTimeout);
        // Connection and request timeouts and bounded retries from the function's timeout: a hung
        // database is a logged 500 with requestId, not a Lambda timeout (api/http/dynamoClientConfig.ts).
        const client = new DynamoDBClient(dynamoClientConfig(functionTimeoutSeconds));
        const deps: Deps = {
            store: dynamoPostsStore({
                db: DynamoDBDocument.from(client, { marshallOptions: { removeUndefinedValues: true } }),
                tableName: requireEnv(ENV.tableName),
                now: () => new Date(),
                newId: () => randomUUID(),
                functionTimeoutSeconds,
                listShards: countEnv(ENV.listShards, 1, MAX_LIST_SHARDS),
            }),
            cursorKey: requireEnv(ENV.cursorKey),
        };
        const allowOrigin = requireEnv(ENV.corsAllowOrigin);
        return (event: APIGatewayProxyEvent, context: Context) =>
            handleEvent(handler, event, context, deps, { allowOrigin });
    };
}

export class RouteFunction extends pulumi.ComponentResource {
    readonly function: aws.lambda.CallbackFunction<APIGatewayProxyEvent, APIGatewayProxyResult>;
    readonly role: aws.iam.Role;
    readonly logGroup: aws.cloudwatch.LogGroup;
    /** What API Gateway invokes: the published version, or the route's pin (and canary). */
    readonly alias: aws.lambda.Alias;
    /** Warm environments on the alias, when the stack configures any for this route. */
    readonly provisionedConcurrency?: aws.lambda.ProvisionedConcurrencyConfig;

    constructor(name: string, args: RouteFunctionArgs, opts?: pulumi.ComponentResourceOptions) {
        super("posts:api:RouteFunction", name, {}, opts);
        const childOpts = { parent: this };

        // Created by the program (not on first log write) so it has a retention and is removed
        // with the stack.
        this.logGroup = new aws.cloudwatch.LogGroup(
            name,
            {
                name: `/aws/lambda/posts-api-${args.stack}-${args.route.name}`,
                retentionInDays: args.logRetentionDays,
            },
            childOpts,
        );

        const { role, policy } = createLambdaRole(
            name,
            {
                tableActions: [...args.route.tableActions],
                indexActions: [...args.route.indexActions],
                leadingKeys: [...args.route.leadingKeys],
                tableArn: args.tableArn,
                indexArn: args.indexArn,
                logGroupArn: this.logGroup.arn,
                tracing: args.tracing,
            },
            childOpts,
        );
        this.role = role;

        this.function = new aws.lambda.CallbackFunction(
            name,
            {
                callbackFactory: lambdaFactory(args.route.handler),
                role,
                runtime: LAMBDA_RUNTIME,
                architectures: [LAMBDA_ARCHITECTURE],
                memorySize: args.memorySize,
                timeout: args.timeout,
                environment: {
                    variables: {
                        [ENV.tableName]: args.tableName,
                        [ENV.corsAllowOrigin]: args.corsAllowOrigin,
                        [ENV.cursorKey]: args.cursorKey,
                        [ENV.functionTimeout]: String(args.timeout),
                        [ENV.listShards]: String(args.listShards),
                    },
                },
                // JSON: each line is one JSON object (the runtime adds timestamp, level and requestId;
                // the adapter's records arrive under "message"), so Logs Insights can query fields.
                // Lines below applicationLogLevel are dropped by the runtime, not written.
                loggingConfig: {
                    logFormat: "JSON",
                    applicationLogLevel: args.functionLogLevel,
                    systemLogLevel: "INFO",
                    logGroup: this.logGroup.name,
                },
                // Explicit both ways, so turning tracing off sets the default mode back.
                tracingConfig: { mode: args.tracing ? "Active" : "PassThrough" },
                // A copy: CallbackFunction appends "aws-sdk" to the array it is given.
                codePathOptions: { extraExcludePackages: [...RUNTIME_PROVIDED_PACKAGES, ...DEPLOY_TIME_PACKAGES] },
                // A new immutable version on every change of code or configuration (environment,
                // memory, timeout...), so the alias below can stay on, or go back to, an earlier one.
                publish: true,
            },
            { ...childOpts, dependsOn: [policy] },
        );

        const { release } = args;
        this.alias = new aws.lambda.Alias(
            name,
            {
                functionName: this.function.name,
                name: LIVE_ALIAS,
                // A pin is known before the deployment, so a preview shows it even when new code is
                // about to publish a version.
                functionVersion: release.pin === undefined ? this.function.version : String(release.pin),
                routingConfig:
                    release.pin === undefined || release.canaryWeight === 0
                        ? undefined
                        : this.function.version.apply((published) => canaryRouting(published, release)),
            },
            childOpts,
        );

        // On the alias, not a version: it follows the alias to each version it points at.
        if (release.provisionedConcurrency > 0) {
            this.provisionedConcurrency = new aws.lambda.ProvisionedConcurrencyConfig(
                name,
                {
                    functionName: this.function.name,
                    qualifier: this.alias.name,
                    provisionedConcurrentExecutions: release.provisionedConcurrency,
                },
                childOpts,
            );
        }

        this.registerOutputs({ functionArn: this.function.arn, aliasArn: this.alias.arn });
    }
}
