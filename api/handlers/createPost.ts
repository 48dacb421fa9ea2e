// POST /posts — 201 with the new post and `Location: posts/{id}` (relative to the stage URL, so
// it resolves correctly against the request URL `.../{stage}/posts`). With an Idempotency-Key a
// retry gets the stored original 201, or 409 with Retry-After while the first is still running
// (data/postsStore.ts, "Idempotent create"; the adapter maps the store's refusals).
import type { RouteHandler } from "../http/contract";
import { postValidators } from "../validation/postValidators";
import { validateBody } from "../validation/validate";
import { parseIdempotencyKey, parseJsonObject, postResponse } from "./shared";

/** Idempotency keys are scoped per API key, so two clients cannot collide on one. */
export const ANONYMOUS_SCOPE = "anonymous";

export const createPost: RouteHandler = async (request, deps) => {
    const idempotencyKey = parseIdempotencyKey(request);
    const input = validateBody(postValidators.create, parseJsonObject(request.body));
    const post =
        idempotencyKey === null
            ? await deps.store.createPost(input)
            : await deps.store.createPostIdempotent(request.apiKeyId ?? ANONYMOUS_SCOPE, idempotencyKey, input);
    return postResponse(201, post, { Location: `posts/${post.id}` });
};
