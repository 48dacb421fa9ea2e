// What Pulumi serialized into each function's `__index.js` (the code AWS runs), read from the
// archives of the program recorded under mocks. Serialization can change what `require`
// resolves, capture values it should not (secrets, config, build paths) and drop what it cannot
// capture; the contract tests run this code (closure mode), these tests read it.
import { builtinModules } from "node:module";
import { expect } from "chai";
import { archiveEntries, type RecordedProgram } from "local-cloud";
import { ofType, programWith, stackProgram, TYPES } from "../support/program";
import { loadLambdas, localSdkEnv, serializedFunctions } from "../support/lambdas";
import { RUNTIME_PROVIDED_PACKAGES } from "../../api/routeFunction";
import { routes } from "../../api/routes";
import { PROJECT_DIR } from "../../scripts/project";

/** The packages the handler code may load: the AWS SDK v3 the Lambda runtime ships (zod is compiled away). */
const ALLOWED_PACKAGES = ["@aws-sdk/client-dynamodb", "@aws-sdk/lib-dynamodb"];
const BUILTINS = new Set(builtinModules);

function isBuiltin(name: string): boolean {
    return name.startsWith("node:") ? BUILTINS.has(name.slice("node:".length)) : BUILTINS.has(name);
}

/** Every `require(...)` in the text: its argument as written. */
function requireArguments(source: string): string[] {
    return [...source.matchAll(/\brequire\s*\(([^)]*)\)/g)].map((match) => match[1]!.trim());
}

/** The package a bare module name belongs to (`@scope/name` or `name`); null for paths. */
function packageOf(name: string): string | null {
    if (name.startsWith(".") || name.startsWith("/")) {
        return null;
    }
    const parts = name.split("/");
    return name.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!;
}

describe("serialized Lambda code", () => {
    let program: RecordedProgram;
    let functions: Awaited<ReturnType<typeof serializedFunctions>>;

    before(async () => {
        program = await stackProgram("dev");
        functions = await serializedFunctions(program);
    });

    it("has one function per route, each with an __index.js whose handler is `__index.handler`", () => {
        expect(functions.map((fn) => fn.name)).to.have.members(routes.map((route) => route.name));
        for (const fn of functions) {
            expect(fn.handler, fn.name).to.equal("__index.handler");
            expect(fn.source.length, fn.name).to.be.greaterThan(0);
        }
    });

    it("requires only bare names of packages the runtime or the archive provides, and node built-ins", async () => {
        const seen = new Set<string>();
        for (const fn of ofType(program, TYPES.function)) {
            const source = functions.find((f) => f.name === fn.name)!.source;
            const archived = Object.keys(await archiveEntries(fn.inputs["code"]))
                .filter((entry) => entry.startsWith("node_modules/"))
                .map((entry) => entry.slice("node_modules/".length));
            for (const argument of requireArguments(source)) {
                // A literal string only: a computed require cannot be checked, or packaged.
                expect(argument, `${fn.name}: require(${argument})`).to.match(/^"[^"]+"$/);
                const name = JSON.parse(argument) as string;
                seen.add(name);
                if (isBuiltin(name)) {
                    continue;
                }
                // The bare package name: never a resolved file (`@aws-sdk/lib-dynamodb/dist-cjs/index.js`)
                // or a path, which tie the archive to a layout the runtime may not have.
                expect(name, `${fn.name}: require("${name}")`).to.equal(packageOf(name));
                expect(ALLOWED_PACKAGES, `${fn.name}: require("${name}")`).to.include(name);
                const provided = RUNTIME_PROVIDED_PACKAGES.includes(name) || archived.includes(name);
                expect(
                    provided,
                    `${fn.name}: require("${name}") is neither in the archive nor provided by the runtime`,
                ).to.equal(true);
            }
        }
        // The factory builds its clients from both SDK packages: the scan above did see requires.
        expect([...seen]).to.include.members(["@aws-sdk/client-dynamodb", "@aws-sdk/lib-dynamodb"]);
    });

    it("has nothing of Pulumi and no path of the machine that built it", () => {
        for (const fn of functions) {
            expect(fn.source, fn.name).not.to.include("@pulumi/");
            expect(fn.source, fn.name).not.to.include(PROJECT_DIR);
            expect(fn.source, fn.name).not.to.match(/node_modules/);
        }
    });

    it("is the same code for every stack, and takes its settings from the environment", async () => {
        const prod = await serializedFunctions(await stackProgram("prod"));
        for (const fn of functions) {
            const other = prod.find((f) => f.name === fn.name);
            expect(other?.source === fn.source, `${fn.name}: dev and prod serialize different code`).to.equal(true);
            expect(Object.keys(fn.environment), fn.name).to.have.members([
                "TABLE_NAME",
                "CURSOR_KEY",
                "CORS_ALLOW_ORIGIN",
                "FUNCTION_TIMEOUT_SECONDS",
                "LIST_SHARDS",
            ]);
            for (const name of ["TABLE_NAME", "CURSOR_KEY"]) {
                expect(fn.source, `${fn.name}: the value of ${name} is also in the code`).not.to.include(
                    fn.environment[name],
                );
            }
        }
    });

    it("captures no secret: set secrets change only the environment, never the code", async () => {
        const cursorSecret = "closure-test-cursor-secret-5f2c9a7e41";
        const keyValue = "ClosureTestApiKeyValue5f2c9a7e41b0d3";
        const withSecrets = await programWith({
            stack: "dev",
            config: { "posts-api:cursorSecret": cursorSecret, "posts-api:apiKeyValues": { developer: keyValue } },
        });
        const secretFunctions = await serializedFunctions(withSecrets);
        const apiKeyValues = ofType(withSecrets, TYPES.apiKey).map((key) => String(key.state["value"]));
        expect(apiKeyValues).to.include(keyValue);

        for (const fn of secretFunctions) {
            for (const secret of [cursorSecret, ...apiKeyValues]) {
                expect(fn.source, `${fn.name} captured a secret`).not.to.include(secret);
            }
            expect(
                fn.source === functions.find((f) => f.name === fn.name)?.source,
                `${fn.name}: secrets changed the code`,
            ).to.equal(true);
            expect(fn.environment["CURSOR_KEY"], fn.name).to.equal(cursorSecret);
        }
    });

    it("exports a handler(event, context): arity at most 2 (newer Node runtimes refuse three)", async () => {
        const lambdas = await loadLambdas(program, {
            TABLE_NAME: "posts-closures-test",
            ...localSdkEnv("http://127.0.0.1:9"),
        });
        try {
            for (const fn of functions) {
                const handler = lambdas.handlers[fn.name];
                expect(handler, fn.name).to.be.a("function");
                expect(handler!.length, fn.name).to.be.at.most(2);
            }
        } finally {
            lambdas.unload();
        }
    });
});
