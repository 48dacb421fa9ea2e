// Releases. Every change of a route's code or configuration publishes a new version of its
// function, and API Gateway calls the function's `live` alias (api/routeFunction.ts,
// api/postsApi.ts), never the function itself. The alias follows the published version unless the
// stack pins the route to a version (`posts-api:release.routes.<route>.pin`): a rollback, or the
// stable side of a canary, where `posts-api:release.canaryWeight` of the pinned route's calls go to
// the published version. The runbook is in docs/decisions/0014-releases-warm-aliases-stage-cache.md.
import type * as aws from "@pulumi/aws";
import { ConfigError, PROJECT, type ReleaseSettings } from "../config/stackConfig";
import { routes } from "./routes";

/** The alias API Gateway invokes: part of every integration URI and Lambda permission. */
export const LIVE_ALIAS = "live";

/** One route's release settings, with the stack's defaults applied. */
export interface RouteRelease {
    /** The version the alias stays on; undefined: the published version. */
    pin?: number;
    /** The share of a pinned route's calls that go to the published version (0: none). */
    canaryWeight: number;
    /** Warm execution environments on the alias (0: none, no resource). */
    provisionedConcurrency: number;
}

/**
 * Release settings may only name routes of the table. index.ts calls this with the other config
 * checks, before any resource is declared.
 */
export function checkRelease(release: ReleaseSettings): void {
    const names: string[] = routes.map((r) => r.name);
    for (const name of Object.keys(release.routes)) {
        if (!names.includes(name)) {
            throw new ConfigError(`${PROJECT}:release.routes.${name}: no such route (routes: ${names.join(", ")})`);
        }
    }
}

export function routeRelease(release: ReleaseSettings, route: string): RouteRelease {
    const own = release.routes[route] ?? {};
    return {
        pin: own.pin,
        canaryWeight: release.canaryWeight,
        provisionedConcurrency: own.provisionedConcurrency ?? release.provisionedConcurrency,
    };
}

/**
 * The alias's routing for a pinned route with a canary weight: that share of calls to the published
 * version. None when the published version is the pin itself (nothing new was published since the
 * pin; Lambda refuses a weight on the alias's own version), or without a pin or a weight.
 */
export function canaryRouting(
    published: string,
    release: RouteRelease,
): aws.types.input.lambda.AliasRoutingConfig | undefined {
    if (release.pin === undefined || release.canaryWeight === 0 || published === String(release.pin)) {
        return undefined;
    }
    return { additionalVersionWeights: { [published]: release.canaryWeight } };
}
