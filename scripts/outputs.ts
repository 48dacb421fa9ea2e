// `npm run outputs -- [--stack dev] [--json] [--show-secrets] [name]`, the way that evaluates the
// program: the stack's outputs as `pulumi stack output` prints them, for the local cloud (key
// values from the stack folder, the URL of the last `npm start`); needs no local cloud running.
// `npm run outputs` runs scripts/stackOutputs.js, which asks the running local cloud first and
// hands over to this file when none answers (or LOCAL_CLOUD_OUTPUTS=evaluate).
import * as path from "node:path";
import { fail, formatOutputs, parseCommand } from "local-cloud/cli";
import { recordOrReuseLocalProgram, undecryptableNotice } from "local-cloud";

import { readProgramConfig } from "local-cloud";
import { defaultStateDir, FunctionVersions, KeyStore, readJsonFile } from "local-cloud";
import { PROJECT_DIR } from "./project";

const USAGE = `usage: npm run outputs -- [--stack <name>] [--json] [--show-secrets] [--state-dir <dir>] [output-name]`;

async function main() {
    const parsed = parseCommand(
        process.argv.slice(2),
        {
            stack: { type: "string", default: "dev" },
            json: { type: "boolean", default: false },
            "show-secrets": { type: "boolean", default: false },
            "state-dir": { type: "string" },
            help: { type: "boolean", default: false },
        },
        USAGE,
        1,
        "output name",
    );
    if (parsed === undefined) {
        return;
    }
    const { values, positionals } = parsed;
    const stack = values.stack!;
    const config = readProgramConfig({ projectDir: PROJECT_DIR, stack });
    const stateDir = path.resolve(values["state-dir"] ?? defaultStateDir(stack));
    const baseUrl =
        readJsonFile<{ url?: string }>(path.join(stateDir, "server.json"), {}).url ?? "http://127.0.0.1:8080";
    const keys = new KeyStore(stateDir);
    // Published functions' version numbers: the ones the next `npm start` publishes (not saved:
    // a version is published when its code is deployed).
    const versions = new FunctionVersions(stateDir);
    // The recording the next `npm start` of this state folder serves: from the program cache when
    // nothing it depends on has changed (the last start's, usually), else recorded and kept for it.
    const program = await recordOrReuseLocalProgram({ config, keys, baseUrl, versions });
    // The values printed are the ones the next `npm start` serves.
    keys.save();
    program.undecryptable.forEach((key) => process.stderr.write(`warning: ${undecryptableNotice(stack, key)}\n`));
    process.stdout.write(
        `${formatOutputs(program.outputs, program.secretOutputs, {
            stack,
            name: positionals[0],
            json: values.json,
            showSecrets: values["show-secrets"],
        })}\n`,
    );
    // The Pulumi runtime keeps handles open after a recording; the answer is printed, so stop.
    process.exit(0);
}

main().catch(fail);
