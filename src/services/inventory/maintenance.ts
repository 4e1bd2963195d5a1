import type { ServiceContext } from "../context.ts";
import { syncStockAlerts } from "./alerts.ts";
import { redriveBulkOperations } from "./bulk.ts";

/**
 * Inventory upkeep for a cron every minute: finishes bulk operations whose coordinator went
 * quiet (commits decided ones, aborts undecided ones whose holds expired), then turns
 * threshold crossings made outside the seller API (buyers' reservations, expiries) into
 * low-stock alerts and notifications. Both are idempotent, so overlapping runs are harmless.
 */
export async function inventoryMaintenance(ctx: ServiceContext): Promise<{
  redriven: Array<{ id: string; state: string }>;
  alertProductsSynced: number;
}> {
  const redriven = await redriveBulkOperations(ctx);
  const alertProductsSynced = await syncStockAlerts(ctx);
  return { redriven, alertProductsSynced };
}
