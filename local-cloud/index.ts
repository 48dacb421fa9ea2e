// local-cloud: runs a Pulumi TypeScript program that uses AWS API Gateway (REST, awsx classic
// closure routes or raw OpenAPI bodies), Lambda, DynamoDB, API keys and usage plans, with no AWS
// account. The package's public surface, for a program's scripts and tests; README.md says what it
// reproduces and what it does not.

// Start a local cloud for a stack, and the shape of what it gives back.
export { startLocalCloud } from "./localCloud";
export { recordLocalProgram, undecryptableNotice } from "./program/program";
export { CONTROL_PLANE_PATH } from "./apigateway/controlPlane";
export type {
    LocalCloud,
    LocalCloudOptions,
    RequestLog,
    ReloadReport,
    ConsoleStage,
    OpenApiDocumentSource,
} from "./types";
export { describeReload } from "./startup/reload";
// The AWS account it plays (GetAccount, Lambda's GetAccountSettings): a default one, or a new one.
export { ACCOUNT_PROFILES, DEFAULT_ACCOUNT, LAMBDA_CONTROL_PLANE_PATH } from "./account";
export type { AccountSettings } from "./account";
export { LocalCloudError, defaultStateDir, readJsonFile, KeyStore } from "./state/stateDir";
export { FunctionVersions } from "./lambda/functionVersions";

// Record a program under Pulumi mocks (tests, document generators, packaging checks).
export { recordProgram, archiveEntries, MOCK_ACCOUNT } from "./program/recordProgram";
export { recordOrReuseLocalProgram, recordOrReuseProgram } from "./program/programCache";
export type { RecordedProgram, RecordedResource, RecordOptions } from "./program/recordProgram";
export { readStackFiles, readProgramConfig, listStacks, StackFileError } from "./program/stackFiles";
export type { ProgramConfig } from "./program/stackFiles";
export { TYPES } from "./program/resourceTypes";
export { cloudModel } from "./program/model";
export type {
    CloudModel,
    UsagePlanModel,
    FunctionModel,
    TableModel,
    AliasModel,
    ProvisionedConcurrencyModel,
    MethodSettingsModel,
} from "./program/model";

// Parts with a life of their own: the durable log, usage counting, the proxy event builder.
export { AppendLog } from "./state/appendLog";
export type { StorageFaults } from "./state/appendLog";
export { UsageLimiter, USAGE_LOG_HEADER, quotaOffsetWarnings, periodStart } from "./apigateway/usage";
export type { UsageRecord } from "./apigateway/usage";
export { buildProxyEvent } from "./apigateway/proxyEvent";
export { renderAccessLog, accessLogValues } from "./apigateway/accessLog";
export type { AccessFacts, AccessOutcome } from "./apigateway/accessLog";
export { startDynamo, ensureTables, LOCAL_CREDENTIALS } from "./dynamodb/dynamo";
export { CapacityMeter, PARTITION_LIMITS } from "./dynamodb/dynamoCapacity";
export type { CapacityOptions, CapacitySnapshot, PartitionUsage, TableUsage } from "./dynamodb/dynamoCapacity";
export { returnOldItemOnConditionFailure } from "./dynamodb/dynamoConditionItem";
export { runtimeWarnings, runtimeNodeMajor } from "./lambda/runtimeCheck";
export { CanaryRotation, FunctionRouter } from "./lambda/aliases";
export {
    StageCache,
    StageCaches,
    methodCache,
    cacheKey,
    stageCacheWarnings,
    CACHE_CONTROL_IGNORED,
} from "./apigateway/stageCache";
