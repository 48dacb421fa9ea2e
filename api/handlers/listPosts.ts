// GET /posts?limit=&cursor= — one page, newest first.
import type { RouteHandler } from "../http/contract";
import { decodeCursor, encodeCursor } from "../cursor";
import { parseLimit, singleQueryValue } from "./shared";

export const listPosts: RouteHandler = async (request, deps) => {
    const limit = parseLimit(request);
    const cursor = singleQueryValue(request, "cursor");
    const startKey = cursor === undefined ? null : decodeCursor(cursor, deps.cursorKey);
    const page = await deps.store.listPosts(limit, startKey);
    return {
        statusCode: 200,
        body: {
            items: page.items,
            nextCursor: page.nextKey === null ? null : encodeCursor(page.nextKey, deps.cursorKey),
        },
    };
};
