import { bodyLimit } from "hono/body-limit";
import { createMiddleware } from "hono/factory";
import { matchedRoutes } from "hono/route";
import type { MiddlewareHandler } from "hono/types";
import type { AppEnv } from "../context.ts";
import { problem } from "../problem.ts";

/** What any request body may weigh unless its route says otherwise. */
export const DEFAULT_BODY_LIMIT_BYTES = 1024 * 1024;

/** Limits a route set for itself; the app-wide default steps aside for those routes. */
const ownLimits = new WeakSet<MiddlewareHandler>();

function limitOf(maxSize: number): MiddlewareHandler<AppEnv> {
  return bodyLimit({
    maxSize,
    onError: (c) =>
      problem(c, "PAYLOAD_TOO_LARGE", `The request body must be at most ${maxSize} bytes.`, {
        maxBytes: maxSize,
      }),
  });
}

/**
 * A route's own body limit, for the few that need more than the default (a CSV import). Put it
 * in the route's `middleware` after authentication, so a stranger learns nothing from it.
 */
export function routeBodyLimit(maxSize: number): MiddlewareHandler<AppEnv> {
  const handler = limitOf(maxSize);
  ownLimits.add(handler as MiddlewareHandler);
  return handler;
}

const defaultLimit = limitOf(DEFAULT_BODY_LIMIT_BYTES);

/**
 * Refuses a body over the default (413 PAYLOAD_TOO_LARGE) before anything reads or parses it,
 * unless the matched route carries its own `routeBodyLimit`. The declared Content-Length is
 * trusted (workerd enforces it); a chunked body is counted as it streams.
 */
export const defaultBodyLimit = createMiddleware<AppEnv>(async (c, next) => {
  if (matchedRoutes(c).some((r) => ownLimits.has(r.handler))) return next();
  return defaultLimit(c, next);
});
