// The shapes every guardrail rule speaks. Plain data, no @pulumi/policy import: the same rules run
// in the CrossGuard pack (policies/guardrails) and in mocha over the program recorded under mocks.
import { TYPES as CLOUD_TYPES } from "local-cloud/resourceTypes";

/** What a violation does: `mandatory` blocks `pulumi preview`/`up`, `advisory` only warns. */
export type EnforcementLevel = "mandatory" | "advisory";

/**
 * One resource as a rule sees it: `props` are the inputs for resource rules (what CrossGuard's
 * `validateResource` gets) and the outputs for stack rules (what `validateStack` gets).
 */
export interface RuleResource {
    urn: string;
    type: string;
    name: string;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    props: Record<string, any>;
    /**
     * Property name -> URNs of the resources its value comes from (CrossGuard's
     * `propertyDependencies`). Known even where the values are not (a new stack's preview);
     * absent where the caller has none (a recording under mocks, whose values are all known).
     */
    propertyDependencies?: Record<string, readonly string[]>;
}

/** Per-rule settings, from `--policy-pack-config` in CrossGuard or given directly in tests. */
export type RuleConfig = Record<string, unknown>;

/** JSON Schema of a rule's settings, in the form CrossGuard's `configSchema` accepts. */
export interface RuleConfigSchema {
    properties: Record<string, Record<string, unknown>>;
}

interface RuleBase {
    /** Stable id: the CrossGuard policy name and the key in a policy pack config file. */
    name: string;
    description: string;
    enforcementLevel: EnforcementLevel;
    configSchema?: RuleConfigSchema;
}

/** Checks one resource at a time, before it is created or changed. */
export interface ResourceRule extends RuleBase {
    kind: "resource";
    /** Pulumi type tokens the rule reads; every other type is not applicable. */
    resourceTypes: readonly string[];
    /** Violation messages, each saying what to fix; empty when the resource complies. */
    check(resource: RuleResource, config: RuleConfig): string[];
}

/** The whole stack after the program ran: resources (with their outputs) and stack outputs. */
export interface StackView {
    resources: RuleResource[];
    /** Stack outputs by name. */
    outputs: Record<string, unknown>;
    /**
     * Names of the outputs that are Pulumi secrets, or `undefined` when the caller cannot tell
     * (CrossGuard decrypts every value before a policy sees it: pulumi/pulumi-policy#241).
     */
    secretOutputs: readonly string[] | undefined;
}

export interface StackViolation {
    message: string;
    /** The resource at fault, when there is one. */
    urn?: string;
}

/** The rule cannot judge this input (it lacks what the rule needs); the reason says why. */
export interface NotApplicable {
    notApplicable: string;
}

export interface StackRule extends RuleBase {
    kind: "stack";
    check(stack: StackView, config: RuleConfig): StackViolation[] | NotApplicable;
}

export type Rule = ResourceRule | StackRule;

/** A rule's finding, tagged with the rule and the resource (or `undefined` for the stack). */
export interface Finding {
    rule: string;
    enforcementLevel: EnforcementLevel;
    urn: string | undefined;
    message: string;
}

/** The stack name inside a URN (`urn:pulumi:<stack>::<project>::<type>::<name>`). */
export function stackOfUrn(urn: string): string {
    const head = urn.split("::")[0] ?? "";
    return head.startsWith("urn:pulumi:") ? head.slice("urn:pulumi:".length) : "";
}

/** `<type> "<name>"`, the way violation messages name a resource. */
export function describe(resource: RuleResource): string {
    return `${resource.type.split(":").pop()} "${resource.name}"`;
}

/**
 * Pulumi type tokens: the local cloud's table (what the program records), plus the ones only the
 * guardrails read.
 */
export const TYPES = {
    ...CLOUD_TYPES,
    metricAlarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
    snsTopic: "aws:sns/topic:Topic",
    topicSubscription: "aws:sns/topicSubscription:TopicSubscription",
} as const;
