// PATCH /posts/{id} — changes only the fields sent (at least one). Never creates.
import type { RouteHandler } from "../http/contract";
import { postValidators } from "../validation/postValidators";
import { validateBody } from "../validation/validate";
import { parseIfMatch, parseJsonObject, postIdFrom, postResponse } from "./shared";

export const updatePost: RouteHandler = async (request, deps) => {
    const id = postIdFrom(request);
    const condition = parseIfMatch(request);
    const patch = validateBody(postValidators.patch, parseJsonObject(request.body));
    return postResponse(200, await deps.store.updatePost(id, patch, condition));
};
