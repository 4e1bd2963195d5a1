import { Ratelimit } from "@upstash/ratelimit";
import { RateLimited, ServiceUnavailable } from "../services/errors.ts";
import { type Redis, rateLimitTimeoutOf } from "./redis.ts";

type Duration = `${number} ${"s" | "m" | "h"}`;

export interface LimitRule {
  /** Requests allowed per window per identifier. */
  limit: number;
  window: Duration;
  /**
   * Auth and OTP limits fail closed: a broken Redis must not turn off brute-force protection
   * (503 instead). Others fail open, because availability beats a missing counter.
   */
  failClosed: boolean;
}

/** Sliding-window rules; each key is checked per identifier (an IP, an email, a user id). */
export const LIMITS = {
  "auth.register": { limit: 10, window: "10 m", failClosed: true },
  "auth.login.ip": { limit: 30, window: "5 m", failClosed: true },
  "auth.login.email": { limit: 10, window: "5 m", failClosed: true },
  "otp.issue": { limit: 5, window: "10 m", failClosed: true },
  "otp.verify": { limit: 10, window: "10 m", failClosed: true },
  // Account codes (password reset, email proof). A reset request is anonymous and mails any
  // address that has an account: per IP and per email, so neither a script nor a grudge can
  // flood one mailbox. Confirming is counted the same way, on top of 5 tries per code.
  "account.reset.ip": { limit: 10, window: "10 m", failClosed: true },
  "account.reset.email": { limit: 3, window: "10 m", failClosed: true },
  "account.reset.confirm.ip": { limit: 20, window: "10 m", failClosed: true },
  "account.reset.confirm.email": { limit: 10, window: "10 m", failClosed: true },
  // A signed-in account asking for an email code (its own address or a new one), and checking it.
  "account.code.issue": { limit: 5, window: "10 m", failClosed: true },
  "account.code.verify": { limit: 10, window: "10 m", failClosed: true },
  bid: { limit: 30, window: "10 s", failClosed: false },
  checkout: { limit: 20, window: "1 m", failClosed: false },
  // Per user, counted on every message written (a new conversation's first one included).
  message: { limit: 20, window: "1 m", failClosed: false },
  // Per user and subject (a shop, an order, a user), then per user over all subjects.
  "complaint.subject": { limit: 3, window: "24 h", failClosed: false },
  "complaint.user": { limit: 10, window: "24 h", failClosed: false },
  // Staff invitations send email to any address: per shop, then per inviter over all shops.
  // Closed, like OTPs, so a broken Redis does not turn the route into a mail cannon.
  "staff.invite.shop": { limit: 10, window: "1 h", failClosed: true },
  "staff.invite.user": { limit: 20, window: "1 h", failClosed: true },
  // Pickup codes entered at a branch, per order, on top of 5 tries per code. Closed: a broken
  // Redis must not let a guesser run through 10^6 codes by asking for new ones.
  "pickup.collect": { limit: 10, window: "10 m", failClosed: true },
} satisfies Record<string, LimitRule>;
export type LimitName = keyof typeof LIMITS;

const limiters = new WeakMap<Redis, Map<string, Ratelimit>>();

function limiterFor(redis: Redis, name: LimitName, timeoutMs: number): Ratelimit {
  let byName = limiters.get(redis);
  if (!byName) {
    byName = new Map();
    limiters.set(redis, byName);
  }
  const cacheKey = `${name}:${timeoutMs}` as const;
  let rl = byName.get(cacheKey);
  if (!rl) {
    const rule: LimitRule = LIMITS[name];
    rl = new Ratelimit({
      redis,
      limiter: Ratelimit.slidingWindow(rule.limit, rule.window),
      prefix: `souk:rl:${name}`,
      // The library answers success with reason "timeout" when Redis is slow: we treat that
      // as a failure for fail-closed rules rather than trust it.
      timeout: timeoutMs,
      analytics: false,
    });
    byName.set(cacheKey, rl);
  }
  return rl;
}

/**
 * Counts one request against `name` for `identifier`. Throws RATE_LIMITED with the seconds until
 * the window frees up, or SERVICE_UNAVAILABLE when a fail-closed rule cannot be checked.
 * With no Redis configured, limits are off (said once in the log by the init middleware).
 */
export async function enforceLimit(
  redis: Redis | null,
  name: LimitName,
  identifier: string,
  now: number = Date.now(),
  timeoutMs: number = rateLimitTimeoutOf(redis),
): Promise<void> {
  if (!redis) return;
  const rule: LimitRule = LIMITS[name];
  let result: Awaited<ReturnType<Ratelimit["limit"]>>;
  try {
    result = await limiterFor(redis, name, timeoutMs).limit(identifier);
  } catch {
    if (rule.failClosed)
      throw new ServiceUnavailable("Rate limiting is unavailable; try again shortly.");
    return;
  }
  if (result.reason === "timeout") {
    if (rule.failClosed)
      throw new ServiceUnavailable("Rate limiting is unavailable; try again shortly.");
    return;
  }
  if (!result.success) {
    throw new RateLimited(Math.max(1, Math.ceil((result.reset - now) / 1000)), {
      name,
      rule: `${rule.limit} per ${rule.window}`,
    });
  }
}
