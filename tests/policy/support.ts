// What the guardrail tests (tests/policy) share: the programs they judge, recorded under mocks once
// per process, and small helpers that break a copy of one and read the findings.
import { expect } from "chai";
import * as path from "node:path";
import { type RecordedProgram, type RecordedResource } from "local-cloud";
import { type Finding } from "../../policies/rules";
import { one, programWith, stackProgram, TYPES } from "../support/program";
import { PROJECT_DIR } from "../../scripts/project";

/* eslint-disable @typescript-eslint/no-explicit-any */

export const PACK_DIR = path.join(PROJECT_DIR, "policies", "guardrails");
export const MORE_TYPES = {
    method: "aws:apigateway/method:Method",
    policy: "aws:iam/policy:Policy",
    rolePolicyAttachmentsExclusive: "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive",
    metricAlarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
    snsTopic: "aws:sns/topic:Topic",
    topicSubscription: "aws:sns/topicSubscription:TopicSubscription",
} as const;

export const ROUTES = ["getPost", "listPosts", "createPost", "replacePost", "updatePost", "deletePost"];

/** posts-api:alarms with one on-call address: what Pulumi.prod.yaml asks its operators to add. */
const ONCALL_EMAIL = { enabled: true, emails: ["oncall@example.com"] };

export interface GuardrailPrograms {
    dev: RecordedProgram;
    /**
     * The prod stack as its operators deploy it: Pulumi.prod.yaml plus someone to page (the shipped
     * file names nobody, and the alarm guardrail refuses it until they set an address or a topic).
     */
    prod: RecordedProgram;
    /** Pulumi.prod.yaml exactly as shipped: alarms to a topic nobody subscribed to. */
    prodAsShipped: RecordedProgram;
    /** Paged prod (above) with posts-api:production turned off. */
    prodDowngraded: RecordedProgram;
}

let recording: Promise<GuardrailPrograms> | undefined;

/**
 * The programs every guardrail test file judges, recorded once per process however many files run.
 * Call it from a root-level `before` hook, so it runs before every suite of the run: recordProgram
 * runs one program per process at a time, and a program abandoned by an earlier suite (the local
 * cloud gives up on a program that fails inside an `apply`) would block every later recording.
 */
export function guardrailPrograms(): Promise<GuardrailPrograms> {
    recording ??= recordGuardrailPrograms();
    return recording;
}

async function recordGuardrailPrograms(): Promise<GuardrailPrograms> {
    const dev = await stackProgram("dev");
    const prodAsShipped = await stackProgram("prod");
    const prod = await programWith({ stack: "prod", config: { "posts-api:alarms": ONCALL_EMAIL } });
    const prodDowngraded = await programWith({
        stack: "prod",
        config: { "posts-api:production": false, "posts-api:alarms": ONCALL_EMAIL },
    });
    return { dev, prod, prodAsShipped, prodDowngraded };
}

/** A deep copy a test may break freely (Lambda archives dropped: no rule reads them). */
export function copy(program: RecordedProgram): RecordedProgram {
    return JSON.parse(JSON.stringify(program, (key, value) => (key === "code" ? undefined : value)));
}

/** Adds a resource to a copy, URN built the way Pulumi builds it. */
export function addResource(
    program: RecordedProgram,
    type: string,
    name: string,
    inputs: Record<string, any>,
): RecordedResource {
    const resource: RecordedResource = {
        urn: `urn:pulumi:${program.stack}::posts-api::${type}::${name}`,
        type,
        name,
        parent: "",
        custom: true,
        protect: false,
        additionalSecretOutputs: [],
        id: name,
        inputs,
        state: { ...inputs },
    };
    program.resources.push(resource);
    return resource;
}

export function swaggerOfCopy(program: RecordedProgram): { doc: any; save: () => void } {
    const api = one(program, TYPES.restApi);
    const doc = JSON.parse(api.inputs["body"]);
    return {
        doc,
        save: () => {
            api.inputs["body"] = JSON.stringify(doc);
        },
    };
}

/** Stack rules read outputs (state), resource rules inputs: breaks both alike. */
export function setProp(resource: RecordedResource, key: string, value: unknown): void {
    for (const props of [resource.inputs, resource.state]) {
        if (value === undefined) {
            delete props[key];
        } else {
            props[key] = value;
        }
    }
}

/** A copy without any CloudWatch alarm: what posts-api:alarms `{ enabled: false }` declares. */
export function withoutAlarms(program: RecordedProgram): RecordedProgram {
    const broken = copy(program);
    broken.resources = broken.resources.filter((r) => r.type !== MORE_TYPES.metricAlarm);
    return broken;
}

export const rulesFired = (findings: Finding[]) => [...new Set(findings.map((f) => f.rule))];

/** The findings of one rule, after checking that no other rule fired. */
export function only(rule: string, findings: Finding[]): string[] {
    expect(rulesFired(findings), JSON.stringify(findings, null, 2)).to.deep.equal([rule]);
    return findings.map((f) => f.message);
}
