// An API's resources, compiled once per model, and the match of a request path against them.
import * as crypto from "node:crypto";
import type { RestApiModel } from "../program/model";
import { nameMap } from "./proxyEvent";
import type { Match, Resource } from "./context";

export function compileResources(api: RestApiModel): Resource[] {
    const byPath = new Map<string, Resource>();
    for (const op of api.operations) {
        let resource = byPath.get(op.resourcePath);
        if (!resource) {
            resource = {
                api,
                path: op.resourcePath,
                // Stable per resource path, like the ids API Gateway gives its resources.
                id: crypto.createHash("sha1").update(`${api.id}${op.resourcePath}`).digest("hex").slice(0, 6),
                segments: op.resourcePath
                    .split("/")
                    .filter((s) => s !== "")
                    .map((text) => {
                        const param = /^\{(.+?)(\+)?\}$/.exec(text);
                        return param
                            ? { kind: param[2] ? ("greedy" as const) : ("param" as const), text: param[1]! }
                            : { kind: "literal" as const, text };
                    }),
                operations: new Map(),
            };
            byPath.set(op.resourcePath, resource);
        }
        resource.operations.set(op.method, op);
    }
    return [...byPath.values()];
}

/** Lexicographic: the first segment where two resources differ decides (0 literal, 1 param, 2 greedy). */
function compareRanks(a: number[], b: number[]): number {
    for (let k = 0; k < Math.min(a.length, b.length); k++) {
        if (a[k] !== b[k]) {
            return a[k]! - b[k]!;
        }
    }
    return a.length - b.length;
}

/** One resource against the path's segments: its parameters and rank, or undefined when it does not match. */
function matchOne(
    resource: Resource,
    segments: string[],
): { params: Record<string, string>; rank: number[] } | undefined {
    const params = nameMap<string>();
    const rank: number[] = [];
    let i = 0;
    for (const [index, segment] of resource.segments.entries()) {
        if (segment.kind === "greedy") {
            if (index !== resource.segments.length - 1 || i >= segments.length) {
                return undefined;
            }
            params[segment.text] = segments.slice(i).join("/");
            rank.push(2);
            i = segments.length;
            break;
        }
        const value = segments[i];
        if (value === undefined || (segment.kind === "literal" && value !== segment.text)) {
            return undefined;
        }
        if (segment.kind === "param") {
            params[segment.text] = value;
        }
        rank.push(segment.kind === "literal" ? 0 : 1);
        i++;
    }
    return i === segments.length ? { params, rank } : undefined;
}

/** Matches path segments: literal beats `{param}` beats `{proxy+}`, segment by segment from the left. */
export function matchResource(resources: Resource[], segments: string[]): Match | undefined {
    let best: { match: Match; rank: number[] } | undefined;
    for (const resource of resources) {
        const found = matchOne(resource, segments);
        if (found && (!best || compareRanks(found.rank, best.rank) < 0)) {
            best = {
                match: { resource, pathParameters: Object.keys(found.params).length ? found.params : null },
                rank: found.rank,
            };
        }
    }
    return best?.match;
}
