// startup/tierUp.js: the flag that holds V8 back from optimizing during a start, spelled as each
// V8 spells it, and known to the V8 running this test (a flag V8 does not know is only printed
// as an error, so a misspelling would pass unnoticed).
import { expect } from "chai";
import { spawnSync } from "node:child_process";

const { tierUpFlag } = require("../../startup/tierUp.js") as {
    tierUpFlag(v8Version: string, factor?: number): string | undefined;
};

describe("startup/tierUp.js", () => {
    it("spells the threshold for Node 20's V8 and Node 22's, sixteen times the default", () => {
        expect(tierUpFlag("11.3.244.8-node.33")).to.equal("--interrupt-budget=1081344");
        expect(tierUpFlag("12.4.254.21-node.33")).to.equal("--invocation-count-for-turbofan=48000");
    });

    it("sets nothing for a V8 whose flags it has not been checked against", () => {
        expect(tierUpFlag("13.6.233.10-node.20")).to.equal(undefined);
        expect(tierUpFlag("12.9.202.28-node.13"), "Node 23: not checked").to.equal(undefined);
        expect(tierUpFlag("10.2.154.26-node.26")).to.equal(undefined);
    });

    it("names a flag this V8 knows, and its default as this V8 has it (what the start restores)", () => {
        const flag = tierUpFlag(process.versions.v8);
        expect(flag, `a flag for V8 ${process.versions.v8}`).to.be.a("string");
        const name = flag!.slice(0, flag!.indexOf("="));
        const known = spawnSync(process.execPath, ["--v8-options"], { encoding: "utf8" }).stdout;
        expect(known).to.include(`  ${name} `);
        expect(known).to.include(`default: ${tierUpFlag(process.versions.v8, 1)}\n`);
    });
});
