import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../../http/context.ts";
import { requireAuth } from "../../http/middleware/auth.ts";

/**
 * For public routes that answer more to a signed-in caller (a shop's own team sees its hidden
 * shop). No Authorization header: anonymous. A header with a bad token is still a 401, so a
 * client with an expired token learns it instead of silently getting the anonymous answer.
 */
export const optionalAuth = createMiddleware<AppEnv>(async (c, next) => {
  if (!c.req.header("authorization")) return next();
  return requireAuth(c, next);
});
