import { Redis } from "@upstash/redis/cloudflare";
import type { Config } from "../env.ts";

/**
 * The Upstash client, or null when no Redis is configured. Correctness never depends on
 * Redis: callers treat null as "cache off, limits off" (auth limits fail closed instead when a
 * configured Redis fails; see src/http/middleware/rate-limit.ts).
 */
export function createRedis(config: Config): Redis | null {
  if (!config.UPSTASH_REDIS_REST_URL || !config.UPSTASH_REDIS_REST_TOKEN) return null;
  return new Redis({
    url: config.UPSTASH_REDIS_REST_URL,
    token: config.UPSTASH_REDIS_REST_TOKEN,
    // A failing Redis must not hold a request hostage: one quick try, no retry storm.
    retry: { retries: 0 },
    enableTelemetry: false,
  });
}

export type { Redis };
