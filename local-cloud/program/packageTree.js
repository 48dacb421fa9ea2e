// The package tree Pulumi's closure packager reads, written once at install. For every
// `CallbackFunction`, @pulumi/pulumi (runtime/closure/codePaths.js) has @npmcli/arborist read the
// project's node_modules (`loadActual`) to find the packages each archive needs. On the recorder
// thread of a cold start that was ~1 s of one core: ~0.5 s loading arborist's ~300 modules, ~0.5 s
// reading the tree. The tree changes only when packages are installed, so `npm ci` / `npm install`
// (the project's `prepare` script) has arborist read it once and keeps the part Pulumi reads (each
// node's name, path, real path, link target, parent, children, and its package's `dependencies`
// and `pulumi` fields) in .local/install/package-tree.json, stamped with the package files
// (package.json, the lockfiles, node_modules/.package-lock.json, node_modules itself, linked
// packages' folders and package.json): an npm install changes the stamp (one that does not run
// `prepare`, `npm install <name>`, leaves a stale stamp, and the real arborist reads). Every process
// that records (the recorder thread, `npm run outputs`, tests: `usePackagerArborist`) gives Pulumi's
// packager an `Arborist` that hands back that tree while the stamp holds, and the real one's tree
// otherwise (loaded then, kept per stamp). What Pulumi builds from either is the same archive
// (local-cloud/tests/program/packageTree.test.ts compares them). Plain JavaScript: the thread
// loads it before ts-node is registered, and `prepare` runs it with node.
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const FORMAT = 2;

/**
 * Where the tree of the project in `projectDir` is kept: beside the local cloud's state, not in
 * node_modules (a folder created there makes node_modules newer than npm's hidden lockfile, and
 * arborist, npm's and Pulumi's alike, then reads every package.json instead: ~3 minutes of CPU
 * over a test run, measured).
 * @param {string} projectDir
 */
function packageTreeFile(projectDir) {
    return path.join(projectDir, ".local", "install", "package-tree.json");
}

/** The files a package install writes (the program cache hashes their text, the stamp below their times). */
const INSTALL_FILES = [
    "package.json",
    "package-lock.json",
    "npm-shrinkwrap.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    path.join("node_modules", ".package-lock.json"),
];

/**
 * The package files' modification times and sizes (an npm install rewrites them), and those of
 * each linked package's folder and package.json (a `file:` or workspace package is edited in
 * place, and arborist reads it again every time).
 * @param {string} projectDir @param {string[]} [linked] linked packages' folders, relative to it
 */
function packageStamp(projectDir, linked = []) {
    const files = [...INSTALL_FILES, "node_modules", ...linked.flatMap((dir) => [dir, path.join(dir, "package.json")])];
    return files
        .map((name) => {
            try {
                const stat = fs.statSync(path.resolve(projectDir, name));
                return `${stat.mtimeMs}:${stat.size}`;
            } catch {
                return "-";
            }
        })
        .join("|");
}

/** The files Pulumi's packager itself loads (arborist is Pulumi's dependency, not the project's). @param {string} projectDir */
function packagerFiles(projectDir) {
    const codePaths = require.resolve("@pulumi/pulumi/runtime/closure/codePaths", { paths: [projectDir] });
    const arborist = require.resolve("@npmcli/arborist", { paths: [path.dirname(codePaths)] });
    return { codePaths, arborist };
}

/** What the kept tree is valid for besides the stamp: the packager's and arborist's versions. @param {string} projectDir */
function packagerVersions(projectDir) {
    const versionOf = (file, name) => {
        for (let dir = path.dirname(file); dir !== path.dirname(dir); dir = path.dirname(dir)) {
            const manifest = path.join(dir, "package.json");
            if (fs.existsSync(manifest)) {
                const pkg = JSON.parse(fs.readFileSync(manifest, "utf8"));
                if (pkg.name === name) {
                    return pkg.version;
                }
            }
        }
        return "?";
    };
    const files = packagerFiles(projectDir);
    return `@pulumi/pulumi@${versionOf(files.codePaths, "@pulumi/pulumi")} @npmcli/arborist@${versionOf(files.arborist, "@npmcli/arborist")}`;
}

/** A path relative to the project when inside it (a moved clone still reads right), else absolute. */
function projectPath(projectDir, file) {
    const relative = path.relative(projectDir, file);
    return relative.startsWith("..") || path.isAbsolute(relative) ? path.resolve(file) : relative;
}

/**
 * Arborist's tree as plain nodes: references by index, paths as `projectPath` keeps them, `package`
 * reduced to the two fields the packager reads.
 * @param {any} root @param {string} projectDir
 */
function flattenTree(root, projectDir) {
    const index = new Map();
    const queue = [];
    const ref = (node) => {
        if (node === undefined || node === null) {
            return -1;
        }
        let i = index.get(node);
        if (i === undefined) {
            i = queue.length;
            index.set(node, i);
            queue.push(node);
        }
        return i;
    };
    ref(root);
    const nodes = [];
    for (let i = 0; i < queue.length; i++) {
        const node = queue[i];
        const pkg = node.package ?? {};
        nodes.push({
            name: node.name,
            path: projectPath(projectDir, node.path),
            realpath: projectPath(projectDir, node.realpath),
            isLink: node.isLink === true,
            package: { dependencies: pkg.dependencies, pulumi: pkg.pulumi },
            parent: ref(node.parent),
            root: ref(node.root),
            target: ref(node.target),
            children: [...node.children].map(([name, child]) => [name, ref(child)]),
        });
    }
    return nodes;
}

/** The plain nodes as the objects the packager walks (maps of children, references). */
function rebuildTree(nodes, projectDir) {
    const built = nodes.map((node) => ({
        name: node.name,
        path: path.resolve(projectDir, node.path),
        realpath: path.resolve(projectDir, node.realpath),
        isLink: node.isLink,
        package: node.package,
        children: new Map(),
    }));
    const at = (i) => (i >= 0 ? built[i] : null);
    nodes.forEach((node, i) => {
        built[i].parent = at(node.parent);
        built[i].root = at(node.root);
        built[i].target = at(node.target);
        for (const [name, child] of node.children) {
            built[i].children.set(name, built[child]);
        }
    });
    return built[0];
}

/** Has arborist read the project's tree and keeps it (the project's `prepare`). @param {string} projectDir */
async function writePackageTree(projectDir, file = packageTreeFile(projectDir)) {
    const { Arborist } = require(packagerFiles(projectDir).arborist);
    const root = await new Arborist({ path: projectDir }).loadActual();
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const nodes = flattenTree(root, projectDir);
    const linked = [...new Set(nodes.filter((node) => node.isLink).map((node) => nodes[node.target]?.realpath))].filter(
        (dir) => typeof dir === "string",
    );
    const kept = {
        format: FORMAT,
        packager: packagerVersions(projectDir),
        linked,
        stamp: packageStamp(projectDir, linked),
        nodes,
    };
    const temp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(temp, JSON.stringify(kept));
    fs.renameSync(temp, file);
    return kept.nodes.length;
}

/**
 * The kept tree of the project in `projectDir` while the packages are as they were when it was
 * written; undefined when none is kept, it is damaged, or anything was installed since.
 * @param {string} projectDir
 */
function keptPackageTree(projectDir, file = packageTreeFile(projectDir)) {
    let kept;
    try {
        kept = JSON.parse(fs.readFileSync(file, "utf8"));
    } catch {
        return undefined;
    }
    try {
        if (
            kept?.format !== FORMAT ||
            !Array.isArray(kept.nodes) ||
            kept.nodes.length === 0 ||
            !Array.isArray(kept.linked) ||
            kept.stamp !== packageStamp(projectDir, kept.linked) ||
            kept.packager !== packagerVersions(projectDir)
        ) {
            return undefined;
        }
    } catch {
        // The packager's files cannot be found or read: the real arborist decides.
        return undefined;
    }
    try {
        return rebuildTree(kept.nodes, projectDir);
    } catch {
        return undefined;
    }
}

/**
 * A stand-in for the packager's `loadActual()` on the project in a folder: the kept tree while the
 * stamp holds, else `readReal()`'s, read once per stamp (the tree does not change between two
 * functions or two reloads unless packages are installed; Pulumi only reads it).
 * @param {(folder: string) => string} [treeFile]
 */
function packageTreeReader(treeFile = packageTreeFile) {
    /** @type {Map<string, { stamp: string; tree: Promise<unknown> }>} */
    const read = new Map();
    /** @param {string} folder @param {() => Promise<unknown>} readReal */
    return (folder, readReal) => {
        const stamp = packageStamp(folder);
        const known = read.get(folder);
        if (known !== undefined && known.stamp === stamp) {
            return known.tree;
        }
        const kept = keptPackageTree(folder, treeFile(folder));
        const tree = kept !== undefined ? Promise.resolve(kept) : readReal();
        read.set(folder, { stamp, tree });
        tree.catch(() => read.delete(folder));
        return tree;
    };
}

/**
 * What the recorder thread hands Pulumi's packager for `@npmcli/arborist`: an `Arborist` whose
 * `loadActual()` reads through `packageTreeReader`, loading the real arborist only when the kept
 * tree does not serve. Calls with options are not the packager's: they go to the real one.
 * @param {{ treeFile?: (projectDir: string) => string }} [options]
 */
function packagerArborist(options = {}) {
    const readTree = packageTreeReader(options.treeFile);
    let Real;
    class Arborist {
        /** @param {{ path?: string }} [arboristOptions] */
        constructor(arboristOptions = {}) {
            this.options = arboristOptions;
            this.path = path.resolve(arboristOptions.path || ".");
        }

        /** @param {Record<string, unknown>} [loadOptions] */
        loadActual(loadOptions) {
            const real = () => new (Real ??= require(packagerFiles(this.path).arborist).Arborist)(this.options);
            if (loadOptions !== undefined && Object.keys(loadOptions).length > 0) {
                return real().loadActual(loadOptions);
            }
            return readTree(this.path, () => real().loadActual());
        }
    }
    return { __esModule: true, Arborist };
}

/** Whether a module asking for `@npmcli/arborist` is Pulumi's packager. @param {string | undefined} file */
function isPulumiPackager(file) {
    return typeof file === "string" && /[\\/]@pulumi[\\/]pulumi[\\/]runtime[\\/]closure[\\/]codePaths\.js$/.test(file);
}

const INSTALLED = Symbol.for("local-cloud.packager-arborist");

/**
 * From now on, Pulumi's packager gets `packagerArborist()` when it loads (once per process; a
 * packager loaded before keeps the real arborist: see rerecord.ts `reusePackageTrees`).
 */
function usePackagerArborist() {
    if (globalThis[INSTALLED]) {
        return;
    }
    globalThis[INSTALLED] = true;
    const Module = require("node:module");
    const arborist = packagerArborist();
    const load = Module._load;
    Module._load = function (request, parent, isMain) {
        if (request === "@npmcli/arborist" && isPulumiPackager(parent?.filename)) {
            return arborist;
        }
        return load.call(this, request, parent, isMain);
    };
}

module.exports = {
    INSTALL_FILES,
    isPulumiPackager,
    keptPackageTree,
    packageStamp,
    packageTreeFile,
    packageTreeReader,
    packagerArborist,
    packagerFiles,
    usePackagerArborist,
    writePackageTree,
};
