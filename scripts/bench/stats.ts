// The small statistics every bench section prints: percentiles over rounds, and a target's verdict.

/** The p-th percentile (nearest rank, lower side) of the values. */
export function percentile(values: number[], p: number): number {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

export const median = (values: number[]): number => percentile(values, 50);

/** How a figure compares with its target, in the words every section uses. */
export const verdict = (ok: boolean): string => (ok ? "met" : "MISSED");
