// Step 0 of a start: the caller's options with every default filled in, so the steps after it read
// one settled value each (no `options.x ?? default` scattered through the start).
import * as path from "node:path";
import { normalizeConsolePath } from "../console/consolePath";
import { LIMITS } from "../apigateway/gateway";
import { defaultStateDir } from "../state/stateDir";
import type { LocalCloudOptions, Settings } from "../types";

// The type lives with the package's types (the services name it); re-exported for the start's callers.
export type { Settings } from "../types";

export const DEFAULT_PORT = 8080;
// Instances per function, one per core (at least two): each is a worker thread with its own V8 heap
// and copy of the SDK (60-90 MB under load), and more instances than cores only add memory and
// CPU (measured: 4 instead of 2 on two cores, 30 % more RSS and fewer requests per second). Past
// this, invocations wait for a free instance.
const DEFAULT_MAX_INSTANCES = Math.max(2, (require("node:os") as typeof import("node:os")).availableParallelism());

export function resolveSettings(options: LocalCloudOptions): Settings {
    const projectDir = path.resolve(options.projectDir ?? process.cwd());
    return {
        stack: options.stack,
        projectDir,
        stateDir: path.resolve(options.stateDir ?? defaultStateDir(options.stack, projectDir)),
        host: options.host ?? "127.0.0.1",
        port: options.port ?? DEFAULT_PORT,
        program: { projectDir, stack: options.stack, stackConfig: options.stackConfig, config: options.config },
        now: options.now ?? Date.now,
        warn: options.onWarning ?? (() => undefined),
        functionLog: options.onFunctionLog ?? (() => undefined),
        onRequest: options.onRequest,
        maxInstancesPerFunction: options.maxInstancesPerFunction ?? DEFAULT_MAX_INSTANCES,
        integrationTimeoutMs: options.integrationTimeoutMs ?? LIMITS.integrationTimeoutMs,
        faults: options.faults,
        throttlePartitions: options.throttlePartitions,
        watch: options.watch ?? false,
        onReload: options.onReload ?? (() => undefined),
        console:
            options.console === false
                ? undefined
                : { path: normalizeConsolePath(options.console?.path), openApiDocument: options.openApiDocument },
    };
}
