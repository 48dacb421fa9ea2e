// Key rotation under Pulumi mocks: a consumer holds a new key beside its current one, then retires
// the old one, and nothing else in the stack changes (URNs, attachments, other consumers' keys).
// The same three configs are served by the local cloud in tests/cloud/key-rotation.test.ts.
import { expect } from "chai";
import { parseStackConfig, validateApiKeyValues } from "../../config/stackConfig";
import { ofType, programWith, TYPES } from "../support/program";
import type { RecordedProgram } from "local-cloud";

const PLANS = {
    standard: { throttle: { rateLimit: 5, burstLimit: 10 }, quota: { limit: 100, period: "DAY" } },
    partner: { throttle: { rateLimit: 1, burstLimit: 2 }, quota: { limit: 1000, period: "MONTH" } },
};

/** The three steps of the runbook in docs/operations.md, for the consumer `partner`. */
const STEPS = {
    before: [
        { name: "web", plan: "standard" },
        { name: "partner", plan: "partner" },
    ],
    overlap: [
        { name: "web", plan: "standard" },
        { name: "partner", plan: "partner", keys: [1, 2] },
    ],
    retired: [
        { name: "web", plan: "standard" },
        { name: "partner", plan: "partner", keys: [2] },
    ],
};

const record = (consumers: unknown[], extra: Record<string, unknown> = {}) =>
    programWith({
        stack: "rotation",
        stackConfig: { "posts-api:plans": PLANS, "posts-api:consumers": consumers, ...extra },
    });

const urns = (program: RecordedProgram, type: string) =>
    Object.fromEntries(ofType(program, type).map((r) => [r.name, r.urn]));

describe("API key rotation (under mocks)", () => {
    let initial: RecordedProgram;
    let overlap: RecordedProgram;
    let retired: RecordedProgram;

    before(async () => {
        initial = await record(STEPS.before);
        overlap = await record(STEPS.overlap);
        retired = await record(STEPS.retired);
    });

    it("step 1 adds a second key beside the first, attached to the same plan, and changes nothing else", () => {
        for (const type of [TYPES.apiKey, TYPES.usagePlanKey, TYPES.usagePlan]) {
            const was = urns(initial, type);
            const now = urns(overlap, type);
            // Every resource that existed keeps its URN (an update at most, never a replacement).
            for (const [name, urn] of Object.entries(was)) {
                expect(now[name], `${type} ${name}`).to.equal(urn);
            }
            const added = Object.keys(now).filter((name) => !(name in was));
            expect(added, type).to.deep.equal(type === TYPES.usagePlan ? [] : ["partner.key2"]);
        }
        const partnerPlan = ofType(overlap, TYPES.usagePlan).find((p) => p.name === "partner")!;
        const attachments = ofType(overlap, TYPES.usagePlanKey).filter((a) => a.name.startsWith("partner"));
        expect(attachments.map((a) => a.inputs["usagePlanId"])).to.deep.equal([partnerPlan.id, partnerPlan.id]);
        const keys = ofType(overlap, TYPES.apiKey).filter((k) => k.name.startsWith("partner"));
        expect(attachments.map((a) => a.inputs["keyId"]).sort()).to.deep.equal(keys.map((k) => k.id).sort());
        expect(keys.every((k) => k.inputs["enabled"] === true)).to.equal(true);
        // The attachment of the new key is deleted before it is replaced, like every attachment.
        expect(attachments.every((a) => a.deleteBeforeReplace)).to.equal(true);
    });

    it("step 1 outputs the newest key for the consumer, and both key ids", () => {
        const values = overlap.outputs["apiKeys"] as Record<string, string>;
        const newest = ofType(overlap, TYPES.apiKey).find((k) => k.name === "partner.key2")!;
        const oldest = ofType(overlap, TYPES.apiKey).find((k) => k.name === "partner")!;
        expect(values["partner"]).to.equal(newest.state["value"]);
        expect(values["partner"]).not.to.equal(oldest.state["value"]);
        expect(values["web"]).to.equal((initial.outputs["apiKeys"] as Record<string, string>)["web"]);
        expect((overlap.outputs["apiKeyIds"] as Record<string, string[]>)["partner"]).to.deep.equal([
            oldest.id,
            newest.id,
        ]);
        expect(overlap.secretOutputs).to.have.members(["apiKey", "apiKeys"]);
        expect(overlap.secretOutputs).not.to.include("apiKeyIds");
    });

    it("step 2 retires the old key and its attachment only; the new key keeps its URN", () => {
        for (const type of [TYPES.apiKey, TYPES.usagePlanKey]) {
            const now = urns(retired, type);
            expect(Object.keys(now).sort(), type).to.deep.equal(["partner.key2", "web"]);
            expect(now["partner.key2"]).to.equal(urns(overlap, type)["partner.key2"]);
            expect(now["web"]).to.equal(urns(initial, type)["web"]);
        }
        expect((retired.outputs["apiKeyIds"] as Record<string, string[]>)["partner"]).to.have.length(1);
    });

    it("names every generation's key after its consumer, so a newer generation is seen to replace an older one", () => {
        // The AWS key name is what the local cloud's KeyStore.deploy reads: a key gone while a key
        // of its name with a later logical name stays is deleted for good (same URN later = new key).
        const names = (program: RecordedProgram) =>
            Object.fromEntries(ofType(program, TYPES.apiKey).map((k) => [k.name, k.inputs["name"]]));
        expect(names(overlap)).to.deep.equal({ web: "web", partner: "partner", "partner.key2": "partner" });
        expect(names(retired)).to.deep.equal({ web: "web", "partner.key2": "partner" });
    });

    it("exports every plan's id and every consumer's key ids, not as secrets", () => {
        const planIds = retired.outputs["usagePlanIds"] as Record<string, string>;
        expect(Object.keys(planIds).sort()).to.deep.equal(["partner", "standard"]);
        for (const plan of ofType(retired, TYPES.usagePlan)) {
            expect(planIds[plan.name]).to.equal(plan.id);
        }
        expect(retired.secretOutputs).not.to.include("usagePlanIds");
    });

    it("keeps the generations through a rename (renamedFrom aliases each key)", async () => {
        const renamed = await record([
            { name: "web", plan: "standard" },
            { name: "partner-co", plan: "partner", keys: [1, 2], renamedFrom: "partner" },
        ]);
        for (const [oldName, newName] of [
            ["partner", "partner-co"],
            ["partner.key2", "partner-co.key2"],
        ] as const) {
            const key = ofType(renamed, TYPES.apiKey).find((k) => k.name === newName)!;
            expect(key.aliases, newName).to.deep.equal([urns(overlap, TYPES.apiKey)[oldName]]);
        }
    });

    it("pins a rotated key's value under `<consumer>.key<N>`", async () => {
        const pinned = "RotatedPartnerKey0123456789abcd";
        const program = await record(STEPS.overlap, { "posts-api:apiKeyValues": { "partner.key2": pinned } });
        expect(ofType(program, TYPES.apiKey).find((k) => k.name === "partner.key2")!.inputs["value"]).to.equal(pinned);
        expect((program.outputs["apiKeys"] as Record<string, string>)["partner"]).to.equal(pinned);
    });
});

describe("API key rotation: config validation", () => {
    const parse = (consumer: Record<string, unknown>) =>
        parseStackConfig("dev", { plans: PLANS, consumers: [consumer] });
    const refusal = (consumer: Record<string, unknown>) => {
        try {
            parse(consumer);
        } catch (err) {
            return (err as Error).message;
        }
        return "accepted";
    };

    it("defaults to one key, generation 1", () => {
        expect(parse({ name: "partner", plan: "partner" }).consumers[0]!.keys).to.deep.equal([1]);
        expect(parse({ name: "partner", plan: "partner", keys: [3, 4] }).consumers[0]!.keys).to.deep.equal([3, 4]);
    });

    it("refuses an empty list, more than two keys, generations out of order or below 1, and non-integers, naming the key", () => {
        expect(refusal({ name: "p", plan: "partner", keys: [] })).to.include(
            "posts-api:consumers[0].keys: a consumer needs at least one key",
        );
        expect(refusal({ name: "p", plan: "partner", keys: [1, 2, 3] })).to.include(
            "at most 2 keys per consumer: retire the old key before the next rotation",
        );
        expect(refusal({ name: "p", plan: "partner", keys: [2, 1] })).to.include(
            "keys must be increasing generations, oldest first",
        );
        expect(refusal({ name: "p", plan: "partner", keys: [1, 1] })).to.include("keys must be increasing generations");
        expect(refusal({ name: "p", plan: "partner", keys: [0] })).to.include(
            "posts-api:consumers[0].keys[0]: key generations start at 1",
        );
        expect(refusal({ name: "p", plan: "partner", keys: [1.5] })).to.include("key generations are whole numbers");
        expect(refusal({ name: "p", plan: "partner", keys: "2" })).to.include("keys is a list of key generations");
    });

    it("accepts pinned values only for live keys", () => {
        const live = new Set(["partner", "partner.key2"]);
        expect(validateApiKeyValues({ "partner.key2": "x".repeat(40) }, live)).to.deep.equal({
            "partner.key2": "x".repeat(40),
        });
        expect(() => validateApiKeyValues({ "partner.key3": "x".repeat(40) }, live)).to.throw(
            /apiKeyValues\.partner\.key3: no live key named "partner\.key3"/,
        );
    });
});
