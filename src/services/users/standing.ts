import { withTimeout } from "../../lib/cache.ts";
import { errorMessage } from "../../lib/errors.ts";
import type { Logger } from "../../lib/logger.ts";
import { type Redis, rateLimitTimeoutOf } from "../../lib/redis.ts";
import { ACCESS_TOKEN_TTL_SECONDS } from "../auth/tokens.ts";

/**
 * An account's standing as the revocation set records it. Access tokens are checked against it
 * with one Redis read instead of a Postgres round trip per request. `unblocked` exists so that a
 * token signed while the account was blocked (its `blk` claim) stops being refused at once.
 */
export type Standing = "blocked" | "unblocked" | "deleted";

const STANDINGS = new Set<unknown>(["blocked", "unblocked", "deleted"]);

/**
 * An entry outlives every access token signed before the change it records (plus a minute of
 * clock skew). Tokens signed after it carry the account's state in their own claims (login and
 * refresh read it from Postgres), so the set never has to hold an entry for longer.
 */
export const STANDING_TTL_SECONDS = ACCESS_TOKEN_TTL_SECONDS + 60;

export function standingKey(userId: string): string {
  return `souk:revoked:${userId}`;
}

/**
 * The recorded standing of `userId`, or null when nothing changed within a token's lifetime.
 * Throws when Redis fails or is slower than the rate-limit timeout: callers decide whether that
 * fails closed.
 */
export async function readStanding(redis: Redis, userId: string): Promise<Standing | null> {
  const value = await withTimeout(
    redis.get<string>(standingKey(userId)),
    rateLimitTimeoutOf(redis),
  );
  return STANDINGS.has(value) ? (value as Standing) : null;
}

/**
 * Records a block, an unblock or a deletion in the revocation set, after its Postgres change
 * committed. Never throws: the change is already made. A failed write is logged at error level,
 * because until the account's older tokens expire (15 min) they then keep what the block or
 * deletion takes away, except where Postgres is asked anyway (purchases, auction rooms).
 */
export async function recordStanding(
  deps: { redis: Redis | null; logger: Logger },
  userId: string,
  standing: Standing,
): Promise<boolean> {
  const { redis } = deps;
  if (!redis) return false;
  const write = () =>
    withTimeout(
      redis.set(standingKey(userId), standing, { ex: STANDING_TTL_SECONDS }),
      rateLimitTimeoutOf(redis),
    );
  try {
    await write();
    return true;
  } catch {
    try {
      // One retry: a single dropped request should not leave a deleted account's tokens alive.
      await write();
      return true;
    } catch (err) {
      deps.logger.error("account standing not recorded in Redis", {
        userId,
        standing,
        error: errorMessage(err),
      });
      return false;
    }
  }
}
