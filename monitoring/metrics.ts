// What the stack watches, defined once: the alarms and the dashboard are both built from these
// lists, so the dashboard shows exactly the metrics that can alarm (plus the request count).
//
// Pure functions of names; `T` is `pulumi.Input<string>` for the alarms (names known at deploy
// time) and `string` for the dashboard body (built once the names are known).
import type { AlarmSettings } from "../config/stackConfig";

export interface MetricSpec<T = string> {
    namespace: "AWS/ApiGateway" | "AWS/Lambda";
    metricName: string;
    dimensions: Record<string, T>;
    /** A statistic ("Average", "Sum") or a percentile ("p99", an extended statistic). */
    stat: string;
    label: string;
}

export interface AlarmSpec<T = string> {
    /** Unique within the stack: the alarm's logical name and the end of its physical name. */
    key: string;
    metric: MetricSpec<T>;
    comparison: "GreaterThanThreshold" | "GreaterThanOrEqualToThreshold";
    threshold: number;
    description: string;
    /** Shown on the dashboard and in the alarm's state, but notifies no one (no actions). */
    advisory?: boolean;
}

export interface WatchedNames<T = string> {
    /** The REST API's name and stage: a REST API's metrics carry the dimensions ApiName and Stage. */
    apiName: T;
    stage: string;
    /** Each route's function, by its physical name (the FunctionName dimension). */
    functions: { route: string; functionName: T }[];
}

/**
 * The API's metrics. API Gateway's `Average` of 4XXError and 5XXError is the error rate (errors
 * divided by Count), docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-metrics-and-dimensions.html
 */
export function apiMetrics<T>(names: WatchedNames<T>) {
    const dimensions: Record<string, T | string> = { ApiName: names.apiName, Stage: names.stage };
    const metric = (metricName: string, stat: string, label: string): MetricSpec<T | string> => ({
        namespace: "AWS/ApiGateway",
        metricName,
        dimensions,
        stat,
        label,
    });
    return {
        requests: metric("Count", "Sum", "Requests"),
        serverErrorRate: metric("5XXError", "Average", "5XX rate"),
        clientErrorRate: metric("4XXError", "Average", "4XX rate"),
        latencyP99: metric("Latency", "p99", "Latency p99 (ms)"),
    };
}

/** A function's metrics (Lambda's Errors: invocations that failed; Throttles: refused for concurrency). */
export function functionMetrics<T>(fn: { route: string; functionName: T }) {
    const dimensions: Record<string, T> = { FunctionName: fn.functionName };
    return {
        errors: {
            namespace: "AWS/Lambda",
            metricName: "Errors",
            dimensions,
            stat: "Sum",
            label: `${fn.route} errors`,
        } as MetricSpec<T>,
        throttles: {
            namespace: "AWS/Lambda",
            metricName: "Throttles",
            dimensions,
            stat: "Sum",
            label: `${fn.route} throttles`,
        } as MetricSpec<T>,
    };
}

/** Every alarm of the stack, with its threshold from config (posts-api:alarms). */
export function alarmSpecs<T>(names: WatchedNames<T>, settings: AlarmSettings): AlarmSpec<T | string>[] {
    const api = apiMetrics(names);
    const period = `${settings.periodSeconds / 60} min`;
    return [
        {
            key: "api-5xx-rate",
            metric: api.serverErrorRate,
            comparison: "GreaterThanThreshold",
            threshold: settings.serverErrorRate,
            description: `More than ${settings.serverErrorRate * 100} % of requests answered 5XX over ${period}: the API is failing its callers.`,
        },
        {
            key: "api-latency-p99",
            metric: api.latencyP99,
            comparison: "GreaterThanThreshold",
            threshold: settings.latencyP99Ms,
            description: `The slowest 1 % of requests took longer than ${settings.latencyP99Ms} ms over ${period}.`,
        },
        {
            key: "api-4xx-rate",
            metric: api.clientErrorRate,
            comparison: "GreaterThanThreshold",
            threshold: settings.clientErrorRate,
            // Refused requests are the callers' doing (a revoked key, a client bug, a quota), so this
            // one informs rather than pages: check the access log's apiKeyId and status first.
            description: `Advisory: more than ${settings.clientErrorRate * 100} % of requests answered 4XX over ${period}; usually a client or a key, not the API.`,
            // Keyless scanners alone (403s) can cross the rate on a quiet API: no one is paged.
            advisory: true,
        },
        ...names.functions.flatMap((fn): AlarmSpec<T | string>[] => {
            const metrics = functionMetrics(fn);
            return [
                {
                    key: `${fn.route}-errors`,
                    metric: metrics.errors,
                    comparison: "GreaterThanOrEqualToThreshold",
                    threshold: settings.functionErrors,
                    description: `The ${fn.route} function failed ${settings.functionErrors} or more invocations over ${period} (crash, timeout or out of memory, not a 4XX/5XX answer).`,
                },
                {
                    key: `${fn.route}-throttles`,
                    metric: metrics.throttles,
                    comparison: "GreaterThanOrEqualToThreshold",
                    threshold: settings.functionThrottles,
                    description: `Lambda refused ${settings.functionThrottles} or more ${fn.route} invocations for lack of concurrency over ${period}.`,
                },
            ];
        }),
    ];
}
