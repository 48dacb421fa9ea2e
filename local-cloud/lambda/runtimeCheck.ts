// The local cloud runs every function on the Node.js that runs it (worker threads of this process),
// while AWS runs each on its `runtime`'s Node major (e.g. `nodejs22.x`). When the two majors differ,
// behaviour that changed between them (built-ins, globals, V8) is not reproduced: say so.
import type { FunctionModel } from "../program/model";

/** The Node major a Lambda runtime identifier names: "nodejs22.x" -> 22; undefined for any other runtime. */
export function runtimeNodeMajor(runtime: string): number | undefined {
    const match = /^nodejs(\d+)\.x$/.exec(runtime);
    return match ? Number(match[1]) : undefined;
}

/**
 * One warning line per Node runtime whose major differs from the host's (`process.versions.node`
 * unless given), naming the functions on it; none when they all match. Other runtimes are not
 * Node's and are left to whatever refuses them.
 */
export function runtimeWarnings(
    functions: readonly Pick<FunctionModel, "logicalName" | "runtime">[],
    hostVersion: string = process.versions.node,
): string[] {
    const hostMajor = Number(hostVersion.split(".")[0]);
    const byRuntime = new Map<string, string[]>();
    for (const fn of functions) {
        const major = runtimeNodeMajor(fn.runtime);
        if (major !== undefined && major !== hostMajor) {
            byRuntime.set(fn.runtime, [...(byRuntime.get(fn.runtime) ?? []), fn.logicalName]);
        }
    }
    return [...byRuntime].map(([runtime, names]) => {
        const which =
            names.length === 1 ? `function ${names[0]} is` : `${names.length} functions (${names.join(", ")}) are`;
        return (
            `${which} deployed on ${runtime} but run${names.length === 1 ? "s" : ""} here on this machine's Node ${hostVersion}: ` +
            `differences between Node ${runtimeNodeMajor(runtime)} and ${hostMajor} are not reproduced`
        );
    });
}
