// program/compileCache.js and scripts/prepare.js: a start reads a file's compiled output from its
// compile cache, else from the files the install compiled (`.local/install/compiled`, written by
// `npm ci`'s prepare step), else compiles it. What must hold: the install's entries are found
// under the keys a start computes, a damaged one is compiled instead, and with the compile cache
// off neither is read.
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { removeStateDir, tempStateDir } from "../../testing";

/* eslint-disable @typescript-eslint/no-explicit-any */

type Transpile = (code: string, options: { fileName: string }) => { outputText: string };

const REGISTERED = (process as any)[Symbol.for("ts-node.register.instance")];

/** The compile cache's transpiler as ts-node creates it, with the folders the variables say. */
function transpilerWith(env: Record<string, string>): Transpile {
    const saved = { ...process.env };
    Object.assign(process.env, env);
    try {
        const { create } = require("../../program/compileCache.js") as {
            create(options: { service: unknown }): { transpile: Transpile };
        };
        return create({ service: REGISTERED }).transpile;
    } finally {
        for (const key of Object.keys(env)) {
            if (saved[key] === undefined) {
                delete process.env[key];
            } else {
                process.env[key] = saved[key];
            }
        }
    }
}

const entries = (dir: string) =>
    fs.existsSync(dir) ? fs.readdirSync(dir).filter((name) => name.endsWith(".json")) : [];
const sha256 = (text: string) => crypto.createHash("sha256").update(text).digest("hex");

describe("program/compileCache.js: the install's compiled files", () => {
    const dirs: string[] = [];
    const tempDir = () => {
        const dir = tempStateDir("compile-seed");
        dirs.push(dir);
        return dir;
    };
    after(() => dirs.forEach(removeStateDir));

    it("reads an entry the install wrote when the cache has none; compiles when it is damaged or the cache is off", () => {
        const cache = tempDir();
        const seed = tempDir();
        const fileName = path.join(process.cwd(), "seeded-example.ts");
        const code = `export const answer: number = ${Date.now()};\n`;
        // The install's entry, written under the key a start computes.
        transpilerWith({ LOCAL_CLOUD_COMPILE_CACHE: seed })(code, { fileName });
        const [name] = entries(seed);
        expect(name, "the install wrote one entry").to.be.a("string");
        const marked = (text: string) => {
            const entry = JSON.parse(fs.readFileSync(path.join(seed, name!), "utf8"));
            entry.outputText = text;
            entry.sum = sha256(`${entry.outputText}\0${entry.sourceMapText}`);
            fs.writeFileSync(path.join(seed, name!), JSON.stringify(entry));
        };
        marked("/* from the install */");

        const start = transpilerWith({ LOCAL_CLOUD_COMPILE_CACHE: cache, LOCAL_CLOUD_COMPILE_SEED: seed });
        expect(start(code, { fileName }).outputText).to.equal("/* from the install */");
        expect(entries(cache), "nothing compiled, nothing written").to.deep.equal([]);

        const off = transpilerWith({ LOCAL_CLOUD_COMPILE_CACHE: "off", LOCAL_CLOUD_COMPILE_SEED: seed });
        expect(off(code, { fileName }).outputText, "cache off: compiled").to.include("exports.answer");

        fs.writeFileSync(
            path.join(seed, name!),
            fs.readFileSync(path.join(seed, name!), "utf8").replace("install", "elsewhere"),
        );
        expect(start(code, { fileName }).outputText, "damaged: compiled").to.include("exports.answer");
        expect(entries(cache), "and kept in the cache").to.have.length(1);
    });

    it("scripts/prepare.js compiles what a start loads, under the keys a start reads", () => {
        const seed = tempDir();
        const run = spawnSync(process.execPath, [path.join("scripts", "prepare.js")], {
            cwd: process.cwd(),
            env: { ...process.env, LOCAL_CLOUD_COMPILE_SEED: seed },
            encoding: "utf8",
        });
        expect(run.status, run.stderr).to.equal(0);
        expect(run.stdout).to.match(/kept for starts: the package tree \(\d+ packages\); \d+ compiled files/);
        expect(entries(seed).length).to.be.greaterThan(50);
        const cache = tempDir();
        const start = transpilerWith({ LOCAL_CLOUD_COMPILE_CACHE: cache, LOCAL_CLOUD_COMPILE_SEED: seed });
        for (const file of ["index.ts", path.join("scripts", "start.ts"), path.join("local-cloud", "index.ts")]) {
            const fileName = path.join(process.cwd(), file);
            start(fs.readFileSync(fileName, "utf8"), { fileName });
            expect(entries(cache), `${file} read from the install's files`).to.deep.equal([]);
        }
    });
});
