// A request's headers, parsed once where the request comes in (server/server.ts) and read from there
// by everything after it: the body limit (Content-Length), the gateway (x-api-key, Host, mapping
// templates) and the Lambda proxy event (proxyEvent.ts).

export interface RequestHeaders {
    /**
     * Name (the first casing the client used) -> its last value. No prototype: `constructor` is a header like any
     * other.
     */
    readonly single: Record<string, string>;
    /** Name (the first casing the client used) -> every value, in the order sent. */
    readonly multi: Record<string, string[]>;
    /** The last value of a header, by name in any casing. */
    get(name: string): string | undefined;
    /** Every value of a header, by name in any casing. */
    values(name: string): string[] | undefined;
}

/** Node's `rawHeaders` (name, value, name, value... in the client's casing) as RequestHeaders. */
export function parseHeaders(rawHeaders: readonly string[]): RequestHeaders {
    // Prototype-free maps (proxyEvent.ts's `nameMap`, spelled out to keep the modules acyclic).
    const single = Object.create(null) as Record<string, string>;
    const multi = Object.create(null) as Record<string, string[]>;
    /** Lower-case name -> the casing it is kept under. */
    const casing = new Map<string, string>();
    for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
        const name = rawHeaders[i]!;
        const lower = name.toLowerCase();
        let key = casing.get(lower);
        if (key === undefined) {
            key = name;
            casing.set(lower, key);
            multi[key] = [];
        }
        single[key] = rawHeaders[i + 1]!;
        multi[key]!.push(rawHeaders[i + 1]!);
    }
    const keyOf = (name: string) => casing.get(name.toLowerCase());
    return {
        single,
        multi,
        get: (name) => {
            const key = keyOf(name);
            return key === undefined ? undefined : single[key];
        },
        values: (name) => {
            const key = keyOf(name);
            return key === undefined ? undefined : multi[key];
        },
    };
}
