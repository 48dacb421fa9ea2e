// GET /posts/{id} — 200 with `ETag: "{version}"`. A consistent read, so a client sees its own
// writes (the list, read from an index, is eventually consistent).
import type { RouteHandler } from "../http/contract";
import { postNotFound } from "../http/errors";
import { getPost as readPost } from "../../data/postsStore";
import { postIdFrom, postResponse } from "./shared";

export const getPost: RouteHandler = async (request, deps) => {
    const post = await readPost(deps, postIdFrom(request), true);
    if (post === null) {
        throw postNotFound();
    }
    return postResponse(200, post);
};
