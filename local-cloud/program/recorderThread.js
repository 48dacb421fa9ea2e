// The recorder thread's entry (recorder.ts starts it): loads TypeScript as the thread that started
// it does, with the same ts-node options (transpile-only, the compile cache's transpiler), then the
// recorder itself. Plain JavaScript: nothing can be compiled before ts-node is registered.
"use strict";
const Module = require("node:module");
const path = require("node:path");
const { workerData } = require("node:worker_threads");
const { usePackagerArborist } = require("./packageTree");

// Pulumi's closure serializer requires every built-in module once, to tell a captured built-in by
// its object (@pulumi/pulumi runtime/closure/createClosure.js `computeBuiltInModules`), and
// `trace_events` throws in a worker thread (ERR_TRACE_EVENTS_UNAVAILABLE). Here it is an object of
// its own instead: no closure can capture the real one in this thread, so it matches nothing.
const TRACE_EVENTS_STAND_IN = Object.freeze({});
const load = Module._load;
Module._load = function (request, parent, isMain) {
    if (request === "trace_events" || request === "node:trace_events") {
        try {
            return load.call(this, request, parent, isMain);
        } catch {
            return TRACE_EVENTS_STAND_IN;
        }
    }
    return load.call(this, request, parent, isMain);
};

// Pulumi's closure packager gets an `Arborist` that reads the package tree kept at install
// (packageTree.js): the real one, ~300 modules, loads only if that tree does not serve.
usePackagerArborist();

// The thread exists to record, and every recording needs Pulumi (which loads TypeScript itself):
// loaded first, before ts-node's require hooks are in place, its ~400 modules load as Node loads
// them (measured: the thread ready for its first recording ~0.15 s sooner on a cold start).
require("@pulumi/pulumi");

if (workerData && workerData.tsNode) {
    require("ts-node").register(workerData.tsNode);
}
require(path.join(__dirname, "recorderWorker"));
