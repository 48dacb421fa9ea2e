// One way to compare DynamoDB items and attribute values by content (the journal's repair and the capacity meter).
/** JSON with sorted keys, so equal attribute values compare equal whatever their key order
 *  (dynalite's items mix plain and null-prototype objects). */
export function canonical(value: unknown): string {
    if (Array.isArray(value)) {
        return `[${value.map(canonical).join(",")}]`;
    }
    if (value !== null && typeof value === "object") {
        return `{${Object.keys(value)
            .sort()
            .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
            .join(",")}}`;
    }
    return JSON.stringify(value);
}
