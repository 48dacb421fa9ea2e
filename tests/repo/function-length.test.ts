// No function over 100 lines of its own in local-cloud/, api/, data/ and config/. A function's own
// lines are the lines of its body less those of the functions nested in it (each nested function is
// measured apart); comment and blank lines count like any other, the simplest honest measure.
import * as fs from "node:fs";
import * as path from "node:path";
import { expect } from "chai";
import * as ts from "typescript";
import { PROJECT_DIR } from "../../scripts/project";

const MAX_OWN_LINES = 100;
const SCANNED_DIRS = ["local-cloud", "api", "data", "config"];
/** The local cloud's tests, and every node_modules folder (below). */
const SKIPPED_DIRS = new Set([path.join("local-cloud", "tests")]);

interface FunctionLength {
    line: number;
    name: string;
    ownLines: number;
}

function sourceFiles(relativeDir: string): string[] {
    return fs.readdirSync(path.join(PROJECT_DIR, relativeDir), { withFileTypes: true }).flatMap((entry) => {
        const relative = path.join(relativeDir, entry.name);
        if (entry.isDirectory()) {
            return SKIPPED_DIRS.has(relative) || entry.name === "node_modules" ? [] : sourceFiles(relative);
        }
        return entry.name.endsWith(".ts") ? [relative] : [];
    });
}

/** Function declarations and expressions, arrow functions, methods, constructors and accessors, with a body. */
function isFunctionWithBody(node: ts.Node): node is ts.FunctionLikeDeclaration & { body: ts.Node } {
    const functionLike =
        ts.isFunctionDeclaration(node) ||
        ts.isFunctionExpression(node) ||
        ts.isArrowFunction(node) ||
        ts.isMethodDeclaration(node) ||
        ts.isConstructorDeclaration(node) ||
        ts.isGetAccessorDeclaration(node) ||
        ts.isSetAccessorDeclaration(node);
    return functionLike && node.body !== undefined;
}

function nameOf(node: ts.FunctionLikeDeclaration, file: ts.SourceFile): string {
    if (ts.isConstructorDeclaration(node)) return "constructor";
    const prefix = ts.isGetAccessorDeclaration(node) ? "get " : ts.isSetAccessorDeclaration(node) ? "set " : "";
    if (node.name) return prefix + node.name.getText(file);
    // An anonymous function takes the name it is assigned to, when it is.
    const parent = node.parent;
    const assigned =
        ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent);
    if (assigned) return parent.name.getText(file);
    return "(anonymous)";
}

function lineOf(file: ts.SourceFile, position: number): number {
    return file.getLineAndCharacterOfPosition(position).line + 1;
}

/** The nearest functions inside `node`, not those nested in them (measured with their own parent). */
function nestedFunctions(node: ts.Node): ts.FunctionLikeDeclaration[] {
    const found: ts.FunctionLikeDeclaration[] = [];
    const visit = (child: ts.Node): void => {
        if (isFunctionWithBody(child)) found.push(child);
        else ts.forEachChild(child, visit);
    };
    ts.forEachChild(node, visit);
    return found;
}

/** The lines a node spans, from its first token (leading comments belong to the code around it). */
function linesOf(node: ts.Node, file: ts.SourceFile): number[] {
    const first = lineOf(file, node.getStart(file));
    return Array.from({ length: lineOf(file, node.getEnd()) - first + 1 }, (_, i) => first + i);
}

function ownLines(fn: ts.FunctionLikeDeclaration & { body: ts.Node }, file: ts.SourceFile): number {
    const lines = new Set(linesOf(fn.body, file));
    for (const nested of nestedFunctions(fn.body)) {
        for (const line of linesOf(nested, file)) lines.delete(line);
    }
    return lines.size;
}

export function functionLengths(fileName: string, text: string): FunctionLength[] {
    const file = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true);
    const lengths: FunctionLength[] = [];
    const visit = (node: ts.Node): void => {
        if (isFunctionWithBody(node)) {
            const line = lineOf(file, node.getStart(file));
            lengths.push({ line, name: nameOf(node, file), ownLines: ownLines(node, file) });
        }
        ts.forEachChild(node, visit);
    };
    visit(file);
    return lengths;
}

describe("function length", () => {
    it(`no function in ${SCANNED_DIRS.join("/, ")}/ has more than ${MAX_OWN_LINES} lines of its own`, () => {
        const files = SCANNED_DIRS.flatMap(sourceFiles);
        expect(files).to.include.members([path.join("data", "postsStore.ts"), path.join("api", "postsApi.ts")]);
        const tooLong: string[] = [];
        let measured = 0;
        for (const file of files) {
            for (const fn of functionLengths(file, fs.readFileSync(path.join(PROJECT_DIR, file), "utf8"))) {
                measured++;
                if (fn.ownLines > MAX_OWN_LINES) tooLong.push(`${file}:${fn.line} ${fn.name} (${fn.ownLines} lines)`);
            }
        }
        expect(measured, "the scan measured some functions").to.be.greaterThan(100);
        expect(tooLong).to.deep.equal([]);
    });

    it("counts a function's own lines apart from those of the functions nested in it", () => {
        const text = [
            "function outer() {", //  1 outer
            "    const a = 1;", //     2 outer
            "    /** Why inner. */", // 3 outer: a comment is a line
            "    function inner() {", // 4 inner
            "        return () => {", // 5 inner
            "            return a;", // 6 arrow
            "        };", //           7 arrow
            "    }", //                8 inner
            "", //                     9 outer: so is a blank line
            "    return inner;", //   10 outer
            "}", //                   11 outer
            "class C { constructor() {} get x() { return 1; } m = function () {}; }",
        ].join("\n");
        const lengths = functionLengths("sample.ts", text).map((fn) => `${fn.line} ${fn.name} ${fn.ownLines}`);
        expect(lengths).to.deep.equal([
            "1 outer 6",
            "4 inner 2",
            "5 (anonymous) 3",
            "12 constructor 1",
            "12 get x 1",
            "12 m 1",
        ]);
    });
});
