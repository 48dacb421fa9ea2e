// `npm run openapi -- --stack dev [--url <stage URL>] [--port <n>] [--out openapi.json]`: the
// OpenAPI 3 document of a stack's API. The program is recorded under Pulumi mocks (no cloud, no
// CLI) for its stage name and region.
//
// Under mocks the stage URL's API id is a stand-in, so it is never written as if it were real:
// without `--url` the document's first server is the local cloud (`npm start`, port 8080 or
// `--port`) and the AWS server is a template whose API id is a placeholder. After `pulumi up`,
// pass `--url "$(pulumi stack output url)"` for a document whose first server is the deployed stage.
import * as fs from "node:fs";
import * as path from "node:path";
import { recordOrReuseProgram } from "local-cloud";
import { openApiDocument, type OpenApiDocument } from "../api/openapi";
import { routes } from "../api/routes";
import { postJsonSchemas } from "../api/schema";
import { PROJECT_DIR } from "./project";

export interface StackDocumentOptions {
    /** The deployed stage URL (`pulumi stack output url`), if there is one. */
    deployedUrl?: string;
    /** The port `npm start` serves on (default 8080). */
    localPort?: number;
}

/**
 * The document for a stack: its stage and region from the program recorded under mocks (or that
 * recording from the program cache, when nothing it depends on has changed).
 */
export async function stackDocument(stack: string, options: StackDocumentOptions = {}): Promise<OpenApiDocument> {
    const recorded = await recordOrReuseProgram({ stack });
    const url = recorded.outputs["url"];
    const stage = typeof url === "string" ? new URL(url).pathname.split("/").filter(Boolean)[0] : undefined;
    if (stage === undefined) {
        throw new Error(`stack ${stack} has no API Gateway stage (no url output)`);
    }
    const pkg = JSON.parse(fs.readFileSync(path.join(PROJECT_DIR, "package.json"), "utf8")) as { version: string };
    return openApiDocument({
        servers: { stage, region: recorded.region, deployedUrl: options.deployedUrl, localPort: options.localPort },
        routes,
        schemas: postJsonSchemas({ target: "openapi-3.0" }),
        version: pkg.version,
    });
}

function option(args: string[], name: string): string | undefined {
    const i = args.indexOf(`--${name}`);
    const inline = args.find((a) => a.startsWith(`--${name}=`));
    return inline !== undefined ? inline.slice(name.length + 3) : i >= 0 ? args[i + 1] : undefined;
}

async function main(args: string[]): Promise<void> {
    const stack = option(args, "stack");
    if (!stack) {
        throw new Error(
            "usage: npm run openapi -- --stack <stack> [--url <deployed stage URL>] [--port <local port>] [--out <file>]",
        );
    }
    const deployedUrl = option(args, "url");
    if (deployedUrl !== undefined && !/^https?:\/\/[^/]+\/[^/]+\/?$/.test(deployedUrl)) {
        throw new Error(
            `--url must be a stage URL such as https://abc123.execute-api.us-east-1.amazonaws.com/${stack}/ (got "${deployedUrl}")`,
        );
    }
    const port = option(args, "port");
    if (port !== undefined && !/^[1-9][0-9]{0,4}$/.test(port)) {
        throw new Error(`--port must be a port number (got "${port}")`);
    }
    const out = path.resolve(process.cwd(), option(args, "out") ?? path.join(PROJECT_DIR, "openapi.json"));
    const doc = await stackDocument(stack, { deployedUrl, localPort: port === undefined ? undefined : Number(port) });
    fs.writeFileSync(out, JSON.stringify(doc, null, 2) + "\n");
    const first = doc["servers"][0] as { url: string; description: string };
    console.log(
        `wrote ${path.relative(process.cwd(), out) || out} (${Object.keys(doc.paths).length} paths; first server ${first.url}: ${first.description})`,
    );
    if (deployedUrl === undefined) {
        console.log(
            'No --url: the servers are the local cloud and an AWS template with a placeholder API id (pass --url "$(pulumi stack output url)" once deployed).',
        );
    }
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        // The Pulumi runtime keeps handles open after a mocked run; nothing is left to wait for.
        () => process.exit(0),
        (err: unknown) => {
            console.error(err instanceof Error ? err.message : err);
            process.exit(1);
        },
    );
}
