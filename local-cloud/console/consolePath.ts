// Where the console answers (its path under the API's port) and the checks on that path: read by
// the start's settings (startup/settings.ts) and by each deploy, apart from the console's pages so
// that settling the options does not load the console, and the console can name the settings.
import { CONTROL_PLANE_PATH } from "../apigateway/controlPlane";
import type { CloudModel } from "../program/model";
import { LocalCloudError } from "../state/stateDir";

// Defined with the package's types, which the start's settings (types.ts `Settings`) include.
export type { ConsoleSettings } from "../types";

export const DEFAULT_CONSOLE_PATH = "/_local/";

/** `_local`, `/_local`, `/_local/` -> `/_local/`; anything that is not plain path segments is refused. */
export function normalizeConsolePath(text: string = DEFAULT_CONSOLE_PATH): string {
    const trimmed = text.trim().replace(/^\/+|\/+$/g, "");
    const segments = trimmed.split("/");
    if (trimmed === "" || !segments.every((s) => /^[A-Za-z0-9._~-]+$/.test(s) && s !== "." && s !== "..")) {
        throw new LocalCloudError(
            `The console path must be one or more path segments of letters, digits, '-', '_', '.' or '~', such as ${DEFAULT_CONSOLE_PATH} (got ${JSON.stringify(text)})`,
        );
    }
    if (segments[0] === CONTROL_PLANE_PATH.split("/")[1]) {
        throw new LocalCloudError(
            `The console path ${JSON.stringify(text)} is under ${CONTROL_PLANE_PATH.split("/").slice(0, 2).join("/")}/, where the control plane answers; pick another, such as ${DEFAULT_CONSOLE_PATH}`,
        );
    }
    return `/${trimmed}/`;
}

/**
 * A stage named like the console path's first segment would be hidden by the console (or hide it):
 * refused, naming the two ways out. Checked at the start and at every reload (a reload that adds such
 * a stage fails, and the last good version keeps serving).
 */
export function checkConsolePath(consolePath: string, model: CloudModel): void {
    const first = consolePath.split("/")[1]!;
    for (const api of model.restApis) {
        for (const stage of api.stages) {
            if (stage.name === first) {
                throw new LocalCloudError(
                    `Stage "${stage.name}" of REST API ${api.logicalName} has the name of the local console's path (${consolePath}): ` +
                        `the console would hide it. Turn the console off with --no-console (option console: false), ` +
                        `or move it with --console-path /<another-name>/ (option console: { path }).`,
                );
            }
        }
    }
}
