// program/packageTree.js: the package tree kept at install, handed to Pulumi's closure packager
// (runtime/closure/codePaths.js) in the recorder thread instead of @npmcli/arborist. What must hold:
// the packager builds the same archive from it as from arborist's own tree (this project, and a
// project with nested versions, a scoped package and a linked folder), and a tree is not used once
// anything is installed.
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import Module from "node:module";
import * as path from "node:path";
import { removeStateDir, tempStateDir } from "../../testing";

const packageTree = require("../../program/packageTree.js") as {
    writePackageTree(projectDir: string, file?: string): Promise<number>;
    keptPackageTree(projectDir: string, file?: string): unknown;
    packagerArborist(options?: { treeFile?: (projectDir: string) => string }): unknown;
    packageTreeFile(projectDir: string): string;
    usePackagerArborist(): void;
};

type CodePaths = Map<string, { path: Promise<string>; constructor: { name: string } }>;
interface Packager {
    computeCodePaths(options?: Record<string, unknown>): Promise<CodePaths>;
}

const CODE_PATHS = require.resolve("@pulumi/pulumi/runtime/closure/codePaths");

/** A copy of Pulumi's packager module that gets `arborist` for `@npmcli/arborist`. */
function packagerWith(arborist: unknown): Packager {
    const loader = Module as unknown as {
        _load: (request: string, parent: NodeJS.Module | undefined, isMain: boolean) => unknown;
    };
    require("@pulumi/pulumi"); // first, as in bothArchives
    const cached = require.cache[CODE_PATHS];
    const load = loader._load;
    delete require.cache[CODE_PATHS];
    loader._load = function (request, parent, isMain) {
        return request === "@npmcli/arborist" && parent?.filename === CODE_PATHS
            ? arborist
            : load.call(this, request, parent, isMain);
    };
    try {
        return require(CODE_PATHS) as Packager;
    } finally {
        loader._load = load;
        require.cache[CODE_PATHS] = cached;
    }
}

async function archive(codePaths: CodePaths): Promise<string[]> {
    const entries = await Promise.all(
        [...codePaths].map(async ([at, asset]) => `${at} <- ${asset.constructor.name} ${await asset.path}`),
    );
    return entries.sort();
}

/** Both packagers' archives for each options, from the current folder's project. */
async function bothArchives(treeFile: string, optionsList: Record<string, unknown>[]) {
    // Pulumi whole first: its runtime re-exports the packager, so loading the packager's module
    // first would leave Pulumi's index with a half-loaded one (for every later test in the process).
    const real = (require("@pulumi/pulumi") as { runtime: Packager }).runtime;
    const kept = packagerWith(packageTree.packagerArborist({ treeFile: () => treeFile }));
    const results = [];
    for (const options of optionsList) {
        results.push({
            real: await archive(await real.computeCodePaths(options)),
            kept: await archive(await kept.computeCodePaths(options)),
        });
    }
    return results;
}

function writeJson(file: string, value: unknown): void {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, JSON.stringify(value));
}

describe("program/packageTree.js", () => {
    const dirs: string[] = [];
    after(() => dirs.forEach(removeStateDir));
    const tempDir = () => {
        const dir = tempStateDir("package-tree");
        dirs.push(dir);
        return dir;
    };

    it("gives Pulumi's packager the archive arborist's tree gives, for this project", async () => {
        const treeFile = path.join(tempDir(), "tree.json");
        expect(await packageTree.writePackageTree(process.cwd(), treeFile)).to.be.greaterThan(100);
        // Else the stand-in would fall back to arborist, and the comparison prove nothing.
        expect(packageTree.keptPackageTree(process.cwd(), treeFile), "the kept tree serves").to.not.equal(undefined);
        const optionsList = [
            {},
            { extraExcludePackages: ["@aws-sdk/client-dynamodb", "@aws-sdk/lib-dynamodb"] },
            { extraIncludePackages: ["yaml"], extraExcludePackages: ["zod"] },
        ];
        for (const { real, kept } of await bothArchives(treeFile, optionsList)) {
            expect(real.length).to.be.greaterThan(0);
            expect(kept).to.deep.equal(real);
        }
    });

    it("gives the same archive for nested versions, a scoped package and a linked folder", async () => {
        // Inside the repository, so that @pulumi/pulumi resolves from the fixture.
        const project = fs.mkdtempSync(path.join(process.cwd(), ".local", "package-tree-"));
        dirs.push(project);
        const pkg = (at: string, name: string, dependencies: Record<string, string> = {}, version = "1.0.0") =>
            writeJson(path.join(project, at, "package.json"), { name, version, dependencies });
        pkg(".", "fixture", { a: "^1.0.0", "@s/c": "^1.0.0", l: "file:libs/l" });
        pkg("node_modules/a", "a", { b: "^1.0.0" });
        pkg("node_modules/a/node_modules/b", "b", {}, "1.0.0");
        pkg("node_modules/b", "b", {}, "2.0.0");
        pkg("node_modules/@s/c", "@s/c", { b: "^2.0.0" });
        pkg("libs/l", "l", { a: "^1.0.0", d: "^1.0.0" });
        pkg("libs/l/node_modules/d", "d", { e: "^1.0.0" });
        pkg("node_modules/e", "e");
        fs.symlinkSync(path.join("..", "libs", "l"), path.join(project, "node_modules", "l"));
        const treeFile = path.join(project, "tree.json");
        await packageTree.writePackageTree(project, treeFile);
        expect(packageTree.keptPackageTree(project, treeFile), "the kept tree serves").to.not.equal(undefined);
        const cwd = process.cwd();
        process.chdir(project);
        try {
            const { real, kept } = (await bothArchives(treeFile, [{}]))[0]!;
            expect(real).to.include.members([
                "node_modules/a <- FileArchive node_modules/a",
                "node_modules/b <- FileArchive node_modules/b",
                "node_modules/@s/c <- FileArchive node_modules/@s/c",
                "node_modules/l <- FileArchive libs/l",
            ]);
            // e: found from the linked package's own dependency d (through the link's target).
            expect(real, "reached through the link").to.include("node_modules/e <- FileArchive node_modules/e");
            expect(kept).to.deep.equal(real);
        } finally {
            process.chdir(cwd);
        }
        // A linked package is edited in place, where no install sees it: the tree is read again.
        const later = new Date(Date.now() + 5000);
        fs.utimesSync(path.join(project, "libs", "l", "package.json"), later, later);
        expect(packageTree.keptPackageTree(project, treeFile), "linked package.json changed").to.equal(undefined);
    });

    it("keeps its tree outside node_modules, which stays older than npm's hidden lockfile", async () => {
        // A folder made in node_modules would make arborist (npm's, Pulumi's) distrust that
        // lockfile and read every package.json instead.
        const nodeModules = path.join(process.cwd(), "node_modules");
        const before = fs.statSync(nodeModules).mtimeMs;
        await packageTree.writePackageTree(process.cwd());
        expect(fs.statSync(nodeModules).mtimeMs).to.equal(before);
        expect(path.relative(nodeModules, packageTree.packageTreeFile(process.cwd()))).to.match(/^\.\./);
    });

    it("spares a process arborist's ~300 modules when Pulumi loads after usePackagerArborist", async () => {
        // A fresh process, as a recorder thread or `npm run outputs` is, reading the tree where
        // `prepare` keeps it.
        await packageTree.writePackageTree(process.cwd());
        const script = `
            const packageTree = require(${JSON.stringify(require.resolve("../../program/packageTree.js"))});
            packageTree.usePackagerArborist();
            const pulumi = require("@pulumi/pulumi");
            pulumi.runtime.computeCodePaths({}).then((paths) => {
                const loaded = Object.keys(require.cache).some((file) => /[\\/]@npmcli[\\/]arborist[\\/]/.test(file));
                console.log(JSON.stringify({ loaded, paths: paths.size }));
            });`;
        const run = spawnSync(process.execPath, ["-e", script], { cwd: process.cwd(), encoding: "utf8" });
        expect(run.status, run.stderr).to.equal(0);
        const { loaded, paths } = JSON.parse(run.stdout.trim().split("\n").pop()!) as {
            loaded: boolean;
            paths: number;
        };
        expect(loaded, "arborist loaded").to.equal(false);
        expect(paths).to.be.greaterThan(0);
    });

    it("keeps no tree once anything is installed, or when its file is damaged", async () => {
        const project = fs.mkdtempSync(path.join(process.cwd(), ".local", "package-tree-"));
        dirs.push(project);
        writeJson(path.join(project, "package.json"), { name: "fixture", version: "1.0.0", dependencies: { a: "1" } });
        writeJson(path.join(project, "node_modules", "a", "package.json"), { name: "a", version: "1.0.0" });
        const treeFile = path.join(project, "tree.json");
        await packageTree.writePackageTree(project, treeFile);
        expect(packageTree.keptPackageTree(project, treeFile), "as written").to.not.equal(undefined);

        const later = new Date(Date.now() + 5000);
        fs.utimesSync(path.join(project, "package.json"), later, later);
        expect(packageTree.keptPackageTree(project, treeFile), "package.json changed").to.equal(undefined);

        await packageTree.writePackageTree(project, treeFile);
        fs.writeFileSync(path.join(project, "node_modules", "b"), "");
        expect(packageTree.keptPackageTree(project, treeFile), "node_modules changed").to.equal(undefined);

        await packageTree.writePackageTree(project, treeFile);
        fs.writeFileSync(treeFile, fs.readFileSync(treeFile, "utf8").slice(0, 100));
        expect(packageTree.keptPackageTree(project, treeFile), "damaged").to.equal(undefined);
        expect(packageTree.keptPackageTree(project, path.join(project, "none.json")), "missing").to.equal(undefined);
    });

    it("reads the tree with arborist when none is kept, once while the packages stay as they are", async () => {
        const project = fs.mkdtempSync(path.join(process.cwd(), ".local", "package-tree-"));
        dirs.push(project);
        writeJson(path.join(project, "package.json"), { name: "fixture", version: "1.0.0", dependencies: { a: "1" } });
        writeJson(path.join(project, "node_modules", "a", "package.json"), { name: "a", version: "1.0.0" });
        const { Arborist } = packageTree.packagerArborist({ treeFile: () => path.join(project, "none.json") }) as {
            Arborist: new (options: { path: string }) => { loadActual(): Promise<{ children: Map<string, unknown> }> };
        };
        const first = new Arborist({ path: project }).loadActual();
        expect([...(await first).children.keys()]).to.deep.equal(["a"]);
        expect(new Arborist({ path: project }).loadActual(), "read once").to.equal(first);
        const later = new Date(Date.now() + 5000);
        fs.utimesSync(path.join(project, "package.json"), later, later);
        expect(new Arborist({ path: project }).loadActual(), "read again after an install").to.not.equal(first);
    });
});
