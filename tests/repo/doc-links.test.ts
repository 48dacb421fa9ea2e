// The documentation's relative links resolve: every `[text](path#anchor)` in README.md, docs/,
// policies/ and local-cloud/ (outside node_modules and code blocks) names a file of the repository,
// and an anchor into a markdown file names one of its headings (GitHub's slugs). Sections move
// between pages; a link left pointing at the old place fails here instead of on GitHub.
import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { PROJECT_DIR } from "../../scripts/project";

const ROOTS = ["README.md", "docs", "policies", "local-cloud"];

/** Every .md file under the roots, outside node_modules and dot-folders. */
function markdownFiles(entry: string): string[] {
    const full = path.join(PROJECT_DIR, entry);
    if (!fs.statSync(full).isDirectory()) return entry.endsWith(".md") ? [entry] : [];
    return fs
        .readdirSync(full)
        .filter((name) => name !== "node_modules" && !name.startsWith("."))
        .flatMap((name) => markdownFiles(path.join(entry, name)));
}

/** The lines of a markdown file that are not inside a fenced code block. */
function proseLines(text: string): { line: string; number: number }[] {
    let fenced = false;
    return text.split("\n").flatMap((line, i) => {
        if (/^\s*```/.test(line)) {
            fenced = !fenced;
            return [];
        }
        return fenced ? [] : [{ line, number: i + 1 }];
    });
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
export function headingSlug(heading: string): string {
    return heading
        .trim()
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\s_-]/gu, "")
        .replace(/\s/g, "-");
}

function anchorsOf(file: string): Set<string> {
    const text = fs.readFileSync(path.join(PROJECT_DIR, file), "utf8");
    return new Set(
        proseLines(text).flatMap(({ line }) => {
            const heading = /^#{1,6} (.*)$/.exec(line);
            return heading ? [headingSlug(heading[1]!)] : [];
        }),
    );
}

/** "file:line: link: why" for every relative link of `file` that does not resolve. */
export function brokenLinks(file: string): string[] {
    const problems: string[] = [];
    for (const { line, number } of proseLines(fs.readFileSync(path.join(PROJECT_DIR, file), "utf8"))) {
        // Inline code may show link syntax without being a link.
        for (const match of line.replace(/`[^`]*`/g, "").matchAll(/\]\(([^)\s]+)\)/g)) {
            const link = match[1]!;
            if (/^[a-z]+:/.test(link)) continue;
            const [target, anchor] = link.split("#");
            const resolved = target ? path.normalize(path.join(path.dirname(file), target)) : file;
            if (resolved.startsWith("..")) {
                problems.push(`${file}:${number}: ${link}: leaves the repository`);
            } else if (!fs.existsSync(path.join(PROJECT_DIR, resolved))) {
                problems.push(`${file}:${number}: ${link}: no such file`);
            } else if (anchor && resolved.endsWith(".md") && !anchorsOf(resolved).has(anchor)) {
                problems.push(`${file}:${number}: ${link}: no such heading in ${resolved}`);
            }
        }
    }
    return problems;
}

describe("documentation links", () => {
    const files = ROOTS.flatMap(markdownFiles);

    it("finds the README, the docs and the local cloud's pages", () => {
        expect(files).to.include.members([
            "README.md",
            path.join("docs", "api.md"),
            path.join("local-cloud", "README.md"),
        ]);
    });

    it("resolves every relative link, and every anchor to a heading of its page", () => {
        expect(files.flatMap(brokenLinks)).to.deep.equal([]);
    });

    it("makes GitHub's anchors from headings with code, punctuation and parentheses", () => {
        expect(headingSlug("Before the first `up` in an account: `npm run preflight`")).to.equal(
            "before-the-first-up-in-an-account-npm-run-preflight",
        );
        expect(headingSlug("The state folder (`.local/<stack>/`, gitignored)")).to.equal(
            "the-state-folder-localstack-gitignored",
        );
        expect(headingSlug("Node.js versions")).to.equal("nodejs-versions");
    });
});

/** Text files of the repository outside tests/ (which may compare against the shared folder). */
function sourceFiles(dir = ""): string[] {
    return fs
        .readdirSync(path.join(PROJECT_DIR, dir), { withFileTypes: true })
        .filter(
            (entry) => !["node_modules", "tests", "openapi.json"].includes(entry.name) && !entry.name.startsWith("."),
        )
        .flatMap((entry) => {
            const file = path.join(dir, entry.name);
            if (entry.isDirectory()) return sourceFiles(file);
            return /\.(ts|js|mjs|cjs|md|ya?ml|json|html|css|sh)$/.test(entry.name) ? [file] : [];
        });
}

describe("no reference to the shared folder next to the repository", () => {
    it("names shared/docs nowhere outside tests/, but as docs/api.md's origin", () => {
        const mentions = sourceFiles().flatMap((file) =>
            fs
                .readFileSync(path.join(PROJECT_DIR, file), "utf8")
                .split("\n")
                .flatMap((line, i) => (/shared\/docs|\.\.\/shared/.test(line) ? [`${file}:${i + 1}`] : [])),
        );
        // A fresh clone has no ../shared: docs/api.md says once where it was copied from.
        expect(mentions).to.deep.equal([path.join("docs", "api.md") + ":3"]);
    });
});
