// A start of the local cloud runs a few seconds of code once (TypeScript compiling the program,
// Pulumi and the program's packages loading, the closure serializer) on two threads, on machines
// with as few as two cores. V8 sends code that runs a while to TurboFan, its optimizing compiler,
// on background threads: measured on a cold start (2 cores, Node 20), those threads used ~2.3 s of
// CPU beside the two threads' ~5 s, mostly optimizing code that never ran again. Waiting longer
// before optimizing (V8's tier-up threshold 16 times its default) left them ~0.7 s and the first
// answer came ~0.6 s sooner; the code that keeps running (the serving path, the Lambda instances)
// is still optimized, after more calls. Plain JavaScript: `npm start` calls it before anything loads.
"use strict";
const v8 = require("node:v8");

const FACTOR = 16;

/**
 * The flag and value that hold V8 back from optimizing, for the V8 this Node has, or undefined
 * where the flag is not known (V8 spells its threshold differently across versions, and
 * `setFlagsFromString` prints an error for a flag it does not know).
 * @param {string} v8Version `process.versions.v8`
 */
function tierUpFlag(v8Version) {
    const major = Number.parseInt(v8Version, 10);
    if (major === 11) {
        // Node 20: bytecode executed before a function is considered (default 66 KiB).
        return `--interrupt-budget=${FACTOR * 66 * 1024}`;
    }
    if (major === 12) {
        // Node 22: calls before TurboFan (default 3,000).
        return `--invocation-count-for-turbofan=${FACTOR * 3000}`;
    }
    return undefined;
}

/** Raises V8's tier-up threshold for this process (and its worker threads); false where unknown. */
function raiseTierUpThreshold() {
    const flag = tierUpFlag(process.versions.v8);
    if (flag === undefined) {
        return false;
    }
    v8.setFlagsFromString(flag);
    return true;
}

module.exports = { raiseTierUpThreshold, tierUpFlag };
