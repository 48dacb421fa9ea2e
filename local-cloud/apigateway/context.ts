// The one invocation context of a request through the local API Gateway (LocalStack's
// `RestApiInvocationContext` is the model): each step of gateway.ts reads the facts the steps before
// it set here and adds its own. A step ends the request by returning a refusal (refusals.ts) or an
// answer; `undefined` hands the context to the next step.
import type { AccessFacts, PendingAccessLog } from "./accessLog";
import type { FunctionTarget } from "../lambda/aliases";
import type { GatewayResponseType, TemplateContext } from "./gatewayResponses";
import type { FunctionPool } from "../lambda/lambdaPool";
import type { ApiKeyModel, CloudModel, Operation, RestApiModel, StageModel, UsagePlanModel } from "../program/model";
import type { IncomingRequest, ProxyAnswer } from "./proxyEvent";
import type { RequestHeaders } from "./requestHeaders";
import type { MethodCache, StageCache, StageCaches } from "./stageCache";
import type { UsageLimiter } from "./usage";

/* eslint-disable @typescript-eslint/no-explicit-any */

export interface GatewayAnswer {
    status: number;
    headers: Record<string, string[]>;
    body: Buffer;
    requestId: string;
    /** Logical name of the API key that called, when the method required one and it was valid. */
    consumer?: string;
    /** Why the gateway answered by itself (a gateway response type), for logs. */
    refusal?: string;
    /** Set when the stage has access logging: the server renders the line once the answer is sent. */
    accessLog?: PendingAccessLog;
    /**
     * The Lambda invocation's request id (the function's `context.awsRequestId`, which prefixes its
     * log lines), once a function was invoked: the console links a 5xx to the function's log with it,
     * access logging or not.
     */
    functionRequestId?: string;
    /**
     * The stage cache's verdict for a cached method (stageCache.ts): `hit`, `miss`, or `refresh` (an
     * authorized `Cache-Control: max-age=0`, which locally needs `requireAuthorizationForCacheControl: false`).
     */
    cache?: string;
    /** The Lambda version that answered (a number, or `$LATEST`), once a function was invoked. */
    functionVersion?: string;
}

export interface Resource {
    api: RestApiModel;
    path: string;
    id: string;
    /** Per segment: literal text, `{name}` or `{name+}`. */
    segments: { kind: "literal" | "param" | "greedy"; text: string }[];
    operations: Map<string, Operation>;
}

export interface Match {
    resource: Resource;
    pathParameters: Record<string, string> | null;
}

/** A deployed stage and its API's resources, compiled once per model. */
export interface DeployedStage {
    api: RestApiModel;
    stage: StageModel;
    resources: Resource[];
}

export interface RequestIds {
    requestId: string;
    extendedRequestId: string;
    traceId: string;
    now: Date;
}

/** What the gateway holds for all requests: the steps read it, never change it. */
export interface GatewayDeps {
    model: CloudModel;
    /** Stage name -> the stage. */
    stages: Map<string, DeployedStage>;
    keysByValue: Map<string, ApiKeyModel>;
    limiter: Pick<UsageLimiter, "admit">;
    /** The stages' cache clusters (stageCache.ts); without it nothing is cached. */
    caches?: StageCaches;
    /** The pool (and version) for an integration's function ARN, maybe qualified. */
    functionTarget: (functionArn: string) => FunctionTarget | { error: string } | undefined;
    integrationTimeoutMs: number;
    log: (line: string) => void;
}

/** A request's stage cache, once the cache step decided to read it. */
export interface CacheUse {
    store: StageCache;
    settings: MethodCache;
    key: string;
    verdict: "miss" | "refresh";
    /** The caller asked to invalidate without the right: the answer says it was ignored. */
    warn: boolean;
}

export interface InvocationContext {
    request: IncomingRequest & { tooLarge?: boolean };
    ids: RequestIds;
    // Set by resolveStage.
    deployed?: DeployedStage;
    /** The path after the stage name, `/` at least. */
    pathInStage?: string;
    headers?: RequestHeaders;
    /** The stage's access-log line, its facts filled in as the request goes (only for a stage that logs). */
    accessLog?: PendingAccessLog;
    /** `accessLog.facts`, also read by the answer to a fault of the local cloud itself. */
    access?: AccessFacts;
    /** What gateway-response and MOCK templates read; matchRoute adds the resource. */
    template?: TemplateContext;
    // Set by matchRoute.
    match?: Match;
    operation?: Operation;
    // Set by validateApiKey: `consumer` is present (maybe undefined) once the key check passed.
    key?: ApiKeyModel;
    plan?: UsagePlanModel;
    consumer?: string;
    /** The operation's integration (`{}` when it has none). */
    integration?: any;
    cache?: CacheUse;
    // Set by resolveFunction.
    functionArn?: string;
    target?: FunctionTarget;
    event?: string;
    // Set by invokeFunction.
    functionRequestId?: string;
    functionVersion?: string;
    /** process.hrtime.bigint() when the invocation started, for the integration latency. */
    invokedAt?: bigint;
    outcome?: Awaited<ReturnType<FunctionPool["invoke"]>> | "gateway-timeout";
    /** The function's answer, mapped from its proxy result (mapResponse). */
    mapped?: ProxyAnswer;
}

/** A step's refusal, as a value: refusals.ts renders every one in one place. */
export interface Refusal {
    /** A gateway response type, or no such stage (answered before any API is known). */
    type: GatewayResponseType | "NO_SUCH_STAGE";
    /** A line for the local cloud's log: why, for the developer, never for the client. */
    log?: string;
    /** Leaves out the stage cache's verdict (Lambda's own request limit, as the answer has always done). */
    withoutCacheVerdict?: boolean;
}

/** The answer a step gives, before the request's ids (refusals.ts `finish`). */
export type PartialAnswer = Omit<GatewayAnswer, "requestId">;

/** A step's verdict: go on (`undefined`), refuse, or answer. */
export type StepResult = undefined | { refuse: Refusal } | { answer: PartialAnswer };

export type Step = (ctx: InvocationContext, deps: GatewayDeps) => StepResult | Promise<StepResult>;

/** The context a step after `name` requires, or a fault of the local cloud (answered 500 by `Gateway.handle`). */
export function required<T>(value: T | undefined, name: string): T {
    if (value === undefined) {
        throw new Error(`gateway step ran before ${name} was set`);
    }
    return value;
}
