import type { Database } from "../../db/client.ts";
import type { Env } from "../../env.ts";
import type { Logger } from "../../lib/logger.ts";
import { syncStockAlerts } from "./alerts.ts";
import { redriveBulkOperations } from "./bulk.ts";

/** What the job needs; a cron's JobContext fits as it is. */
export interface MaintenanceContext {
  db: Database;
  logger: Logger;
  env: Pick<Env, "PRODUCT_STOCK" | "NOTIFICATIONS">;
}

/**
 * Inventory upkeep for a cron every minute: finishes bulk operations whose coordinator went
 * quiet (commits decided ones, aborts undecided ones whose holds expired), then turns
 * threshold crossings made outside the seller API (buyers' reservations, expiries) into
 * low-stock alerts and notifications. Both are idempotent, so overlapping runs are harmless.
 */
export async function inventoryMaintenance(ctx: MaintenanceContext): Promise<{
  redriven: Array<{ id: string; state: string }>;
  alertProductsSynced: number;
}> {
  const deps = {
    db: ctx.db,
    stock: ctx.env.PRODUCT_STOCK,
    queue: ctx.env.NOTIFICATIONS,
    logger: ctx.logger,
  };
  const redriven = await redriveBulkOperations(deps);
  const alertProductsSynced = await syncStockAlerts(deps);
  return { redriven, alertProductsSynced };
}
