// GET /posts/{id} — 200 with `ETag: "{version}"`, 404 if absent. The store reads consistently,
// so a client sees its own writes (the list, read from an index, is eventually consistent).
import type { RouteHandler } from "../http/contract";
import { postIdFrom, postResponse } from "./shared";

export const getPost: RouteHandler = async (request, deps) => {
    return postResponse(200, await deps.store.getPost(postIdFrom(request)));
};
