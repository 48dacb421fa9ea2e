// The local console's page (served by local-cloud/console/console.ts). Plain JavaScript, no build
// step and no framework: four panels filled from this origin only.
//   api/overview       the stack (routes, functions, tables, outputs, warnings) and id -> name maps
//   api/openapi        the Reference panel's document, already pointed at the local stage
//   api/events         Server-Sent Events: the last requests on connect, then each one as it comes
//   api/requests/<id>  one request with its function's log lines
//   api/capacity       DynamoDB units consumed per table, index and partition key (the Stack panel)
//   /.aws/apigateway/  the control plane (GetApiKeys, GetUsagePlans, GetUsage), as any SDK calls it
// Every value shown comes from the server and is put in the page as text (never as HTML): request
// paths are whatever a client sent.
(function () {
    "use strict";

    const REFRESH_MS = 2000;
    const DAYS_SHOWN = 14;
    const DAY_MS = 86400000;
    /** Requests kept in the page: the server keeps and replays as many. */
    const KEEP = 500;

    const state = {
        overview: null,
        overviewSignature: "",
        /** Consumer (key logical name) -> key value, from GetApiKeys: the Reference's key picker. */
        keyValues: new Map(),
        events: [],
        seqs: new Set(),
        selected: null,
        swagger: null,
        reference: null,
        /** The x-api-key header "Try it out" sends: a value, or null for none. */
        pickedKey: null,
        /** The last Idempotency-Key "Try it out" sent: what "the last one sent" sends again. */
        lastIdempotencyKey: null,
    };

    // ---- small helpers ----------------------------------------------------------------------

    const $ = (selector) => document.querySelector(selector);

    /** An element with attributes and children (strings become text nodes, never HTML). */
    function h(tag, attrs, ...children) {
        const el = document.createElement(tag);
        for (const [name, value] of Object.entries(attrs || {})) {
            if (value === undefined || value === null || value === false) continue;
            if (name === "class") el.className = value;
            else if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
            else el.setAttribute(name, value === true ? "" : String(value));
        }
        for (const child of children.flat()) {
            if (child === undefined || child === null || child === false) continue;
            el.append(child instanceof Node ? child : document.createTextNode(String(child)));
        }
        return el;
    }

    function fill(tbody, rows) {
        tbody.replaceChildren(...rows);
    }

    async function getJson(url, init) {
        const response = await fetch(url, init);
        const text = await response.text();
        let body;
        try {
            body = text === "" ? undefined : JSON.parse(text);
        } catch {
            body = undefined;
        }
        if (!response.ok) {
            throw new Error(`${response.status} from ${url}: ${(body && body.message) || text}`);
        }
        return body;
    }

    /** The control plane, on this origin; the header keeps these reads out of the request log. */
    function controlPlane(pathAndQuery) {
        const o = state.overview;
        return getJson(`${o.controlPlanePath}${pathAndQuery}`, { headers: { [o.consoleHeader]: "1" } });
    }

    const utcDay = (ms) => new Date(ms).toISOString().slice(0, 10);
    const mask = (value) =>
        value.length > 8
            ? `${value.slice(0, 4)}${"•".repeat(Math.min(value.length - 8, 12))}${value.slice(-4)}`
            : "••••••••";
    const statusClass = (status) => `status s${String(status)[0]}`;
    const consumerName = (keyId) => (state.overview.apiKeys.find((k) => k.id === keyId) || {}).logicalName || keyId;

    function showError(selector, err) {
        const box = $(selector);
        box.hidden = !err;
        box.textContent = err ? String(err.message || err) : "";
    }

    // ---- tabs ---------------------------------------------------------------------------------

    const PANELS = ["reference", "consumers", "requests", "stack"];

    function showPanel() {
        const wanted = location.hash.slice(1);
        const current = PANELS.includes(wanted) ? wanted : "reference";
        for (const name of PANELS) {
            $(`#panel-${name}`).hidden = name !== current;
            $(`#tab-${name}`).classList.toggle("active", name === current);
        }
        if (current === "consumers") void refreshConsumers();
    }

    // ---- overview and the Stack panel ----------------------------------------------------------

    async function loadOverview() {
        const o = await getJson("api/overview");
        state.overview = o;
        // Polled with the consumers: redraw only what changed (an open select would close otherwise).
        const signature = JSON.stringify({ ...o, now: undefined });
        if (signature === state.overviewSignature) return;
        state.overviewSignature = signature;
        $("#stack-name").textContent = `stack ${o.stack}`;
        const first = o.stages[0];
        $("#stage-url").textContent = first ? first.url : o.url;
        $("#stage-url").href = first ? first.url : o.url;
        $("#control-plane-url").textContent = o.controlPlaneUrl;
        renderStack(o);
        renderStagePicker(o);
    }

    function renderStack(o) {
        const warnings = $("#warnings");
        warnings.replaceChildren();
        $("#warning-count").hidden = o.warnings.length === 0;
        $("#warning-count").textContent = String(o.warnings.length);
        if (o.warnings.length > 0) {
            warnings.append(
                h(
                    "div",
                    { class: "warnings", id: "warnings-box" },
                    h("strong", {}, "Warnings"),
                    h(
                        "ul",
                        {},
                        o.warnings.map((w) => h("li", {}, w)),
                    ),
                ),
            );
        }
        fill(
            $("#stages-table tbody"),
            o.stages.map((s) =>
                h(
                    "tr",
                    {},
                    h("td", {}, s.name),
                    h("td", {}, s.api),
                    h("td", { class: "mono" }, h("a", { href: s.url }, s.url)),
                    h("td", {}, s.accessLog ? "yes (access.log)" : "no"),
                ),
            ),
        );
        fill(
            $("#routes-table tbody"),
            o.routes.map((r) =>
                h(
                    "tr",
                    {},
                    h("td", { class: "mono" }, r.method),
                    h("td", { class: "mono" }, r.path),
                    h("td", {}, r.apiKeyRequired ? "x-api-key" : "none"),
                    h("td", { class: "mono" }, r.integration),
                ),
            ),
        );
        fill(
            $("#functions-table tbody"),
            o.functions.map((f) =>
                h(
                    "tr",
                    {},
                    h("td", {}, h("div", {}, f.logicalName), h("div", { class: "muted mono" }, f.name)),
                    h("td", {}, f.runtime),
                    h("td", { class: "mono" }, f.handler),
                    h("td", { class: "num" }, `${f.memorySize} MB`),
                    h("td", { class: "num" }, `${f.timeoutSeconds} s`),
                ),
            ),
        );
        fill(
            $("#tables-table tbody"),
            o.tables.map((t) =>
                h(
                    "tr",
                    {},
                    h("td", {}, t.logicalName),
                    h("td", { class: "mono" }, t.name),
                    h("td", { class: "mono" }, t.rangeKey ? `${t.hashKey} + ${t.rangeKey}` : t.hashKey),
                    h(
                        "td",
                        { class: "mono" },
                        t.indexes.length === 0
                            ? "none"
                            : t.indexes.map((i) =>
                                  h(
                                      "div",
                                      {},
                                      `${i.kind} ${i.name}: ${i.rangeKey ? `${i.hashKey} + ${i.rangeKey}` : i.hashKey}`,
                                  ),
                              ),
                    ),
                ),
            ),
        );
        fill(
            $("#outputs-table tbody"),
            o.outputs.map((out) =>
                h(
                    "tr",
                    {},
                    h("td", {}, out.name),
                    h(
                        "td",
                        { class: "mono" },
                        out.secret
                            ? h(
                                  "span",
                                  {
                                      class: "pill secret",
                                      title: "A secret output: npm start -- --show-secrets or npm run outputs -- --show-secrets shows it",
                                  },
                                  out.value,
                              )
                            : typeof out.value === "string"
                              ? out.value
                              : JSON.stringify(out.value),
                    ),
                ),
            ),
        );
    }

    /** The Stack panel's DynamoDB capacity: units so far, and the partitions that took most. */
    async function refreshCapacity() {
        const c = await getJson("api/capacity");
        $("#capacity-limits").textContent = c.limits
            ? `A partition key takes at most ${c.limits.readUnitsPerSecond} read and ${c.limits.writeUnitsPerSecond} write units a second (DynamoDB's limits x${c.limits.scale}); past that, DynamoDB's ThrottlingException.`
            : "Counted, never throttled (npm start -- --throttle-partitions <scale> throttles a hot partition as DynamoDB would).";
        const units = (n) => (Number.isInteger(n) ? String(n) : n.toFixed(1));
        const rows = c.tables.flatMap((t) => [
            { name: t.table, u: t },
            ...t.indexes.map((i) => ({ name: `${t.table} / ${i.index}`, u: i })),
        ]);
        fill(
            $("#capacity-table tbody"),
            rows.map(({ name, u }) =>
                h(
                    "tr",
                    {},
                    h("td", { class: "mono" }, name),
                    h("td", { class: "num" }, units(u.readUnits)),
                    h("td", { class: "num" }, units(u.writeUnits)),
                    h("td", { class: "num" }, String(u.throttledReads + u.throttledWrites)),
                    h(
                        "td",
                        { class: "mono" },
                        u.hottest.map((p) =>
                            h(
                                "div",
                                {},
                                `${p.partition}: ${units(p.readUnits)} / ${units(p.writeUnits)}, ${units(p.peakWriteUnitsPerSecond)} in a second` +
                                    (p.throttledReads + p.throttledWrites > 0
                                        ? `, ${p.throttledReads + p.throttledWrites} throttled`
                                        : ""),
                            ),
                        ),
                    ),
                ),
            ),
        );
    }

    // ---- the Reference panel (Swagger UI) ---------------------------------------------------------

    function renderStagePicker(o) {
        const picker = $("#stage-picker");
        const current = picker.value;
        picker.replaceChildren(...o.stages.map((s) => h("option", { value: s.name }, `${s.name} (${s.api})`)));
        if (o.stages.some((s) => s.name === current)) picker.value = current;
        picker.parentElement.hidden = o.stages.length < 2;
    }

    function renderKeyPicker(keys) {
        const picker = $("#key-picker");
        const before = picker.value;
        const options = keys.map((k) =>
            h("option", { value: `key:${k.consumer}` }, `${k.consumer}${k.enabled ? "" : " (disabled)"}`),
        );
        options.push(h("option", { value: "none" }, "(no key)"), h("option", { value: "wrong" }, "(a wrong key)"));
        picker.replaceChildren(...options);
        const firstEnabled = keys.find((k) => k.enabled);
        picker.value = [...picker.options].some((opt) => opt.value === before)
            ? before
            : firstEnabled
              ? `key:${firstEnabled.consumer}`
              : "none";
        applyPickedKey();
    }

    function applyPickedKey() {
        const choice = $("#key-picker").value;
        state.pickedKey =
            choice === "none"
                ? null
                : choice === "wrong"
                  ? "not-a-key-of-this-stack-0000000000"
                  : state.keyValues.get(choice.slice(4)) || null;
        const ui = state.swagger;
        const scheme = state.reference && state.reference.apiKeyScheme;
        if (ui && scheme) {
            // What the Authorize button shows; the request interceptor below is what counts.
            if (state.pickedKey === null) ui.authActions.logout([scheme]);
            else ui.preauthorizeApiKey(scheme, state.pickedKey);
        }
    }

    /**
     * The Idempotency-Key of a "Try it out" (a create): the document's example key would be sent on
     * every Execute, so the second one replayed the first post and an edited body got 422. A new key
     * per Execute unless the picker says to repeat the last one (to show a replay) or to send the
     * field as it is. An operation without the header, or with its field cleared, sends none.
     */
    function applyIdempotencyKey(request) {
        const name = Object.keys(request.headers).find((n) => n.toLowerCase() === "idempotency-key");
        if (name === undefined) return;
        const mode = $("#idempotency-picker").value;
        if (mode === "fresh" || (mode === "repeat" && state.lastIdempotencyKey === null))
            request.headers[name] = newIdempotencyKey();
        else if (mode === "repeat") request.headers[name] = state.lastIdempotencyKey;
        state.lastIdempotencyKey = String(request.headers[name]);
        $("#idempotency-last").textContent = `sent: ${state.lastIdempotencyKey}`;
    }

    /** A UUID (this origin is loopback, a secure context, so crypto.randomUUID is there). */
    function newIdempotencyKey() {
        if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
        return [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, "0")).join("");
    }

    async function loadReference() {
        if (typeof window.SwaggerUIBundle !== "function") {
            showError(
                "#reference-error",
                new Error("Swagger UI did not load (is swagger-ui-dist installed? npm install)"),
            );
            return;
        }
        const stage = $("#stage-picker").value;
        try {
            state.reference = await getJson(`api/openapi${stage ? `?stage=${encodeURIComponent(stage)}` : ""}`);
        } catch (err) {
            showError("#reference-error", err);
            return;
        }
        const ref = state.reference;
        showError("#reference-error", ref.note ? new Error(ref.note) : null);
        $("#reference-source").textContent =
            `${ref.source === "program" ? "the program's OpenAPI document" : ref.source === "recorded" ? "the RestApi's recorded OpenAPI body" : "no document"}, served at ${ref.url}`;
        state.swagger = window.SwaggerUIBundle({
            spec: ref.document,
            domNode: $("#swagger"),
            deepLinking: false,
            // Swagger UI would otherwise send the document to an online validator.
            validatorUrl: null,
            tryItOutEnabled: true,
            displayRequestDuration: true,
            defaultModelsExpandDepth: -1,
            presets: [window.SwaggerUIBundle.presets.apis],
            layout: "BaseLayout",
            requestInterceptor: (request) => {
                // The key picker decides the x-api-key header of every "Try it out".
                for (const name of Object.keys(request.headers)) {
                    if (name.toLowerCase() === "x-api-key") delete request.headers[name];
                }
                if (state.pickedKey !== null) request.headers["x-api-key"] = state.pickedKey;
                applyIdempotencyKey(request);
                return request;
            },
        });
        applyPickedKey();
    }

    // ---- the Consumers panel ----------------------------------------------------------------------

    /** The first day of the quota period holding `day` (UTC calendar, as the local cloud counts). */
    function periodStart(period, day) {
        const d = new Date(`${day}T00:00:00Z`);
        if (period === "WEEK") d.setUTCDate(d.getUTCDate() - ((d.getUTCDay() + 6) % 7));
        if (period === "MONTH") d.setUTCDate(1);
        return utcDay(d.getTime());
    }

    let consumersBusy = false;
    let consumersTimer = null;

    /** After a request: once, shortly (a burst of requests makes one refresh). */
    function refreshConsumersSoon() {
        clearTimeout(consumersTimer);
        consumersTimer = setTimeout(() => void refreshConsumers(), 250);
    }

    async function refreshConsumers() {
        if (consumersBusy || !state.overview) return;
        consumersBusy = true;
        try {
            await loadOverview();
            const o = state.overview;
            const today = utcDay(o.now);
            const keys = (await controlPlane("/apikeys?includeValues=true&limit=500")).item || [];
            const rows = [];
            const usageByPlan = new Map();
            for (const key of keys) {
                const consumer = consumerName(key.id);
                state.keyValues.set(consumer, key.value);
                const plans =
                    (await controlPlane(`/usageplans?keyId=${encodeURIComponent(key.id)}&limit=500`)).item || [];
                const plan = plans[0];
                let usage;
                if (plan) {
                    const quotaStart = plan.quota ? periodStart(plan.quota.period, today) : today;
                    const shownStart = utcDay(new Date(`${today}T00:00:00Z`).getTime() - (DAYS_SHOWN - 1) * DAY_MS);
                    const start = quotaStart < shownStart ? quotaStart : shownStart;
                    const cacheKey = `${plan.id}`;
                    if (!usageByPlan.has(cacheKey)) {
                        usageByPlan.set(
                            cacheKey,
                            controlPlane(
                                `/usageplans/${encodeURIComponent(plan.id)}/usage?startDate=${start}&endDate=${today}&limit=500`,
                            ),
                        );
                    }
                    usage = {
                        start,
                        quotaStart,
                        values: ((await usageByPlan.get(cacheKey)).values || {})[key.id] || [],
                    };
                }
                rows.push({ key, consumer, plan, plans, usage, today });
            }
            renderConsumers(rows);
            renderKeyPicker(rows.map((r) => ({ consumer: r.consumer, enabled: r.key.enabled })));
            renderConsumerFilter(rows.map((r) => r.consumer));
            showError("#consumers-error", null);
            $("#consumers-updated").textContent =
                `Updated ${new Date().toLocaleTimeString()} (usage day ${today}, UTC).`;
        } catch (err) {
            showError("#consumers-error", err);
        } finally {
            consumersBusy = false;
        }
    }

    function throttleText(plan) {
        if (!plan) return "-";
        const parts = [];
        if (plan.throttle) parts.push(`${plan.throttle.rateLimit}/s, burst ${plan.throttle.burstLimit}`);
        for (const stage of plan.apiStages || []) {
            for (const [method, t] of Object.entries(stage.throttle || {}))
                parts.push(`${method}: ${t.rateLimit}/s, burst ${t.burstLimit}`);
        }
        return parts.length ? parts.join("; ") : "none";
    }

    function quotaCell(row) {
        const { plan, usage } = row;
        if (!plan) return h("span", { class: "muted" }, "no plan: every call is refused");
        // Days are [used, remaining] (or [used] without a quota), from usage.start to today.
        const days = usage.values.map((v, i) => ({
            day: utcDay(new Date(`${usage.start}T00:00:00Z`).getTime() + i * DAY_MS),
            used: v[0],
            remaining: v[1],
        }));
        const todayUsed = (days.find((d) => d.day === row.today) || { used: 0 }).used;
        if (!plan.quota) {
            return h(
                "div",
                { class: "quota", "data-used": todayUsed },
                h("div", { class: "quota-text" }, `no quota; ${todayUsed} used today`),
            );
        }
        const inPeriod = days.filter((d) => d.day >= usage.quotaStart);
        const used = inPeriod.reduce((sum, d) => sum + d.used, 0);
        const last = inPeriod[inPeriod.length - 1];
        const remaining = last && last.remaining !== undefined ? last.remaining : Math.max(0, plan.quota.limit - used);
        const percent = Math.min(100, (100 * used) / Math.max(1, plan.quota.limit));
        return h(
            "div",
            { class: "quota", "data-used": used, "data-remaining": remaining },
            h(
                "div",
                { class: `bar${remaining === 0 ? " full" : ""}`, title: `${used} of ${plan.quota.limit}` },
                h("div", { class: "used", style: `width: ${used > 0 ? `max(2px, ${percent.toFixed(2)}%)` : "0%"}` }),
            ),
            h(
                "div",
                { class: "quota-text" },
                `${used} used of ${plan.quota.limit} per ${plan.quota.period.toLowerCase()}, ${remaining} remaining (since ${usage.quotaStart})`,
            ),
        );
    }

    function daysCell(row) {
        if (!row.usage) return "";
        const values = row.usage.values.slice(-DAYS_SHOWN);
        const start =
            new Date(`${row.usage.start}T00:00:00Z`).getTime() + (row.usage.values.length - values.length) * DAY_MS;
        const max = Math.max(1, ...values.map((v) => v[0]));
        return h(
            "div",
            { class: "days", title: "Requests admitted per UTC day" },
            values.map((v, i) => {
                const day = utcDay(start + i * DAY_MS);
                return h("div", {
                    class: `day${day === row.today ? " today" : ""}`,
                    style: `height: ${Math.max(1, Math.round((30 * v[0]) / max))}px`,
                    title: `${day}: ${v[0]} used${v[1] !== undefined ? `, ${v[1]} remaining` : ""}`,
                });
            }),
        );
    }

    function keyCell(value) {
        const text = h("span", { class: "mono key-value" }, mask(value));
        let shown = false;
        const button = h(
            "button",
            {
                type: "button",
                class: "reveal",
                onclick: () => {
                    shown = !shown;
                    text.textContent = shown ? value : mask(value);
                    button.textContent = shown ? "hide" : "reveal";
                },
            },
            "reveal",
        );
        return h("td", {}, text, " ", button);
    }

    function renderConsumers(rows) {
        // Keep revealed keys revealed across refreshes: rebuild only when something changed.
        const signature = JSON.stringify(rows.map((r) => [r.consumer, r.key.value, r.key.enabled, r.plan, r.usage]));
        const tbody = $("#consumers-table tbody");
        if (tbody.dataset.signature === signature) return;
        tbody.dataset.signature = signature;
        const revealed = new Set(
            [...tbody.querySelectorAll("tr")]
                .filter((tr) => tr.querySelector(".reveal")?.textContent === "hide")
                .map((tr) => tr.dataset.consumer),
        );
        fill(
            tbody,
            rows.map((row) => {
                const tr = h(
                    "tr",
                    { "data-consumer": row.consumer },
                    h(
                        "td",
                        {},
                        h("div", {}, row.consumer),
                        h("div", { class: "muted" }, row.key.name !== row.consumer ? row.key.name : ""),
                    ),
                    h(
                        "td",
                        {},
                        row.plan ? row.plan.name : h("span", { class: "muted" }, "(none)"),
                        row.plans.length > 1 ? h("div", { class: "muted" }, `+${row.plans.length - 1} more`) : "",
                    ),
                    keyCell(row.key.value),
                    h(
                        "td",
                        {},
                        h(
                            "span",
                            { class: `pill ${row.key.enabled ? "on" : "off"}` },
                            row.key.enabled ? "enabled" : "disabled",
                        ),
                    ),
                    h("td", {}, throttleText(row.plan)),
                    h("td", {}, quotaCell(row)),
                    h("td", {}, daysCell(row)),
                );
                if (revealed.has(row.consumer)) tr.querySelector(".reveal").click();
                return tr;
            }),
        );
    }

    // ---- the Live requests panel ----------------------------------------------------------------

    function renderConsumerFilter(consumers) {
        const picker = $("#filter-consumer");
        const seen = new Set([...consumers, ...state.events.map((e) => e.consumer).filter(Boolean)]);
        const wanted = ["", ...[...seen].sort(), "-"];
        const have = [...picker.options].map((o) => o.value);
        if (JSON.stringify(have) === JSON.stringify(wanted)) return;
        const before = picker.value;
        picker.replaceChildren(
            ...wanted.map((v) => h("option", { value: v }, v === "" ? "all" : v === "-" ? "(none)" : v)),
        );
        picker.value = wanted.includes(before) ? before : "";
    }

    function matches(event) {
        const consumer = $("#filter-consumer").value;
        const status = $("#filter-status").value;
        if (consumer === "-" ? event.consumer !== undefined : consumer !== "" && event.consumer !== consumer)
            return false;
        if (status.length === 1 ? String(event.status)[0] !== status : status !== "" && String(event.status) !== status)
            return false;
        return true;
    }

    function requestRow(event) {
        const note = event.operation
            ? `control plane: ${event.operation}${event.refusal ? ` (${event.refusal})` : ""}`
            : event.refusal || "";
        return h(
            "tr",
            {
                "data-request-id": event.requestId,
                "data-seq": event.seq,
                class: event.requestId === state.selected ? "selected" : "",
                onclick: () => void selectRequest(event.requestId),
            },
            h("td", { class: "mono" }, new Date(event.time).toLocaleTimeString()),
            h("td", { class: "mono" }, event.method),
            h("td", { class: "mono path" }, event.path),
            h("td", { class: statusClass(event.status) }, event.status),
            h(
                "td",
                { class: "num" },
                event.latencyMs < 10 ? `${event.latencyMs.toFixed(1)} ms` : `${Math.round(event.latencyMs)} ms`,
            ),
            h("td", {}, event.consumer || ""),
            h("td", { class: "cache-col", hidden: !hasCache() }, event.cache || ""),
            h("td", { class: "muted" }, note),
        );
    }

    const hasCache = () => state.events.some((e) => e.cache !== undefined);

    function renderRequests() {
        const shown = state.events.filter(matches).reverse();
        for (const th of document.querySelectorAll("th.cache-col")) th.hidden = !hasCache();
        fill($("#requests-table tbody"), shown.map(requestRow));
        $("#requests-shown").textContent =
            `${shown.length} shown of the last ${state.events.length} (the local cloud keeps ${KEEP})`;
        $("#request-count").textContent = state.events.length ? String(state.events.length) : "";
    }

    let renderPending = false;
    function renderRequestsSoon() {
        if (renderPending) return;
        renderPending = true;
        requestAnimationFrame(() => {
            renderPending = false;
            renderRequests();
            renderConsumerFilter([...state.keyValues.keys()]);
        });
    }

    function addEvent(event) {
        if (state.seqs.has(event.seq)) return;
        state.seqs.add(event.seq);
        state.events.push(event);
        while (state.events.length > KEEP) state.seqs.delete(state.events.shift().seq);
        renderRequestsSoon();
        if (event.consumer) refreshConsumersSoon();
    }

    async function selectRequest(requestId) {
        state.selected = requestId;
        for (const tr of document.querySelectorAll("#requests-table tbody tr"))
            tr.classList.toggle("selected", tr.dataset.requestId === requestId);
        const pane = $("#request-detail");
        pane.hidden = false;
        let detail;
        try {
            detail = await getJson(`api/requests/${encodeURIComponent(requestId)}`);
        } catch (err) {
            pane.replaceChildren(h("p", { class: "error" }, String(err.message)));
            return;
        }
        const e = detail.event;
        const fields = [
            ["Request id", e.requestId],
            ["Function request id", e.functionRequestId],
            ["Function version", e.functionVersion],
            ["Status", e.status],
            ["Consumer", e.consumer],
            ["Gateway response", e.refusal],
            ["Control plane", e.operation],
            ["Cache", e.cache],
        ].filter(([, v]) => v !== undefined && v !== "");
        let accessLog = e.accessLog;
        try {
            if (accessLog) accessLog = JSON.stringify(JSON.parse(accessLog), null, 2);
        } catch {
            // Not a JSON format (CLF, ...): shown as it is.
        }
        const lines = detail.functionLog.map((l) => readableLine(l.line)).join("\n");
        pane.replaceChildren(
            h("h2", {}, `${e.method} ${e.path}`),
            h(
                "dl",
                { id: "request-fields" },
                fields.flatMap(([k, v]) => [h("dt", {}, k), h("dd", { class: "mono" }, String(v))]),
            ),
            ...(accessLog
                ? [h("strong", {}, "Access log line"), h("pre", { id: "request-access-log" }, accessLog)]
                : []),
            h("strong", {}, e.status >= 500 ? "Function log (this request)" : "Function log"),
            h(
                "pre",
                { id: "request-function-log", class: e.status >= 500 ? "s5" : "" },
                lines || (e.functionRequestId ? "(nothing logged for this invocation)" : "(no function was invoked)"),
            ),
        );
    }

    /** A function's log line whose message is JSON (a structured log record), indented under its prefix. */
    function readableLine(line) {
        const match = /^(\[[^\]]+\] \S+\t\S+\t\S+\t)(\{.*\})$/.exec(line);
        if (!match) return line;
        try {
            return `${match[1]}\n${JSON.stringify(JSON.parse(match[2]), null, 2)}`;
        } catch {
            return line;
        }
    }

    function connectEvents() {
        const live = $("#live-status");
        const source = new EventSource("api/events");
        source.addEventListener("open", () => {
            live.textContent = "live";
            live.classList.add("on");
        });
        source.addEventListener("error", () => {
            live.textContent = "reconnecting";
            live.classList.remove("on");
        });
        source.addEventListener("hello", (message) => {
            // Another process (npm start restarted): its numbers start again at 1, so the old
            // process's events are dropped rather than mistaken for the new ones.
            const { boot } = JSON.parse(message.data);
            if (state.boot !== undefined && state.boot !== boot) {
                state.events.length = 0;
                state.seqs.clear();
                renderRequestsSoon();
            }
            state.boot = boot;
        });
        source.addEventListener("request", (message) => addEvent(JSON.parse(message.data)));
        source.addEventListener("reload", () => {
            // The program changed: its routes, keys and document may have too.
            void loadOverview().then(loadReference).then(refreshConsumers);
        });
    }

    // ---- start ------------------------------------------------------------------------------------

    async function start() {
        window.addEventListener("hashchange", showPanel);
        $("#key-picker").addEventListener("change", applyPickedKey);
        $("#stage-picker").addEventListener("change", () => void loadReference());
        $("#filter-consumer").addEventListener("change", renderRequests);
        $("#filter-status").addEventListener("change", renderRequests);
        try {
            await loadOverview();
        } catch (err) {
            document.body.prepend(h("p", { class: "error" }, `The local cloud did not answer: ${err.message}`));
            return;
        }
        showPanel();
        connectEvents();
        await refreshConsumers();
        await loadReference();
        void refreshCapacity().catch(() => undefined);
        setInterval(() => {
            if (document.visibilityState === "visible") {
                void refreshConsumers();
                void refreshCapacity().catch(() => undefined);
            }
        }, REFRESH_MS);
        document.body.dataset.ready = "true";
    }

    void start();
})();
