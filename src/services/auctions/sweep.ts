import { and, asc, inArray, isNull, lte, sql } from "drizzle-orm";
import { roomOf } from "../../../durable-objects/auction-room.ts";
import { auctions } from "../../db/schema/auctions.ts";
import { errorMessage } from "../../lib/errors.ts";
import type { ServiceContext } from "../context.ts";
import { configureAuction } from "./create.ts";

/** Auctions poked per run; the next minute takes the rest. */
const SWEEP_BATCH = 100;
/** Concurrent object calls per run: enough to be quick, few enough not to flood the mirror. */
const SWEEP_CONCURRENCY = 8;

export interface SweepReport {
  overdue: number;
  closed: number;
  alreadyClosed: number;
  stillPending: number;
  configured: number;
  failed: number;
}

async function eachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++];
      if (item !== undefined) await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * The minute cron's safety net behind each object's alarm: every auction whose mirrored end has
 * passed but whose row is not closed is poked with `closeIfDue()` (idempotent: it closes once,
 * or finds it closed or not due after an unmirrored extension, and flushes its outbox), and
 * every row whose object was never configured (the object was unreachable at creation) is
 * configured again.
 */
export async function sweepAuctions(ctx: ServiceContext): Promise<SweepReport> {
  const report: SweepReport = {
    overdue: 0,
    closed: 0,
    alreadyClosed: 0,
    stillPending: 0,
    configured: 0,
    failed: 0,
  };
  const overdue = await ctx.db
    .select({ id: auctions.id })
    .from(auctions)
    .where(
      and(
        inArray(auctions.status, ["scheduled", "active"]),
        lte(auctions.currentEndsAt, sql`now()`),
      ),
    )
    .orderBy(asc(auctions.currentEndsAt))
    .limit(SWEEP_BATCH);
  report.overdue = overdue.length;
  await eachLimited(overdue, SWEEP_CONCURRENCY, async ({ id }) => {
    try {
      const r = await roomOf(ctx.rooms, id).closeIfDue();
      if (r.outcome === "closed") report.closed += 1;
      else if (r.outcome === "already") report.alreadyClosed += 1;
      if (r.pending > 0) report.stillPending += 1;
    } catch (err) {
      report.failed += 1;
      ctx.logger.error("auction sweep could not poke an auction", {
        auctionId: id,
        error: errorMessage(err),
      });
    }
  });

  const unconfigured = await ctx.db
    .select()
    .from(auctions)
    .where(
      and(
        isNull(auctions.configuredAt),
        inArray(auctions.status, ["scheduled", "active"]),
        lte(auctions.createdAt, sql`now() - interval '30 seconds'`),
      ),
    )
    .limit(SWEEP_BATCH);
  for (const row of unconfigured) {
    const after = await configureAuction(ctx, row);
    if (after.configuredAt !== null) report.configured += 1;
  }
  return report;
}
