// The REST API: one Lambda per route, invoked through its `live` alias (api/release.ts), a MOCK
// preflight per path, and gateway responses that carry CORS headers so a browser can read API
// Gateway's own 403 and 429 answers. Its stage writes a JSON access log line per request,
// per-method metrics and (per stack) an execution log and X-Ray traces, and (per stack) caches the
// routes a stack lists (api/stageCache.ts).
import * as aws from "@pulumi/aws";
import * as awsx from "@pulumi/awsx";
import * as pulumi from "@pulumi/pulumi";
import { ACCESS_LOG_FORMAT } from "./accessLog";
import type { CacheSettings, ExecutionLogLevel, ReleaseSettings } from "../config/stackConfig";
import { corsHeaders, preflightHeaders } from "./http/cors";
import { requestParameters } from "./openapi";
import { routeRelease } from "./release";
import { RouteFunction, type FunctionSettings } from "./routeFunction";
import { routes, type RouteDefinition } from "./routes";
import { cachedMethods, cacheKeyParameters, type ObservabilitySettings } from "./stageCache";

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
    /** Pins, canary weight and provisioned concurrency per route (posts-api:release). */
    release: ReleaseSettings;
    /** The stage cache and the routes it serves (posts-api:cache). */
    cache: CacheSettings;
}

/** What a route's release looks like: the version published last, the alias's, and its canary. */
export interface RouteReleaseState {
    published: string;
    live: string;
    canary?: { version: string; weight: number };
}

/** The security scheme awsx names for `apiKeyRequired` routes: the `x-api-key` header. */
const API_KEY_SCHEME = "api_key";

/** API Gateway's own body template; overrides below only add headers. */
const DEFAULT_ERROR_TEMPLATE = { "application/json": '{"message":$context.error.messageString}' };

/** `{"Access-Control-Allow-Origin": "*"}` -> `{"gatewayresponse.header.Access-Control-Allow-Origin": "'*'"}` */
function headerMappings(prefix: string, headers: Record<string, string>): Record<string, string> {
    return Object.fromEntries(
        Object.entries(headers).map(([name, value]) => [`${prefix}.header.${name}`, `'${value}'`]),
    );
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
        MISSING_AUTHENTICATION_TOKEN: {
            statusCode: 404,
            responseTemplates: { "application/json": '{"message":"Not found"}' },
            responseParameters,
        },
        ACCESS_DENIED: { statusCode: 403, responseTemplates: DEFAULT_ERROR_TEMPLATE, responseParameters },
    };
}

/**
 * A route's operation: AWS_PROXY to its function's `live` alias, behind the API key. A raw route,
 * because awsx's EventHandlerRoute builds its integration URI and Lambda permission from the
 * unqualified function (@pulumi/awsx classic/apigateway/api.js, createSwaggerOperationForLambda and
 * createLambdaPermissions); the permission is made in PostsApi below.
 */
function lambdaRoute(route: RouteDefinition, alias: aws.lambda.Alias): awsx.classic.apigateway.RawDataRoute {
    // The method request's parameters, as the route's docs name them: API Gateway keys a cached
    // answer only on declared parameters.
    const parameters = requestParameters(route.docs).map((p) => ({
        name: p.name,
        in: p.in,
        required: p.in === "path",
        type: "string",
    }));
    const cacheKeys = route.method === "GET" ? cacheKeyParameters(route) : [];
    return {
        path: route.path,
        method: route.method,
        data: {
            // What awsx's `apiKeyRequired: true` writes; the scheme it names is added to the body by
            // `awsxAdjustments` below.
            security: [{ [API_KEY_SCHEME]: [] }],
            ...(parameters.length > 0 ? { parameters } : {}),
            "x-amazon-apigateway-integration": {
                type: "aws_proxy",
                // Lambda is always invoked with POST, whatever the client's method.
                httpMethod: "POST",
                // The alias's invoke ARN (…/functions/<function ARN>:live/invocations), an Output that
                // awsx resolves inside the body.
                uri: alias.invokeArn,
                passthroughBehavior: "when_no_match",
                // Used only where the stage caches the method (api/stageCache.ts); declared on every
                // GET so turning a route's cache on or off changes the stage, not the API.
                ...(cacheKeys.length > 0 ? { cacheKeyParameters: cacheKeys } : {}),
            },
        },
    };
}

/** `/posts/{id}` -> `/posts/*`: a Lambda permission's source ARN matches any value of a path parameter. */
function sourceArnPath(path: string): string {
    return path.replace(/\{[^}]+\}/g, "*");
}

/**
 * awsx builds the RestApi and the Stage itself and takes no resource options for them; this
 * transformation does for the raw Lambda routes the two things awsx does for its EventHandlerRoutes:
 * - adds the `api_key` security definition the operations' `security` names: awsx adds it only
 *   while building a route with `apiKeyRequired` (addAPIkeyToSecurityDefinitions in
 *   classic/apigateway/api.js) and copies a raw route's data as it is. Without it `security`
 *   names a scheme the document does not define: the guardrail (policies/rules/apiKeyRequired.ts)
 *   and the local cloud read such an operation as keyless, and AWS documents no import of it;
 * - makes the stage wait for the Lambda permissions (awsx: `dependsOn: permissions`), so no
 *   deployment sends traffic to an alias API Gateway may not invoke yet.
 */
function awsxAdjustments(permissions: Promise<aws.lambda.Permission[]>): pulumi.ResourceTransformation {
    return ({ type, props, opts }) => {
        if (type === "aws:apigateway/restApi:RestApi") {
            return {
                props: {
                    ...props,
                    body: pulumi.output(props["body"] as pulumi.Input<string>).apply(withApiKeyDefinition),
                },
                opts,
            };
        }
        if (type === "aws:apigateway/stage:Stage") {
            // awsx's own list is empty: it makes permissions only for EventHandlerRoutes.
            return { props, opts: { ...opts, dependsOn: permissions } };
        }
        return undefined;
    };
}

function withApiKeyDefinition(body: string): string {
    const spec = JSON.parse(body);
    spec.securityDefinitions = {
        ...spec.securityDefinitions,
        [API_KEY_SCHEME]: awsx.classic.apigateway.apiKeySecurityDefinition,
    };
    return JSON.stringify(spec);
}

/**
 * API Gateway may invoke each route's `live` alias (a permission on the function alone does not
 * cover its aliases) from this API only: any stage (the console's test calls use a stage of their
 * own), this route's method and resource.
 */
function invokePermissions(
    functions: Record<string, RouteFunction>,
    executionArn: pulumi.Output<string>,
): Record<string, aws.lambda.Permission> {
    const permissions: Record<string, aws.lambda.Permission> = {};
    for (const route of routes) {
        const fn = functions[route.name]!;
        permissions[route.name] = new aws.lambda.Permission(
            route.name,
            {
                action: "lambda:InvokeFunction",
                function: fn.function.name,
                qualifier: fn.alias.name,
                principal: "apigateway.amazonaws.com",
                sourceArn: pulumi.interpolate`${executionArn}/*/${route.method}${sourceArnPath(route.path)}`,
            },
            { parent: fn },
        );
    }
    return permissions;
}

/** One OPTIONS route per path, allowing the methods the routes have on that path. */
function corsPreflightRoutes(allowOrigin: string): awsx.classic.apigateway.RawDataRoute[] {
    const methodsByPath = new Map<string, string[]>();
    for (const route of routes) {
        methodsByPath.set(route.path, [...(methodsByPath.get(route.path) ?? []), route.method]);
    }
    return [...methodsByPath].map(([path, methods]) => preflightRoute(path, methods, allowOrigin));
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
                requestTemplates: { "application/json": '{"statusCode": 204}' },
                passthroughBehavior: "when_no_match",
                responses: {
                    default: {
                        statusCode: "204",
                        contentHandling: "CONVERT_TO_TEXT",
                        responseParameters: headerMappings("method.response", headers),
                    },
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
    /** The stage-wide (`*\/*`) method settings. */
    readonly methodSettings: aws.apigateway.MethodSettings;
    /** The method settings of each cached route (none when the stack's cache is off). */
    readonly cachedMethodSettings: aws.apigateway.MethodSettings[];
    /** Route name -> API Gateway's permission to invoke its `live` alias from this API. */
    readonly permissions: Record<string, aws.lambda.Permission>;
    /** Route name -> its published and live versions, and its canary (for the release runbook). */
    readonly releases: pulumi.Output<Record<string, RouteReleaseState>>;

    constructor(name: string, args: PostsApiArgs, opts?: pulumi.ComponentResourceOptions) {
        super("posts:api:PostsApi", name, {}, opts);

        this.functions = {};
        const lambdaRoutes = routes.map((route) => {
            const fn = new RouteFunction(
                route.name,
                { ...args, route, stack: args.stage, release: routeRelease(args.release, route.name) },
                { parent: this },
            );
            this.functions[route.name] = fn;
            return lambdaRoute(route, fn.alias);
        });

        const preflightRoutes = corsPreflightRoutes(args.corsAllowOrigin);

        // Created by the program, like the functions' log groups, so it has this stack's retention.
        this.accessLogGroup = new aws.cloudwatch.LogGroup(
            `${name}-access`,
            {
                name: `/aws/apigateway/${name}-${args.stage}/access`,
                retentionInDays: args.logRetentionDays,
            },
            { parent: this },
        );

        // awsx creates the stage and takes no resource options for it, so the wait for the account
        // setting rides on an input: an Output built from the Account makes Pulumi create it first.
        // The format stays a plain value so the guardrails can check it in a preview, before the
        // log group's ARN is known.
        const accessLogSettings = {
            destinationArn: pulumi
                .all([this.accessLogGroup.arn, args.gatewayAccount?.id ?? ""])
                .apply(([destinationArn]) => destinationArn),
            format: ACCESS_LOG_FORMAT,
        };

        // The permissions need the API's ARN, and the stage must wait for them: it waits on this
        // promise, settled once they are declared below.
        let permissionsDeclared: (permissions: aws.lambda.Permission[]) => void = () => undefined;
        const permissions = new Promise<aws.lambda.Permission[]>((resolve) => {
            permissionsDeclared = resolve;
        });

        this.api = new awsx.classic.apigateway.API(
            name,
            {
                routes: [...lambdaRoutes, ...preflightRoutes],
                stageName: args.stage,
                apiKeySource: "HEADER",
                gatewayResponses: gatewayResponses(args.corsAllowOrigin),
                // awsx names the API after the component; add the stage so dev and prod are told apart.
                restApiArgs: { name: `${name}-${args.stage}`, description: "Posts REST API (API-key holders only)" },
                stageArgs: {
                    accessLogSettings,
                    xrayTracingEnabled: args.tracing,
                    // The cache cluster is billed by the hour while it exists; resizing it empties it.
                    cacheClusterEnabled: args.cache.enabled,
                    // Always sent: the provider applies a size only while the cache is on, and leaving it
                    // out when off would show a diff on every stack that never had a cache.
                    cacheClusterSize: String(args.cache.sizeGb),
                },
            },
            { parent: this, transformations: [awsxAdjustments(permissions)] },
        );

        this.permissions = invokePermissions(this.functions, this.api.restAPI.executionArn);
        permissionsDeclared(Object.values(this.permissions));

        // The execution log group API Gateway would otherwise create itself, never expiring.
        this.executionLogGroup = new aws.cloudwatch.LogGroup(
            `${name}-execution`,
            {
                name: pulumi.interpolate`API-Gateway-Execution-Logs_${this.api.restAPI.id}/${args.stage}`,
                retentionInDays: args.logRetentionDays,
            },
            { parent: this },
        );

        const methods = stageMethodSettings(name, this.api, args, {
            parent: this,
            dependsOn: [this.executionLogGroup, ...(args.gatewayAccount ? [args.gatewayAccount] : [])],
        });
        this.methodSettings = methods.all;
        this.cachedMethodSettings = methods.cached;

        this.releases = pulumi.all(
            Object.fromEntries(Object.entries(this.functions).map(([route, fn]) => [route, releaseState(fn)])),
        );

        this.url = this.api.url;
        this.restApiId = this.api.restAPI.id;
        this.stageName = this.api.stage.stageName;
        this.apiName = this.api.restAPI.name;
        this.registerOutputs({ url: this.url, releases: this.releases });
    }
}

/** What the runbook reads to choose a pin: the versions as Lambda reports them. */
function releaseState(fn: RouteFunction): pulumi.Output<RouteReleaseState> {
    return pulumi
        .all([fn.function.version, fn.alias.functionVersion, fn.alias.routingConfig])
        .apply(([published, live, routing]) => {
            const [canary] = Object.entries(routing?.additionalVersionWeights ?? {});
            return {
                published,
                live,
                ...(canary === undefined ? {} : { canary: { version: canary[0], weight: canary[1] } }),
            };
        });
}

// The stage's method settings: every method (`*/*`) with CloudWatch metrics per method, the
// execution log at this stack's level, and never the full requests and responses
// (`dataTraceEnabled`: post bodies with their authors' names) in the execution log; then the
// settings of each cached route.
function stageMethodSettings(
    name: string,
    api: awsx.classic.apigateway.API,
    args: PostsApiArgs,
    opts: pulumi.CustomResourceOptions,
): { all: aws.apigateway.MethodSettings; cached: aws.apigateway.MethodSettings[] } {
    const observability: ObservabilitySettings = {
        metricsEnabled: true,
        loggingLevel: args.executionLogLevel,
        dataTraceEnabled: false,
    };
    const all = new aws.apigateway.MethodSettings(
        name,
        {
            restApi: api.restAPI.id,
            stageName: api.stage.stageName,
            methodPath: "*/*",
            settings: {
                ...observability,
                // Explicitly off: with a cache cluster, API Gateway may otherwise cache every GET
                // (a single post included); only the routes in posts-api:cache.routes are cached.
                cachingEnabled: false,
            },
        },
        opts,
    );
    const cached = cachedMethods(
        name,
        { restApi: api.restAPI.id, stageName: api.stage.stageName, cache: args.cache, observability },
        opts,
    );
    return { all, cached };
}
