// The runbooks of a real account, as docs/releases.md and docs/ci.md write them: the recovery from a
// version that failed to initialise on a route with provisioned concurrency finds each route's
// function in a stack export of this very program (run in bash, as pasted), and clears the alias
// or drops the provisioned concurrency before rolling back; prod in an account of its own is told
// to manage the account's logging role.
import { expect } from "chai";
import * as childProcess from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { stackProgram, ofType, TYPES } from "../support/program";
import { PROJECT_DIR } from "../../scripts/project";

const ROUTES = ["getPost", "listPosts", "createPost", "replacePost", "updatePost", "deletePost"];

/** The recovery block of docs/releases.md (the sh block of its section on a version that fails to initialise). */
function recoveryBlock(): string {
    const doc = fs.readFileSync(path.join(PROJECT_DIR, "docs", "releases.md"), "utf8");
    const section =
        doc
            .split("### A new version that fails to initialise on a route with provisioned concurrency")[1]
            ?.split("\n## ")[0] ?? "";
    const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1];
    expect(block, "docs/releases.md has the recovery section with its sh block").to.be.a("string");
    return block!;
}

describe("runbooks for a real account (docs/releases.md, docs/ci.md)", () => {
    it("recovers a route whose new version failed to initialise: clear the alias's weights or drop provisioned concurrency, then roll back", () => {
        const lines = recoveryBlock()
            .split("\n")
            .map((line) => line.replace(/\s+#.*$/, "").trim());
        expect(lines).to.include(
            'aws lambda update-alias --function-name "$FN" --name live --function-version "$GOOD" --routing-config \'{"AdditionalVersionWeights":{}}\'',
        );
        expect(lines).to.include(
            'aws lambda delete-provisioned-concurrency-config --function-name "$FN" --qualifier live',
        );
        const refresh = lines.indexOf('pulumi refresh --stack "$STACK" --yes');
        expect(refresh, "refresh after the change by hand").to.be.greaterThan(
            lines.findIndex((l) => l.startsWith("aws lambda update-alias")),
        );
        expect(lines[refresh + 1]).to.equal('pulumi up --stack "$STACK"');
    });

    it("finds each route's function name in a stack export of the program, the way the line in docs/releases.md does", async function () {
        this.timeout(120_000);
        const prod = await stackProgram("prod");
        // `pulumi stack export`'s shape: deployment.resources[] with urn, type and outputs.
        const exported = {
            version: 3,
            deployment: {
                resources: prod.resources.map((r) => ({
                    urn: r.urn,
                    type: r.type,
                    custom: r.custom,
                    outputs: r.state,
                })),
            },
        };
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "runbook-"));
        try {
            const exportFile = path.join(dir, "export.json");
            fs.writeFileSync(exportFile, JSON.stringify(exported));
            // A `pulumi` on PATH that answers `stack export` with the file: the line in docs/releases.md runs as
            // written.
            fs.writeFileSync(
                path.join(dir, "pulumi"),
                `#!/bin/sh\n[ "$1 $2" = "stack export" ] && exec cat ${JSON.stringify(exportFile)}\nexit 2\n`,
                { mode: 0o755 },
            );
            const findLine = recoveryBlock()
                .split("\n")
                .find((line) => line.startsWith("FN=$("));
            expect(findLine, "the block sets FN from the stack export").to.be.a("string");
            for (const route of ROUTES) {
                const script = `set -e\nSTACK=prod ROUTE=${route}\n${findLine}\nprintf %s "$FN"`;
                const fn = childProcess.execFileSync("bash", ["-c", script], {
                    env: { ...process.env, PATH: `${dir}:${process.env["PATH"]}` },
                    encoding: "utf8",
                });
                const expected = ofType(prod, TYPES.function).find((f) => f.name === route)!.state["name"];
                expect(fn, route).to.equal(expected);
            }
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });

    it("tells prod in an AWS account of its own to manage the logging role, and to check the account first", () => {
        const ci = fs.readFileSync(path.join(PROJECT_DIR, "docs", "ci.md"), "utf8");
        const ownAccount = ci.split("**Prod in an AWS account of its own**")[1]?.split("\n\n**")[0] ?? "";
        expect(ownAccount).to.include("`posts-api:manageApiGatewayAccount: true` in `Pulumi.prod.yaml`");
        expect(ci).to.include("npm run preflight -- --stack prod --aws");
    });
});
