// `npm run bench`: prints figures, never asserts them. Each figure is shown beside a baseline
// measured in the same run, as a ratio, so machines of different speed give comparable numbers.
const sections: Array<[string, () => Promise<{ run: () => Promise<void> }>]> = [
    ["listing", () => import("./listing")],
    ["packaging", () => import("./packaging")],
    ["start", () => import("./start")],
    ["local-cloud", () => import("./localCloud")],
    ["reload", () => import("./reload")],
    ["capacity", () => import("./capacity")],
    ["outputs", () => import("./outputs")],
];

async function main() {
    // The SDK's notice about this machine's Node is noise in a benchmark's output.
    process.env["AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED"] ??= "true";
    const only = process.argv.slice(2);
    for (const [name, load] of sections) {
        if (only.length > 0 && !only.includes(name)) {
            continue;
        }
        await (await load()).run();
    }
}

// A recording leaves the Pulumi runtime's handles open: stop once the figures are printed.
main().then(
    () => process.exit(0),
    (err) => {
        console.error(err);
        process.exit(1);
    },
);
