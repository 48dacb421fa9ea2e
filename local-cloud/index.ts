// local-cloud: runs a Pulumi TypeScript program that uses AWS API Gateway (REST, awsx classic
// closure routes or raw OpenAPI bodies), Lambda, DynamoDB, API keys and usage plans, with no AWS
// account. The package's public surface, for a program's scripts and tests; README.md says what it
// reproduces and what it does not.

// Start a local cloud for a stack, and the shape of what it gives back.
export { startLocalCloud } from "./localCloud";
export { recordLocalProgram, undecryptableNotice } from "./startup/program";
export { CONTROL_PLANE_PATH } from "./controlPlane";
export type { LocalCloud, LocalCloudOptions, RequestLog, ReloadReport, ConsoleStage, OpenApiDocumentSource } from "./types";
export { describeReload } from "./startup/reload";
// The AWS account it plays (GetAccount, Lambda's GetAccountSettings): a default one, or a new one.
export { ACCOUNT_PROFILES, DEFAULT_ACCOUNT, LAMBDA_CONTROL_PLANE_PATH } from "./account";
export type { AccountSettings } from "./account";
export { LocalCloudError, defaultStateDir, readJsonFile, KeyStore } from "./stateDir";
export { FunctionVersions } from "./functionVersions";

// Record a program under Pulumi mocks (tests, document generators, packaging checks).
export { recordProgram, archiveEntries, MOCK_ACCOUNT } from "./recordProgram";
export type { RecordedProgram, RecordedResource, RecordOptions } from "./recordProgram";
export { readStackFiles, readProgramConfig, listStacks, StackFileError } from "./stackFiles";
export type { ProgramConfig } from "./stackFiles";
export { TYPES } from "./resourceTypes";
export { cloudModel } from "./model";
export type { CloudModel, UsagePlanModel, FunctionModel, TableModel, AliasModel, ProvisionedConcurrencyModel, MethodSettingsModel } from "./model";

// Parts with a life of their own: the durable log, usage counting, the proxy event builder.
export { AppendLog } from "./appendLog";
export type { StorageFaults } from "./appendLog";
export { UsageLimiter, USAGE_LOG_HEADER, quotaOffsetWarnings, periodStart } from "./usage";
export type { UsageRecord } from "./usage";
export { buildProxyEvent } from "./proxyEvent";
export { renderAccessLog, accessLogValues } from "./accessLog";
export type { AccessFacts, AccessOutcome } from "./accessLog";
export { startDynamo, ensureTables, LOCAL_CREDENTIALS } from "./dynamo";
export { CapacityMeter, PARTITION_LIMITS } from "./dynamoCapacity";
export type { CapacityOptions, CapacitySnapshot, PartitionUsage, TableUsage } from "./dynamoCapacity";
export { returnOldItemOnConditionFailure } from "./dynamoConditionItem";
export { runtimeWarnings, runtimeNodeMajor } from "./runtimeCheck";
export { CanaryRotation, FunctionRouter } from "./aliases";
export { StageCache, StageCaches, methodCache, cacheKey, stageCacheWarnings, CACHE_CONTROL_IGNORED } from "./stageCache";
