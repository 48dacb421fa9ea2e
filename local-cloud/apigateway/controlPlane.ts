// A read-only slice of API Gateway's control plane (the `apigateway` REST service the AWS SDKs and CLI
// call), in AWS's wire format, so `new APIGatewayClient({ endpoint: cloud.controlPlaneUrl, ... })`
// from `@aws-sdk/client-api-gateway` works unchanged: GetAccount, GetUsage, GetUsagePlans,
// GetUsagePlan, GetApiKeys and GetApiKey; and Lambda's GetAccountSettings under
// LAMBDA_CONTROL_PLANE_PATH (`@aws-sdk/client-lambda`; the account's answers: account.ts). Everything else (writes
// above all: keys and plans are the program's,
// change the program) is an `UnknownOperationException`.
//
// Where: the local cloud's own port, under CONTROL_PLANE_PATH. Its first segment starts with a dot,
// which no stage name can hold (AWS allows letters, digits, `-` and `_`, and model.ts refuses any
// other), so no program's stage can ever shadow it or be shadowed by it; a second port would be one
// more thing to bind, print and find. The SDK keeps an endpoint's path and puts the operation's
// after it (`/.aws/apigateway/usageplans/{id}/usage`).
//
// Wire format (checked against @aws-sdk/client-api-gateway's schemas, dist-cjs/index.js: the
// operations' `http` traits `GetUsage$` ... `GetApiKey$`, the request members' `httpQuery` names in
// `GetUsageRequest$` ..., and the output shapes `Usage$`, `UsagePlans$`, `ApiKeys$`, `ApiKey$`):
// lists are `{"item": [...], "position"?}` (jsonName `item`), usage is `{"usagePlanId",
// "startDate", "endDate", "values": {keyId: [[used, remaining], ...]}, "position"?}` (jsonName
// `values`), dates are epoch seconds, `nameQuery` travels as `name`. An error is its HTTP status, an
// `x-amzn-ErrorType` header naming the exception and `{"message": ...}`, from which the SDK raises
// NotFoundException, BadRequestException, ...
//
// Ids are the recorded resources' (the stack outputs'); usage counts are the gateway's own
// (usage.ts: admitted requests per plan, key and UTC day, by logical name; `keysOfPlan` is the one
// place ids meet those names). No signature is checked: the server listens on loopback by default,
// and GetApiKeys with `includeValues` hands out key values to any local caller (docs/internals.md).
import * as crypto from "node:crypto";
import {
    apiGatewayAccountJson,
    DEFAULT_ACCOUNT,
    LAMBDA_CONTROL_PLANE_PATH,
    lambdaAccountSettingsJson,
    type AccountSettings,
} from "../account";
import type { ApiKeyModel, CloudModel, UsagePlanModel } from "../program/model";
import { periodStart, utcDay, type UsageLimiter } from "./usage";

/** The control plane's path on the local cloud's port (the SDK's `endpoint` is the URL plus this). */
export const CONTROL_PLANE_PATH = "/.aws/apigateway";

const under = (requestPath: string, base: string) => requestPath === base || requestPath.startsWith(`${base}/`);

/** API Gateway's control plane, or Lambda's account settings (account.ts): the same rules for both. */
export const isControlPlanePath = (requestPath: string) =>
    under(requestPath, CONTROL_PLANE_PATH) || under(requestPath, LAMBDA_CONTROL_PLANE_PATH);

export interface ControlAnswer {
    status: number;
    headers: Record<string, string[]>;
    body: Buffer;
    requestId: string;
    /** The operation asked for (`GetUsage`, ...), when the route named one. */
    operation?: string;
    /** The exception's name, for an error. */
    errorType?: string;
}

/** An answer AWS would give as an error: the SDK raises the exception class `type` names. */
class ControlError extends Error {
    constructor(
        readonly status: number,
        readonly type: string,
        message: string,
    ) {
        super(message);
    }
}

const notFound = (message: string) => new ControlError(404, "NotFoundException", message);
const badRequest = (message: string) => new ControlError(400, "BadRequestException", message);
const PLAN_NOT_FOUND = "Invalid Usage Plan ID specified";
const KEY_NOT_FOUND = "Invalid API Key identifier specified";

/** AWS's page size: 25 unless `limit` says otherwise, at most 500. */
const DEFAULT_LIMIT = 25;
const MAX_LIMIT = 500;
/** The longest GetUsage range answered (a guard against a year-9999 loop, not an AWS rule). */
const MAX_USAGE_DAYS = 366;
const DAY_MS = 86_400_000;

export interface ControlPlaneOptions {
    usage: UsageLimiter;
    /** The cloud's clock (the same as the gateway's): key dates. */
    now: () => number;
    /** Where an unexpected failure's detail goes (the local cloud's own log). */
    log?: (line: string) => void;
    /** The account's own settings (GetAccount, Lambda's GetAccountSettings); DEFAULT_ACCOUNT unless set. */
    account?: AccountSettings;
}

/** The API keys of a plan, as the model has them: the limiter counts them by `logicalName`. */
function keysOfPlan(model: CloudModel, plan: UsagePlanModel): ApiKeyModel[] {
    return byId(model.apiKeys.filter((key) => plan.keyIds.includes(key.id)));
}

/**
 * Lists in id order: the recording's order is the order Pulumi finished registering resources,
 * which varies between runs, and pages (`position`) must mean the same thing across a restart.
 */
const byId = <T extends { id: string }>(items: T[]): T[] =>
    [...items].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

/**
 * Whether a control-plane request comes from this machine, by its address and by the name it
 * asked for. GetApiKeys hands out key values and nothing here checks AWS signatures, so only
 * loopback callers that named a loopback host are answered: not another machine (a cloud started
 * with --host 0.0.0.0), and not a web page that re-pointed its own host name at 127.0.0.1 (DNS
 * rebinding: the browser then sends that name in Host).
 */
export function isLocalCaller(remoteAddress: string | undefined, host: string | undefined): boolean {
    const loopbackAddress =
        remoteAddress !== undefined && /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/.test(remoteAddress);
    const loopbackName = host !== undefined && /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?$/i.test(host);
    return loopbackAddress && loopbackName;
}

export class ControlPlane {
    /** Key id -> when this local cloud first served it and when a reload last changed it (ms). */
    private readonly keyDates = new Map<string, { created: number; updated: number; fingerprint: string }>();

    constructor(private readonly options: ControlPlaneOptions) {}

    /**
     * Notes the keys of a version about to serve (every start and reload): the dates GetApiKeys
     * reports. AWS's `createdDate` is the key's creation; locally the first time this process served
     * it, and `lastUpdatedDate` the last reload that changed it.
     */
    observe(model: CloudModel): void {
        const now = this.options.now();
        for (const key of model.apiKeys) {
            const fingerprint = JSON.stringify(key);
            const known = this.keyDates.get(key.id);
            if (!known) {
                this.keyDates.set(key.id, { created: now, updated: now, fingerprint });
            } else if (known.fingerprint !== fingerprint) {
                known.updated = now;
                known.fingerprint = fingerprint;
            }
        }
    }

    /** AccessDeniedException for a caller that is not on this machine (isLocalCaller). */
    refuse(): ControlAnswer {
        const requestId = crypto.randomUUID();
        const headers = jsonHeaders(requestId);
        headers["x-amzn-ErrorType"] = ["AccessDeniedException"];
        const message = "The local control plane answers only requests from this machine to 127.0.0.1 or localhost";
        return {
            status: 403,
            headers,
            body: Buffer.from(JSON.stringify({ message })),
            requestId,
            errorType: "AccessDeniedException",
        };
    }

    /** One request under CONTROL_PLANE_PATH, answered from `model` (the version serving now). Never throws. */
    handle(method: string, requestPath: string, rawQuery: string, model: CloudModel): ControlAnswer {
        const requestId = crypto.randomUUID();
        let operation: string | undefined;
        try {
            const route = under(requestPath, LAMBDA_CONTROL_PLANE_PATH)
                ? this.lambdaRoute(method, requestPath.slice(LAMBDA_CONTROL_PLANE_PATH.length))
                : this.route(method, requestPath.slice(CONTROL_PLANE_PATH.length), model);
            operation = route.operation;
            const body = route.answer(new URLSearchParams(rawQuery));
            return {
                status: 200,
                headers: jsonHeaders(requestId),
                body: Buffer.from(JSON.stringify(body)),
                requestId,
                operation,
            };
        } catch (err) {
            // An unexpected failure's detail goes to the local cloud's log, not to the caller.
            if (!(err instanceof ControlError)) {
                this.options.log?.(
                    `control plane: ${method} ${requestPath} failed (request ${requestId}): ${(err as Error).stack ?? String(err)}`,
                );
            }
            const error =
                err instanceof ControlError
                    ? err
                    : new ControlError(
                          500,
                          "InternalFailure",
                          `The local control plane failed; see its log for request ${requestId}`,
                      );
            const headers = jsonHeaders(requestId);
            headers["x-amzn-ErrorType"] = [error.type];
            return {
                status: error.status,
                headers,
                body: Buffer.from(JSON.stringify({ message: error.message })),
                requestId,
                operation,
                errorType: error.type,
            };
        }
    }

    /** The operation a method and path name (the SDK's `http` traits), or UnknownOperationException. */
    private route(
        method: string,
        rest: string,
        model: CloudModel,
    ): { operation: string; answer: (query: URLSearchParams) => unknown } {
        let segments: string[];
        try {
            segments = rest
                .split("/")
                .filter((s) => s !== "")
                .map(decodeURIComponent);
        } catch {
            throw badRequest(`Invalid path: ${rest}`);
        }
        const [collection, id, sub, ...more] = segments;
        if (method === "GET" && collection === "account" && id === undefined) {
            return {
                operation: "GetAccount",
                answer: () => apiGatewayAccountJson(this.options.account ?? DEFAULT_ACCOUNT),
            };
        }
        if (method === "GET" && more.length === 0) {
            if (collection === "usageplans" && id === undefined) {
                return { operation: "GetUsagePlans", answer: (q) => this.getUsagePlans(model, q) };
            }
            if (collection === "usageplans" && id !== undefined && sub === undefined) {
                return { operation: "GetUsagePlan", answer: () => usagePlanJson(findPlan(model, id)) };
            }
            if (collection === "usageplans" && id !== undefined && sub === "usage") {
                return { operation: "GetUsage", answer: (q) => this.getUsage(model, id, q) };
            }
            if (collection === "apikeys" && id === undefined) {
                return { operation: "GetApiKeys", answer: (q) => this.getApiKeys(model, q) };
            }
            if (collection === "apikeys" && id !== undefined && sub === undefined) {
                return {
                    operation: "GetApiKey",
                    answer: (q) => this.apiKeyJson(findKey(model, id), q.get("includeValue") === "true"),
                };
            }
        }
        throw new ControlError(
            404,
            "UnknownOperationException",
            `The local control plane does not answer ${method} ${rest || "/"}: it answers GetAccount, GetUsage, GetUsagePlans, GetUsagePlan, GetApiKeys and GetApiKey (read-only; API keys and usage plans come from the program)`,
        );
    }

    /** Lambda's slice (`GET /2016-08-19/account-settings/`, the SDK's `http` trait), or UnknownOperationException. */
    private lambdaRoute(method: string, rest: string): { operation: string; answer: () => unknown } {
        if (method === "GET" && /^\/2016-08-19\/account-settings\/?$/.test(rest)) {
            return {
                operation: "GetAccountSettings",
                answer: () => lambdaAccountSettingsJson(this.options.account ?? DEFAULT_ACCOUNT),
            };
        }
        throw new ControlError(
            404,
            "UnknownOperationException",
            `The local Lambda control plane does not answer ${method} ${rest || "/"}: it answers GetAccountSettings (functions come from the program)`,
        );
    }

    /** GetUsagePlans: every plan, or those holding `keyId`. */
    private getUsagePlans(model: CloudModel, query: URLSearchParams): unknown {
        const keyId = query.get("keyId");
        if (keyId !== null) {
            findKey(model, keyId);
        }
        const plans = byId(model.usagePlans).filter((plan) => keyId === null || plan.keyIds.includes(keyId));
        const { items, position } = page(plans, query);
        return { item: items.map(usagePlanJson), ...(position === undefined ? {} : { position }) };
    }

    /** GetApiKeys: every key, or those whose name starts with `name` (nameQuery) and with `customerId`. */
    private getApiKeys(model: CloudModel, query: URLSearchParams): unknown {
        const name = query.get("name");
        const customerId = query.get("customerId");
        const keys = byId(model.apiKeys).filter(
            (key) =>
                (name === null || keyName(key).startsWith(name)) &&
                (customerId === null || key.customerId === customerId),
        );
        const { items, position } = page(keys, query);
        const includeValues = query.get("includeValues") === "true";
        return {
            item: items.map((key) => this.apiKeyJson(key, includeValues)),
            ...(position === undefined ? {} : { position }),
        };
    }

    /**
     * GetUsage: per key of the plan (or only `keyId`), one `[used, remaining]` per UTC day from
     * `startDate` to `endDate`, both included. `used` is the requests the gateway admitted that day;
     * `remaining` is the quota left at the end of that day in its period (the limit minus what the
     * period used up to then, UTC calendar periods as usage.ts enforces them). A plan without a
     * quota has nothing remaining to report: its days are `[used]`. Pages go over keys.
     */
    private getUsage(model: CloudModel, planId: string, query: URLSearchParams): unknown {
        const plan = findPlan(model, planId);
        const startDate = requiredDay(query, "startDate");
        const endDate = requiredDay(query, "endDate");
        const days = (Date.parse(`${endDate}T00:00:00Z`) - Date.parse(`${startDate}T00:00:00Z`)) / DAY_MS + 1;
        if (days < 1) {
            throw badRequest(`The end date (${endDate}) must not be before the start date (${startDate})`);
        }
        if (days > MAX_USAGE_DAYS) {
            throw badRequest(
                `The local control plane answers at most ${MAX_USAGE_DAYS} days of usage at once (asked for ${days})`,
            );
        }
        const keyId = query.get("keyId");
        const keys = keysOfPlan(model, plan).filter((key) => keyId === null || key.id === keyId);
        const { items, position } = page(keys, query);
        const values: Record<string, number[][]> = {};
        for (const key of items) {
            values[key.id] = this.dailySeries(plan, key, startDate, endDate);
        }
        return { usagePlanId: plan.id, startDate, endDate, values, ...(position === undefined ? {} : { position }) };
    }

    private dailySeries(plan: UsagePlanModel, key: ApiKeyModel, from: string, to: string): number[][] {
        const quota = plan.quota;
        if (!quota) {
            return this.options.usage.dailyUsage(plan.logicalName, key.logicalName, from, to).map((d) => [d.used]);
        }
        // From the start of the period holding `from`: its earlier days count against `from`'s quota.
        const periodOf = (day: string) => utcDay(periodStart(quota.period, Date.parse(`${day}T00:00:00Z`)));
        const series: number[][] = [];
        let period = "";
        let usedInPeriod = 0;
        for (const { day, used } of this.options.usage.dailyUsage(
            plan.logicalName,
            key.logicalName,
            periodOf(from),
            to,
        )) {
            if (periodOf(day) !== period) {
                period = periodOf(day);
                usedInPeriod = 0;
            }
            usedInPeriod += used;
            if (day >= from) {
                series.push([used, Math.max(0, quota.limit - usedInPeriod)]);
            }
        }
        return series;
    }

    private apiKeyJson(key: ApiKeyModel, includeValue: boolean): unknown {
        const dates = this.keyDates.get(key.id);
        const now = this.options.now();
        return {
            id: key.id,
            ...(includeValue ? { value: key.value } : {}),
            name: keyName(key),
            ...(key.customerId === undefined ? {} : { customerId: key.customerId }),
            ...(key.description === undefined ? {} : { description: key.description }),
            enabled: key.enabled,
            createdDate: epochSeconds(dates?.created ?? now),
            lastUpdatedDate: epochSeconds(dates?.updated ?? now),
            stageKeys: key.stageKeys ?? [],
            ...(key.tags && Object.keys(key.tags).length > 0 ? { tags: key.tags } : {}),
        };
    }
}

const keyName = (key: ApiKeyModel) => key.name ?? key.logicalName;
const epochSeconds = (ms: number) => Math.floor(ms / 1000);

function jsonHeaders(requestId: string): Record<string, string[]> {
    return { "Content-Type": ["application/json"], "x-amzn-RequestId": [requestId] };
}

function findPlan(model: CloudModel, id: string): UsagePlanModel {
    const plan = model.usagePlans.find((p) => p.id === id);
    if (!plan) {
        throw notFound(PLAN_NOT_FOUND);
    }
    return plan;
}

function findKey(model: CloudModel, id: string): ApiKeyModel {
    const key = model.apiKeys.find((k) => k.id === id);
    if (!key) {
        throw notFound(KEY_NOT_FOUND);
    }
    return key;
}

function usagePlanJson(plan: UsagePlanModel): unknown {
    return {
        id: plan.id,
        name: plan.name ?? plan.logicalName,
        ...(plan.description === undefined ? {} : { description: plan.description }),
        apiStages: plan.apiStages.map((s) => ({
            apiId: s.apiId,
            stage: s.stage,
            ...(Object.keys(s.throttles).length > 0
                ? {
                      throttle: Object.fromEntries(
                          Object.entries(s.throttles).map(([method, t]) => [
                              method,
                              { burstLimit: t.burstLimit, rateLimit: t.rateLimit },
                          ]),
                      ),
                  }
                : {}),
        })),
        ...(plan.throttle
            ? { throttle: { burstLimit: plan.throttle.burstLimit, rateLimit: plan.throttle.rateLimit } }
            : {}),
        ...(plan.quota
            ? { quota: { limit: plan.quota.limit, offset: plan.quota.offset, period: plan.quota.period } }
            : {}),
        ...(plan.tags && Object.keys(plan.tags).length > 0 ? { tags: plan.tags } : {}),
    };
}

/** A `YYYY-MM-DD` query value that is a real day ("2026-02-30" is not). */
function requiredDay(query: URLSearchParams, name: "startDate" | "endDate"): string {
    const value = query.get(name);
    if (value === null || value === "") {
        throw badRequest(`${name} is required (YYYY-MM-DD)`);
    }
    const time = /^\d{4}-\d{2}-\d{2}$/.test(value) ? Date.parse(`${value}T00:00:00Z`) : NaN;
    if (!Number.isFinite(time) || utcDay(time) !== value) {
        throw badRequest(`Invalid ${name}: ${JSON.stringify(value)} is not a date of the form YYYY-MM-DD`);
    }
    return value;
}

/** One page of `items`: `position` is where the next page starts (opaque to clients), absent on the last. */
function page<T>(items: T[], query: URLSearchParams): { items: T[]; position?: string } {
    const limitText = query.get("limit");
    const limit = limitText === null ? DEFAULT_LIMIT : Number(limitText);
    if (!Number.isSafeInteger(limit) || limit < 1) {
        throw badRequest(`Invalid limit: ${JSON.stringify(limitText)}`);
    }
    const positionText = query.get("position");
    const start = positionText === null ? 0 : Number(positionText);
    if (positionText !== null && (!/^\d+$/.test(positionText) || start > items.length)) {
        throw badRequest(`Invalid position: ${JSON.stringify(positionText)}`);
    }
    const end = start + Math.min(limit, MAX_LIMIT);
    return { items: items.slice(start, end), ...(end < items.length ? { position: String(end) } : {}) };
}
