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
