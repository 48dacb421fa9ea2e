// A production stack tells someone when it fails: CloudWatch alarms on the API's 5XX errors and on
// every Lambda function's Errors, each with an alarm action that reaches a person
// (monitoring/monitoring.ts: the stack's SNS topic with its e-mail subscriptions, or configured
// topics that page elsewhere). An alarm whose topic nobody subscribed to pages no one.
//
// A stack rule: an alarm names a function by its physical name (the FunctionName dimension), so the
// rule needs every resource's outputs at once. Production is production.ts's notion.
import { notProductionReason, PRODUCTION_STACKS_SETTING, stackProductionReason } from "./production";
import {
    describe,
    TYPES,
    type NotApplicable,
    type RuleResource,
    type StackRule,
    type StackView,
    type StackViolation,
} from "./types";

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
        metrics.push({
            namespace: props["namespace"],
            metricName: props["metricName"],
            dimensions: props["dimensions"] ?? {},
        });
    }
    const queries: any[] = Array.isArray(props["metricQueries"]) ? props["metricQueries"] : [];
    for (const query of queries) {
        const metric = query?.metric;
        if (metric !== undefined && metric !== null) {
            metrics.push({
                namespace: metric.namespace,
                metricName: metric.metricName,
                dimensions: metric.dimensions ?? {},
            });
        }
    }
    return metrics;
}

/**
 * A value CrossGuard may not know yet: in a new stack's preview, reading an unknown value throws
 * (and would turn the whole rule into an advisory "cannot run during preview"), so it reads as
 * undefined here and the rule goes by the dependencies instead.
 */
function known(read: () => unknown): unknown {
    try {
        return read();
    } catch {
        return undefined;
    }
}

/**
 * Actions from outside the stack that reach people: an SNS topic (its subscribers are out of sight)
 * or an Incident Manager response plan. EC2 and Auto Scaling actions act on machines, not people.
 */
const PAGES_ELSEWHERE = /^arn:aws[a-z-]*:(sns|ssm-incidents):/;

/** The stack's SNS topics, and which of them have at least one subscription in the stack. */
interface Topics {
    all: RuleResource[];
    subscribed: Set<string>;
}

/**
 * Which topics someone subscribed to: a subscription names its topic by ARN, matched by value when
 * both are known, and by the dependency of its `topic` on the Topic resource when they are not.
 */
function stackTopics(stack: StackView): Topics {
    const all = stack.resources.filter((r) => r.type === TYPES.snsTopic);
    const subscribed = new Set<string>();
    for (const subscription of stack.resources.filter((r) => r.type === TYPES.topicSubscription)) {
        const fromDependency = subscription.propertyDependencies?.["topic"] ?? [];
        const arn = known(() => subscription.props["topic"]);
        for (const topic of all) {
            if (
                fromDependency.includes(topic.urn) ||
                (typeof arn === "string" && known(() => topic.props["arn"]) === arn)
            ) {
                subscribed.add(topic.urn);
            }
        }
    }
    return { all, subscribed };
}

/**
 * Why an alarm tells nobody, or undefined when it tells someone. It does when its actions are on
 * and one of them is a topic of this stack with a subscription, or an ARN from outside the stack
 * (a topic that pages elsewhere, posts-api:alarms.topicArns: its subscribers are out of sight). In
 * a new stack's preview the ARNs are unknown; the alarm's dependencies still name the topics.
 */
function silence(alarm: RuleResource, topics: Topics): string | undefined {
    const actions = known(() => alarm.props["alarmActions"]);
    if (known(() => alarm.props["actionsEnabled"]) === false || !Array.isArray(actions) || actions.length === 0) {
        return `${describe(alarm)} has no alarm action (empty \`alarmActions\` or \`actionsEnabled: false\`)`;
    }
    const dependencies = alarm.propertyDependencies?.["alarmActions"] ?? [];
    const reached = new Map(topics.all.filter((t) => dependencies.includes(t.urn)).map((t) => [t.urn, t]));
    let unknown = false;
    for (let i = 0; i < actions.length; i++) {
        const action = known(() => actions[i]);
        if (typeof action !== "string") {
            unknown = true;
            continue;
        }
        const topic = topics.all.find((t) => known(() => t.props["arn"]) === action);
        if (topic !== undefined) {
            reached.set(topic.urn, topic);
        } else if (PAGES_ELSEWHERE.test(action)) {
            return undefined;
        }
    }
    if ([...reached.keys()].some((urn) => topics.subscribed.has(urn))) {
        return undefined;
    }
    if (unknown && reached.size === 0) {
        // Not known yet and from no topic of this stack: judged again, with values, by `pulumi up`.
        return undefined;
    }
    if (reached.size === 0) {
        return `${describe(alarm)} has no action that reaches a person (only ${actions.map((_, i) => String(known(() => actions[i]))).join(", ")}: an SNS topic or an Incident Manager response plan would)`;
    }
    const names = [...reached.values()].map(describe).join(", ");
    return `${describe(alarm)} notifies only ${names}, which nobody subscribed to`;
}

/**
 * How `alarms` fall short of covering a metric, or undefined when an alarm that reaches someone
 * watches it: "no alarm", or why each alarm that watches it tells nobody.
 */
function coverageGap(
    alarms: RuleResource[],
    topics: Topics,
    matches: (m: WatchedMetric) => boolean,
): string | undefined {
    const watching = alarms.filter((alarm) => metricsOf(alarm).some(matches));
    const reasons = watching.map((alarm) => silence(alarm, topics));
    if (reasons.some((reason) => reason === undefined)) {
        return undefined;
    }
    return watching.length === 0 ? "no alarm" : reasons.join("; ");
}

const FIX =
    "posts-api:alarms.enabled: true on this stack with someone to tell: an on-call address (`pulumi config set --path 'alarms.emails[0]' oncall@your-company.com`), " +
    "or posts-api:alarms.topicArns, an existing SNS topic that pages your on-call (monitoring/monitoring.ts); or an aws.cloudwatch.MetricAlarm whose `alarmActions` reach a subscribed topic";

export const productionAlarms: StackRule = {
    kind: "stack",
    name: "production-error-alarms",
    description:
        "On production stacks, CloudWatch alarms that reach a subscriber (a subscribed SNS topic of the stack, or a topic ARN from outside it) watch the API's 5XX errors and every Lambda function's Errors.",
    enforcementLevel: "mandatory",
    configSchema: { properties: { ...PRODUCTION_STACKS_SETTING } },
    check(stack: StackView, config): StackViolation[] | NotApplicable {
        const why = stackProductionReason(stack, config);
        if (why === undefined) {
            return { notApplicable: notProductionReason(stack, config) };
        }
        const alarms = stack.resources.filter((r) => r.type === TYPES.metricAlarm);
        const topics = stackTopics(stack);
        const violations: StackViolation[] = [];

        for (const api of stack.resources.filter((r) => r.type === TYPES.restApi)) {
            // REST API metrics carry the API's name as the ApiName dimension.
            const apiName = api.props["name"];
            const gap = coverageGap(
                alarms,
                topics,
                (m) =>
                    m.namespace === "AWS/ApiGateway" &&
                    m.metricName === "5XXError" &&
                    (typeof apiName !== "string" || m.dimensions["ApiName"] === apiName),
            );
            if (gap !== undefined) {
                violations.push({
                    urn: api.urn,
                    message:
                        `${why}, but ${describe(api)} has no CloudWatch alarm that notifies anyone on its 5XX errors ` +
                        `(metric 5XXError, namespace AWS/ApiGateway, ApiName ${JSON.stringify(apiName)}; ${gap}): nobody hears when the API fails its callers. Set ${FIX}.`,
                });
            }
        }

        const functions = stack.resources.filter((r) => r.type === TYPES.function);
        const uncovered = functions.flatMap((fn) => {
            const functionName = fn.props["name"];
            const gap = coverageGap(
                alarms,
                topics,
                (m) =>
                    m.namespace === "AWS/Lambda" &&
                    m.metricName === "Errors" &&
                    m.dimensions["FunctionName"] === functionName,
            );
            return gap === undefined ? [] : [{ fn, detail: `${fn.name} (${JSON.stringify(functionName)}: ${gap})` }];
        });
        if (uncovered.length > 0) {
            violations.push({
                // One function: point at it; several: the message lists them.
                ...(uncovered.length === 1 ? { urn: uncovered[0]!.fn.urn } : {}),
                message:
                    `${why}, but ${uncovered.length} of ${functions.length} Lambda functions have no CloudWatch alarm that notifies anyone ` +
                    `on their Errors (namespace AWS/Lambda, dimension FunctionName naming the function): ${uncovered.map((u) => u.detail).join(", ")}. ` +
                    `Their crashes and timeouts go unnoticed. Set ${FIX}.`,
            });
        }
        return violations;
    },
};
