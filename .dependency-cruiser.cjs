/* global module */
// The import graph's rules (issue 20), checked by `npm run check:deps` inside `npm test`.
// Type-only imports count (tsPreCompilationDeps): a cycle through types is still one the reader
// has to untangle, and it was such imports that tied the local cloud's wiring to its parts.
/** @type {import("dependency-cruiser").IConfiguration} */
module.exports = {
    forbidden: [
        {
            name: "no-circular",
            severity: "error",
            comment: "No import cycles anywhere: each module stands on the ones below it.",
            from: { pathNot: "^node_modules/" },
            to: { circular: true },
        },
        {
            name: "emulator-not-program",
            severity: "error",
            comment:
                "local-cloud/ is a package of its own that runs any program: it never imports this program (nothing outside local-cloud/ but packages).",
            from: { path: "^local-cloud/" },
            to: { pathNot: "^(local-cloud/|node_modules/)", dependencyTypesNot: ["core"] },
        },
        {
            name: "data-not-api",
            severity: "error",
            comment:
                "The API depends on the store, never the other way round (tests/repo/layers.test.ts checks the same).",
            from: { path: "^data/" },
            to: { path: "^api/" },
        },
        {
            name: "wiring-only-from-entry-points",
            severity: "error",
            comment:
                "localCloud.ts wires the services together: only the package's entry points (index.ts, testing.ts), scripts and tests import it; a service never does. Public types are in local-cloud/types.ts.",
            from: { pathNot: "^(local-cloud/(index|testing)\\.ts$|local-cloud/tests/|scripts/|tests/)" },
            to: { path: "^local-cloud/localCloud\\.ts$" },
        },
        {
            name: "policies-not-emulator",
            severity: "error",
            comment:
                "The policy pack needs the resource type tokens only (local-cloud/program/resourceTypes.ts), not the emulator behind local-cloud's index.",
            from: { path: "^policies/" },
            to: { path: "^local-cloud/", pathNot: "^local-cloud/program/resourceTypes\\.ts$" },
        },
        {
            name: "not-to-unresolvable",
            severity: "error",
            comment: "An import the cruiser cannot resolve would hide its edges from the rules above.",
            from: {},
            to: { couldNotResolve: true },
        },
    ],
    options: {
        doNotFollow: { path: "node_modules" },
        exclude: { path: "(^|/)(node_modules|bin|\\.local)/" },
        tsConfig: { fileName: "tsconfig.json" },
        tsPreCompilationDeps: true,
        combinedDependencies: false,
        enhancedResolveOptions: {
            exportsFields: ["exports"],
            conditionNames: ["require", "node", "default"],
            extensions: [".ts", ".js", ".json", ".d.ts"],
        },
    },
};
