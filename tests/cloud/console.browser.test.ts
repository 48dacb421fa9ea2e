// The local console (local-cloud/console/) in a real browser: Debian's Chromium driven by
// playwright-core (no browser download: `executablePath`), against a local cloud running the posts
// program on a roomy plan with the project's own OpenAPI document (scripts/consoleDocument.ts, as
// `npm start` passes it). The page must load with no console error; the reference's "Try it out" on
// GET /posts must answer 200 with the picked consumer's key (and 403 with none); every Execute of POST
// /posts must create a post (a new Idempotency-Key each time, an edited body too) and "the last one
// sent" must replay the last one; a request sent from
// this process must appear in the live table and move that consumer's usage bar; a 500 must lead to
// its function's log line. A screenshot of each panel goes to .local/screenshots/ for a person to
// look at (never compared pixel by pixel); CONSOLE_SCREENSHOT_DOCS=1 also writes docs/console.png,
// the picture in docs/local-cloud.md.
//
// Without Chromium (CHROMIUM_PATH, else /usr/bin/chromium) the tests are not registered and one line
// says so: never a silent pass. `.ci/run` installs Debian's chromium package before the tests.
import { expect } from "chai";
import * as fs from "node:fs";
import * as path from "node:path";
import { DeleteTableCommand } from "@aws-sdk/client-dynamodb";
import type { LocalCloud } from "local-cloud";
import { call, startTestCloud } from "local-cloud/testing";
import type { Browser, Page } from "playwright-core";
import { consoleOpenApiDocument } from "../../scripts/consoleDocument";
import { PROJECT_DIR } from "../../scripts/project";
import { localDocumentClient } from "../support/dynamo";
import { ROOMY_PLAN, stopCloud } from "../support/roomyCloud";

const CHROMIUM = process.env["CHROMIUM_PATH"] ?? "/usr/bin/chromium";
const CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
];
const SCREENSHOTS = path.join(PROJECT_DIR, ".local", "screenshots");
/** Chromium's own line for a fetch answered 4xx/5xx: expected where a test asks for a 403 or a 500. */
const HTTP_ERROR_LINE = /^Failed to load resource: the server responded with a status of (403|429|500)\b/;

describe("local console in Chromium: the posts program's reference, consumers, live requests and stack", function () {
    if (!fs.existsSync(CHROMIUM)) {
        console.log(`console browser tests SKIPPED: no Chromium at ${CHROMIUM} (apt-get install chromium)`);
        return;
    }

    let cloud: LocalCloud;
    let browser: Browser;
    let page: Page;
    /** Console errors and uncaught page errors, as they came. */
    const errors: string[] = [];
    const appKey = () => cloud.apiKeys["app"]!;

    async function screenshot(panel: string): Promise<void> {
        fs.mkdirSync(SCREENSHOTS, { recursive: true });
        await page.screenshot({ path: path.join(SCREENSHOTS, `console-${panel}.png`) });
    }

    async function show(panel: string): Promise<void> {
        await page.click(`#tab-${panel}`);
        await page.waitForSelector(`#panel-${panel}:not([hidden])`);
    }

    /** The `data-used` of a consumer's quota cell on the Consumers panel. */
    const usedBy = (consumer: string) =>
        page.getAttribute(`#consumers-table tr[data-consumer="${consumer}"] .quota`, "data-used").then(Number);

    before(async () => {
        cloud = await startTestCloud({
            stack: "console-browser",
            stackConfig: {
                "posts-api:plans": { roomy: ROOMY_PLAN },
                "posts-api:consumers": [
                    { name: "app", plan: "roomy" },
                    { name: "partner", plan: "roomy" },
                ],
            },
            openApiDocument: consoleOpenApiDocument,
        });
        const { chromium } = await import("playwright-core");
        browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
        page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
        page.on("console", (message) => {
            if (message.type() === "error") {
                errors.push(`console: ${message.text()}`);
            }
        });
        page.on("pageerror", (err) => errors.push(`pageerror: ${err.message}`));
    });

    after(async () => {
        await browser?.close();
        await stopCloud(cloud);
    });

    it("loads with no console error, the reference showing the program's document at the local stage", async () => {
        await page.goto(cloud.consoleUrl!);
        await page.waitForSelector("body[data-ready=true]", { timeout: 30_000 });
        await page.waitForSelector("#operations-posts-listPosts");
        expect(await page.textContent("#reference-source"))
            .to.include("the program's OpenAPI document")
            .and.include(cloud.stageUrl);
        expect(await page.textContent("#swagger .servers")).to.include(cloud.stageUrl.replace(/\/$/, ""));
        // The key picker holds every consumer; the first enabled one is picked.
        const options = await page.$$eval("#key-picker option", (els) => els.map((el) => el.getAttribute("value")));
        expect(options).to.include.members(["key:app", "key:partner", "none", "wrong"]);
        expect(errors).to.deep.equal([]);
        await screenshot("reference");
    });

    it("reference: Try it out on GET /posts answers 200 with the picked key, 403 without one", async () => {
        await show("reference");
        await page.selectOption("#key-picker", "key:app");
        const operation = page.locator("#operations-posts-listPosts");
        await operation.locator(".opblock-summary").click();
        await operation.locator("button.execute").click();
        const status = operation.locator(".live-responses-table .response .response-col_status").first();
        await status.waitFor();
        expect((await status.textContent())?.trim()).to.equal("200");
        expect(
            await operation.locator(".live-responses-table .response .response-col_description").first().textContent(),
        ).to.include("items");
        await screenshot("reference-try-it");

        await page.selectOption("#key-picker", "none");
        await operation.locator("button.btn-clear").click();
        await operation.locator("button.execute").click();
        await status.waitFor();
        expect((await status.textContent())?.trim()).to.equal("403");
        expect(
            await operation.locator(".live-responses-table .response .response-col_description").first().textContent(),
        ).to.include("Forbidden");
        await page.selectOption("#key-picker", "key:app");
    });

    it("reference: every Try it out on POST /posts creates a post, an edited body too; the last key again replays (issue 19)", async () => {
        await show("reference");
        await page.selectOption("#key-picker", "key:app");
        const operation = page.locator("#operations-posts-createPost");
        await operation.locator(".opblock-summary").click();
        const textarea = operation.locator("textarea.body-param__text");
        await textarea.waitFor();
        /**
         * Execute as the page is now; the answer's status, body and the Idempotency-Key sent (Swagger UI's curl line
         * shows the request as sent).
         */
        const execute = async () => {
            const clear = operation.locator("button.btn-clear");
            if (await clear.count()) {
                await clear.click();
            }
            await operation.locator("button.execute").click();
            const status = operation.locator(".live-responses-table .response .response-col_status").first();
            await status.waitFor();
            const body = await operation
                .locator(".live-responses-table .response .response-col_description .microlight")
                .first()
                .textContent();
            const curl = await operation.locator(".curl-command").textContent();
            return {
                status: (await status.textContent())?.trim(),
                post: JSON.parse(body ?? "null"),
                sent: /Idempotency-Key: ([\x21-\x26\x28-\x7e]+)/i.exec(curl ?? "")?.[1],
            };
        };

        const first = await execute();
        const second = await execute();
        expect([first.status, second.status], JSON.stringify([first.post, second.post])).to.deep.equal(["201", "201"]);
        expect(second.post.id, "a second post, not a replay of the first").not.to.equal(first.post.id);
        expect(second.sent).to.be.a("string").and.not.equal(first.sent);
        expect(await page.textContent("#idempotency-last"), "the page says which key it sent").to.equal(
            `sent: ${second.sent}`,
        );

        // An edited body is a new post, not a 422 for a key used with another body.
        const edited = JSON.parse(await textarea.inputValue());
        edited.title = `${String(edited.title ?? "post")} (edited)`;
        await textarea.fill(JSON.stringify(edited));
        const third = await execute();
        expect(third.status, JSON.stringify(third.post)).to.equal("201");
        expect(third.post.title).to.equal(edited.title);
        expect([first.post.id, second.post.id]).not.to.include(third.post.id);

        // The replay stays one click away: the last key again answers with the post it made.
        await page.selectOption("#idempotency-picker", "repeat");
        const replay = await execute();
        expect(replay.sent).to.equal(third.sent);
        expect(replay.status).to.equal("201");
        expect(replay.post.id, "a replay of the third").to.equal(third.post.id);
        await page.selectOption("#idempotency-picker", "fresh");
        const listed = await call(`${cloud.stageUrl}posts?limit=100`, { headers: { "x-api-key": appKey() } });
        const ids = (listed.json.items as { id: string }[]).map((p) => p.id);
        expect(ids).to.include.members([first.post.id, second.post.id, third.post.id]);
        await operation.locator(".opblock-summary").click();
    });

    it("a request from outside the page shows in the live table and moves its consumer's usage bar", async () => {
        await show("consumers");
        await page.waitForSelector('#consumers-table tr[data-consumer="app"] .quota');
        // Settled: what the page shows is what the control plane says now.
        await page.locator("#consumers-error").waitFor({ state: "hidden" });
        const before = await usedBy("app");
        expect(await page.textContent('#consumers-table tr[data-consumer="app"]')).to.include("roomy");

        const r = await call(`${cloud.stageUrl}posts`, { headers: { "x-api-key": appKey() } });
        expect(r.status).to.equal(200);
        const requestId = r.headers.get("x-amzn-requestid")!;

        // The page refreshes on the request's event (and every 2 s anyway).
        for (const deadline = Date.now() + 10_000; (await usedBy("app")) < before + 1 && Date.now() < deadline;) {
            await new Promise((resolve) => setTimeout(resolve, 100));
        }
        expect(await usedBy("app")).to.equal(before + 1);
        expect(await page.getAttribute('#consumers-table tr[data-consumer="app"] .bar .used', "style")).to.match(
            /width: max\(2px, [\d.]+%\)/,
        );
        // The key is masked until revealed.
        const keyCell = page.locator('#consumers-table tr[data-consumer="app"] .key-value');
        expect(await keyCell.textContent()).not.to.equal(appKey());
        await page.locator('#consumers-table tr[data-consumer="app"] button.reveal').click();
        expect(await keyCell.textContent()).to.equal(appKey());
        await screenshot("consumers");

        await show("requests");
        const row = page.locator(`#requests-table tr[data-request-id="${requestId}"]`);
        await row.waitFor({ timeout: 10_000 });
        const cells = await row.locator("td").allTextContents();
        expect(cells.slice(1, 4)).to.deep.equal(["GET", "/console-browser/posts", "200"]);
        expect(cells).to.include("app");
        expect(await page.isHidden("th.cache-col"), "no cache column while no event has a cache status").to.equal(true);

        // Filters: by consumer and by status.
        await page.selectOption("#filter-status", "4");
        expect(await row.count()).to.equal(0);
        expect(await page.locator("#requests-table tbody tr").count(), "the Try it out without a key").to.be.at.least(
            1,
        );
        await page.selectOption("#filter-status", "");
        await page.selectOption("#filter-consumer", "partner");
        expect(await row.count()).to.equal(0);
        await page.selectOption("#filter-consumer", "app");
        await row.click();
        await page.waitForSelector("#request-fields");
        expect(await page.textContent("#request-fields")).to.include(requestId);
        expect(await page.textContent("#request-access-log"), "the stage's access-log line").to.include(requestId);
        await page.selectOption("#filter-consumer", "");
    });

    it("a 500 in the live table leads to its function's log line", async () => {
        // The table goes away behind the functions' back (as in local-5xx.test.ts): their store calls fail.
        const table = cloud.model.functions.find((f) => f.logicalName === "listPosts")!.environment["TABLE_NAME"]!;
        const db = localDocumentClient(cloud.dynamoEndpoint);
        try {
            await db.send(new DeleteTableCommand({ TableName: table }));
        } finally {
            db.destroy();
        }
        const r = await call(`${cloud.stageUrl}posts`, { headers: { "x-api-key": appKey() } });
        expect(r.status).to.equal(500);
        const requestId = r.headers.get("x-amzn-requestid")!;
        const row = page.locator(`#requests-table tr[data-request-id="${requestId}"]`);
        await row.waitFor({ timeout: 10_000 });
        await row.click();
        await page.locator("#request-function-log", { hasText: "ERROR" }).waitFor({ timeout: 10_000 });
        const fields = await page.textContent("#request-fields");
        const lambdaRequestId = /Function request id([0-9a-f-]{36})/.exec(fields ?? "")?.[1];
        expect(lambdaRequestId, fields ?? "").to.be.a("string");
        const log = await page.textContent("#request-function-log");
        expect(log).to.include(`\t${lambdaRequestId}\tERROR\t`);
        // The 500's body quotes the same id to the caller.
        expect(r.json.requestId).to.equal(lambdaRequestId);
        await screenshot("requests");
        if (process.env["CONSOLE_SCREENSHOT_DOCS"]) {
            fs.copyFileSync(
                path.join(SCREENSHOTS, "console-requests.png"),
                path.join(PROJECT_DIR, "docs", "console.png"),
            );
        }
    });

    it("stack: routes with their functions, the table, outputs with secrets masked, warnings", async () => {
        await show("stack");
        const routes = await page.textContent("#routes-table");
        for (const name of ["listPosts", "createPost", "getPost", "replacePost", "updatePost", "deletePost"]) {
            expect(routes).to.include(name);
        }
        expect(await page.textContent("#tables-table")).to.include(cloud.outputs["tableName"] as string);
        const outputs = await page.textContent("#outputs-table");
        expect(outputs).to.include("[secret]");
        expect(outputs).not.to.include(appKey());
        const runtime = cloud.model.functions[0]!.runtime;
        if (runtime !== `nodejs${process.versions.node.split(".")[0]}.x`) {
            expect(await page.textContent("#warnings-box")).to.include(`deployed on ${runtime}`);
        }
        await screenshot("stack");
        // Nothing went wrong in the page but the 403 and 500 the tests asked for.
        expect(errors.filter((e) => !HTTP_ERROR_LINE.test(e.replace(/^console: /, "")))).to.deep.equal([]);
    });
});
