import { eq } from "drizzle-orm";
import { purgeExpiredIdempotencyKeys } from "../db/idempotency.ts";
import { jobRuns } from "../db/schema/jobs.ts";
import type { Env } from "../env.ts";
import { errorMessage } from "../lib/errors.ts";
import { uuidv7 } from "../lib/ids.ts";
import { catchUpSalesRollups } from "../services/analytics/rollups.ts";
import { derive } from "../services/context.ts";
import { sendLowStockDigests } from "../services/inventory/digest.ts";
import { inventoryMaintenance } from "../services/inventory/maintenance.ts";
import { redriveUnsentRefunds } from "../services/orders/refunds.ts";
import { expireLapsedReservations, expireOverduePayments } from "../services/payments/deadlines.ts";
import { reconcilePayments } from "../services/payments/reconciliation.ts";
import { auctionSweepJob, auctionUnpaidJob } from "./auctions.ts";
import { type JobContext, openJobContext } from "./context.ts";
import { queueStaleShops } from "./intelligence.ts";

export type CronJob = (ctx: JobContext) => Promise<Record<string, unknown>>;

export const CRON_JOBS: Record<string, Record<string, CronJob>> = {
  "* * * * *": {
    "auction-sweep": auctionSweepJob,
    // Re-drives bulk stock operations whose coordinator went quiet; turns threshold crossings
    // made outside the seller API (reservations, expiries) into alerts.
    "inventory-maintenance": async (ctx) => ({ ...(await inventoryMaintenance(ctx)) }),
  },
  "*/5 * * * *": {
    // First: unpaid auction orders get their strike and second chance before anything else
    // could expire them (payment-deadlines should skip source = 'auction' orders anyway).
    "auction-unpaid": auctionUnpaidJob,
    "payment-deadlines": async (ctx) => ({
      ...(await expireOverduePayments(ctx, ctx.actor)),
    }),
    "reservation-expiry": async (ctx) => ({
      ...(await expireLapsedReservations(ctx, ctx.actor)),
    }),
  },
  "*/15 * * * *": {
    "stripe-reconciliation": async (ctx) => ({
      ...(await reconcilePayments(ctx, ctx.actor)),
    }),
    // Refunds opened but never sent to Stripe (a transient error, a crash between the row and
    // the call): sent again under their first idempotency key, so none is made twice.
    "refund-redrive": async (ctx) => ({
      orders: await redriveUnsentRefunds(ctx, ctx.actor),
    }),
    // Forecasts, customers and the recommendation feed of the stalest shops: one queue message
    // per shop, computed by the `intelligence` consumer (src/jobs/intelligence.ts).
    intelligence: async (ctx) => ({ ...(await queueStaleShops(ctx)) }),
  },
  // The API keeps Idempotency-Key records 24 h; an expired one is also reclaimed when its key is
  // reused, but keys that never come back would otherwise stay for ever.
  "0 * * * *": {
    "idempotency-purge": async (ctx) => ({ purged: await purgeExpiredIdempotencyKeys(ctx.db) }),
  },
  // Dashboards read days, not order lines: rebuilds the days whose sales changed since the last
  // run (paid, refunded, cancelled, offline sales), so a dashboard trails by at most ~10 min.
  "*/10 * * * *": { "sales-rollups": async (ctx) => ({ ...(await catchUpSalesRollups(ctx)) }) },
  "0 7 * * *": { "low-stock-digest": async (ctx) => ({ ...(await sendLowStockDigests(ctx)) }) },
};

/**
 * Runs every job of a cron expression and records each run in `job_runs`. One job failing does
 * not stop the others; the failure is recorded and rethrown at the end so Cloudflare logs it.
 */
export async function runScheduled(cron: string, env: Env): Promise<string[]> {
  const jobs = CRON_JOBS[cron];
  const { ctx, close } = openJobContext(env, `cron:${cron}`);
  if (!jobs) {
    ctx.logger.warn("no jobs for this cron expression", { cron });
    return [];
  }
  const failures: unknown[] = [];
  try {
    for (const [name, job] of Object.entries(jobs)) {
      const id = uuidv7();
      await ctx.db
        .insert(jobRuns)
        .values({ id, job: name, cron, startedAt: new Date(), outcome: "running" });
      try {
        const detail = await job(derive(ctx, { logger: ctx.logger.child({ job: name }) }));
        await ctx.db
          .update(jobRuns)
          .set({ finishedAt: new Date(), outcome: "ok", detail })
          .where(eq(jobRuns.id, id));
      } catch (err) {
        failures.push(err);
        const message = errorMessage(err);
        ctx.logger.error("cron job failed", { job: name, error: message });
        await ctx.db
          .update(jobRuns)
          .set({ finishedAt: new Date(), outcome: "failed", detail: { error: message } })
          .where(eq(jobRuns.id, id));
      }
    }
  } finally {
    await close();
  }
  if (failures.length > 0)
    throw new AggregateError(failures, `${failures.length} cron job(s) failed`);
  return Object.keys(jobs);
}
