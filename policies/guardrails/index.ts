// posts-api-guardrails: the CrossGuard pack. Run it with
//   pulumi preview --policy-pack policies/guardrails [--policy-pack-config policies/guardrails/config.example.json]
// The rules live in ../rules as plain modules so `npm test` runs the very same checks.
import { PolicyPack } from "@pulumi/policy";
import { guardrailPolicies } from "./policies";

new PolicyPack("posts-api-guardrails", {
    description:
        "Guardrails of the posts API template: API keys on every route, least-privilege IAM, bounded Lambdas and logs, JSON access logs, protected and watched production stacks (backups, alarms, tracing), capped usage plans, secret key outputs.",
    policies: guardrailPolicies,
});
