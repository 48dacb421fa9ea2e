// A slow or hung database: the function's DynamoDB client gives up within a budget derived from
// the function's timeout (FUNCTION_TIMEOUT_SECONDS), so the caller gets the contract's 500 with a
// requestId and the detail is logged, long before Lambda would time the invocation out (a 502 with
// no request id). Run through the real factory (api/routeFunction.ts) in TypeScript and as the
// serialized `__index.js` from the recorded program, against two kinds of dead database on
// loopback: one that accepts connections and never answers, one that never accepts them.
import { expect } from "chai";
import { randomUUID } from "node:crypto";
import * as net from "node:net";
import { Worker } from "node:worker_threads";
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from "aws-lambda";
import { handlers, type RouteName } from "../../api/handlers";
import { dynamoClientTimeouts } from "../../api/http/dynamoClientConfig";
import { ENV, lambdaFactory } from "../../api/routeFunction";
import { MAX_LAMBDA_TIMEOUT_SECONDS } from "../../config/stackConfig";
import { ALLOW_ORIGIN, CURSOR_KEY, closureClient, type ApiCall } from "../support/client";
import { loadLambdas, localSdkEnv } from "../support/lambdas";
import { stackProgram } from "../support/program";

type Handler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

interface DeadDatabase {
    endpoint: string;
    /** Connections the database accepted (and never answered). */
    connections(): number;
    close(): Promise<void>;
}

/** Accepts every connection, reads the request, never writes a byte. */
async function silentDatabase(): Promise<DeadDatabase> {
    const sockets = new Set<net.Socket>();
    let accepted = 0;
    const server = net.createServer((socket) => {
        accepted++;
        sockets.add(socket);
        socket.on("error", () => undefined);
        socket.on("close", () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as net.AddressInfo).port;
    return {
        endpoint: `http://127.0.0.1:${port}`,
        connections: () => accepted,
        close: async () => {
            sockets.forEach((s) => s.destroy());
            await new Promise<void>((resolve) => server.close(() => resolve()));
        },
    };
}

/**
 * Listens but never accepts: the socket lives in a worker whose event loop is then blocked, its
 * one-slot backlog is filled by two idle connections, and the kernel drops every further SYN, so
 * a client's connect hangs (the same as an unreachable database host).
 */
async function unacceptingDatabase(): Promise<DeadDatabase> {
    const worker = new Worker(
        `
        const net = require("node:net");
        const { parentPort } = require("node:worker_threads");
        const server = net.createServer();
        server.listen({ port: 0, host: "127.0.0.1", backlog: 1 }, () => {
            parentPort.postMessage(server.address().port);
            setTimeout(() => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0), 20);
        });`,
        { eval: true },
    );
    const port = await new Promise<number>((resolve) => worker.once("message", resolve));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const fillers: net.Socket[] = [];
    for (let i = 0; i < 2; i++) {
        const socket = net.connect(port, "127.0.0.1");
        socket.on("error", () => undefined);
        fillers.push(socket);
        await new Promise<void>((resolve, reject) => {
            socket.once("connect", () => resolve());
            setTimeout(() => reject(new Error("filler connection did not connect")), 2000).unref();
        });
    }
    // The backlog is full: a further connection must not complete.
    const probe = net.connect(port, "127.0.0.1");
    probe.on("error", () => undefined);
    const probeConnected = await new Promise<boolean>((resolve) => {
        probe.once("connect", () => resolve(true));
        setTimeout(() => resolve(false), 300).unref();
    });
    probe.destroy();
    if (probeConnected) {
        throw new Error("the unaccepting database accepted a connection (backlog not full)");
    }
    return {
        endpoint: `http://127.0.0.1:${port}`,
        connections: () => 0,
        close: async () => {
            fillers.forEach((s) => s.destroy());
            await worker.terminate();
        },
    };
}

/** The env the factory reads at cold start, plus the SDK's standard endpoint settings. */
function lambdaEnv(endpoint: string, timeoutSeconds: number): Record<string, string> {
    return {
        [ENV.tableName]: "posts-timeouts-test",
        [ENV.cursorKey]: CURSOR_KEY,
        [ENV.corsAllowOrigin]: ALLOW_ORIGIN,
        [ENV.functionTimeout]: String(timeoutSeconds),
        ...localSdkEnv(endpoint),
    };
}

type Mode = "handler" | "closure";

/** The getPost and listPosts functions as `mode` runs them, cold-started with `env`. */
async function openFunctions(mode: Mode, env: Record<string, string>): Promise<{ call: ApiCall; close(): void }> {
    const routes: RouteName[] = ["getPost", "listPosts"];
    if (mode === "closure") {
        const lambdas = await loadLambdas(await stackProgram("dev"), env);
        return { call: closureClient(lambdas.handlers as Record<RouteName, Handler>), close: () => lambdas.unload() };
    }
    const saved = { ...process.env };
    Object.assign(process.env, env);
    const loaded = Object.fromEntries(
        routes.map((route) => [route, lambdaFactory(handlers[route])()]),
    ) as unknown as Record<RouteName, Handler>;
    return {
        call: closureClient(loaded),
        close: () => {
            for (const key of Object.keys(env)) {
                if (saved[key] === undefined) {
                    delete process.env[key];
                } else {
                    process.env[key] = saved[key];
                }
            }
        },
    };
}

/** Runs `fn` with console.error captured (the adapter logs a 500's detail there). */
async function capturingErrors<T>(fn: () => Promise<T>): Promise<{ result: T; lines: string[] }> {
    const lines: string[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => {
        lines.push(args.map(String).join(" "));
    };
    try {
        return { result: await fn(), lines };
    } finally {
        console.error = original;
    }
}

describe("DynamoDB client timeouts", () => {
    describe("derived from the function's timeout", () => {
        it("keep one database call, every retry and backoff included, within half of every allowed function timeout", () => {
            for (let seconds = 1; seconds <= MAX_LAMBDA_TIMEOUT_SECONDS; seconds++) {
                const t = dynamoClientTimeouts(seconds);
                expect(t.worstCaseMs, `${seconds} s`).to.be.at.most((seconds * 1000) / 2);
                expect(t.requestTimeoutMs, `${seconds} s`).to.be.within(200, 2000);
                expect(t.connectionTimeoutMs, `${seconds} s`).to.be.within(200, t.requestTimeoutMs);
                expect(t.maxAttempts, `${seconds} s`).to.be.within(1, 3);
            }
            // The figures docs/configuration.md quotes: the default 10 s, the 1 s minimum and the 29 s maximum.
            expect(dynamoClientTimeouts(10)).to.deep.equal({
                connectionTimeoutMs: 1000,
                requestTimeoutMs: 1000,
                maxAttempts: 2,
                worstCaseMs: 3000,
            });
            expect(dynamoClientTimeouts(1)).to.deep.equal({
                connectionTimeoutMs: 200,
                requestTimeoutMs: 200,
                maxAttempts: 1,
                worstCaseMs: 200,
            });
            expect(dynamoClientTimeouts(29)).to.deep.equal({
                connectionTimeoutMs: 1000,
                requestTimeoutMs: 2000,
                maxAttempts: 3,
                worstCaseMs: 9000,
            });
        });

        it("refuse a missing or meaningless FUNCTION_TIMEOUT_SECONDS at cold start, naming it", () => {
            const saved = { ...process.env };
            try {
                Object.assign(process.env, lambdaEnv("http://127.0.0.1:9", 10));
                process.env[ENV.functionTimeout] = "soon";
                expect(() => lambdaFactory(handlers.getPost)()).to.throw(
                    "FUNCTION_TIMEOUT_SECONDS must be a positive number of seconds",
                );
                delete process.env[ENV.functionTimeout];
                expect(() => lambdaFactory(handlers.getPost)()).to.throw(
                    "Missing required environment variable FUNCTION_TIMEOUT_SECONDS",
                );
            } finally {
                for (const key of Object.keys(process.env)) {
                    if (!(key in saved)) {
                        delete process.env[key];
                    }
                }
                Object.assign(process.env, saved);
            }
        });
    });

    const cases: Array<{ database: string; open: () => Promise<DeadDatabase>; timeoutSeconds: number }> = [
        { database: "accepts connections and never answers", open: silentDatabase, timeoutSeconds: 4 },
        { database: "never accepts a connection", open: unacceptingDatabase, timeoutSeconds: 1 },
    ];
    // Record the program before the timed cases (mocha's own timeout): the 20 s below is for the
    // calls, and a recording on a busy machine can take most of it.
    before(() => stackProgram("dev"));
    for (const mode of ["handler", "closure"] as const) {
        for (const { database, open, timeoutSeconds } of cases) {
            it(`${mode}: a database that ${database} gets the contract's 500 with requestId within the budget of a ${timeoutSeconds} s function`, async function () {
                this.timeout(20_000);
                const db = await open();
                const budget = dynamoClientTimeouts(timeoutSeconds);
                const functions = await openFunctions(mode, lambdaEnv(db.endpoint, timeoutSeconds));
                try {
                    for (const route of ["getPost", "listPosts"] as const) {
                        const started = Date.now();
                        // Without timeouts the call would hang until the test's own deadline.
                        const deadline = new Promise<never>((_resolve, reject) => {
                            setTimeout(
                                () =>
                                    reject(
                                        new Error(
                                            `${route}: no answer within ${timeoutSeconds * 1000} ms, the function's own timeout`,
                                        ),
                                    ),
                                timeoutSeconds * 1000,
                            ).unref();
                        });
                        const { result, lines } = await capturingErrors(() =>
                            Promise.race([
                                functions.call(route, route === "getPost" ? { id: randomUUID() } : {}),
                                deadline,
                            ]),
                        );
                        const elapsed = Date.now() - started;
                        expect(result.statusCode, `${route}: ${result.rawBody}`).to.equal(500);
                        expect(result.body).to.deep.equal({
                            message: "Internal server error",
                            requestId: result.requestId,
                        });
                        expect(result.headers["Access-Control-Allow-Origin"]).to.equal(ALLOW_ORIGIN);
                        // Within the derived worst case (plus scheduling slack), far inside the function's timeout.
                        expect(elapsed, `${route} took ${elapsed} ms`).to.be.at.most(budget.worstCaseMs + 400);
                        expect(elapsed, `${route} took ${elapsed} ms`).to.be.below(timeoutSeconds * 1000 * 0.75);
                        // The detail is logged once, under the same request id.
                        // (Node's own process warnings also go to console.error: only JSON lines are the adapter's.)
                        const logged = lines.filter((line) => line.startsWith("{")).map((line) => JSON.parse(line));
                        expect(logged).to.have.length(1);
                        expect(logged[0]).to.include({ level: "error", requestId: result.requestId });
                        expect(logged[0].error.name).to.equal("TimeoutError");
                    }
                    if (db.connections() > 0) {
                        // Retries are bounded: each of the two calls made exactly maxAttempts attempts.
                        expect(db.connections()).to.equal(2 * budget.maxAttempts);
                    }
                } finally {
                    functions.close();
                    await db.close();
                }
            });
        }
    }
});
