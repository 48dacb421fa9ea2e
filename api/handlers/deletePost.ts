// DELETE /posts/{id} — 204 with an empty body; 404 if absent, 412 on a stale If-Match.
import type { RouteHandler } from "../http/contract";
import { parseIfMatch, postIdFrom } from "./shared";

export const deletePost: RouteHandler = async (request, deps) => {
    const id = postIdFrom(request);
    await deps.store.deletePost(id, parseIfMatch(request));
    return { statusCode: 204 };
};
