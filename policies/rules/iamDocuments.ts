// Reading IAM policy documents the way they reach a policy: a JSON string (what
// `JSON.stringify` or aws.iam.getPolicyDocument produce) or an object (aws.iam.PolicyDocument).

/* eslint-disable @typescript-eslint/no-explicit-any */

export interface Statement {
    Sid?: string;
    Effect?: string;
    Action?: string | string[];
    NotAction?: string | string[];
    Resource?: string | string[];
    NotResource?: string | string[];
}

export const asList = (value: unknown): string[] =>
    value === undefined || value === null ? [] : (Array.isArray(value) ? value : [value]).map(String);

/** The statements of a document, or an error message when it cannot be read. */
export function statementsOf(document: unknown): { statements: Statement[] } | { error: string } {
    let doc: any = document;
    if (typeof document === "string") {
        try {
            doc = JSON.parse(document);
        } catch {
            return { error: "is not valid JSON" };
        }
    }
    if (doc === null || typeof doc !== "object") {
        return { statements: [] };
    }
    const statements = doc.Statement;
    if (statements === undefined) {
        return { statements: [] };
    }
    return { statements: (Array.isArray(statements) ? statements : [statements]) as Statement[] };
}

/** How a statement is named in messages: its Sid, or its position. */
export const statementLabel = (statement: Statement, index: number) =>
    statement.Sid ? `statement "${statement.Sid}"` : `statement ${index + 1}`;

/** The last segment of an AWS managed policy ARN (`arn:aws:iam::aws:policy/...`), else undefined. */
export function awsManagedPolicyName(arn: unknown): string | undefined {
    const match = /^arn:aws[a-z-]*:iam::aws:policy\/(.+)$/.exec(String(arn));
    return match?.[1]?.split("/").pop();
}
