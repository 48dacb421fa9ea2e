// program/rerecord.ts: the shortcuts every recording takes. Here the parsed-function memo: the
// closure serializer's parse of a function's text, a pure function of that text, is done once per
// text (the golden of every serialized function, tests/program/serialized-golden.test.ts, shows the
// output unchanged).
import { expect } from "chai";
import { prepareRerecording } from "../../program/rerecord";

interface Parsed {
    capturedVariables: { required: Map<string, unknown> };
}

describe("program/rerecord.ts", () => {
    it("parses a function's text once and hands back the same reading after", async () => {
        await prepareRerecording();
        const parser = require("@pulumi/pulumi/runtime/closure/parseFunction") as {
            parseFunction(text: string): [string, Parsed | undefined];
        };
        const text = `function reads${Date.now()}() { return captured + other; }`;
        const [error, first] = parser.parseFunction(text);
        expect(error).to.equal("");
        expect([...first!.capturedVariables.required.keys()]).to.have.members(["captured", "other"]);
        expect(parser.parseFunction(text)[1], "the same reading").to.equal(first);
        expect(parser.parseFunction(`${text} `)[1], "another text, another reading").to.not.equal(first);
    });
});
