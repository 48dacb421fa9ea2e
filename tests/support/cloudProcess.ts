// A local cloud in a process of its own, for tests that kill it (tests/local-faults.test.ts).
// Options come as JSON in CLOUD_OPTIONS ({stack, stateDir, stackConfig}); once serving it prints one
// line `READY {"stageUrl":…,"apiKeys":{…}}`, and every notice as `WARNING <text>`.
import { startLocalCloud } from "../../local/localCloud";

const options = JSON.parse(process.env["CLOUD_OPTIONS"] ?? "{}") as { stack: string; stateDir: string; stackConfig?: Record<string, unknown> };
startLocalCloud({
    ...options,
    port: 0,
    maxInstancesPerFunction: 4,
    onWarning: (message) => process.stdout.write(`WARNING ${message}\n`),
}).then(
    (cloud) => process.stdout.write(`READY ${JSON.stringify({ stageUrl: cloud.stageUrl, apiKeys: cloud.apiKeys })}\n`),
    (err) => {
        process.stderr.write(`${(err as Error).name}: ${(err as Error).message}\n`);
        process.exit(1);
    },
);
