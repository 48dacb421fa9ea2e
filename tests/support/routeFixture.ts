// A copy of this program with one route added the way docs/layout.md says a route is added: a row in
// the copy's api/routes.ts and a handler file in its api/handlers/, nothing else. Recording the
// copy, documenting it and serving it then runs exactly the code the real program runs, so a test
// over the copy shows what a new row alone reaches.
import * as fs from "node:fs";
import * as path from "node:path";
import { PROJECT_DIR } from "../../scripts/project";

/** The route the fixture adds, as its row says. */
export const ADDED_ROUTE = { name: "getPostTitle", method: "GET", path: "/posts/{id}/title" } as const;

/** The new handler file: a post's title only, built on the existing read. */
const HANDLER_FILE = `// GET /posts/{id}/title: the post's title only (added by tests/support/routeFixture.ts).
import type { RouteHandler } from "../http/contract";
import { getPost } from "./getPost";

export const ${ADDED_ROUTE.name}: RouteHandler = async (request, deps) => {
    const response = await getPost(request, deps);
    const { title } = response.body as { title: string };
    return { statusCode: 200, body: { title } };
};
`;

/** The new row, written as the rows above it are. */
const ROW = `    {
        name: "${ADDED_ROUTE.name}", method: "${ADDED_ROUTE.method}", path: "${ADDED_ROUTE.path}", handler: ${ADDED_ROUTE.name},
        tableActions: ["dynamodb:GetItem"], indexActions: [], leadingKeys: [POST_KEYS_PATTERN],
        docs: {
            summary: "Get a post's title",
            tags: ["posts"],
            parameters: ["PostId"],
            success: { status: "200", description: "The post's title" },
            errors: ["NotFound"],
        },
    },
`;

/** Top-level folders that are not the program: tests, tooling, docs and the policy pack. */
const NOT_PROGRAM = new Set(["node_modules", "tests", "local-cloud", "scripts", "docs", "policies", "bin"]);

export interface RouteFixture {
    /** The copy's project folder (Pulumi.yaml, index.ts, …), inside the project so packages resolve. */
    dir: string;
    /** Project-relative paths of the files that differ from the real program's (changed or new). */
    changedFiles: string[];
    remove(): void;
}

/** Every file of the program: top-level `.ts` and Pulumi files, and the folders they import from. */
function programFiles(root = PROJECT_DIR): string[] {
    const files: string[] = [];
    const walk = (relative: string) => {
        for (const entry of fs.readdirSync(path.join(root, relative), { withFileTypes: true })) {
            const name = path.join(relative, entry.name);
            if (
                entry.isDirectory() &&
                !entry.name.startsWith(".") &&
                !(relative === "" && NOT_PROGRAM.has(entry.name))
            ) {
                walk(name);
            } else if (
                entry.isFile() &&
                (relative === "" ? /^(.*\.ts|Pulumi(\..+)?\.yaml)$/.test(entry.name) : entry.name.endsWith(".ts"))
            ) {
                files.push(name);
            }
        }
    };
    walk("");
    return files.sort();
}

/** Inserts `text` before `anchor` in a file of the copy; fails loudly if the table changed shape. */
function insertBefore(file: string, anchor: string, text: string): void {
    const source = fs.readFileSync(file, "utf8");
    const at = source.indexOf(anchor);
    if (at < 0) {
        throw new Error(
            `routeFixture: "${anchor}" not found in ${file}; update tests/support/routeFixture.ts to the route table's shape`,
        );
    }
    fs.writeFileSync(file, source.slice(0, at) + text + source.slice(at));
}

/**
 * Copies the program to `<project>/.tmp/<label>-*` (inside the project, so packages resolve) and
 * writes `files` (project-relative path → new text) over the copy.
 */
export function copyProgram(label: string, files: Record<string, string> = {}): { dir: string; remove(): void } {
    fs.mkdirSync(path.join(PROJECT_DIR, ".tmp"), { recursive: true });
    const dir = fs.mkdtempSync(path.join(PROJECT_DIR, ".tmp", `${label}-`));
    for (const file of programFiles()) {
        fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
        fs.copyFileSync(path.join(PROJECT_DIR, file), path.join(dir, file));
    }
    for (const [file, text] of Object.entries(files)) {
        if (!fs.existsSync(path.join(dir, file))) {
            throw new Error(`copyProgram: ${file} is not a file of the program`);
        }
        fs.writeFileSync(path.join(dir, file), text);
    }
    return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Copies the program and adds ADDED_ROUTE: one row, one import, one file. */
export function createRouteFixture(): RouteFixture {
    const { dir } = copyProgram("route-fixture");
    const routesFile = path.join(dir, "api", "routes.ts");
    insertBefore(
        routesFile,
        "\nexport type HttpMethod",
        `import { ${ADDED_ROUTE.name} } from "./handlers/${ADDED_ROUTE.name}";\n`,
    );
    insertBefore(routesFile, "] as const satisfies readonly RouteDefinition[];", ROW);
    fs.writeFileSync(path.join(dir, "api", "handlers", `${ADDED_ROUTE.name}.ts`), HANDLER_FILE);

    const original = new Set(programFiles());
    const changedFiles = programFiles(dir).filter(
        (file) =>
            !original.has(file) ||
            !fs.readFileSync(path.join(dir, file)).equals(fs.readFileSync(path.join(PROJECT_DIR, file))),
    );
    return { dir, changedFiles, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
