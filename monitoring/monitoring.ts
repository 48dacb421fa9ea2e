// Watching the running API: an SNS topic with the configured e-mail subscriptions, one CloudWatch
// alarm per watched metric (alarmSpecs in metrics.ts) and a dashboard of the same metrics.
//
// A folder of its own, beside api/ and data/: it changes nothing the API serves, and like data/ it
// imports nothing from api/; it is handed plain names (the API's, each function's).
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { AlarmSettings } from "../config/stackConfig";
import { dashboardBody } from "./dashboard";
import { alarmSpecs, type WatchedNames } from "./metrics";

export interface MonitoringArgs extends WatchedNames<pulumi.Input<string>> {
    /** The stack's name: alarm, topic and dashboard names end with it (one account, several stacks). */
    stack: string;
    /** posts-api:alarms: thresholds, e-mails, and whether there are alarms at all. */
    alarms: AlarmSettings;
}

export class Monitoring extends pulumi.ComponentResource {
    /** Where alarms (and their return to OK) are published; undefined when alarms are off. */
    readonly topic?: aws.sns.Topic;
    readonly subscriptions: aws.sns.TopicSubscription[] = [];
    readonly alarms: aws.cloudwatch.MetricAlarm[] = [];
    readonly dashboard: aws.cloudwatch.Dashboard;
    /** The dashboard in the CloudWatch console. */
    readonly dashboardUrl: pulumi.Output<string>;

    constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
        super("posts:monitoring:Monitoring", name, {}, opts);
        const childOpts = { parent: this };
        const prefix = `posts-api-${args.stack}`;
        const settings = args.alarms;

        if (settings.enabled) {
            this.topic = new aws.sns.Topic(`${name}-alarms`, { name: `${prefix}-alarms` }, childOpts);
            // Named by address, so reordering the list changes nothing; AWS mails each new address a
            // confirmation link, and nothing is delivered there until it is followed.
            if (settings.emails.length === 0 && settings.topicArns.length === 0) {
                // The alarms still change state (dashboard, console), but the topic has no one to
                // tell; said on every `pulumi up` until an address is added.
                pulumi.log.warn(
                    `Alarms of stack ${args.stack} notify no one: the topic ${prefix}-alarms has no subscription. Add one with: pulumi config set --path 'alarms.emails[0]' you@example.com (or alarms.topicArns: a topic that pages elsewhere)`,
                    this,
                );
            }
            for (const email of settings.emails) {
                this.subscriptions.push(
                    new aws.sns.TopicSubscription(
                        `${name}-email-${email}`,
                        {
                            topic: this.topic.arn,
                            protocol: "email",
                            endpoint: email,
                        },
                        childOpts,
                    ),
                );
            }
            for (const spec of alarmSpecs(args, settings)) {
                const { metric } = spec;
                const percentile = /^p\d/.test(metric.stat);
                this.alarms.push(
                    new aws.cloudwatch.MetricAlarm(
                        `${name}-${spec.key}`,
                        {
                            name: `${prefix}-${spec.key}`,
                            alarmDescription: spec.description,
                            namespace: metric.namespace,
                            metricName: metric.metricName,
                            dimensions: metric.dimensions,
                            // A percentile is an extended statistic in the alarm's API.
                            ...(percentile ? { extendedStatistic: metric.stat } : { statistic: metric.stat }),
                            period: settings.periodSeconds,
                            evaluationPeriods: settings.evaluationPeriods,
                            comparisonOperator: spec.comparison,
                            threshold: spec.threshold,
                            // No traffic, no data: that is not an outage (and dev-like stacks sit idle).
                            treatMissingData: "notBreaching",
                            // Also to the configured topics that page elsewhere (alarms.topicArns).
                            alarmActions: spec.advisory ? [] : [this.topic.arn, ...settings.topicArns],
                            okActions: spec.advisory ? [] : [this.topic.arn, ...settings.topicArns],
                        },
                        childOpts,
                    ),
                );
            }
        }

        // The names as plain strings once known (pulumi.output unwraps the Inputs inside).
        const resolved = pulumi.output({
            region: aws.getRegionOutput({}, { parent: this }).region,
            apiName: args.apiName,
            functions: args.functions,
        });
        this.dashboard = new aws.cloudwatch.Dashboard(
            name,
            {
                dashboardName: prefix,
                dashboardBody: resolved.apply(({ region, apiName, functions }) =>
                    dashboardBody(region, { apiName, stage: args.stage, functions }, settings),
                ),
            },
            childOpts,
        );

        this.dashboardUrl = pulumi.interpolate`https://console.aws.amazon.com/cloudwatch/home?region=${resolved.region}#dashboards:name=${this.dashboard.dashboardName}`;
        this.registerOutputs({ dashboardName: this.dashboard.dashboardName, dashboardUrl: this.dashboardUrl });
    }
}
