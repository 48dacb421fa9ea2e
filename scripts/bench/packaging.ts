// Figure: each function's archive size, against the same handler packaged the CallbackFunction
// default way (every `dependencies` package, AWS SDK included), measured in the same run.
import * as fs from "node:fs";
import * as path from "node:path";
import * as zlib from "node:zlib";
import * as pulumi from "@pulumi/pulumi";
import { archiveEntries, recordProgram } from "local-cloud";
import { TYPES } from "local-cloud";
import { PROJECT_DIR } from "../project";

interface Size { files: number; bytes: number; deflated: number }

function addFile(size: Size, file: string) {
    const data = fs.readFileSync(file);
    size.files += 1;
    size.bytes += data.length;
    size.deflated += zlib.deflateRawSync(data).length;
}

function addTree(size: Size, dir: string) {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) {
            addTree(size, full);
        } else if (entry.isFile()) {
            addFile(size, full);
        }
    }
}

function addText(size: Size, text: string) {
    size.files += 1;
    size.bytes += Buffer.byteLength(text);
    size.deflated += zlib.deflateRawSync(Buffer.from(text)).length;
}

const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`;

export async function run(): Promise<void> {
    const program = await recordProgram({ stack: "dev" });
    // What CallbackFunction packages with no codePathOptions: all of package.json's
    // `dependencies`, followed transitively, minus @pulumi/* (computed by Pulumi itself).
    const defaultPaths = await pulumi.runtime.computeCodePaths({});
    const baselineDeps: Size = { files: 0, bytes: 0, deflated: 0 };
    for (const asset of defaultPaths.values()) {
        const p = await (asset as unknown as { path: Promise<string> }).path;
        addTree(baselineDeps, path.resolve(PROJECT_DIR, p));
    }

    console.log("\n## Lambda archives (deflated is what a zip holds; baseline = CallbackFunction defaults)");
    console.log("function      files   deflated   | baseline files  deflated   | ratio");
    for (const fn of program.resources.filter((r) => r.type === TYPES.function)) {
        const entries = await archiveEntries(fn.inputs["code"]);
        const ours: Size = { files: 0, bytes: 0, deflated: 0 };
        const index = entries["__index.js"]!.text!;
        for (const [name, entry] of Object.entries(entries)) {
            if (entry.text !== undefined) {
                addText(ours, entry.text);
            } else {
                addTree(ours, path.resolve(PROJECT_DIR, entry.path ?? name));
            }
        }
        const baseline: Size = { files: baselineDeps.files, bytes: baselineDeps.bytes, deflated: baselineDeps.deflated };
        addText(baseline, index);
        console.log(
            `${fn.name.padEnd(13)} ${String(ours.files).padStart(5)} ${kb(ours.deflated).padStart(10)}   | ` +
            `${String(baseline.files).padStart(14)} ${kb(baseline.deflated).padStart(10)}   | ${(ours.deflated / baseline.deflated).toFixed(3)}`,
        );
    }
}
