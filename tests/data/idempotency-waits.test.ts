// How long a duplicate create waits for the request that holds its Idempotency-Key: about a
// second, but never so long that Lambda stops the function before its 409 (API Gateway would
// answer 502 instead). The end-to-end case is in tests/cloud/5xx.test.ts.
import { expect } from "chai";
import { IN_PROGRESS_WAITS_MS, inProgressWaits } from "../../data/postsStore";

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

describe("idempotency: waits for a request in progress fit in the function's timeout", () => {
    it("waits the full second when the timeout is long enough (10 s, 29 s, or unknown in tests)", () => {
        for (const timeout of [10, 29, undefined]) {
            expect(inProgressWaits(timeout), String(timeout)).to.deep.equal(IN_PROGRESS_WAITS_MS);
        }
        expect(sum(IN_PROGRESS_WAITS_MS)).to.equal(1000);
    });

    it("waits at most a quarter of a short timeout (1 s: 100 ms; 2 s: 300 ms; 3 s: 600 ms)", () => {
        expect(inProgressWaits(1)).to.deep.equal([100]);
        expect(inProgressWaits(2)).to.deep.equal([100, 200]);
        expect(inProgressWaits(3)).to.deep.equal([100, 200, 300]);
        for (let timeout = 1; timeout <= 29; timeout++) {
            expect(sum(inProgressWaits(timeout)), `${timeout} s`).to.be.at.most((timeout * 1000) / 4);
        }
    });

    it("treats a nonsense timeout as unknown rather than waiting forever or not at all", () => {
        for (const timeout of [0, -1, NaN, Infinity]) {
            expect(inProgressWaits(timeout), String(timeout)).to.deep.equal(IN_PROGRESS_WAITS_MS);
        }
    });
});
