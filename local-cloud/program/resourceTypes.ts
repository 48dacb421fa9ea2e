// Pulumi type tokens of the resources the program records, read by the local cloud, the policy
// rules and the tests. One table, so a token is spelt once.
export const TYPES = {
    table: "aws:dynamodb/table:Table",
    function: "aws:lambda/function:Function",
    permission: "aws:lambda/permission:Permission",
    alias: "aws:lambda/alias:Alias",
    provisionedConcurrency: "aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig",
    logGroup: "aws:cloudwatch/logGroup:LogGroup",
    role: "aws:iam/role:Role",
    rolePolicy: "aws:iam/rolePolicy:RolePolicy",
    policy: "aws:iam/policy:Policy",
    rolePolicyAttachment: "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    rolePolicyAttachmentsExclusive: "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive",
    policyAttachment: "aws:iam/policyAttachment:PolicyAttachment",
    restApi: "aws:apigateway/restApi:RestApi",
    method: "aws:apigateway/method:Method",
    stage: "aws:apigateway/stage:Stage",
    methodSettings: "aws:apigateway/methodSettings:MethodSettings",
    usagePlan: "aws:apigateway/usagePlan:UsagePlan",
    usagePlanKey: "aws:apigateway/usagePlanKey:UsagePlanKey",
    apiKey: "aws:apigateway/apiKey:ApiKey",
    /** @pulumi/random: the generated cursor key when a stack sets no cursorSecret. */
    randomBytes: "random:index/randomBytes:RandomBytes",
    stack: "pulumi:pulumi:Stack",
} as const;
