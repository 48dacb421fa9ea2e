// PUT /posts/{id} — replaces every client field (same validation as create; an omitted
// description becomes ""). Never creates. If-Match is checked by DynamoDB in the same write.
import type { RouteHandler } from "../http/contract";
import { postValidators } from "../validation/postValidators";
import { validateBody } from "../validation/validate";
import { parseIfMatch, parseJsonObject, postIdFrom, postResponse } from "./shared";

export const replacePost: RouteHandler = async (request, deps) => {
    const id = postIdFrom(request);
    const condition = parseIfMatch(request);
    const input = validateBody(postValidators.replace, parseJsonObject(request.body));
    return postResponse(200, await deps.store.updatePost(id, input, condition));
};
