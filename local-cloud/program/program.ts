// The "record" step: the program run under Pulumi mocks (recordProgram.ts) as the local cloud sees
// it: API key values and generated secrets (the cursor key) from the state folder's keys.json
// (generated once; a value the program sets always wins) and stage URLs on the local server.
// One call in, the recording out: saving generated values is the caller's, once the rest has worked.
import { versionFingerprint, type FunctionVersions } from "../lambda/functionVersions";
import { archiveEntries, functionVersionState, recordConfiguredProgram, type RecordedProgram } from "./recordProgram";
import { TYPES } from "./resourceTypes";
import type { ProgramConfig } from "./stackFiles";
import type { KeyStore } from "../state/stateDir";

export interface LocalProgramInput {
    /** The stack's config, read once (stackFiles.ts `readProgramConfig`). */
    config: ProgramConfig;
    /** Where key values and secrets come from (and new ones are remembered until `save()`). */
    keys: KeyStore;
    /** `http://host:port` of the local server: stages' `invokeUrl` point there. */
    baseUrl: string;
    /**
     * Where published functions' version numbers come from (functionVersions.ts); without it a
     * published function is at version 1, as under plain mocks.
     */
    versions?: FunctionVersions;
}

/**
 * Records the program afresh, every time (programCache.ts `recordOrReuseLocalProgram` reuses an unchanged recording).
 */
export function recordLocalProgram(input: LocalProgramInput): Promise<RecordedProgram> {
    const { keys, baseUrl, versions } = input;
    return recordConfiguredProgram(input.config, ({ type, name, inputs, state }) => {
        if (type === TYPES.function && versions && inputs["publish"] === true && inputs["code"]) {
            // The version this code and configuration published (a new number when they changed).
            const functionName = String(state["name"]);
            return archiveEntries(inputs["code"]).then((entries) =>
                functionVersionState(
                    input.config.region,
                    String(state["arn"]),
                    versions.versionFor(functionName, versionFingerprint(inputs, entries)),
                ),
            );
        }
        if (type === TYPES.apiKey) {
            return apiKeyState(keys, input.config.region, name, inputs);
        }
        if (type === TYPES.randomBytes) {
            // A generated secret (the cursor key): made once per state folder and kept, as the
            // random provider keeps it in a stack's state.
            const hex = keys.secretFor(name, Number(inputs["length"] ?? 32));
            return { hex, base64: Buffer.from(hex, "hex").toString("base64") };
        }
        if (type === TYPES.stage) {
            return { invokeUrl: `${baseUrl}/${inputs["stageName"]}` };
        }
        return undefined;
    });
}

/**
 * An API key's value from keys.json (a value the program sets wins), and, for a key created again
 * under a logical name whose earlier key a deploy deleted, that new key's own id (KeyStore.deploy).
 */
function apiKeyState(
    keys: KeyStore,
    region: string,
    name: string,
    inputs: Record<string, unknown>,
): Record<string, string> {
    const pinned = typeof inputs["value"] === "string" && inputs["value"] !== "";
    const id = keys.idFor(name);
    return {
        ...(pinned ? {} : { value: keys.valueFor(name) }),
        ...(id === undefined ? {} : { id, arn: `arn:aws:apigateway:${region}::/apikeys/${id}` }),
    };
}

export const undecryptableNotice = (stack: string, key: string) =>
    `${key} is encrypted (secure:) in Pulumi.${stack}.yaml and only the Pulumi CLI can decrypt it; the local cloud runs without it` +
    (/apiKeyValues/.test(key) ? " and uses locally generated key values instead." : ".");
