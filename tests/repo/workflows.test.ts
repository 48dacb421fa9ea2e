// The GitHub Actions workflows in .github/workflows: CI runs the README's `npm ci` and `npm test`;
// preview (pull requests) and deploy (push to main) run pulumi/actions with the guardrails pack
// after installing what the pack needs; prod is deployed only after dev, in the approved
// `production` environment; one update of a stack at a time; least-privilege tokens; secrets by
// name only. Every check is a small function that returns the problems it finds, so the last
// block can run each one over a deliberately broken in-memory copy and see it complain.
import * as fs from "node:fs";
import * as path from "node:path";
import { expect } from "chai";
import { parse, stringify } from "yaml";

const PROJECT_DIR = path.resolve(__dirname, "../..");
const WORKFLOWS_DIR = path.join(PROJECT_DIR, ".github", "workflows");
const PACK = "policies/guardrails";
const PROD_ENVIRONMENT = "production";

type Dict = Record<string, unknown>;
type Step = {
    id?: string;
    name?: string;
    uses?: string;
    run?: string;
    with?: Dict;
    env?: Dict;
    "working-directory"?: string;
};
type Job = {
    "runs-on"?: unknown;
    uses?: string;
    needs?: string | string[];
    environment?: string | { name?: string; url?: string };
    permissions?: string | Dict;
    concurrency?: string | { group?: string; "cancel-in-progress"?: unknown };
    strategy?: { matrix?: Dict };
    env?: Dict;
    steps?: Step[];
};
type Workflow = {
    name?: string;
    on?: unknown;
    permissions?: string | Dict;
    concurrency?: string | { group?: string; "cancel-in-progress"?: unknown };
    env?: Dict;
    jobs?: Record<string, Job>;
};
type Loaded = { file: string; text: string; doc: Workflow };
type PackageJson = { dependencies?: Record<string, string>; devDependencies?: Record<string, string> };

// ---- reading -------------------------------------------------------------------------------

function workflowFiles(): string[] {
    return fs
        .readdirSync(WORKFLOWS_DIR)
        .filter((name) => /\.ya?ml$/.test(name))
        .sort();
}

function load(file: string): Loaded {
    const text = fs.readFileSync(path.join(WORKFLOWS_DIR, file), "utf8");
    return { file, text, doc: parse(text) as Workflow };
}

/** A copy whose document can be broken freely; its text is re-serialized from the document. */
function broken(original: Loaded, breakIt: (doc: Workflow) => void): Loaded {
    const doc = structuredClone(original.doc);
    breakIt(doc);
    return { file: original.file, text: stringify(doc), doc };
}

function readJson<T>(relative: string): T {
    return JSON.parse(fs.readFileSync(path.join(PROJECT_DIR, relative), "utf8")) as T;
}

/** The shell commands of a `run:` script: split on newlines, `&&`, `||` and `;`, comments dropped. */
function commandsOf(script: string | undefined): string[] {
    if (script === undefined) return [];
    return script
        .split("\n")
        .map((line) => line.replace(/(^|\s)#.*$/, ""))
        .flatMap((line) => line.split(/&&|\|\||;/))
        .map((command) => command.trim().replace(/\s+/g, " "))
        .filter((command) => command !== "");
}

/** The `npm ci` and `npm test` commands of the README's first sh block that runs `npm test`. */
function readmeTestCommands(readme: string): { install: string; test: string } {
    const blocks = [...readme.matchAll(/```(?:sh|bash)\n([\s\S]*?)```/g)].map((m) => commandsOf(m[1]));
    const block = blocks.find((commands) => commands.some((c) => c.startsWith("npm test")));
    if (!block) throw new Error("README.md has no sh block that runs npm test");
    const test = block.find((c) => c.startsWith("npm test"))!;
    const install = block.find((c) => c.startsWith("npm ci"));
    if (!install) throw new Error("README.md's npm test block does not say how to install (npm ci)");
    return { install, test };
}

/** The events of `on:` (string, list or map) as a map from event to its filter. */
function triggers(doc: Workflow): Dict {
    const on = doc.on;
    if (typeof on === "string") return { [on]: null };
    if (Array.isArray(on)) return Object.fromEntries(on.map((event) => [String(event), null]));
    if (on && typeof on === "object") return on as Dict;
    return {};
}

function branchesOf(filter: unknown): string[] | undefined {
    if (!filter || typeof filter !== "object") return undefined;
    const branches = (filter as Dict)["branches"];
    return Array.isArray(branches) ? branches.map(String) : typeof branches === "string" ? [branches] : undefined;
}

function jobsOf(doc: Workflow): Array<[string, Job]> {
    return Object.entries(doc.jobs ?? {});
}

function stepsOf(job: Job): Step[] {
    return Array.isArray(job.steps) ? job.steps : [];
}

function isAction(step: Step, action: string): boolean {
    return typeof step.uses === "string" && step.uses.split("@")[0] === action;
}

function listInput(value: unknown): string[] {
    if (value === undefined || value === null) return [];
    return String(value)
        .split(/[\n,]/)
        .map((s) => s.trim())
        .filter((s) => s !== "");
}

function environmentName(job: Job): string | undefined {
    return typeof job.environment === "string" ? job.environment : job.environment?.name;
}

function needsOf(job: Job): string[] {
    return job.needs === undefined ? [] : Array.isArray(job.needs) ? job.needs : [job.needs];
}

/** The stacks a pulumi/actions step runs on: `stack-name`, a `${{ matrix.x }}` expanded, org dropped. */
function stacksOf(job: Job, step: Step): string[] {
    const raw = step.with?.["stack-name"];
    if (typeof raw !== "string" || raw.trim() === "") return [];
    const matrixRef = /^\$\{\{\s*matrix\.([A-Za-z0-9_-]+)\s*\}\}$/.exec(raw.trim());
    const names = matrixRef
        ? ((job.strategy?.matrix?.[matrixRef[1]!] as unknown[] | undefined) ?? []).map(String)
        : [raw.trim()];
    return names.map((name) => name.split("/").pop()!);
}

type PulumiRun = { jobId: string; job: Job; index: number; step: Step; command: string; stacks: string[] };

function pulumiRuns(doc: Workflow): PulumiRun[] {
    return jobsOf(doc).flatMap(([jobId, job]) =>
        stepsOf(job).flatMap((step, index) =>
            isAction(step, "pulumi/actions")
                ? [
                      {
                          jobId,
                          job,
                          index,
                          step,
                          command: String(step.with?.["command"] ?? ""),
                          stacks: stacksOf(job, step),
                      },
                  ]
                : [],
        ),
    );
}

function permissionsOf(doc: Workflow, job: Job): string | Dict | undefined {
    return job.permissions ?? doc.permissions;
}

// ---- checks: each returns a list of problems, empty when all is well -------------------------

/** Parses, has triggers and jobs, every job has a runner and steps. */
function structureProblems(w: Loaded): string[] {
    const problems: string[] = [];
    let doc: unknown;
    try {
        doc = parse(w.text);
    } catch (err) {
        return [`${w.file}: does not parse: ${(err as Error).message}`];
    }
    if (!doc || typeof doc !== "object") return [`${w.file}: is not a mapping`];
    const wf = doc as Workflow;
    if (Object.keys(triggers(wf)).length === 0) problems.push(`${w.file}: no \`on:\` triggers`);
    if (jobsOf(wf).length === 0) problems.push(`${w.file}: no jobs`);
    for (const [id, job] of jobsOf(wf)) {
        if (job.uses) continue; // a reusable-workflow call has neither
        if (!job["runs-on"]) problems.push(`${w.file}: job ${id} has no runs-on`);
        if (stepsOf(job).length === 0) problems.push(`${w.file}: job ${id} has no steps`);
        stepsOf(job).forEach((step, i) => {
            if (!step.uses && !step.run)
                problems.push(`${w.file}: job ${id} step ${i + 1} neither uses an action nor runs a command`);
        });
    }
    return problems;
}

/** Every action is pinned to a major version tag (`owner/repo@v7`), never a branch. */
function pinningProblems(w: Loaded): string[] {
    return jobsOf(w.doc).flatMap(([id, job]) =>
        stepsOf(job)
            .filter((step) => step.uses !== undefined && !step.uses.startsWith("./"))
            .filter((step) => !/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_./-]+@v\d+$/.test(step.uses!))
            .map((step) => `${w.file}: job ${id} uses ${step.uses}, not pinned to a major version (@vN)`),
    );
}

/** No literal credential anywhere; every `secrets` reference is `secrets.NAME`; sensitive values come from secrets. */
function secretProblems(w: Loaded): string[] {
    const problems: string[] = [];
    const literals: Array<[string, RegExp]> = [
        ["an AWS access key id", /\b(AKIA|ASIA)[0-9A-Z]{16}\b/],
        ["a Pulumi access token", /\bpul-[0-9a-f]{40}\b/],
        ["a GitHub token", /\bgh[pousr]_[A-Za-z0-9]{36,}\b/],
        ["a private key", /-----BEGIN [A-Z ]*PRIVATE KEY-----/],
        ["an AWS secret access key", /aws_secret_access_key\s*[:=]\s*[A-Za-z0-9/+=]{40}/i],
    ];
    for (const [what, pattern] of literals) {
        if (pattern.test(w.text)) problems.push(`${w.file}: contains what looks like ${what}`);
    }
    for (const expression of w.text.matchAll(/\$\{\{([\s\S]*?)\}\}/g)) {
        if (/\bsecrets\b(?!\.[A-Za-z_][A-Za-z0-9_]*\b)/.test(expression[1]!)) {
            problems.push(`${w.file}: \`\${{${expression[1]}}}\` uses secrets other than by name (secrets.NAME)`);
        }
    }
    const sensitive = /TOKEN|SECRET|PASSPHRASE|PASSWORD|PRIVATE|ACCESS_KEY|ROLE_ARN|role-to-assume|aws-access-key-id/i;
    const byName = /^\$\{\{\s*(secrets\.[A-Za-z_][A-Za-z0-9_]*|github\.token)\s*\}\}$/;
    const check = (where: string, values: Dict | undefined) => {
        for (const [key, value] of Object.entries(values ?? {})) {
            if (sensitive.test(key) && !byName.test(String(value).trim())) {
                problems.push(`${w.file}: ${where} sets ${key} to a value that is not \${{ secrets.NAME }}`);
            }
        }
    };
    check("the workflow env", w.doc.env);
    for (const [id, job] of jobsOf(w.doc)) {
        check(`job ${id} env`, job.env);
        stepsOf(job).forEach((step) => {
            check(`job ${id} step ${step.name ?? step.uses ?? ""} env`, step.env);
            check(`job ${id} step ${step.name ?? step.uses ?? ""} with`, step.with);
        });
    }
    return problems;
}

/**
 * An explicit `permissions:` for every job, write access only to the scopes named, and
 * `pull-requests: write` only where a step comments on the PR.
 */
function permissionProblems(w: Loaded, allowedWrites: string[]): string[] {
    const problems: string[] = [];
    const comments = pulumiRuns(w.doc).some((run) => String(run.step.with?.["comment-on-pr"]) === "true");
    for (const [id, job] of jobsOf(w.doc)) {
        const permissions = permissionsOf(w.doc, job);
        if (permissions === undefined) {
            problems.push(`${w.file}: job ${id} has no permissions: (the default token scope applies)`);
            continue;
        }
        if (typeof permissions === "string") {
            if (permissions !== "read-all") problems.push(`${w.file}: job ${id} has permissions: ${permissions}`);
            continue;
        }
        for (const [scope, level] of Object.entries(permissions)) {
            if (level === "write" && !allowedWrites.includes(scope))
                problems.push(`${w.file}: job ${id} may write ${scope}`);
        }
        if (permissions["pull-requests"] === "write" && !comments) {
            problems.push(`${w.file}: job ${id} may write pull-requests but nothing comments on a PR`);
        }
    }
    return problems;
}

/**
 * CI runs on every push and pull request, on Node 22 with the npm cache, then the README's install and test commands in
 * that order.
 */
function ciProblems(w: Loaded, readme: { install: string; test: string }): string[] {
    const problems: string[] = [];
    const on = triggers(w.doc);
    for (const event of ["push", "pull_request"]) {
        if (!(event in on)) problems.push(`${w.file}: does not run on ${event}`);
        else if (branchesOf(on[event]) !== undefined)
            problems.push(`${w.file}: runs on ${event} to some branches only`);
    }
    const jobs = jobsOf(w.doc).filter(([, job]) =>
        stepsOf(job).some((step) => commandsOf(step.run).includes(readme.test)),
    );
    if (jobs.length === 0) problems.push(`${w.file}: no step runs \`${readme.test}\` (the README's test command)`);
    for (const [id, job] of jobs) {
        const steps = stepsOf(job);
        const at = (command: string) => steps.findIndex((step) => commandsOf(step.run).includes(command));
        const install = at(readme.install);
        const test = at(readme.test);
        if (install < 0) problems.push(`${w.file}: job ${id} never runs \`${readme.install}\``);
        else if (install > test)
            problems.push(`${w.file}: job ${id} runs \`${readme.test}\` before \`${readme.install}\``);
        else if (install === test) {
            const commands = commandsOf(steps[test]!.run);
            if (commands.indexOf(readme.install) > commands.indexOf(readme.test))
                problems.push(`${w.file}: job ${id} runs \`${readme.test}\` before \`${readme.install}\``);
        }
        const setupNode = steps.findIndex((step) => isAction(step, "actions/setup-node"));
        const checkout = steps.findIndex((step) => isAction(step, "actions/checkout"));
        if (checkout < 0 || (install >= 0 && checkout > install))
            problems.push(`${w.file}: job ${id} does not check out the repository first`);
        if (setupNode < 0 || (install >= 0 && setupNode > install)) {
            problems.push(`${w.file}: job ${id} does not set up Node before \`${readme.install}\``);
        } else {
            const setup = steps[setupNode]!.with ?? {};
            if (!/^22(\.|$)/.test(String(setup["node-version"] ?? "")))
                problems.push(`${w.file}: job ${id} sets up Node ${String(setup["node-version"])}, not 22`);
            if (setup["cache"] !== "npm")
                problems.push(`${w.file}: job ${id} does not cache npm (setup-node cache: npm)`);
        }
    }
    return problems;
}

/**
 * Before each pulumi step, something installs what the policy pack needs: `npm ci` in
 * policies/guardrails (its own lockfile), or the root `npm ci`, which serves only while the root
 * package.json installs every dependency of the pack (Pulumi resolves them from the pack's folder,
 * and Node looks in the root node_modules from there).
 */
function packInstallProblems(w: Loaded, root: PackageJson, pack: PackageJson): string[] {
    const problems: string[] = [];
    for (const run of pulumiRuns(w.doc)) {
        const before = stepsOf(run.job).slice(0, run.index);
        const own = before.some((step) => {
            const commands = commandsOf(step.run).filter((c) => /^npm (ci|clean-install)\b/.test(c));
            return (
                commands.some((c) => c.includes(`--prefix ${PACK}`)) ||
                (commands.length > 0 && step["working-directory"]?.replace(/\/$/, "") === PACK)
            );
        });
        if (own) continue;
        const rootInstall = before
            .filter((step) => step["working-directory"] === undefined || step["working-directory"] === ".")
            .flatMap((step) => commandsOf(step.run))
            .find((c) => /^npm (ci|clean-install)\b/.test(c) && !c.includes("--prefix"));
        if (!rootInstall) {
            problems.push(
                `${w.file}: job ${run.jobId} runs pulumi/actions before installing the policy pack's dependencies (npm ci)`,
            );
            continue;
        }
        const withoutDev = /--omit[= ]dev|--production\b|--only[= ]prod/.test(rootInstall);
        const provided = { ...root.dependencies, ...(withoutDev ? {} : root.devDependencies) };
        const missing = Object.keys(pack.dependencies ?? {}).filter((name) => !(name in provided));
        if (missing.length > 0) {
            problems.push(
                `${w.file}: job ${run.jobId}: \`${rootInstall}\` does not install ${missing.join(", ")} for ${PACK}; add \`npm ci --prefix ${PACK}\``,
            );
        }
    }
    return problems;
}

/** Every pulumi step: the pack and its config, backend credentials from secrets, AWS through OIDC before it. */
function pulumiStepProblems(w: Loaded, command: string): string[] {
    const problems: string[] = [];
    const runs = pulumiRuns(w.doc);
    if (runs.length === 0) problems.push(`${w.file}: no pulumi/actions step`);
    for (const run of runs) {
        const where = `${w.file}: job ${run.jobId} pulumi ${run.command || "(no command)"}`;
        if (run.command !== command) problems.push(`${where}: expected command ${command}`);
        if (run.stacks.length === 0) problems.push(`${where}: no stack-name`);
        const packs = listInput(run.step.with?.["policyPacks"]);
        if (!packs.includes(PACK)) problems.push(`${where}: does not enforce the ${PACK} policy pack (policyPacks)`);
        for (const pack of packs) {
            if (!fs.existsSync(path.join(PROJECT_DIR, pack, "PulumiPolicy.yaml")))
                problems.push(`${where}: policy pack ${pack} does not exist`);
        }
        const configs = listInput(run.step.with?.["policyPackConfigs"]);
        if (configs.length > 0 && configs.length !== packs.length)
            problems.push(`${where}: ${packs.length} policy packs but ${configs.length} configs`);
        for (const config of configs) {
            try {
                JSON.parse(fs.readFileSync(path.join(PROJECT_DIR, config), "utf8"));
            } catch {
                problems.push(`${where}: policy pack config ${config} is missing or not JSON`);
            }
        }
        const token =
            run.step.env?.["PULUMI_ACCESS_TOKEN"] ??
            run.job.env?.["PULUMI_ACCESS_TOKEN"] ??
            w.doc.env?.["PULUMI_ACCESS_TOKEN"];
        if (!/^\$\{\{\s*secrets\.PULUMI_ACCESS_TOKEN\s*\}\}$/.test(String(token ?? "").trim()))
            problems.push(`${where}: PULUMI_ACCESS_TOKEN is not \${{ secrets.PULUMI_ACCESS_TOKEN }}`);
        const aws = stepsOf(run.job)
            .slice(0, run.index)
            .find((step) => isAction(step, "aws-actions/configure-aws-credentials"));
        if (!aws) {
            problems.push(`${where}: no aws-actions/configure-aws-credentials step before it`);
        } else {
            if (!/^\$\{\{\s*secrets\.AWS_ROLE_ARN\s*\}\}$/.test(String(aws.with?.["role-to-assume"] ?? "").trim()))
                problems.push(`${where}: AWS role-to-assume is not \${{ secrets.AWS_ROLE_ARN }}`);
            if (aws.with?.["aws-access-key-id"] !== undefined || aws.with?.["aws-secret-access-key"] !== undefined)
                problems.push(`${where}: long-lived AWS keys instead of OIDC`);
            const permissions = permissionsOf(w.doc, run.job);
            const idToken =
                typeof permissions === "object"
                    ? permissions["id-token"]
                    : permissions === "write-all"
                      ? "write"
                      : undefined;
            if (idToken !== "write") problems.push(`${where}: OIDC needs permissions id-token: write`);
        }
    }
    return problems;
}

/** Preview: pull requests to main, both stacks at least dev, result commented on the PR. */
function previewProblems(w: Loaded): string[] {
    const problems: string[] = [];
    const on = triggers(w.doc);
    if (!("pull_request" in on)) problems.push(`${w.file}: does not run on pull_request`);
    else if (!(branchesOf(on["pull_request"]) ?? ["main"]).includes("main"))
        problems.push(`${w.file}: does not run on pull requests to main`);
    if ("pull_request_target" in on) problems.push(`${w.file}: runs on pull_request_target (fork code with secrets)`);
    const runs = pulumiRuns(w.doc);
    if (!runs.some((run) => run.stacks.includes("dev"))) problems.push(`${w.file}: does not preview the dev stack`);
    // A preview runs the PR's code with the stack's secrets decrypted: never prod's.
    if (runs.some((run) => run.stacks.includes("prod")))
        problems.push(`${w.file}: previews the prod stack on pull requests (the PR's code would see prod's secrets)`);
    for (const run of runs) {
        if (String(run.step.with?.["comment-on-pr"]) !== "true")
            problems.push(`${w.file}: job ${run.jobId} does not comment on the PR (comment-on-pr: true)`);
        if (run.step.with?.["github-token"] === undefined)
            problems.push(`${w.file}: job ${run.jobId} passes no github-token for the comment`);
    }
    return problems;
}

/** The group a job's updates queue in, or a problem if its runs could overlap or be cancelled mid-update. */
function concurrencyProblem(w: Loaded, jobId: string, job: Job): string | undefined {
    const concurrency = job.concurrency ?? w.doc.concurrency;
    const group = typeof concurrency === "string" ? concurrency : concurrency?.group;
    if (!group) return `${w.file}: job ${jobId} has no concurrency group: two updates of its stack could overlap`;
    if (/\$\{\{(?![^}]*\bmatrix\.)[^}]*\}\}/.test(group))
        return `${w.file}: job ${jobId}'s concurrency group "${group}" changes from run to run`;
    if (typeof concurrency === "object" && String(concurrency["cancel-in-progress"]) === "true") {
        return `${w.file}: job ${jobId} cancels a running update (cancel-in-progress: true)`;
    }
    return undefined;
}

/**
 * Deploy: push to main only; dev first; prod only in the approved environment, after dev; one update per stack at a
 * time.
 */
function deployProblems(w: Loaded): string[] {
    const problems: string[] = [];
    const on = triggers(w.doc);
    const events = Object.keys(on).filter((event) => event !== "workflow_dispatch");
    if (events.join() !== "push")
        problems.push(`${w.file}: runs on ${events.join(", ") || "nothing"}, not only on push`);
    const branches = branchesOf(on["push"]);
    if (!branches || branches.join() !== "main")
        problems.push(`${w.file}: deploys on pushes to ${branches?.join(", ") ?? "every branch"}, not only main`);

    const runs = pulumiRuns(w.doc).filter((run) => run.command === "up" || run.command === "update");
    const devJobs = runs.filter((run) => run.stacks.includes("dev"));
    const prodJobs = runs.filter((run) => run.stacks.includes("prod"));
    if (devJobs.length === 0) problems.push(`${w.file}: no job runs pulumi up on the dev stack`);
    if (prodJobs.length === 0) problems.push(`${w.file}: no job runs pulumi up on the prod stack`);
    for (const run of runs) {
        if (run.stacks.length > 1)
            problems.push(`${w.file}: job ${run.jobId} updates ${run.stacks.join(" and ")} in one job`);
        const problem = concurrencyProblem(w, run.jobId, run.job);
        if (problem) problems.push(problem);
    }
    for (const prod of prodJobs) {
        if (environmentName(prod.job) !== PROD_ENVIRONMENT) {
            problems.push(
                `${w.file}: job ${prod.jobId} updates prod outside the ${PROD_ENVIRONMENT} environment (no approval)`,
            );
        }
        for (const dev of devJobs) {
            if (dev.jobId === prod.jobId) continue;
            if (!needsOf(prod.job).includes(dev.jobId))
                problems.push(`${w.file}: job ${prod.jobId} (prod) does not need job ${dev.jobId} (dev)`);
        }
    }
    for (const dev of devJobs) {
        if (environmentName(dev.job) === PROD_ENVIRONMENT)
            problems.push(`${w.file}: job ${dev.jobId} updates dev in the ${PROD_ENVIRONMENT} environment`);
    }
    const groups = runs.map((run) => {
        const c = run.job.concurrency ?? w.doc.concurrency;
        return typeof c === "string" ? c : c?.group;
    });
    if (devJobs.length > 0 && prodJobs.length > 0 && new Set(groups).size < 2) {
        problems.push(`${w.file}: dev and prod updates share one concurrency group`);
    }
    return problems;
}

/** docs/ci.md names every secret, variable and environment the workflows use. */
function docsProblems(workflows: Loaded[], doc: string): string[] {
    const names = new Set<string>();
    for (const w of workflows) {
        for (const m of w.text.matchAll(/\b(?:secrets|vars)\.([A-Za-z_][A-Za-z0-9_]*)/g))
            if (m[1] !== "GITHUB_TOKEN") names.add(m[1]!);
        for (const [, job] of jobsOf(w.doc)) {
            const env = environmentName(job);
            if (env) names.add(env);
        }
    }
    return [...names]
        .filter((name) => !doc.includes(`\`${name}\``))
        .map((name) => `docs/ci.md does not name \`${name}\``);
}

// ---- the repository's workflows ----------------------------------------------------------------

describe("GitHub Actions workflows", () => {
    const readme = readmeTestCommands(fs.readFileSync(path.join(PROJECT_DIR, "README.md"), "utf8"));
    const root = readJson<PackageJson>("package.json");
    const pack = readJson<PackageJson>(`${PACK}/package.json`);
    const wf = (file: string) => load(file);

    it("reads npm ci and npm test from the README", () => {
        expect(readme).to.deep.equal({ install: "npm ci", test: "npm test" });
    });

    it("has ci, preview and deploy, and every workflow parses into triggers and jobs with steps", () => {
        expect(workflowFiles()).to.include.members(["ci.yml", "deploy.yml", "preview.yml"]);
        for (const file of workflowFiles()) {
            expect(structureProblems(wf(file)), file).to.deep.equal([]);
        }
    });

    it("pins every action to a major version", () => {
        for (const file of workflowFiles()) expect(pinningProblems(wf(file)), file).to.deep.equal([]);
    });

    it("holds no literal secret and names every secret by reference", () => {
        for (const file of workflowFiles()) expect(secretProblems(wf(file)), file).to.deep.equal([]);
    });

    it("grants each workflow only the token scopes it uses", () => {
        expect(permissionProblems(wf("ci.yml"), [])).to.deep.equal([]);
        expect(permissionProblems(wf("preview.yml"), ["id-token", "pull-requests"])).to.deep.equal([]);
        expect(permissionProblems(wf("deploy.yml"), ["id-token"])).to.deep.equal([]);
    });

    it("ci.yml runs the README's npm ci then npm test on every push and pull request, on Node 22", () => {
        expect(ciProblems(wf("ci.yml"), readme)).to.deep.equal([]);
    });

    it("preview.yml previews dev (never prod: a PR's code must not see prod's secrets) on pull requests to main with the guardrails pack and comments on the PR", () => {
        const preview = wf("preview.yml");
        expect(previewProblems(preview)).to.deep.equal([]);
        expect(pulumiStepProblems(preview, "preview")).to.deep.equal([]);
        expect(packInstallProblems(preview, root, pack)).to.deep.equal([]);
        expect(pulumiRuns(preview.doc).flatMap((run) => run.stacks)).to.have.members(["dev"]);
    });

    it("deploy.yml updates dev on push to main, then prod in the approved production environment", () => {
        const deploy = wf("deploy.yml");
        expect(deployProblems(deploy)).to.deep.equal([]);
        expect(pulumiStepProblems(deploy, "up")).to.deep.equal([]);
        expect(packInstallProblems(deploy, root, pack)).to.deep.equal([]);
        const byStack = Object.fromEntries(
            pulumiRuns(deploy.doc).map((run) => [run.stacks.join(), { job: run.jobId, env: environmentName(run.job) }]),
        );
        expect(byStack).to.deep.equal({
            dev: { job: "dev", env: undefined },
            prod: { job: "prod", env: PROD_ENVIRONMENT },
        });
    });

    it("docs/ci.md names every secret, variable and environment the workflows use", () => {
        const doc = fs.readFileSync(path.join(PROJECT_DIR, "docs", "ci.md"), "utf8");
        expect(docsProblems(workflowFiles().map(wf), doc)).to.deep.equal([]);
    });
});

// ---- each check, over broken copies --------------------------------------------------------------

describe("GitHub Actions workflow checks catch broken workflows", () => {
    const readme = readmeTestCommands(fs.readFileSync(path.join(PROJECT_DIR, "README.md"), "utf8"));
    const root = readJson<PackageJson>("package.json");
    const pack = readJson<PackageJson>(`${PACK}/package.json`);
    const ci = load("ci.yml");
    const preview = load("preview.yml");
    const deploy = load("deploy.yml");
    // Built at run time so that this file holds nothing a secret scanner would flag.
    const fakeAwsKey = "AKIA" + "Q".repeat(16);
    const fakePulumiToken = "pul-" + "0a".repeat(20);

    const job = (doc: Workflow, id: string): Job => doc.jobs![id]!;
    const pulumiStep = (j: Job): Step => stepsOf(j).find((step) => isAction(step, "pulumi/actions"))!;
    const dropSteps = (j: Job, match: (step: Step) => boolean) => {
        j.steps = stepsOf(j).filter((step) => !match(step));
    };
    const runsNpmCi = (step: Step) => commandsOf(step.run).some((c) => c.startsWith("npm ci"));

    const cases: Array<[string, Loaded, (w: Loaded) => string[], string]> = [
        [
            "the prod job has no environment",
            broken(deploy, (d) => {
                delete job(d, "prod").environment;
            }),
            deployProblems,
            "outside the production environment",
        ],
        [
            "the prod job runs in another environment",
            broken(deploy, (d) => {
                job(d, "prod").environment = "staging";
            }),
            deployProblems,
            "outside the production environment",
        ],
        [
            "the prod job does not need dev",
            broken(deploy, (d) => {
                delete job(d, "prod").needs;
            }),
            deployProblems,
            "does not need job dev",
        ],
        [
            "the dev job updates prod",
            broken(deploy, (d) => {
                pulumiStep(job(d, "dev")).with!["stack-name"] = "prod";
            }),
            deployProblems,
            "no job runs pulumi up on the dev stack",
        ],
        [
            "deploy also runs on pull requests",
            broken(deploy, (d) => {
                d.on = { push: { branches: ["main"] }, pull_request: null };
            }),
            deployProblems,
            "not only on push",
        ],
        [
            "deploy runs on every branch",
            broken(deploy, (d) => {
                d.on = { push: null };
            }),
            deployProblems,
            "not only main",
        ],
        [
            "a deploy job has no concurrency group",
            broken(deploy, (d) => {
                delete job(d, "prod").concurrency;
            }),
            deployProblems,
            "two updates of its stack could overlap",
        ],
        [
            "a deploy cancels a running update",
            broken(deploy, (d) => {
                job(d, "dev").concurrency = { group: "pulumi-up-dev", "cancel-in-progress": true };
            }),
            deployProblems,
            "cancels a running update",
        ],
        [
            "a deploy's group is per run",
            broken(deploy, (d) => {
                job(d, "dev").concurrency = { group: "up-${{ github.run_id }}" };
            }),
            deployProblems,
            "changes from run to run",
        ],
        [
            "deploy runs without the policy pack",
            broken(deploy, (d) => {
                delete pulumiStep(job(d, "prod")).with!["policyPacks"];
            }),
            (w) => pulumiStepProblems(w, "up"),
            "does not enforce the policies/guardrails policy pack",
        ],
        [
            "the pack config does not exist",
            broken(deploy, (d) => {
                pulumiStep(job(d, "dev")).with!["policyPackConfigs"] = `${PACK}/nope.json`;
            }),
            (w) => pulumiStepProblems(w, "up"),
            "missing or not JSON",
        ],
        [
            "deploy previews instead of updating",
            broken(deploy, (d) => {
                pulumiStep(job(d, "dev")).with!["command"] = "preview";
            }),
            (w) => pulumiStepProblems(w, "up"),
            "expected command up",
        ],
        [
            "AWS keys instead of OIDC",
            broken(deploy, (d) => {
                const aws = stepsOf(job(d, "dev")).find((s) => isAction(s, "aws-actions/configure-aws-credentials"))!;
                aws.with!["aws-access-key-id"] = "${{ secrets.AWS_ACCESS_KEY_ID }}";
            }),
            (w) => pulumiStepProblems(w, "up"),
            "long-lived AWS keys",
        ],
        [
            "no id-token permission for OIDC",
            broken(deploy, (d) => {
                d.permissions = { contents: "read" };
            }),
            (w) => pulumiStepProblems(w, "up"),
            "id-token: write",
        ],
        [
            "no AWS credentials step",
            broken(deploy, (d) => {
                dropSteps(job(d, "prod"), (s) => isAction(s, "aws-actions/configure-aws-credentials"));
            }),
            (w) => pulumiStepProblems(w, "up"),
            "no aws-actions/configure-aws-credentials",
        ],
        [
            "nothing installs the pack's dependencies",
            broken(preview, (d) => {
                dropSteps(job(d, "preview"), runsNpmCi);
            }),
            (w) => packInstallProblems(w, root, pack),
            "before installing the policy pack's dependencies",
        ],
        [
            "the install runs after pulumi",
            broken(deploy, (d) => {
                const j = job(d, "dev");
                const steps = stepsOf(j);
                const install = steps.find(runsNpmCi)!;
                j.steps = [...steps.filter((s) => s !== install), install];
            }),
            (w) => packInstallProblems(w, root, pack),
            "before installing the policy pack's dependencies",
        ],
        [
            "the root install omits devDependencies (@pulumi/policy)",
            broken(deploy, (d) => {
                stepsOf(job(d, "dev")).find(runsNpmCi)!.run = "npm ci --omit=dev";
            }),
            (w) => packInstallProblems(w, root, pack),
            "does not install @pulumi/policy",
        ],
        [
            "preview does not comment on the PR",
            broken(preview, (d) => {
                pulumiStep(job(d, "preview")).with!["comment-on-pr"] = false;
            }),
            previewProblems,
            "does not comment on the PR",
        ],
        [
            "preview skips dev",
            broken(preview, (d) => {
                job(d, "preview").strategy = { matrix: { stack: ["prod"] } };
            }),
            previewProblems,
            "does not preview the dev stack",
        ],
        [
            "preview shows prod's secrets to a PR",
            broken(preview, (d) => {
                job(d, "preview").strategy = { matrix: { stack: ["dev", "prod"] } };
            }),
            previewProblems,
            "previews the prod stack on pull requests",
        ],
        [
            "preview runs on pull_request_target",
            broken(preview, (d) => {
                d.on = { pull_request_target: null, pull_request: { branches: ["main"] } };
            }),
            previewProblems,
            "pull_request_target",
        ],
        [
            "ci does not run npm test",
            broken(ci, (d) => {
                dropSteps(job(d, "test"), (s) => commandsOf(s.run).includes("npm test"));
            }),
            (w) => ciProblems(w, readme),
            "no step runs `npm test`",
        ],
        [
            "ci does not run npm ci",
            broken(ci, (d) => {
                dropSteps(job(d, "test"), (s) => commandsOf(s.run).includes("npm ci"));
            }),
            (w) => ciProblems(w, readme),
            "never runs `npm ci`",
        ],
        [
            "ci tests before installing",
            broken(ci, (d) => {
                const j = job(d, "test");
                j.steps = [...stepsOf(j).filter((s) => !s.run), { run: "npm test && npm ci" }];
            }),
            (w) => ciProblems(w, readme),
            "before `npm ci`",
        ],
        [
            "ci runs on pull requests only",
            broken(ci, (d) => {
                d.on = { pull_request: null };
            }),
            (w) => ciProblems(w, readme),
            "does not run on push",
        ],
        [
            "ci runs Node 20",
            broken(ci, (d) => {
                stepsOf(job(d, "test")).find((s) => isAction(s, "actions/setup-node"))!.with!["node-version"] = 20;
            }),
            (w) => ciProblems(w, readme),
            "not 22",
        ],
        [
            "ci has no npm cache",
            broken(ci, (d) => {
                delete stepsOf(job(d, "test")).find((s) => isAction(s, "actions/setup-node"))!.with!["cache"];
            }),
            (w) => ciProblems(w, readme),
            "does not cache npm",
        ],
        [
            "a literal AWS access key",
            broken(deploy, (d) => {
                pulumiStep(job(d, "dev")).env!["AWS_ACCESS_KEY_ID"] = fakeAwsKey;
            }),
            secretProblems,
            "looks like an AWS access key id",
        ],
        [
            "a literal Pulumi token",
            broken(deploy, (d) => {
                pulumiStep(job(d, "dev")).env!["PULUMI_ACCESS_TOKEN"] = fakePulumiToken;
            }),
            secretProblems,
            "looks like a Pulumi access token",
        ],
        [
            "a sensitive value not taken from secrets",
            broken(preview, (d) => {
                pulumiStep(job(d, "preview")).env!["PULUMI_CONFIG_PASSPHRASE"] = "hunter2";
            }),
            secretProblems,
            "sets PULUMI_CONFIG_PASSPHRASE to a value that is not",
        ],
        [
            "a secret looked up by a computed name",
            broken(deploy, (d) => {
                pulumiStep(job(d, "prod")).env!["PULUMI_ACCESS_TOKEN"] =
                    "${{ secrets[format('PULUMI_{0}', 'ACCESS_TOKEN')] }}";
            }),
            secretProblems,
            "other than by name",
        ],
        [
            "all secrets handed over at once",
            broken(ci, (d) => {
                job(d, "test").env = { ALL: "${{ toJSON(secrets) }}" };
            }),
            secretProblems,
            "other than by name",
        ],
        [
            "an action on a branch",
            broken(ci, (d) => {
                stepsOf(job(d, "test"))[0]!.uses = "actions/checkout@main";
            }),
            pinningProblems,
            "not pinned to a major version",
        ],
        [
            "deploy may write pull requests",
            broken(deploy, (d) => {
                d.permissions = { contents: "read", "id-token": "write", "pull-requests": "write" };
            }),
            (w) => permissionProblems(w, ["id-token", "pull-requests"]),
            "nothing comments on a PR",
        ],
        [
            "ci gets a write scope",
            broken(ci, (d) => {
                d.permissions = { contents: "write" };
            }),
            (w) => permissionProblems(w, []),
            "may write contents",
        ],
        [
            "a workflow without permissions",
            broken(ci, (d) => {
                delete d.permissions;
            }),
            (w) => permissionProblems(w, []),
            "has no permissions",
        ],
        [
            "a job without steps",
            broken(ci, (d) => {
                job(d, "test").steps = [];
            }),
            structureProblems,
            "has no steps",
        ],
        [
            "a workflow that does not parse",
            { file: "ci.yml", text: "on: [push\njobs: {", doc: {} },
            structureProblems,
            "does not parse",
        ],
    ];
    for (const [what, copy, check, fragment] of cases) {
        it(`reports ${what}`, () => {
            const problems = check(copy);
            expect(problems.join("\n")).to.include(fragment);
        });
    }

    it("reports a root install that lacks a dependency of the pack, which then needs its own npm ci", () => {
        const rootWithoutPolicy: PackageJson = { ...root, devDependencies: { ...root.devDependencies } };
        delete rootWithoutPolicy.devDependencies!["@pulumi/policy"];
        expect(packInstallProblems(deploy, rootWithoutPolicy, pack).join("\n")).to.include(
            `add \`npm ci --prefix ${PACK}\``,
        );
        const ownInstall = broken(deploy, (d) => {
            for (const id of ["dev", "prod"]) {
                const steps = stepsOf(job(d, id));
                const at = steps.findIndex(runsNpmCi);
                steps.splice(at + 1, 0, { run: `npm ci --prefix ${PACK}` });
            }
        });
        expect(packInstallProblems(ownInstall, rootWithoutPolicy, pack)).to.deep.equal([]);
    });

    it("reports a secret, variable or environment docs/ci.md does not name", () => {
        const renamed = broken(deploy, (d) => {
            job(d, "prod").environment = "live";
            pulumiStep(job(d, "dev")).env!["EXTRA"] = "${{ secrets.SOME_NEW_SECRET }}";
        });
        const doc = fs.readFileSync(path.join(PROJECT_DIR, "docs", "ci.md"), "utf8");
        expect(docsProblems([renamed], doc)).to.include.members([
            "docs/ci.md does not name `live`",
            "docs/ci.md does not name `SOME_NEW_SECRET`",
        ]);
    });
});
