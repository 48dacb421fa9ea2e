// The stack's CloudWatch dashboard body: the API's requests, error rates and latency, and each
// function's errors and throttles, from the same metric definitions as the alarms (metrics.ts).
// Body format: docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html
import type { AlarmSettings } from "../config/stackConfig";
import { apiMetrics, functionMetrics, type MetricSpec, type WatchedNames } from "./metrics";

/** `[namespace, name, dimension, value, ..., { stat, label }]`: a metric as a widget lists it. */
function widgetMetric(metric: MetricSpec): unknown[] {
    return [
        metric.namespace,
        metric.metricName,
        ...Object.entries(metric.dimensions).flat(),
        { stat: metric.stat, label: metric.label },
    ];
}

interface Widget {
    title: string;
    metrics: MetricSpec[];
    /** Threshold lines, drawn where alarms are on. */
    thresholds?: { label: string; value: number }[];
}

/**
 * The dashboard body as JSON text. Plotted over the alarms' period, so a point is the value an
 * alarm compares; the thresholds are drawn when alarms are enabled.
 */
export function dashboardBody(region: string, names: WatchedNames, alarms: AlarmSettings): string {
    const api = apiMetrics(names);
    const fns = names.functions.map(functionMetrics);
    const lines = (...thresholds: { label: string; value: number }[]) => (alarms.enabled ? thresholds : []);
    const widgets: Widget[] = [
        { title: "Requests", metrics: [api.requests] },
        {
            title: "Error rates (fraction of requests)",
            metrics: [api.serverErrorRate, api.clientErrorRate],
            thresholds: lines(
                { label: "5XX alarm", value: alarms.serverErrorRate },
                { label: "4XX advisory", value: alarms.clientErrorRate },
            ),
        },
        {
            title: "Latency p99 (ms)",
            metrics: [api.latencyP99],
            thresholds: lines({ label: "alarm", value: alarms.latencyP99Ms }),
        },
        {
            title: "Function errors",
            metrics: fns.map((m) => m.errors),
            thresholds: lines({ label: "alarm", value: alarms.functionErrors }),
        },
        {
            title: "Function throttles",
            metrics: fns.map((m) => m.throttles),
            thresholds: lines({ label: "alarm", value: alarms.functionThrottles }),
        },
    ];
    return JSON.stringify({
        widgets: widgets.map((widget, i) => ({
            type: "metric",
            // Two 12-wide columns, rows 6 high.
            x: (i % 2) * 12,
            y: Math.floor(i / 2) * 6,
            width: 12,
            height: 6,
            properties: {
                title: widget.title,
                region,
                view: "timeSeries",
                period: alarms.periodSeconds,
                metrics: widget.metrics.map(widgetMetric),
                ...(widget.thresholds && widget.thresholds.length > 0
                    ? { annotations: { horizontal: widget.thresholds } }
                    : {}),
            },
        })),
    });
}
