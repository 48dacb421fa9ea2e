// The host-versus-runtime warning (local-cloud/lambda/runtimeCheck.ts): pure, no cloud started.
import { expect } from "chai";
import { runtimeNodeMajor, runtimeWarnings } from "../../lambda/runtimeCheck";

describe("host Node versus the functions' runtime", () => {
    it("reads the Node major of nodejs<N>.x runtimes only", () => {
        expect(runtimeNodeMajor("nodejs22.x")).to.equal(22);
        expect(runtimeNodeMajor("nodejs20.x")).to.equal(20);
        expect(runtimeNodeMajor("python3.12")).to.equal(undefined);
        expect(runtimeNodeMajor("provided.al2023")).to.equal(undefined);
    });

    it("warns once per runtime whose major differs from the host's, naming its functions", () => {
        const functions = [
            { logicalName: "getPost", runtime: "nodejs22.x" },
            { logicalName: "listPosts", runtime: "nodejs22.x" },
            { logicalName: "legacy", runtime: "nodejs18.x" },
            { logicalName: "same", runtime: "nodejs20.x" },
            { logicalName: "script", runtime: "python3.12" },
        ];
        expect(runtimeWarnings(functions, "20.20.2")).to.deep.equal([
            "2 functions (getPost, listPosts) are deployed on nodejs22.x but run here on this machine's Node 20.20.2: differences between Node 22 and 20 are not reproduced",
            "function legacy is deployed on nodejs18.x but runs here on this machine's Node 20.20.2: differences between Node 18 and 20 are not reproduced",
        ]);
    });

    it("says nothing when every function's major is the host's (the default host is process.versions.node)", () => {
        expect(runtimeWarnings([{ logicalName: "getPost", runtime: "nodejs22.x" }], "22.23.5")).to.deep.equal([]);
        const host = `nodejs${process.versions.node.split(".")[0]}.x`;
        expect(runtimeWarnings([{ logicalName: "getPost", runtime: host }])).to.deep.equal([]);
        expect(runtimeWarnings([])).to.deep.equal([]);
    });
});
