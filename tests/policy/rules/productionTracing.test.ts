// The production-xray-tracing guardrail (policies/rules/productionTracing.ts) over the program
// recorded under mocks: it fires, with a message that says what to fix, on a deliberately broken
// variant.
import { expect } from "chai";
import { type RecordedProgram } from "local-cloud";
import { checkRecordedStack } from "../../../policies/rules";
import { productionTracing } from "../../../policies/rules/productionTracing";
import { one, TYPES } from "../../support/program";
import { copy, guardrailPrograms, only, ROUTES, setProp } from "../support";

let dev: RecordedProgram;
let prod: RecordedProgram;

// Root-level, so it runs before every suite of the run (why: guardrailPrograms in ../support).
before("record the programs the guardrail tests need", async function () {
    this.timeout(180_000);
    ({ dev, prod } = await guardrailPrograms());
});

describe("guardrail rules (policies/rules)", () => {
    describe("production-xray-tracing", () => {
        it("fires, as advisory, for a prod stage without X-Ray and a function that only passes traces through", () => {
            const broken = copy(prod);
            setProp(one(broken, TYPES.stage), "xrayTracingEnabled", false);
            setProp(one(broken, TYPES.function, "createPost"), "tracingConfig", { mode: "PassThrough" });
            const findings = checkRecordedStack(broken);
            expect(only("production-xray-tracing", findings)).to.deep.equal([
                'Stack "prod" is production, but Stage "posts-api" does not trace requests with X-Ray (xrayTracingEnabled false): set posts-api:tracing: true on this stack (the stage\'s `xrayTracingEnabled: true`).',
                'Stack "prod" is production, but Function "createPost" does not trace actively (tracingConfig.mode "PassThrough"): set posts-api:tracing: true on this stack (the function\'s `tracingConfig: { mode: "Active" }`).',
            ]);
            expect(findings.map((f) => [f.enforcementLevel, f.urn])).to.deep.equal([
                ["advisory", one(broken, TYPES.stage).urn],
                ["advisory", one(broken, TYPES.function, "createPost").urn],
            ]);
        });

        it("holds a stack listed in productionStacks to it (dev traces nothing), and not dev as shipped", () => {
            expect(one(dev, TYPES.stage).state["xrayTracingEnabled"]).to.equal(false);
            const messages = only(
                "production-xray-tracing",
                checkRecordedStack(dev, { "production-xray-tracing": { productionStacks: ["dev"] } }),
            );
            expect(messages).to.have.length(1 + ROUTES.length);
            expect(messages.filter((m) => m.includes('(tracingConfig.mode "PassThrough")'))).to.have.length(
                ROUTES.length,
            );
            const view = {
                resources: dev.resources.map((r) => ({ urn: r.urn, type: r.type, name: r.name, props: r.state })),
                outputs: {},
                secretOutputs: [],
            };
            expect(productionTracing.check(view, {})).to.have.property("notApplicable");
        });
    });
});
