// What the posts store refuses, in its own words. The store throws these; the HTTP adapter
// (api/http/adapter.ts) is the only place that turns them into status codes, so this module knows
// nothing of HTTP.
//
// Tagged Error objects from one factory, not classes: the Lambda code is serialized by Pulumi,
// which emits a class as a plain function and rewrites `super(...)` to `Error.call(this, ...)`.
// Measured with @pulumi/pulumi 3.270: a serialized `class PostNotFound extends Error` loses its
// message and stack, its class fields (a `readonly kind = ...` is dropped), `instanceof Error`
// and `instanceof` of a shared base class. Plain `new Error()` objects and a `kind` field keep all
// of that in both the TypeScript and the serialized code.

/** What each kind of refusal carries besides its message. */
interface StoreErrorDetails {
    /** No post with this id. */
    PostNotFound: { postId: string };
    /** The post exists but its version is not the one the write required (If-Match). */
    VersionConflict: { postId: string };
    /** This idempotency key was used with a different request body. */
    IdempotencyKeyReused: Record<never, never>;
    /** Another request holds this idempotency key; its lease ends in `retryAfterSeconds`. */
    IdempotencyInProgress: { retryAfterSeconds: number };
}

export type StoreErrorKind = keyof StoreErrorDetails;

/** One refusal of the store: an Error whose `kind` (also its `name`) says which. */
export type StoreError = {
    [K in StoreErrorKind]: Error & { readonly isStoreError: true; readonly kind: K } & Readonly<StoreErrorDetails[K]>;
}[StoreErrorKind];

export type PostNotFound = Extract<StoreError, { kind: "PostNotFound" }>;
export type VersionConflict = Extract<StoreError, { kind: "VersionConflict" }>;
export type IdempotencyKeyReused = Extract<StoreError, { kind: "IdempotencyKeyReused" }>;
export type IdempotencyInProgress = Extract<StoreError, { kind: "IdempotencyInProgress" }>;

function messageFor(kind: StoreErrorKind, details: Record<string, unknown>): string {
    switch (kind) {
        case "PostNotFound":
            return `Post ${String(details.postId)} not found`;
        case "VersionConflict":
            return `Post ${String(details.postId)} is not at the required version`;
        case "IdempotencyKeyReused":
            return "Idempotency key was already used with a different request";
        case "IdempotencyInProgress":
            return `Another request holds this idempotency key for ${String(details.retryAfterSeconds)} s more`;
    }
}

/** The one way to make a store error, e.g. `throw storeError("PostNotFound", { postId })`. */
export function storeError<K extends StoreErrorKind>(
    kind: K,
    details: StoreErrorDetails[K],
): Extract<StoreError, { kind: K }> {
    const error = Object.assign(new Error(messageFor(kind, details)), details, { isStoreError: true, kind });
    error.name = kind;
    return error as unknown as Extract<StoreError, { kind: K }>;
}

/** By the marker, not `instanceof` (see the note at the top). */
export function isStoreError(value: unknown): value is StoreError {
    return (
        value instanceof Error &&
        (value as Partial<StoreError>).isStoreError === true &&
        typeof (value as Partial<StoreError>).kind === "string"
    );
}
