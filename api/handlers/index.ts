// Route name → handler, derived from the route table (api/routes.ts), for code that dispatches by
// name (the tests). Nothing to edit here when a route is added: its row is enough.
import type { RouteHandler } from "../http/contract";
import { routes, type RouteName } from "../routes";

export type { RouteName };

export const handlers = Object.fromEntries(routes.map((route) => [route.name, route.handler])) as Readonly<
    Record<RouteName, RouteHandler>
>;
