// No IAM statement allows every action (`*`), every DynamoDB action (`dynamodb:*`) or everything
// but a few (`NotAction`), and none lets DynamoDB actions reach every resource (`Resource: "*"`).
import { asList, statementLabel, statementsOf, type Statement } from "./iamDocuments";
import { describe, TYPES, type ResourceRule, type RuleResource } from "./types";

const isAllow = (s: Statement) => s.Effect === undefined || String(s.Effect).toLowerCase() === "allow";
const isDynamoDb = (action: string) => action.toLowerCase().startsWith("dynamodb:");

function statementViolations(where: string, statements: Statement[]): string[] {
    const violations: string[] = [];
    statements.forEach((statement, index) => {
        if (!isAllow(statement)) {
            return;
        }
        const label = `${where} ${statementLabel(statement, index)}`;
        const actions = asList(statement.Action);
        for (const action of actions) {
            if (action === "*" || action.toLowerCase() === "dynamodb:*") {
                violations.push(
                    `${label} allows "${action}": list the exact actions the code performs (e.g. "dynamodb:GetItem").`,
                );
            }
        }
        if (statement.NotAction !== undefined) {
            violations.push(
                `${label} allows everything except ${JSON.stringify(statement.NotAction)} (NotAction): replace it with an Action list of the exact actions needed.`,
            );
        }
        const dynamoActions = actions.filter(isDynamoDb);
        const everywhere = asList(statement.Resource).includes("*") || statement.NotResource !== undefined;
        if (dynamoActions.length > 0 && everywhere) {
            violations.push(
                `${label} allows ${dynamoActions.join(", ")} on every resource: set Resource to the table's ARN (and its index ARN where Query needs it).`,
            );
        }
    });
    return violations;
}

function documentViolations(where: string, document: unknown): string[] {
    const read = statementsOf(document);
    if ("error" in read) {
        return [`${where} policy document ${read.error}, so it cannot be checked: pass a JSON policy document.`];
    }
    return statementViolations(where, read.statements);
}

export const noWildcardIamActions: ResourceRule = {
    kind: "resource",
    name: "no-wildcard-iam-actions",
    description:
        "No IAM statement allows `*` or `dynamodb:*` (or uses NotAction), and none grants DynamoDB actions on Resource `*`.",
    enforcementLevel: "mandatory",
    resourceTypes: [TYPES.rolePolicy, TYPES.policy, TYPES.role],
    check(resource: RuleResource) {
        const where = describe(resource);
        if (resource.type === TYPES.role) {
            const inline: unknown[] = Array.isArray(resource.props["inlinePolicies"])
                ? resource.props["inlinePolicies"]
                : [];
            return inline.flatMap((p, i) => {
                const entry = (p ?? {}) as Record<string, unknown>;
                return entry["policy"] === undefined
                    ? []
                    : documentViolations(`${where} inline policy "${String(entry["name"] ?? i)}"`, entry["policy"]);
            });
        }
        return resource.props["policy"] === undefined ? [] : documentViolations(where, resource.props["policy"]);
    },
};
