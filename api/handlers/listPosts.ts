// GET /posts?limit=&cursor= — one page, newest first.
import type { RouteHandler } from "../http/contract";
import { encodeCursor, listStartKey } from "../cursor";
import { parseLimit, singleQueryValue } from "./shared";

export const listPosts: RouteHandler = async (request, deps) => {
    const limit = parseLimit(request);
    const startKey = listStartKey(singleQueryValue(request, "cursor"), deps.cursorKey);
    const page = await deps.store.listPosts(limit, startKey);
    return {
        statusCode: 200,
        body: {
            items: page.items,
            nextCursor: page.nextKey === null ? null : encodeCursor(page.nextKey, deps.cursorKey),
        },
    };
};
