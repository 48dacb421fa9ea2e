// A production stack tells someone when it fails: CloudWatch alarms, each with an alarm action
// (monitoring/monitoring.ts: the stack's SNS topic), on the API's 5XX errors and on every Lambda
// function's Errors.
//
// A stack rule: an alarm names a function by its physical name (the FunctionName dimension), so the
// rule needs every resource's outputs at once. Production is production.ts's notion.
import {
    notProductionReason, PRODUCTION_STACKS_SETTING, stackProductionReason,
} from "./production";
import { describe, TYPES, type NotApplicable, type RuleResource, type StackRule, type StackView, type StackViolation } from "./types";

/* eslint-disable @typescript-eslint/no-explicit-any */

interface WatchedMetric {
    namespace: unknown;
    metricName: unknown;
    dimensions: Record<string, unknown>;
}

/** The metrics an alarm watches: its own, or those of its metric math (`metricQueries[].metric`). */
function metricsOf(alarm: RuleResource): WatchedMetric[] {
    const props = alarm.props;
    const metrics: WatchedMetric[] = [];
    if (props["metricName"] !== undefined) {
        metrics.push({ namespace: props["namespace"], metricName: props["metricName"], dimensions: props["dimensions"] ?? {} });
    }
    const queries: any[] = Array.isArray(props["metricQueries"]) ? props["metricQueries"] : [];
    for (const query of queries) {
        const metric = query?.metric;
        if (metric !== undefined && metric !== null) {
            metrics.push({ namespace: metric.namespace, metricName: metric.metricName, dimensions: metric.dimensions ?? {} });
        }
    }
    return metrics;
}

/**
 * True when the alarm would tell someone: at least one alarm action, and actions not switched off.
 * Only the number of actions is read: in a new stack's preview an action is the ARN of a topic not
 * created yet, unknown, and CrossGuard refuses to run a policy that reads an unknown value (AWS
 * refuses an empty ARN itself).
 */
function notifies(alarm: RuleResource): boolean {
    const actions = alarm.props["alarmActions"];
    return alarm.props["actionsEnabled"] !== false && Array.isArray(actions) && actions.length > 0;
}

/**
 * How `alarms` fall short of covering a metric, or undefined when an alarm with an action watches
 * it: "no alarm", or the alarms that watch it without telling anyone.
 */
function coverageGap(alarms: RuleResource[], matches: (m: WatchedMetric) => boolean): string | undefined {
    const watching = alarms.filter((alarm) => metricsOf(alarm).some(matches));
    if (watching.some(notifies)) {
        return undefined;
    }
    return watching.length === 0 ? "no alarm"
        : `${watching.map(describe).join(", ")} has no alarm action (empty \`alarmActions\` or \`actionsEnabled: false\`)`;
}

const FIX = "posts-api:alarms.enabled: true on this stack (monitoring/monitoring.ts), or an aws.cloudwatch.MetricAlarm with `alarmActions`";

export const productionAlarms: StackRule = {
    kind: "stack",
    name: "production-error-alarms",
    description: "On production stacks, CloudWatch alarms with an alarm action watch the API's 5XX errors and every Lambda function's Errors.",
    enforcementLevel: "mandatory",
    configSchema: { properties: { ...PRODUCTION_STACKS_SETTING } },
    check(stack: StackView, config): StackViolation[] | NotApplicable {
        const why = stackProductionReason(stack, config);
        if (why === undefined) {
            return { notApplicable: notProductionReason(stack, config) };
        }
        const alarms = stack.resources.filter((r) => r.type === TYPES.metricAlarm);
        const violations: StackViolation[] = [];

        for (const api of stack.resources.filter((r) => r.type === TYPES.restApi)) {
            // REST API metrics carry the API's name as the ApiName dimension.
            const apiName = api.props["name"];
            const gap = coverageGap(alarms, (m) => m.namespace === "AWS/ApiGateway" && m.metricName === "5XXError"
                && (typeof apiName !== "string" || m.dimensions["ApiName"] === apiName));
            if (gap !== undefined) {
                violations.push({
                    urn: api.urn,
                    message: `${why}, but ${describe(api)} has no CloudWatch alarm that notifies anyone on its 5XX errors ` +
                        `(metric 5XXError, namespace AWS/ApiGateway, ApiName ${JSON.stringify(apiName)}; ${gap}): nobody hears when the API fails its callers. Set ${FIX}.`,
                });
            }
        }

        const functions = stack.resources.filter((r) => r.type === TYPES.function);
        const uncovered = functions.flatMap((fn) => {
            const functionName = fn.props["name"];
            const gap = coverageGap(alarms, (m) => m.namespace === "AWS/Lambda" && m.metricName === "Errors" && m.dimensions["FunctionName"] === functionName);
            return gap === undefined ? [] : [{ fn, detail: `${fn.name} (${JSON.stringify(functionName)}: ${gap})` }];
        });
        if (uncovered.length > 0) {
            violations.push({
                // One function: point at it; several: the message lists them.
                ...(uncovered.length === 1 ? { urn: uncovered[0]!.fn.urn } : {}),
                message: `${why}, but ${uncovered.length} of ${functions.length} Lambda functions have no CloudWatch alarm that notifies anyone ` +
                    `on their Errors (namespace AWS/Lambda, dimension FunctionName naming the function): ${uncovered.map((u) => u.detail).join(", ")}. ` +
                    `Their crashes and timeouts go unnoticed. Set ${FIX}.`,
            });
        }
        return violations;
    },
};
