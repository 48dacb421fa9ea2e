// program/rerecord.ts: the shortcuts every recording takes. Here the parsed-function memo (the
// closure serializer's parse of a function's text, a pure function of that text, is done once per
// text) and the serializer's inspector session (no debugger; its evaluations released after each
// recording). The golden of every serialized function, tests/program/serialized-golden.test.ts,
// shows the output unchanged.
import { expect } from "chai";
import { prepareRerecording, releaseClosureMirrors } from "../../program/rerecord";

/* eslint-disable @typescript-eslint/no-explicit-any */

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

    it("gives the closure serializer a session without the debugger, whose evaluations a recording's end releases", async () => {
        await prepareRerecording();
        const hooks = require("@pulumi/pulumi/runtime/closure/v8Hooks") as {
            getSessionAsync(): Promise<{
                post(method: string, params: object, cb: (err: Error | null, res: any) => void): void;
            }>;
        };
        const session = await hooks.getSessionAsync();
        const post = (method: string, params: object) =>
            new Promise<any>((resolve, reject) =>
                session.post(method, params, (err, res) => (err ? reject(err) : resolve(res))),
            );
        // The serializer reads scopes through the Runtime domain alone.
        const { result } = await post("Runtime.evaluate", {
            expression: "(() => { const kept = 1; return () => kept; })()",
        });
        const { internalProperties } = await post("Runtime.getProperties", {
            objectId: result.objectId,
            ownProperties: false,
        });
        expect(internalProperties.map((p: { name: string }) => p.name)).to.include("[[Scopes]]");
        // No debugger: V8 would report (and hash) every loaded script to it.
        const debuggerCall = await post("Debugger.getScriptSource", { scriptId: "1" }).then(
            () => "answered",
            (err: Error) => err.message,
        );
        expect(debuggerCall).to.match(/not enabled/i);
        // What it evaluated is in our group: gone once the recording ends.
        await releaseClosureMirrors();
        const after = await post("Runtime.getProperties", { objectId: result.objectId }).then(
            () => "found",
            (err: Error) => err.message,
        );
        expect(after).to.match(/Could not find object/i);
    });
});
