// A start of the local cloud runs a few seconds of code once (TypeScript compiling the program,
// Pulumi and the program's packages loading, the closure serializer) on two threads, on machines
// with as few as two cores. V8 sends code that runs a while to TurboFan, its optimizing compiler,
// on background threads: measured on a cold start (2 cores, Node 20), those threads used ~2.3 s of
// CPU beside the two threads' ~5 s, mostly optimizing code that never ran again. Waiting longer
// before optimizing (V8's tier-up threshold 16 times its default) left them ~0.7 s and the first
// answer came ~0.6 s sooner. Once the cloud is up, the default is back (the serving path and the
// Lambda instances run as V8 would run them). Plain JavaScript: `npm start` calls it before
// anything loads.
"use strict";
const v8 = require("node:v8");

const FACTOR = 16;

/**
 * Per V8 version (major.minor, as each Node line pins one): the flag holding back TurboFan and its
 * default, each read from that V8's `--v8-options`. Node 20: V8 11.3; Node 22: V8 12.4.
 */
const THRESHOLDS = new Map([
    // Bytecode executed before a function is considered for optimizing.
    ["11.3", { flag: "--interrupt-budget", defaultValue: 66 * 1024 }],
    // Calls before TurboFan.
    ["12.4", { flag: "--invocation-count-for-turbofan", defaultValue: 3000 }],
]);

/**
 * The flag and value that set V8's tier-up threshold to `factor` times its default, for the V8
 * this Node has, or undefined where it has not been checked (V8 spells its threshold differently
 * across versions, and `setFlagsFromString` prints an error for a flag it does not know).
 * @param {string} v8Version `process.versions.v8` @param {number} [factor]
 */
function tierUpFlag(v8Version, factor = FACTOR) {
    const threshold = THRESHOLDS.get(v8Version.split(".").slice(0, 2).join("."));
    return threshold && `${threshold.flag}=${factor * threshold.defaultValue}`;
}

/** Raises V8's tier-up threshold for this process (and its worker threads); false where unknown. */
function raiseTierUpThreshold() {
    return setThreshold(FACTOR);
}

/** Back to V8's default once the start is done: what keeps running is optimized as usual. */
function restoreTierUpThreshold() {
    return setThreshold(1);
}

/** @param {number} factor */
function setThreshold(factor) {
    const flag = tierUpFlag(process.versions.v8, factor);
    if (flag === undefined) {
        return false;
    }
    v8.setFlagsFromString(flag);
    return true;
}

module.exports = { raiseTierUpThreshold, restoreTierUpThreshold, tierUpFlag };
