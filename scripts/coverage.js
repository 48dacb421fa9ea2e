// `npm run coverage`: line and branch coverage of the code the tests prove (local-cloud/, api/, data/),
// per folder, from the summary c8 wrote. Plain JavaScript so it runs after c8 with nothing to compile.
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const ROOT = path.resolve(__dirname, "..");
const SUMMARY = path.join(ROOT, ".local", "coverage", "coverage-summary.json");
const FOLDERS = ["local-cloud", "api", "data"];

function addInto(total, metrics) {
    for (const kind of ["lines", "branches"]) {
        total[kind].covered += metrics[kind].covered;
        total[kind].total += metrics[kind].total;
    }
}

function percent({ covered, total }) {
    return total === 0 ? "n/a" : `${((100 * covered) / total).toFixed(1)} % (${covered}/${total})`;
}

function main() {
    if (!fs.existsSync(SUMMARY)) {
        console.error(`No coverage summary at ${path.relative(ROOT, SUMMARY)}: run \`npm run coverage\`.`);
        process.exit(1);
    }
    const summary = JSON.parse(fs.readFileSync(SUMMARY, "utf8"));
    const byFolder = Object.fromEntries(
        FOLDERS.map((folder) => [folder, { lines: { covered: 0, total: 0 }, branches: { covered: 0, total: 0 } }]),
    );
    for (const [file, metrics] of Object.entries(summary)) {
        if (file === "total") continue;
        const folder = path.relative(ROOT, file).split(path.sep)[0];
        if (byFolder[folder]) addInto(byFolder[folder], metrics);
    }
    console.log("folder        lines                     branches");
    for (const folder of FOLDERS) {
        const { lines, branches } = byFolder[folder];
        console.log(`${folder.padEnd(13)} ${percent(lines).padEnd(25)} ${percent(branches)}`);
    }
}

main();
