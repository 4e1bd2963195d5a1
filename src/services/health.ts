import { sql } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import type { Env } from "../env.ts";
import { errorMessage } from "../lib/errors.ts";
import type { Redis } from "../lib/redis.ts";

export interface CheckResult {
  status: "ok" | "down" | "disabled";
  latencyMs: number;
  error?: string;
}

export interface HealthReport {
  status: "ok" | "degraded" | "down";
  checks: { postgres: CheckResult; redis: CheckResult; durableObject: CheckResult };
}

const TIMEOUT_MS = 3000;

async function timed(probe: () => Promise<unknown>): Promise<CheckResult> {
  const start = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      probe(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
      }),
    ]);
    return { status: "ok", latencyMs: Math.round(performance.now() - start) };
  } catch (err) {
    return {
      status: "down",
      latencyMs: Math.round(performance.now() - start),
      error: errorMessage(err),
    };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Probes Postgres, Redis and a Durable Object in parallel. Postgres or the object down → `down`;
 * Redis down → `degraded` (the API works without it); Redis not configured → `disabled`.
 */
export async function checkHealth(deps: {
  db: () => Database;
  redis: Redis | null;
  env: Env;
}): Promise<HealthReport> {
  const [postgres, redis, durableObject] = await Promise.all([
    timed(() => deps.db().execute(sql`select 1`)),
    deps.redis
      ? timed(() => (deps.redis as Redis).ping())
      : Promise.resolve<CheckResult>({ status: "disabled", latencyMs: 0 }),
    timed(() => deps.env.PRODUCT_STOCK.get(deps.env.PRODUCT_STOCK.idFromName("health")).snapshot()),
  ]);
  const status =
    postgres.status === "down" || durableObject.status === "down"
      ? "down"
      : redis.status === "down"
        ? "degraded"
        : "ok";
  return { status, checks: { postgres, redis, durableObject } };
}
