import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { errorMessage } from "../../lib/errors.ts";
import { verifyAccessToken } from "../../services/auth/tokens.ts";
import {
  AccountBlocked,
  Forbidden,
  ServiceUnavailable,
  Unauthenticated,
} from "../../services/errors.ts";
import { readStanding, type Standing } from "../../services/users/standing.ts";
import type { AppEnv, AuthUser } from "../context.ts";

const READS = new Set(["GET", "HEAD", "OPTIONS"]);

export interface AuthOptions {
  /**
   * `refuse-writes` (the default): a blocked account reads but changes nothing here (403
   * ACCOUNT_BLOCKED). `allow`: one of the few things a blocked account may still do.
   */
  whileBlocked?: "refuse-writes" | "allow";
  /**
   * Where the account's standing comes from. `revocation-set` (the default): one Redis read per
   * request, so a block or a deletion holds at once; a write whose standing cannot be read
   * (Redis failing or slow) answers 503. `token`: the token's claims alone, where the standing
   * is decided elsewhere at once: the bid path (its auction room is told of blocks and makes no
   * round trip) and checkout confirm (its one Postgres write checks the buyer as it commits).
   */
  standing?: "revocation-set" | "token";
}

/**
 * Requires a valid Bearer access token and puts `{ id, role }` on the context as `user`. A
 * deleted account is refused (401) whatever it asks; a blocked one as `whileBlocked` says.
 */
export function authenticate(opts: AuthOptions = {}) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const header = c.req.header("authorization");
    const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (!match?.[1]) throw new Unauthenticated("A Bearer access token is required.");
    await signIn(c, match[1], opts);
    await next();
  });
}

/**
 * Verifies `token`, checks the account's standing and sets `user`: the one sign-in behind every
 * way a token arrives (the Authorization header, the live socket's `?access_token`).
 */
export async function signIn(c: Context<AppEnv>, token: string, opts: AuthOptions = {}) {
  const { config, redis, logger } = c.get("services");
  const claims = await verifyAccessToken(token, config.JWT_SECRET);
  const write = !READS.has(c.req.method);
  let standing: Standing | null | "unknown" = null;
  if (redis && opts.standing !== "token") {
    try {
      standing = await readStanding(redis, claims.sub);
    } catch (err) {
      standing = "unknown";
      logger.warn("account standing unreadable", {
        error: errorMessage(err),
      });
    }
  }
  if (standing === "deleted") throw new Unauthenticated("This account was deleted.");
  if (standing === "unknown" && write) {
    // Fail closed: Redis being down must not let a blocked or deleted account write.
    throw new ServiceUnavailable("Account checks are unavailable; try again shortly.");
  }
  const blocked = standing === "blocked" || (standing !== "unblocked" && claims.blocked === true);
  if (blocked && write && opts.whileBlocked !== "allow") throw new AccountBlocked();
  c.set("user", { id: claims.sub, role: claims.role });
}

/** Any signed-in account in good standing; a blocked one may only read. */
export const requireAuth = authenticate();

/**
 * For what a blocked account may still do besides reading: answer its conversations, pay and
 * follow its orders, fulfil orders its shop was paid for, its profile and addresses.
 */
export const requireAuthWhileBlocked = authenticate({ whileBlocked: "allow" });

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
