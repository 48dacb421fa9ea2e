// Route name → handler, for code that dispatches by name (the local cloud, tests). The route
// table with methods, paths and IAM actions is api/routes.ts.
import type { RouteHandler } from "../http/contract";
import { createPost } from "./createPost";
import { deletePost } from "./deletePost";
import { getPost } from "./getPost";
import { listPosts } from "./listPosts";
import { replacePost } from "./replacePost";
import { updatePost } from "./updatePost";

export const handlers = {
    listPosts,
    createPost,
    getPost,
    replacePost,
    updatePost,
    deletePost,
} satisfies Record<string, RouteHandler>;

export type RouteName = keyof typeof handlers;
