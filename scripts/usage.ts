// `npm run usage -- --stack <s> [--from YYYY-MM-DD --to YYYY-MM-DD] [--json] [--aws]`: who called
// the API and how much of their quota is left, per consumer: plan, throttle, quota, requests used
// in the current quota period and remaining, and a per-day series.
//
// The numbers come from API Gateway's own usage records, through the AWS SDK's API Gateway client
// (`GetUsagePlans`, `GetUsage`), never from logs:
// - with `--aws`, from AWS (credentials and region from the environment, as every AWS tool) with
//   the ids from `pulumi stack output --json` (`usagePlanIds`, `apiKeyIds`);
// - otherwise from the local cloud running for the stack (`npm start`), which answers the same SDK
//   calls on its control-plane endpoint; the endpoint and the ids come from its state folder.
//
// Quotas are per key on AWS. While a consumer holds two keys (a rotation), `used` sums both and
// `remaining` is what is left on its newest key, the one it should be using; `keys` has each.
import * as childProcess from "node:child_process";
import * as path from "node:path";
import { APIGatewayClient, GetUsageCommand, GetUsagePlansCommand, type UsagePlan } from "@aws-sdk/client-api-gateway";
import { CliError, fail, parseCommand } from "local-cloud/cli";
import { defaultStateDir, readJsonFile } from "local-cloud";

/** The non-secret stack outputs a report needs (index.ts). */
export interface UsageIds {
    /** Plan name -> usage plan id. */
    usagePlanIds: Record<string, string>;
    /** Consumer name -> its live key ids, oldest first. */
    apiKeyIds: Record<string, string[]>;
}

export interface DayUsage {
    day: string;
    used: number;
}

export interface ConsumerUsage {
    name: string;
    plan: string;
    throttle?: { rateLimit?: number; burstLimit?: number };
    quota?: { limit?: number; period?: string };
    /** The current quota period, up to today. */
    period: { start: string; end: string };
    /** Requests in the current period, all the consumer's keys together. */
    used: number;
    /** What the newest key has left in the current period (undefined: the plan has no quota). */
    remaining?: number;
    keys: { id: string; used: number; remaining?: number }[];
    /** Requests per day over the report's range, all keys together. */
    days: DayUsage[];
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

const isoDay = (date: Date) => date.toISOString().slice(0, 10);

/**
 * The first day of the quota period containing `today`: UTC calendar periods, a WEEK from Monday
 * as the local cloud counts it. AWS's documents disagree on the weekday (some say Sunday), so on
 * AWS this is only the start of the per-day series shown; `used` comes from AWS's `remaining`.
 */
export function periodStart(period: string | undefined, today: string): string {
    const date = new Date(`${today}T00:00:00Z`);
    if (period === "WEEK") {
        date.setUTCDate(date.getUTCDate() - ((date.getUTCDay() + 6) % 7));
    } else if (period === "MONTH") {
        date.setUTCDate(1);
    }
    return isoDay(date);
}

function daysBetween(from: string, to: string): string[] {
    const days: string[] = [];
    for (let at = new Date(`${from}T00:00:00Z`); isoDay(at) <= to; at.setUTCDate(at.getUTCDate() + 1)) {
        days.push(isoDay(at));
    }
    return days;
}

/** GetUsage for one plan and range, every page: key id -> [used, remaining] per day. */
async function planUsage(
    client: APIGatewayClient,
    usagePlanId: string,
    from: string,
    to: string,
): Promise<Record<string, number[][]>> {
    const items: Record<string, number[][]> = {};
    let position: string | undefined;
    do {
        const page = await client.send(
            new GetUsageCommand({ usagePlanId, startDate: from, endDate: to, position, limit: 500 }),
        );
        for (const [keyId, days] of Object.entries(page.items ?? {})) {
            items[keyId] = [...(items[keyId] ?? []), ...days];
        }
        position = page.position;
    } while (position);
    return items;
}

/**
 * The report: one entry per consumer in `ids.apiKeyIds`. `range` defaults to each consumer's
 * current quota period; `today` (UTC) is a parameter so tests can pin it.
 */
export async function usageReport(
    client: APIGatewayClient,
    ids: UsageIds,
    options: { from?: string; to?: string; today?: string } = {},
): Promise<ConsumerUsage[]> {
    const today = options.today ?? isoDay(new Date());
    // Consumers on one plan ask for the same plan and range: one GetUsage (all its pages) each.
    const usageOf = new Map<string, Promise<Record<string, number[][]>>>();
    const planNameOf = new Map(Object.entries(ids.usagePlanIds).map(([name, id]) => [id, name]));
    const report: ConsumerUsage[] = [];
    for (const [name, keyIds] of Object.entries(ids.apiKeyIds)) {
        // The key's plan, as API Gateway has it (GetUsagePlans filtered by key).
        const newest = keyIds[keyIds.length - 1]!;
        const ofKey: UsagePlan[] = (await client.send(new GetUsagePlansCommand({ keyId: newest }))).items ?? [];
        const plan = ofKey.find((p) => planNameOf.has(p.id!));
        if (plan === undefined) {
            throw new Error(`consumer ${name}: its key ${newest} is in no usage plan of this stack`);
        }
        const period = { start: periodStart(plan.quota?.period, today), end: today };
        const from = options.from ?? period.start;
        const to = options.to ?? today;
        // One call over both ranges: the period for used/remaining, the report's range for the series.
        const first = from < period.start ? from : period.start;
        const last = to > period.end ? to : period.end;
        const request = `${plan.id} ${first} ${last}`;
        if (!usageOf.has(request)) {
            usageOf.set(request, planUsage(client, plan.id!, first, last));
        }
        const usage = await usageOf.get(request)!;
        const calendar = daysBetween(first, last);
        const perKey = keyIds.map((id) => {
            const rows = usage[id] ?? [];
            const inPeriod = calendar
                .map((day, i) => ({ day, row: rows[i] }))
                .filter(({ day }) => day >= period.start && day <= period.end);
            const lastRow = [...inPeriod].reverse().find(({ row }) => row?.[1] !== undefined)?.row;
            const limit = plan.quota?.limit;
            const remaining = limit === undefined ? undefined : (lastRow?.[1] ?? limit);
            // With a quota, `used` is what API Gateway itself says is gone (limit - remaining): AWS's
            // period boundary (which weekday a WEEK starts on) is not documented consistently, and
            // its own `remaining` already applies it. Without a quota, the days are summed.
            const used =
                limit !== undefined && remaining !== undefined
                    ? limit - remaining
                    : inPeriod.reduce((sum, { row }) => sum + (row?.[0] ?? 0), 0);
            return { id, used, remaining, rows };
        });
        report.push({
            name,
            plan: planNameOf.get(plan.id!)!,
            throttle:
                plan.throttle === undefined
                    ? undefined
                    : { rateLimit: plan.throttle.rateLimit, burstLimit: plan.throttle.burstLimit },
            quota: plan.quota === undefined ? undefined : { limit: plan.quota.limit, period: plan.quota.period },
            period,
            used: perKey.reduce((sum, k) => sum + k.used, 0),
            remaining: perKey[perKey.length - 1]!.remaining,
            keys: perKey.map(({ id, used, remaining }) => ({ id, used, remaining })),
            days: calendar
                .map((day, i) => ({ day, used: perKey.reduce((sum, k) => sum + (k.rows[i]?.[0] ?? 0), 0) }))
                .filter(({ day }) => day >= from && day <= to),
        });
    }
    return report;
}

/** The report as a table, then each consumer's per-day series. */
export function formatReport(report: ConsumerUsage[]): string {
    const rows = [["CONSUMER", "PLAN", "THROTTLE", "QUOTA", "PERIOD", "USED", "REMAINING"]];
    for (const c of report) {
        rows.push([
            c.name + (c.keys.length > 1 ? ` (${c.keys.length} keys)` : ""),
            c.plan,
            c.throttle ? `${c.throttle.rateLimit}/s burst ${c.throttle.burstLimit}` : "-",
            c.quota ? `${c.quota.limit}/${c.quota.period}` : "-",
            `${c.period.start}..${c.period.end}`,
            String(c.used),
            c.remaining === undefined ? "-" : String(c.remaining),
        ]);
    }
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    const table = rows.map((r) =>
        r
            .map((cell, i) => cell.padEnd(widths[i]!))
            .join("  ")
            .trimEnd(),
    );
    const series = report.map(
        (c) => `${c.name}: ${c.days.map((d) => `${d.day} ${d.used}`).join(", ") || "no days in range"}`,
    );
    return [...table, "", "Requests per day:", ...series.map((line) => `  ${line}`)].join("\n");
}

/** Where a local cloud for the stack is (written at start to its state folder), and its ids. */
function localSource(stateDir: string, stack: string): { endpoint: string; ids: UsageIds } {
    const server = readJsonFile<{ controlPlane?: string; outputs?: Record<string, unknown> }>(
        path.join(stateDir, "server.json"),
        {},
    );
    if (server.controlPlane === undefined || server.outputs === undefined) {
        throw new CliError(
            `no local cloud has run for stack ${stack} in ${stateDir}: start one with \`npm start -- --stack ${stack}\` (or pass --aws for the deployed stack)`,
        );
    }
    return {
        endpoint: server.controlPlane,
        ids: idsFrom(server.outputs, `the local cloud's outputs in ${path.join(stateDir, "server.json")}`),
    };
}

function idsFrom(outputs: Record<string, unknown>, where: string): UsageIds {
    const { usagePlanIds, apiKeyIds } = outputs as Partial<UsageIds>;
    if (
        typeof usagePlanIds !== "object" ||
        typeof apiKeyIds !== "object" ||
        usagePlanIds === null ||
        apiKeyIds === null
    ) {
        throw new CliError(
            `${where} have no usagePlanIds/apiKeyIds: deploy this version of the program first (pulumi up)`,
        );
    }
    return { usagePlanIds, apiKeyIds };
}

/** The deployed stack's ids, from the Pulumi CLI (there wherever the stack was deployed). */
function awsIds(stack: string): UsageIds {
    const run = childProcess.spawnSync("pulumi", ["stack", "output", "--json", "--stack", stack], { encoding: "utf8" });
    if (run.error !== undefined || run.status !== 0) {
        throw new CliError(
            `\`pulumi stack output --json --stack ${stack}\` failed: ${run.error?.message ?? run.stderr.trim()}`,
        );
    }
    return idsFrom(JSON.parse(run.stdout) as Record<string, unknown>, `the outputs of stack ${stack}`);
}

const USAGE =
    "usage: npm run usage -- --stack <name> [--from YYYY-MM-DD --to YYYY-MM-DD] [--json] [--aws] [--state-dir <dir>]";

async function main(): Promise<void> {
    const parsed = parseCommand(
        process.argv.slice(2),
        {
            stack: { type: "string", default: "dev" },
            from: { type: "string" },
            to: { type: "string" },
            json: { type: "boolean", default: false },
            aws: { type: "boolean", default: false },
            "state-dir": { type: "string" },
            help: { type: "boolean", default: false },
        },
        USAGE,
    );
    if (parsed === undefined) {
        return;
    }
    const { values } = parsed;
    for (const name of ["from", "to"] as const) {
        const value = values[name];
        const date = new Date(`${value}T00:00:00Z`);
        if (value !== undefined && (!DAY.test(value) || Number.isNaN(date.getTime()) || isoDay(date) !== value)) {
            throw new CliError(`--${name} must be a date as YYYY-MM-DD (got "${value}")`);
        }
    }
    if ((values.from === undefined) !== (values.to === undefined)) {
        throw new CliError(
            "--from and --to go together (without both, the report covers each consumer's current quota period)",
        );
    }
    if (values.from !== undefined && values.from > values.to!) {
        throw new CliError(`--from ${values.from} is after --to ${values.to}`);
    }
    const stack = values.stack!;
    let client: APIGatewayClient;
    let ids: UsageIds;
    if (values.aws) {
        ids = awsIds(stack);
        client = new APIGatewayClient({});
    } else {
        const local = localSource(path.resolve(values["state-dir"] ?? defaultStateDir(stack)), stack);
        ids = local.ids;
        // The local control plane does not check signatures; the SDK still wants credentials.
        client = new APIGatewayClient({
            endpoint: local.endpoint,
            region: "us-east-1",
            credentials: { accessKeyId: "local", secretAccessKey: "local" },
        });
    }
    try {
        const report = await usageReport(client, ids, { from: values.from, to: values.to });
        process.stdout.write(values.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatReport(report)}\n`);
    } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? (err as { cause?: NodeJS.ErrnoException }).cause?.code;
        if (!values.aws && code === "ECONNREFUSED") {
            throw new CliError(
                `the local cloud for stack ${stack} is not running: start it with \`npm start -- --stack ${stack}\``,
            );
        }
        throw err;
    } finally {
        client.destroy();
    }
}

if (require.main === module) {
    main().catch(fail);
}
