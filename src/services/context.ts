import type { Actor } from "../db/audit.ts";
import type { Database } from "../db/client.ts";
import type { Config } from "../env.ts";
import type { Logger } from "../lib/logger.ts";

/** What every service function receives: no HTTP, no Hono, just its dependencies. */
export interface ServiceContext {
  db: Database;
  config: Config;
  actor: Actor;
  logger: Logger;
}

/** Postgres unique_violation, through the Neon driver or drizzle's wrapper. */
export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  let e: unknown = err;
  for (let depth = 0; e && depth < 4; depth++) {
    const rec = e as { code?: unknown; constraint?: unknown; cause?: unknown };
    if (rec.code === "23505") return constraint ? rec.constraint === constraint : true;
    e = rec.cause;
  }
  return false;
}
