import { lt, sql } from "drizzle-orm";
import type { Database } from "./client.ts";
import { idempotencyKeys } from "./schema/orders.ts";

/**
 * Deletes Idempotency-Key records past their 24 h (the hourly `idempotency-purge` cron; an
 * expired key is also reclaimed lazily by the middleware). Lives with the database, not the
 * HTTP middleware, so the job that runs it imports nothing from the HTTP floor.
 */
export async function purgeExpiredIdempotencyKeys(db: Database): Promise<number> {
  const rows = await db
    .delete(idempotencyKeys)
    .where(lt(idempotencyKeys.expiresAt, sql`now()`))
    .returning({ key: idempotencyKeys.key });
  return rows.length;
}
