// The REST API: one Lambda per route, a MOCK preflight per path, and gateway responses that
// carry CORS headers so a browser can read API Gateway's own 403 and 429 answers. Its stage writes
// a JSON access log line per request, per-method metrics and (per stack) an execution log and
// X-Ray traces.
import * as aws from "@pulumi/aws";
import * as awsx from "@pulumi/awsx";
import * as pulumi from "@pulumi/pulumi";
import { ACCESS_LOG_FORMAT } from "./accessLog";
import type { ExecutionLogLevel } from "../config/stackConfig";
import { corsHeaders, preflightHeaders } from "./http/cors";
import { RouteFunction, type FunctionSettings } from "./routeFunction";
import { routes } from "./routes";

type SwaggerGatewayResponse = awsx.classic.apigateway.SwaggerGatewayResponse;

export interface PostsApiArgs extends FunctionSettings {
    /** Stage name; the stack's name. */
    stage: string;
    /** API Gateway's execution log level for every method (posts-api:executionLogLevel). */
    executionLogLevel: ExecutionLogLevel;
    /**
     * The account's CloudWatch role setting when this stack sets it (api/gatewayAccount.ts):
     * API Gateway refuses to turn logging on before the account has a role, so the stage and the
     * method settings wait for it. Undefined when another stack of the account owns the setting.
     */
    gatewayAccount?: aws.apigateway.Account;
}

/** API Gateway's own body template; overrides below only add headers. */
const DEFAULT_ERROR_TEMPLATE = { "application/json": "{\"message\":$context.error.messageString}" };

/** `{"Access-Control-Allow-Origin": "*"}` -> `{"gatewayresponse.header.Access-Control-Allow-Origin": "'*'"}` */
function headerMappings(prefix: string, headers: Record<string, string>): Record<string, string> {
    return Object.fromEntries(Object.entries(headers).map(([name, value]) => [`${prefix}.header.${name}`, `'${value}'`]));
}

function gatewayResponses(allowOrigin: string): Record<string, SwaggerGatewayResponse> {
    const responseParameters = headerMappings("gatewayresponse", corsHeaders(allowOrigin));
    // DEFAULT_4XX/5XX must not set statusCode: a status there would replace the status of every
    // 4XX/5XX response that has no override of its own (403 and 429 would all become one code).
    // awsx types statusCode as required, hence the cast.
    const keepStatus = (r: Omit<SwaggerGatewayResponse, "statusCode">) => r as SwaggerGatewayResponse;
    return {
        DEFAULT_4XX: keepStatus({ responseTemplates: DEFAULT_ERROR_TEMPLATE, responseParameters }),
        DEFAULT_5XX: keepStatus({ responseTemplates: DEFAULT_ERROR_TEMPLATE, responseParameters }),
        // awsx maps these two to 404 unless given; an unknown path answers 404 with a clear body,
        // and ACCESS_DENIED keeps AWS's own 403.
        MISSING_AUTHENTICATION_TOKEN: { statusCode: 404, responseTemplates: { "application/json": "{\"message\":\"Not found\"}" }, responseParameters },
        ACCESS_DENIED: { statusCode: 403, responseTemplates: DEFAULT_ERROR_TEMPLATE, responseParameters },
    };
}

/** OPTIONS answered by API Gateway itself: no key, no Lambda, no cost beyond the request. */
function preflightRoute(path: string, methods: string[], allowOrigin: string): awsx.classic.apigateway.RawDataRoute {
    const headers = preflightHeaders(allowOrigin, methods);
    return {
        path,
        method: "OPTIONS",
        data: {
            responses: {
                "204": {
                    description: "CORS preflight",
                    headers: Object.fromEntries(Object.keys(headers).map((name) => [name, { type: "string" }])),
                },
            },
            "x-amazon-apigateway-integration": {
                type: "mock",
                // awsx declares every media type binary (`*/*`), which makes API Gateway skip the
                // request template of a MOCK integration and answer 500; convert to text instead.
                contentHandling: "CONVERT_TO_TEXT",
                requestTemplates: { "application/json": "{\"statusCode\": 204}" },
                passthroughBehavior: "when_no_match",
                responses: {
                    default: { statusCode: "204", contentHandling: "CONVERT_TO_TEXT", responseParameters: headerMappings("method.response", headers) },
                },
            },
        },
    };
}

export class PostsApi extends pulumi.ComponentResource {
    readonly api: awsx.classic.apigateway.API;
    readonly functions: Record<string, RouteFunction>;
    readonly url: pulumi.Output<string>;
    readonly restApiId: pulumi.Output<string>;
    readonly stageName: pulumi.Output<string>;
    /** The REST API's name: the `ApiName` dimension of its CloudWatch metrics. */
    readonly apiName: pulumi.Output<string>;
    readonly accessLogGroup: aws.cloudwatch.LogGroup;
    readonly executionLogGroup: aws.cloudwatch.LogGroup;
    readonly methodSettings: aws.apigateway.MethodSettings;

    constructor(name: string, args: PostsApiArgs, opts?: pulumi.ComponentResourceOptions) {
        super("posts:api:PostsApi", name, {}, opts);

        this.functions = {};
        const eventRoutes: awsx.classic.apigateway.EventHandlerRoute[] = routes.map((route) => {
            const fn = new RouteFunction(route.name, { ...args, route, stack: args.stage }, { parent: this });
            this.functions[route.name] = fn;
            return { path: route.path, method: route.method, eventHandler: fn.function, apiKeyRequired: true };
        });

        const methodsByPath = new Map<string, string[]>();
        for (const route of routes) {
            methodsByPath.set(route.path, [...(methodsByPath.get(route.path) ?? []), route.method]);
        }
        const preflightRoutes = [...methodsByPath].map(([path, methods]) => preflightRoute(path, methods, args.corsAllowOrigin));

        // Created by the program, like the functions' log groups, so it has this stack's retention.
        this.accessLogGroup = new aws.cloudwatch.LogGroup(`${name}-access`, {
            name: `/aws/apigateway/${name}-${args.stage}/access`,
            retentionInDays: args.logRetentionDays,
        }, { parent: this });

        // awsx creates the stage and takes no resource options for it, so the wait for the account
        // setting rides on an input: an Output built from the Account makes Pulumi create it first.
        // The format stays a plain value so the guardrails can check it in a preview, before the
        // log group's ARN is known.
        const accessLogSettings = {
            destinationArn: pulumi.all([this.accessLogGroup.arn, args.gatewayAccount?.id ?? ""]).apply(([destinationArn]) => destinationArn),
            format: ACCESS_LOG_FORMAT,
        };

        this.api = new awsx.classic.apigateway.API(name, {
            routes: [...eventRoutes, ...preflightRoutes],
            stageName: args.stage,
            apiKeySource: "HEADER",
            gatewayResponses: gatewayResponses(args.corsAllowOrigin),
            // awsx names the API after the component; add the stage so dev and prod are told apart.
            restApiArgs: { name: `${name}-${args.stage}`, description: "Posts REST API (API-key holders only)" },
            stageArgs: { accessLogSettings, xrayTracingEnabled: args.tracing },
        }, { parent: this });

        // The execution log group API Gateway would otherwise create itself, never expiring.
        this.executionLogGroup = new aws.cloudwatch.LogGroup(`${name}-execution`, {
            name: pulumi.interpolate`API-Gateway-Execution-Logs_${this.api.restAPI.id}/${args.stage}`,
            retentionInDays: args.logRetentionDays,
        }, { parent: this });

        // Every method of the stage (`*/*`): CloudWatch metrics per method, the execution log at
        // this stack's level, and never the full requests and responses (`dataTraceEnabled`: post
        // bodies with their authors' names) in the execution log.
        this.methodSettings = new aws.apigateway.MethodSettings(name, {
            restApi: this.api.restAPI.id,
            stageName: this.api.stage.stageName,
            methodPath: "*/*",
            settings: {
                metricsEnabled: true,
                loggingLevel: args.executionLogLevel,
                dataTraceEnabled: false,
            },
        }, { parent: this, dependsOn: [this.executionLogGroup, ...(args.gatewayAccount ? [args.gatewayAccount] : [])] });

        this.url = this.api.url;
        this.restApiId = this.api.restAPI.id;
        this.stageName = this.api.stage.stageName;
        this.apiName = this.api.restAPI.name;
        this.registerOutputs({ url: this.url });
    }
}
