import { createMiddleware } from "hono/factory";
import { verifyAccessToken } from "../../services/auth/tokens.ts";
import { Forbidden, Unauthenticated } from "../../services/errors.ts";
import type { AppEnv, AuthUser } from "../context.ts";

/** Requires a valid Bearer access token and puts `{ id, role }` on the context as `user`. */
export const requireAuth = createMiddleware<AppEnv>(async (c, next) => {
  const header = c.req.header("authorization");
  const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  if (!match?.[1]) throw new Unauthenticated("A Bearer access token is required.");
  const claims = await verifyAccessToken(match[1], c.get("services").config.JWT_SECRET);
  c.set("user", { id: claims.sub, role: claims.role });
  await next();
});

/** After requireAuth: only these roles pass; admins pass every role check. */
export function requireRole(...roles: AuthUser["role"][]) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const user = c.get("user");
    if (!user) throw new Unauthenticated();
    if (user.role !== "admin" && !roles.includes(user.role)) {
      throw new Forbidden(`This needs the ${roles.join(" or ")} role.`);
    }
    await next();
  });
}

/**
 * For public routes that answer more to a signed-in caller (a shop's own team sees its hidden
 * shop). No Authorization header: anonymous. A header with a bad token is still a 401, so a
 * client with an expired token learns it instead of silently getting the anonymous answer.
 */
export const optionalAuth = createMiddleware<AppEnv>(async (c, next) => {
  if (!c.req.header("authorization")) return next();
  return requireAuth(c, next);
});
