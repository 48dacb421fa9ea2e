// What the local cloud provisions, read from a recording of the program (local/recordProgram.ts).
// Everything comes from the recorded resources and the REST API's OpenAPI body; nothing here knows
// what the program is about, so a new route, function or table needs no change in local/.
import { LocalCloudError } from "../state/stateDir";
import { MOCK_ACCOUNT, type RecordedProgram, type RecordedResource } from "./recordProgram";

/* eslint-disable @typescript-eslint/no-explicit-any */

import { TYPES } from "./resourceTypes";
import type { PermissionModel } from "../lambda/permissions";
import { splitFunctionArn } from "../lambda/lambdaArn";

export interface TableModel {
    logicalName: string;
    name: string;
    hashKey: string;
    rangeKey?: string;
    attributes: { name: string; type: string }[];
    globalSecondaryIndexes: {
        name: string;
        hashKey: string;
        rangeKey?: string;
        projectionType?: string;
        nonKeyAttributes?: string[];
    }[];
    localSecondaryIndexes: { name: string; rangeKey: string; projectionType?: string; nonKeyAttributes?: string[] }[];
}

export interface FunctionModel {
    logicalName: string;
    /** Physical name (what AWS_LAMBDA_FUNCTION_NAME holds). */
    name: string;
    arn: string;
    handler: string;
    runtime: string;
    timeoutSeconds: number;
    memorySize: number;
    environment: Record<string, string>;
    logGroup: string;
    /** The recorded archive (an AssetArchive); read with archiveEntries. */
    code: unknown;
    /**
     * The version this code is: the latest published number with `publish: true` (functionVersions.ts),
     * else `$LATEST`. Optional so hand-made models need not spell it (`$LATEST` then).
     */
    version?: string;
}

/** An `aws.lambda.Alias`: a name for a version of a function, maybe sharing requests with another. */
export interface AliasModel {
    logicalName: string;
    name: string;
    /** The function's unqualified ARN. */
    functionArn: string;
    /** `$LATEST` or a version number. */
    functionVersion: string;
    /** `routingConfig.additionalVersionWeights`: another version and the share of requests it gets (0 to 1). */
    additionalVersionWeights: Record<string, number>;
    arn: string;
}

/** An `aws.lambda.ProvisionedConcurrencyConfig`: instances kept initialized for an alias or version. */
export interface ProvisionedConcurrencyModel {
    logicalName: string;
    functionArn: string;
    /** An alias name or a version number. */
    qualifier: string;
    count: number;
}

export interface Operation {
    /** Upper-case method, or "ANY" for x-amazon-apigateway-any-method. */
    method: string;
    /** Resource path template, e.g. `/items/{id}`. */
    resourcePath: string;
    apiKeyRequired: boolean;
    integration: any;
    /**
     * The method request parameters the operation declares (its OpenAPI `parameters`), as API
     * Gateway names them: `method.request.path.id`, `method.request.querystring.limit`, ...
     */
    requestParameters?: string[];
}

/** A stage's settings for one method (`aws.apigateway.MethodSettings`): the cache's part. */
export interface MethodSettingsModel {
    cachingEnabled?: boolean;
    cacheTtlInSeconds?: number;
    requireAuthorizationForCacheControl?: boolean;
    unauthorizedCacheControlHeaderStrategy?: string;
}

export interface StageModel {
    name: string;
    deploymentId: string;
    variables: Record<string, string> | null;
    /** The stage's `accessLogSettings` when it has a format: each request's line (accessLog.ts). */
    accessLog?: { format: string; destinationArn: string };
    /** The stage's cache cluster (`cacheClusterEnabled`, `cacheClusterSize` in GB), when enabled (stageCache.ts). */
    cacheCluster?: { sizeGb: string };
    /** `aws.apigateway.MethodSettings` of this stage by `methodPath` (`~1posts/GET`, `*\/*`, ...). */
    methodSettings?: Record<string, MethodSettingsModel>;
}

export interface RestApiModel {
    logicalName: string;
    id: string;
    name: string;
    stages: StageModel[];
    operations: Operation[];
    binaryMediaTypes: string[];
    gatewayResponses: Record<string, any>;
    apiKeySource: string;
}

export interface ApiKeyModel {
    logicalName: string;
    id: string;
    value: string;
    enabled: boolean;
    /** What the control plane reports (controlPlane.ts); optional so hand-made models need not spell them. */
    name?: string;
    description?: string;
    customerId?: string;
    /** `"{restApiId}/{stageName}"` per recorded `stageKeys` entry. */
    stageKeys?: string[];
    tags?: Record<string, string>;
}

export interface ThrottleLimits {
    rateLimit: number;
    burstLimit: number;
}

export interface UsagePlanModel {
    logicalName: string;
    id: string;
    /** What the control plane reports (controlPlane.ts); optional so hand-made models need not spell them. */
    name?: string;
    description?: string;
    tags?: Record<string, string>;
    apiStages: { apiId: string; stage: string; throttles: Record<string, ThrottleLimits> }[];
    throttle?: ThrottleLimits;
    quota?: { limit: number; period: "DAY" | "WEEK" | "MONTH"; offset: number };
    keyIds: string[];
}

export interface CloudModel {
    region: string;
    tables: TableModel[];
    functions: FunctionModel[];
    restApis: RestApiModel[];
    apiKeys: ApiKeyModel[];
    usagePlans: UsagePlanModel[];
    /** Optional so hand-made models need not spell them. */
    aliases?: AliasModel[];
    provisionedConcurrency?: ProvisionedConcurrencyModel[];
    /**
     * Who may invoke which function (`aws.lambda.Permission`). A recorded program always has the
     * list, and the gateway enforces it (permissions.ts); a hand-made model without it is not checked.
     */
    permissions?: PermissionModel[];
}

const ofType = (program: RecordedProgram, type: string) => program.resources.filter((r) => r.type === type);

/** A resource-typed input arrives as an id (or, from some providers, an object with one). */
const idOf = (value: unknown): string =>
    typeof value === "object" && value !== null ? String((value as any).id ?? "") : String(value ?? "");

/**
 * A GSI declared either way @pulumi/aws accepts: `hashKey`/`rangeKey` (deprecated in 7.x) or
 * `keySchemas` (`[{ attributeName, keyType: "HASH" | "RANGE" }]`). Multi-attribute keys (several
 * HASH or RANGE entries) have no equivalent in the local engine.
 */
function gsiModel(table: string, g: any): TableModel["globalSecondaryIndexes"][number] {
    if (!Array.isArray(g?.keySchemas) || g.keySchemas.length === 0) {
        return g;
    }
    const { keySchemas, name, projectionType, nonKeyAttributes } = g;
    const ofType = (keyType: string) =>
        keySchemas.filter((k: any) => k?.keyType === keyType).map((k: any) => String(k.attributeName));
    const hashKeys = ofType("HASH");
    const rangeKeys = ofType("RANGE");
    if (hashKeys.length !== 1 || rangeKeys.length > 1 || hashKeys.length + rangeKeys.length !== keySchemas.length) {
        throw new LocalCloudError(
            `Table ${table}, index ${String(name)}: the local cloud supports one HASH and at most one RANGE key per index (keySchemas: ${JSON.stringify(keySchemas)})`,
        );
    }
    return {
        name,
        projectionType,
        nonKeyAttributes,
        hashKey: hashKeys[0]!,
        ...(rangeKeys[0] === undefined ? {} : { rangeKey: rangeKeys[0] }),
    };
}

/** The name AWS shows: the program's `name`, else Pulumi's auto-name (recorded in the state). */
const physicalName = (r: RecordedResource) => String(r.state["name"] ?? r.inputs["name"] ?? r.name);

const optionalText = <K extends string>(key: K, value: unknown): Partial<Record<K, string>> =>
    typeof value === "string" && value !== "" ? ({ [key]: value } as Record<K, string>) : {};

const stringMap = (value: unknown): Record<string, string> =>
    typeof value === "object" && value !== null
        ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, String(v)]))
        : {};

/** AWS's rule for stage names (CreateStage). */
const STAGE_NAME = /^[A-Za-z0-9_-]{1,128}$/;

function tableModel(r: RecordedResource): TableModel {
    const i = r.inputs;
    return {
        logicalName: r.name,
        name: String(r.state["name"] ?? i["name"] ?? r.id),
        hashKey: i["hashKey"],
        rangeKey: i["rangeKey"] ?? undefined,
        attributes: i["attributes"] ?? [],
        globalSecondaryIndexes: (i["globalSecondaryIndexes"] ?? []).map((g: any) => gsiModel(r.name, g)),
        localSecondaryIndexes: i["localSecondaryIndexes"] ?? [],
    };
}

function functionModel(r: RecordedResource): FunctionModel {
    const i = r.inputs;
    return {
        logicalName: r.name,
        name: String(r.state["name"] ?? i["name"] ?? r.id),
        arn: String(r.state["arn"]),
        handler: i["handler"] ?? "index.handler",
        runtime: i["runtime"] ?? "nodejs22.x",
        // AWS defaults: 3 s and 128 MB.
        timeoutSeconds: i["timeout"] ?? 3,
        memorySize: i["memorySize"] ?? 128,
        environment: Object.fromEntries(
            Object.entries<unknown>(i["environment"]?.variables ?? {}).map(([k, v]) => [k, String(v)]),
        ),
        logGroup: i["loggingConfig"]?.logGroup ?? `/aws/lambda/${String(r.state["name"] ?? r.id)}`,
        code: i["code"],
        version: typeof r.state["version"] === "string" ? r.state["version"] : "$LATEST",
    };
}

/** A function named by name or ARN (maybe qualified), as its unqualified ARN. */
function functionArnOf(functions: FunctionModel[], region: string, nameOrArn: unknown): string {
    const text = String(nameOrArn ?? "");
    if (text.startsWith("arn:")) {
        return splitFunctionArn(text).functionArn;
    }
    return functions.find((f) => f.name === text)?.arn ?? `arn:aws:lambda:${region}:${MOCK_ACCOUNT}:function:${text}`;
}

/** A permission names its function by name or ARN; a qualified ARN carries its qualifier. */
function permissionModel(r: RecordedResource, functions: FunctionModel[], region: string): PermissionModel {
    const named = String(r.inputs["function"] ?? "");
    const qualifier =
        r.inputs["qualifier"] ?? (named.startsWith("arn:") ? splitFunctionArn(named).qualifier : undefined);
    if (qualifier === "$LATEST") {
        // AddPermission's own refusal: the deploy would fail on AWS.
        throw new LocalCloudError(
            `Lambda permission ${r.name}: Lambda does not support adding policies to version $LATEST; leave out the qualifier to allow the function itself`,
        );
    }
    return {
        logicalName: r.name,
        functionArn: functionArnOf(functions, region, named),
        ...(qualifier === undefined || qualifier === "" ? {} : { qualifier: String(qualifier) }),
        action: String(r.inputs["action"] ?? ""),
        principal: String(r.inputs["principal"] ?? ""),
        ...optionalText("sourceArn", r.inputs["sourceArn"]),
        ...optionalText("sourceAccount", r.inputs["sourceAccount"]),
    };
}

function aliasModel(r: RecordedResource, functions: FunctionModel[], region: string): AliasModel {
    const weights: Record<string, unknown> = r.inputs["routingConfig"]?.additionalVersionWeights ?? {};
    const name = String(r.inputs["name"] ?? r.name);
    const functionVersion = String(r.inputs["functionVersion"] ?? "$LATEST");
    const additionalVersionWeights: Record<string, number> = {};
    for (const [version, weight] of Object.entries(weights)) {
        // AWS's own checks (UpdateAlias): one other version, a weight from 0 to 1.
        if (typeof weight !== "number" || !(weight >= 0 && weight <= 1)) {
            throw new LocalCloudError(
                `Lambda alias ${r.name}: the weight of version ${version} must be a number from 0 to 1 (got ${JSON.stringify(weight)})`,
            );
        }
        additionalVersionWeights[version] = weight;
    }
    if (Object.keys(additionalVersionWeights).length > 1) {
        throw new LocalCloudError(
            `Lambda alias ${r.name}: AWS routes an alias to at most two versions (functionVersion and one additional version), not ${Object.keys(additionalVersionWeights).length + 1}`,
        );
    }
    const functionArn = functionArnOf(functions, region, r.inputs["functionName"]);
    return {
        logicalName: r.name,
        name,
        functionArn,
        functionVersion,
        additionalVersionWeights,
        arn: `${functionArn}:${name}`,
    };
}

const HTTP_METHODS = ["get", "put", "post", "delete", "options", "head", "patch"];

/** OpenAPI's `in` -> API Gateway's name for the method request parameter's location. */
const PARAMETER_LOCATIONS: Record<string, string> = Object.assign(Object.create(null), {
    path: "path",
    query: "querystring",
    header: "header",
});

function operationsOf(swagger: any): Operation[] {
    const keyDefinitions = new Set(
        Object.entries<any>(swagger.securityDefinitions ?? {})
            .filter(
                ([, d]) => d?.type === "apiKey" && String(d.name).toLowerCase() === "x-api-key" && d.in === "header",
            )
            .map(([name]) => name),
    );
    const operations: Operation[] = [];
    for (const [resourcePath, item] of Object.entries<any>(swagger.paths ?? {})) {
        for (const [key, op] of Object.entries<any>(item ?? {})) {
            const method =
                key === "x-amazon-apigateway-any-method"
                    ? "ANY"
                    : HTTP_METHODS.includes(key)
                      ? key.toUpperCase()
                      : undefined;
            if (!method) {
                continue;
            }
            const security: any[] = op.security ?? swagger.security ?? [];
            // Path-level parameters apply to every method of the path; the method's own come after.
            const parameters: any[] = [
                ...(Array.isArray(item.parameters) ? item.parameters : []),
                ...(Array.isArray(op.parameters) ? op.parameters : []),
            ];
            operations.push({
                method,
                resourcePath,
                apiKeyRequired: security.some((requirement) =>
                    Object.keys(requirement ?? {}).some((name) => keyDefinitions.has(name)),
                ),
                integration: op["x-amazon-apigateway-integration"],
                requestParameters: parameters
                    .filter((p) => typeof p?.name === "string" && PARAMETER_LOCATIONS[p.in] !== undefined)
                    .map((p) => `method.request.${PARAMETER_LOCATIONS[p.in]}.${p.name}`),
            });
        }
    }
    return operations;
}

function restApiModel(program: RecordedProgram, r: RecordedResource): RestApiModel {
    const rawBody = r.inputs["body"];
    let swagger: any = {};
    if (rawBody !== undefined && rawBody !== null) {
        try {
            swagger = typeof rawBody === "string" ? JSON.parse(rawBody) : rawBody;
        } catch (err) {
            throw new LocalCloudError(`REST API ${r.name}: its OpenAPI body is not JSON (${(err as Error).message})`);
        }
    }
    const stages = ofType(program, TYPES.stage)
        .filter((s) => idOf(s.inputs["restApi"]) === r.id)
        .map((s): StageModel => {
            const logs = s.inputs["accessLogSettings"];
            const name = String(s.inputs["stageName"]);
            const methodSettings = Object.fromEntries(
                ofType(program, TYPES.methodSettings)
                    .filter((m) => idOf(m.inputs["restApi"]) === r.id && String(m.inputs["stageName"]) === name)
                    .map((m) => [String(m.inputs["methodPath"]), (m.inputs["settings"] ?? {}) as MethodSettingsModel]),
            );
            return {
                name,
                deploymentId: idOf(s.inputs["deployment"]),
                variables: s.inputs["variables"] ?? null,
                // AWS requires both; a stage without a format logs nothing.
                ...(typeof logs?.format === "string" && logs.format !== ""
                    ? { accessLog: { format: logs.format, destinationArn: String(logs.destinationArn ?? "") } }
                    : {}),
                // AWS's default size is 0.5 GB.
                ...(s.inputs["cacheClusterEnabled"] === true
                    ? { cacheCluster: { sizeGb: String(s.inputs["cacheClusterSize"] ?? "0.5") } }
                    : {}),
                ...(Object.keys(methodSettings).length ? { methodSettings } : {}),
            };
        });
    return {
        logicalName: r.name,
        id: r.id,
        name: String(r.inputs["name"] ?? r.name),
        stages,
        operations: operationsOf(swagger),
        binaryMediaTypes: r.inputs["binaryMediaTypes"] ?? swagger["x-amazon-apigateway-binary-media-types"] ?? [],
        gatewayResponses: swagger["x-amazon-apigateway-gateway-responses"] ?? {},
        apiKeySource: r.inputs["apiKeySource"] ?? swagger["x-amazon-apigateway-api-key-source"] ?? "HEADER",
    };
}

function usagePlanModel(program: RecordedProgram, r: RecordedResource): UsagePlanModel {
    const i = r.inputs;
    const quota = i["quotaSettings"];
    return {
        logicalName: r.name,
        id: r.id,
        name: physicalName(r),
        ...optionalText("description", i["description"]),
        tags: stringMap(i["tags"]),
        apiStages: (i["apiStages"] ?? []).map((s: any) => ({
            apiId: idOf(s.apiId),
            stage: String(s.stage),
            throttles: Object.fromEntries(
                (s.throttles ?? []).map((t: any) => [t.path, { rateLimit: t.rateLimit, burstLimit: t.burstLimit }]),
            ),
        })),
        throttle: i["throttleSettings"]
            ? { rateLimit: i["throttleSettings"].rateLimit, burstLimit: i["throttleSettings"].burstLimit }
            : undefined,
        quota: quota ? { limit: quota.limit, period: quota.period, offset: quota.offset ?? 0 } : undefined,
        keyIds: ofType(program, TYPES.usagePlanKey)
            .filter((k) => idOf(k.inputs["usagePlanId"]) === r.id && (k.inputs["keyType"] ?? "API_KEY") === "API_KEY")
            .map((k) => idOf(k.inputs["keyId"])),
    };
}

export function cloudModel(program: RecordedProgram): CloudModel {
    const functions = ofType(program, TYPES.function).map(functionModel);
    const model: CloudModel = {
        region: program.region,
        tables: ofType(program, TYPES.table).map(tableModel),
        functions,
        aliases: ofType(program, TYPES.alias).map((r) => aliasModel(r, functions, program.region)),
        permissions: ofType(program, TYPES.permission).map((r) => permissionModel(r, functions, program.region)),
        provisionedConcurrency: ofType(program, TYPES.provisionedConcurrency).map((r) => ({
            logicalName: r.name,
            functionArn: functionArnOf(functions, program.region, r.inputs["functionName"]),
            qualifier: String(r.inputs["qualifier"] ?? ""),
            count: Number(r.inputs["provisionedConcurrentExecutions"] ?? 0),
        })),
        restApis: ofType(program, TYPES.restApi).map((r) => restApiModel(program, r)),
        apiKeys: ofType(program, TYPES.apiKey).map((r) => ({
            logicalName: r.name,
            id: r.id,
            value: String(r.state["value"]),
            // AWS creates a key disabled unless `enabled` is set; the Pulumi provider defaults it to true.
            enabled: r.inputs["enabled"] ?? true,
            name: physicalName(r),
            ...optionalText("description", r.inputs["description"]),
            ...optionalText("customerId", r.inputs["customerId"]),
            stageKeys: (r.inputs["stageKeys"] ?? []).map(
                (k: any) => `${idOf(k?.restApiId)}/${String(k?.stageName ?? "")}`,
            ),
            tags: stringMap(r.inputs["tags"]),
        })),
        usagePlans: ofType(program, TYPES.usagePlan).map((r) => usagePlanModel(program, r)),
    };
    const stageOwners = new Map<string, string>();
    for (const api of model.restApis) {
        for (const stage of api.stages) {
            if (!STAGE_NAME.test(stage.name)) {
                // AWS refuses such a name; locally it would also reach paths the stages must never
                // have (the control plane's, controlPlane.ts).
                throw new LocalCloudError(
                    `REST API ${api.logicalName}: stage name ${JSON.stringify(stage.name)} is not one AWS accepts (1 to 128 letters, digits, "-" and "_")`,
                );
            }
            const other = stageOwners.get(stage.name);
            if (other) {
                // On AWS each API has its own host name; locally they share one, split by stage.
                throw new LocalCloudError(
                    `REST APIs ${other} and ${api.logicalName} both have a stage "${stage.name}"; the local cloud serves every API on one port and tells them apart by stage name`,
                );
            }
            stageOwners.set(stage.name, api.logicalName);
        }
    }
    return model;
}
