// Reading configuration from the Lambda environment (names: ENV in api/routeFunction.ts). Settings
// arrive as environment variables, not captured Outputs, so the serialized code is identical
// across stacks and the local cloud can repoint them.

/** Returns a non-empty environment variable or throws at cold start, naming the variable. */
export function requireEnv(name: string, env: Record<string, string | undefined> = process.env): string {
    const value = env[name];
    if (value === undefined || value.trim() === "") {
        throw new Error(`Missing required environment variable ${name}: the stack must set it on the function`);
    }
    return value;
}

/** A positive number of seconds from the environment (FUNCTION_TIMEOUT_SECONDS), or a cold-start error naming it. */
export function requireSecondsEnv(name: string, env: Record<string, string | undefined> = process.env): number {
    const text = requireEnv(name, env);
    const seconds = Number(text);
    if (!Number.isFinite(seconds) || seconds <= 0) {
        throw new Error(`Environment variable ${name} must be a positive number of seconds, got "${text}"`);
    }
    return seconds;
}

/** A whole number from 1 to `max` (LIST_SHARDS), `fallback` when unset, or a cold-start error naming it. */
export function countEnv(
    name: string,
    fallback: number,
    max: number,
    env: Record<string, string | undefined> = process.env,
): number {
    const text = env[name];
    if (text === undefined || text.trim() === "") {
        return fallback;
    }
    const count = Number(text);
    if (!Number.isInteger(count) || count < 1 || count > max) {
        throw new Error(`Environment variable ${name} must be a whole number from 1 to ${max}, got "${text}"`);
    }
    return count;
}
