// The stage cache (`posts-api:cache`): API Gateway answers a cached route from a cache cluster of
// the stage, for `ttlSeconds`, without invoking its function. Only routes the route table marks
// `cacheable` may be cached (the contract must allow an answer that old); why prod caches the list
// and never a single post: docs/decisions/0014-releases-warm-aliases-stage-cache.md.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, PROJECT, type CacheSettings, type ExecutionLogLevel } from "../config/stackConfig";
import { requestParameters } from "./openapi";
import { routes, routeNamed, type RouteDefinition } from "./routes";

/**
 * The routes a stack caches must be GET routes the table marks `cacheable`. index.ts calls this with
 * the other config checks, before any resource is declared.
 */
export function checkCache(cache: CacheSettings): void {
    const names: string[] = routes.map((r) => r.name);
    cache.routes.forEach((name, i) => {
        const key = `${PROJECT}:cache.routes[${i}]`;
        const route = routes.find((r) => r.name === name);
        if (route === undefined) {
            throw new ConfigError(`${key}: no such route "${name}" (routes: ${names.join(", ")})`);
        }
        if (route.method !== "GET") {
            throw new ConfigError(
                `${key}: ${name} (${route.method} ${route.path}) cannot be cached: only GET answers are, a cached write would never reach the table`,
            );
        }
        if (route.cacheable !== true) {
            throw new ConfigError(
                `${key}: ${name} (${route.method} ${route.path}) may not be cached: the contract (docs/api.md) promises its answer reflects every earlier write (read-your-writes, with the ETag that If-Match needs), and a cached answer would outlive a PUT, PATCH or DELETE; only routes marked cacheable in api/routes.ts can be cached`,
            );
        }
    });
}

/**
 * What a route's cached answers are keyed on: every path and query parameter it declares
 * (`method.request.path.id`, `method.request.querystring.limit`, ...). API Gateway keys an entry on
 * the method and resource plus only these, so a parameter left out would make every id, or every
 * page, share one entry. They must also be declared method request parameters (api/postsApi.ts).
 */
export function cacheKeyParameters(route: RouteDefinition): string[] {
    return requestParameters(route.docs).map(
        (p) => `method.request.${p.in === "path" ? "path" : "querystring"}.${p.name}`,
    );
}

/**
 * A method's key in the stage's method settings: the resource path with every `/` written `~1`
 * (the settings are addressed as JSON Pointers), then the method: `~1posts~1{id}/GET`. A path with
 * plain slashes is accepted by AWS but stored under a key no method has, so it does nothing
 * (hashicorp/terraform-provider-aws#9738).
 */
export function methodSettingsPath(route: RouteDefinition): string {
    return `${route.path.replaceAll("/", "~1")}/${route.method}`;
}

/** The stage-wide execution log and metrics settings (api/postsApi.ts), repeated per cached method. */
export interface ObservabilitySettings {
    metricsEnabled: boolean;
    loggingLevel: ExecutionLogLevel;
    dataTraceEnabled: boolean;
}

export interface CachedMethodsArgs {
    restApi: pulumi.Input<string>;
    stageName: pulumi.Input<string>;
    cache: CacheSettings;
    /**
     * A method's own settings replace the stage-wide `*\/*` ones for that method, fields it leaves
     * out falling back to AWS's defaults (metrics off, logging OFF), so each cached method repeats them.
     */
    observability: ObservabilitySettings;
}

/** One method settings resource per cached route; none when the stack's cache is off. */
export function cachedMethods(
    name: string,
    args: CachedMethodsArgs,
    opts: pulumi.CustomResourceOptions,
): aws.apigateway.MethodSettings[] {
    if (!args.cache.enabled) {
        return [];
    }
    return args.cache.routes.map((routeName) => {
        const route = routeNamed(routeName);
        return new aws.apigateway.MethodSettings(
            `${name}-cache-${route.name}`,
            {
                restApi: args.restApi,
                stageName: args.stageName,
                methodPath: methodSettingsPath(route),
                settings: {
                    ...args.observability,
                    cachingEnabled: true,
                    cacheTtlInSeconds: args.cache.ttlSeconds,
                    cacheDataEncrypted: true,
                    // Callers hold API keys, never the IAM permission to invalidate the cache: their
                    // `Cache-Control: max-age=0` is ignored and the answer carries a header saying so.
                    requireAuthorizationForCacheControl: true,
                    unauthorizedCacheControlHeaderStrategy: "SUCCEED_WITH_RESPONSE_HEADER",
                },
            },
            opts,
        );
    });
}
