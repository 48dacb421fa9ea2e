// Lambda function ARNs as API Gateway and Lambda name them: `arn:aws:lambda:<region>:<account>:
// function:<name>`, maybe qualified by a version or alias (`…:<name>:live`), and the integration
// URI that carries one (`arn:aws:apigateway:<region>:lambda:path/2015-03-31/functions/<ARN>/invocations`).
// One place for the parsing the model, the gateway, aliases and permissions all need.

/** A function ARN's unqualified part and its qualifier (undefined when there is none). */
export function splitFunctionArn(arn: string): { functionArn: string; qualifier?: string } {
    const parts = arn.split(":");
    const functionArn = parts.slice(0, 7).join(":");
    return parts.length > 7 ? { functionArn, qualifier: parts.slice(7).join(":") } : { functionArn };
}

/** The function ARN (maybe qualified) an integration URI invokes; undefined for any other URI. */
export function integrationFunctionArn(uri: unknown): string | undefined {
    return /\/functions\/(.+?)\/invocations$/.exec(String(uri ?? ""))?.[1];
}
