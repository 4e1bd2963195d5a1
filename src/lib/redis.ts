import { Redis } from "@upstash/redis/cloudflare";
import type { Config } from "../env.ts";

/**
 * The Upstash client, or null when no Redis is configured. Correctness never depends on
 * Redis: callers treat null as "cache off, limits off" (auth limits fail closed instead when a
 * configured Redis fails; see src/http/middleware/rate-limit.ts).
 */
export function createRedis(config: Config): Redis | null {
  if (!config.UPSTASH_REDIS_REST_URL || !config.UPSTASH_REDIS_REST_TOKEN) return null;
  // One client per configuration and isolate: it is a fetch wrapper with no connection to keep.
  const built = clients.get(config);
  if (built) return built;
  const redis = new Redis({
    url: config.UPSTASH_REDIS_REST_URL,
    token: config.UPSTASH_REDIS_REST_TOKEN,
    // A failing Redis must not hold a request hostage: one quick try, no retry storm.
    retry: { retries: 0 },
    enableTelemetry: false,
    // Shared across requests, so it must not batch one request's commands with another's.
    enableAutoPipelining: false,
  });
  limitTimeouts.set(redis, config.RATE_LIMIT_TIMEOUT_MS);
  clients.set(config, redis);
  return redis;
}

const clients = new WeakMap<Config, Redis>();

/** How long a limit check may wait on Redis before it counts as failed, unless configured. */
export const DEFAULT_LIMIT_TIMEOUT_MS = 1_500;
const limitTimeouts = new WeakMap<Redis, number>();

/** The RATE_LIMIT_TIMEOUT_MS this client was built with (the default for clients built by hand). */
export function rateLimitTimeoutOf(redis: Redis | null): number {
  return (redis && limitTimeouts.get(redis)) ?? DEFAULT_LIMIT_TIMEOUT_MS;
}

export type { Redis };
