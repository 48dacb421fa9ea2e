// `npm run openapi -- --stack dev [--out openapi.json]`: records the program for the stack under
// Pulumi mocks (no cloud, no CLI), takes its `url` output and writes the OpenAPI 3 document.
//
// Under mocks the URL has a stand-in API id; after `pulumi up`, `pulumi stack output url` is the
// real one. Pass `--url <stage URL>` to write the document for a deployed stack.
import * as fs from "node:fs";
import * as path from "node:path";
import { recordProgram } from "local-cloud";
import { openApiDocument } from "../api/openapi";
import { routes } from "../api/routes";
import { postJsonSchemas } from "../api/schema";
import { PROJECT_DIR } from "./project";

function option(args: string[], name: string): string | undefined {
    const i = args.indexOf(`--${name}`);
    const inline = args.find((a) => a.startsWith(`--${name}=`));
    return inline !== undefined ? inline.slice(name.length + 3) : i >= 0 ? args[i + 1] : undefined;
}

async function main(args: string[]): Promise<void> {
    const stack = option(args, "stack");
    if (!stack) {
        throw new Error("usage: npm run openapi -- --stack <stack> [--url <stage URL>] [--out <file>]");
    }
    const out = path.resolve(PROJECT_DIR, option(args, "out") ?? "openapi.json");
    const recorded = await recordProgram({ stack });
    const url = option(args, "url") ?? recorded.outputs["url"];
    if (typeof url !== "string") {
        throw new Error(`stack ${stack} has no url output`);
    }
    const pkg = JSON.parse(fs.readFileSync(path.join(PROJECT_DIR, "package.json"), "utf8")) as { version: string };
    const doc = openApiDocument({
        serverUrl: url,
        serverDescription: `${stack} stage`,
        routes,
        schemas: postJsonSchemas({ target: "openapi-3.0" }),
        version: pkg.version,
    });
    fs.writeFileSync(out, JSON.stringify(doc, null, 2) + "\n");
    console.log(`wrote ${path.relative(process.cwd(), out) || out} (${Object.keys(doc.paths).length} paths, server ${doc.servers[0].url})`);
}

main(process.argv.slice(2)).then(
    // The Pulumi runtime keeps handles open after a mocked run; nothing is left to wait for.
    () => process.exit(0),
    (err: unknown) => {
        console.error(err instanceof Error ? err.message : err);
        process.exit(1);
    },
);
