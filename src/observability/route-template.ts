/**
 * Turns the Hono route that served a request into the bounded `route` label / `http.route` attribute.
 *
 * Labels must never contain ids (a response id is a bearer capability, behaviour.md "Ids") nor raw client paths
 * (unbounded cardinality), so only registered route templates are used and everything else collapses to one value.
 */
import type { Context } from "hono";
import { matchedRoutes } from "hono/route";

/** The single `route` value shared by every request that no route handler matched (404s of unknown paths). */
export const UNMATCHED_ROUTE = "unmatched";

/** Hono `:name`, `:name?` and `:name{regex}` parameters become OpenAPI-style `{name}`. */
export function toOpenApiTemplate(honoPath: string): string {
  return honoPath.replace(/:([A-Za-z0-9_]+)(\{(?:[^{}]|\{[^{}]*\})*\})?\??/g, "{$1}");
}

/**
 * The template of the route that handles this request, from Hono's match result.
 *
 * Hono matches the full route list (middleware and handlers for this method) before the first middleware runs,
 * and `matchedRoutes(c)` is stable for the whole request, so this gives the same answer before and after
 * `await next()`. Unlike `routePath(c)` (which follows `c.req.routeIndex`, i.e. whichever middleware or handler
 * ran last) it does not report a `*` middleware when an earlier middleware answered the request itself (auth,
 * body limit, concurrency limit). The handler is the last matched route with a concrete path; `app.use()`
 * middleware is registered on wildcard paths (`*`, `/v1/*`), so a request that only matched wildcards has no
 * route. A middleware mounted on a concrete path shares its handler's template, which is the right label anyway.
 */
export function routeTemplateOf(c: Context): string {
  const routes = matchedRoutes(c);
  for (let i = routes.length - 1; i >= 0; i--) {
    const path = routes[i]!.path;
    if (path.includes("*")) continue;
    let template = templates.get(path);
    if (template === undefined) {
      template = toOpenApiTemplate(path);
      templates.set(path, template);
    }
    return template;
  }
  return UNMATCHED_ROUTE;
}

// Registered route paths only (never request paths), so this stays as small as the route table.
const templates = new Map<string, string>();
