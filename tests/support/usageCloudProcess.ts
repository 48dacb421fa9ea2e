// A local cloud in a process of its own with a clock set by the test (tests/local-usage-crash.test.ts
// kills it). Options come as JSON in CLOUD_OPTIONS ({stack, stateDir, stackConfig, clockStart}); the
// clock starts at `clockStart` and moves with real time. Once serving it prints one line
// `READY {"stageUrl":…,"key":…}` (the key of consumer "app").
import { startLocalCloud } from "../../local/localCloud";

const options = JSON.parse(process.env["CLOUD_OPTIONS"] ?? "{}") as { stack: string; stateDir: string; stackConfig?: Record<string, unknown>; clockStart: number };
const started = Date.now();
startLocalCloud({
    stack: options.stack,
    stateDir: options.stateDir,
    stackConfig: options.stackConfig,
    port: 0,
    now: () => options.clockStart + (Date.now() - started),
    onWarning: (message) => process.stdout.write(`WARNING ${message}\n`),
}).then(
    (cloud) => process.stdout.write(`READY ${JSON.stringify({ stageUrl: cloud.stageUrl, key: cloud.apiKeys["app"] })}\n`),
    (err) => {
        process.stderr.write(`${(err as Error).name}: ${(err as Error).message}\n`);
        process.exit(1);
    },
);
