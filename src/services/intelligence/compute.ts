import { and, asc, eq, isNull, sql } from "drizzle-orm";
import { withAudit } from "../../db/audit.ts";
import type { Database, Queryable } from "../../db/client.ts";
import { products } from "../../db/schema/catalog.ts";
import { intelligenceRuns, productForecasts } from "../../db/schema/intelligence.ts";
import type { ServiceContext } from "../context.ts";
import { readCustomerFacts, scoreCustomers, storeCustomers } from "./customers.ts";
import { addDays, dayOf, daysBetween } from "./days.ts";
import {
  type DemandForecast,
  forecastDemand,
  MAX_HISTORY_DAYS,
  recentCheck,
} from "./forecast/forecast.ts";
import { generateRecommendations, syncRecommendations } from "./recommendations.ts";
import { shopReorder } from "./reorder.ts";

/** A shop's intelligence older than this is stale: the cron recomputes it. */
export const STALE_AFTER_HOURS = 24;
/**
 * Per cron run: at most this many shops are queued, one message each, so each shop is computed
 * in its own consumer invocation (its own CPU budget) and the cron itself only selects.
 */
export const MAX_SHOPS_PER_RUN = 100;

/**
 * Net units sold per product and UTC day (units less refunded units), from the sales rollups
 * (`sales_daily`, kept by the analytics catch-up), for days in [from, to). The one place the
 * forecasts read demand: switching the source changes only this function.
 */
export async function readDailyDemand(
  db: Queryable,
  shopId: string,
  from: string,
  to: string,
): Promise<Map<string, Map<string, number>>> {
  const result = await db.execute<{ product_id: string; day: string; units: number }>(sql`
    select product_id, day::text as day, sum(units - refunded_units)::int as units
    from sales_daily
    where shop_id = ${shopId} and day >= ${from}::date and day < ${to}::date
    group by product_id, day`);
  const byProduct = new Map<string, Map<string, number>>();
  for (const r of result.rows) {
    const days = byProduct.get(r.product_id) ?? new Map<string, number>();
    days.set(r.day, Math.max(0, Number(r.units)));
    byProduct.set(r.product_id, days);
  }
  return byProduct;
}

/**
 * A product's daily series, oldest first, ending yesterday: from its first sale or its listing,
 * whichever is earlier (a product listed for months with one sale has months of zeros), at most
 * the window read.
 */
export function dailySeries(
  sales: ReadonlyMap<string, number> | undefined,
  listedDay: string,
  from: string,
  today: string,
): number[] {
  const firstSale = sales && sales.size > 0 ? [...sales.keys()].sort()[0] : undefined;
  let start = firstSale !== undefined && firstSale < listedDay ? firstSale : listedDay;
  if (start < from) start = from;
  const n = Math.max(0, daysBetween(start, today));
  return Array.from({ length: n }, (_, i) => sales?.get(addDays(start, i)) ?? 0);
}

export interface RecomputeResult {
  products: number;
  forecasts: number;
  notEnoughHistory: number;
  customers: number;
  recommendations: { raised: number; refreshed: number; removed: number };
}

/**
 * Recomputes one shop: every live product's forecast, its customers, and the recommendation
 * feed, then notes the run. The forecasts are computed first (pure CPU, no connection held);
 * the writes go in one audited transaction, serialised per shop so two runs never interleave.
 */
export async function recomputeShop(
  ctx: Pick<ServiceContext, "db" | "actor">,
  shopId: string,
  now: Date = new Date(),
): Promise<RecomputeResult> {
  const today = dayOf(now);
  const from = addDays(today, -(MAX_HISTORY_DAYS + 7));
  const [live, demand, facts] = await Promise.all([
    ctx.db
      .select({ id: products.id, createdAt: products.createdAt })
      .from(products)
      .where(and(eq(products.shopId, shopId), isNull(products.deletedAt)))
      .orderBy(asc(products.id)),
    readDailyDemand(ctx.db, shopId, from, today),
    readCustomerFacts(ctx.db, shopId),
  ]);
  const forecasts = live.map((p) => {
    const sales = demand.get(p.id);
    const series = dailySeries(sales, dayOf(p.createdAt), from, today);
    const result: DemandForecast = forecastDemand(series);
    const sold = [...(sales?.entries() ?? [])]
      .filter(([, u]) => u > 0)
      .map(([d]) => d)
      .sort();
    return {
      productId: p.id,
      result,
      recent: result.state === "ok" ? recentCheck(series, result.method) : null,
      unitsLast28: series.slice(-28).reduce((a, b) => a + b, 0),
      lastSaleDay: sold.at(-1) ?? null,
    };
  });
  const customers = scoreCustomers(facts, now);

  return withAudit(ctx.db, ctx.actor, async (tx, audit) => {
    await tx.execute(
      sql`select pg_advisory_xact_lock(hashtext('souk:intelligence'), hashtext(${shopId}))`,
    );
    await tx.delete(productForecasts).where(eq(productForecasts.shopId, shopId));
    for (let i = 0; i < forecasts.length; i += 200) {
      await tx.insert(productForecasts).values(
        forecasts.slice(i, i + 200).map((f) => ({
          productId: f.productId,
          shopId,
          state: f.result.state,
          historyDays: f.result.historyDays,
          method: f.result.state === "ok" ? f.result.method : null,
          params: f.result.state === "ok" ? f.result.params : null,
          sigma: f.result.state === "ok" ? f.result.sigma : null,
          startDay: today,
          points:
            f.result.state === "ok"
              ? f.result.points.map(({ step, ...p }) => ({ day: addDays(today, step - 1), ...p }))
              : [],
          backtest: f.result.state === "ok" ? { ...f.result.backtest } : null,
          recent: f.recent,
          unitsLast28: f.unitsLast28,
          lastSaleDay: f.lastSaleDay,
          computedAt: now,
        })),
      );
    }
    await storeCustomers(tx, shopId, customers, now);
    const reorder = await shopReorder(tx, shopId);
    const signals = new Map(forecasts.map((f) => [f.productId, f]));
    const recs = generateRecommendations({
      today,
      customers,
      products: reorder.map((r) => {
        const f = signals.get(r.productId);
        return {
          ...r,
          recent: f?.recent ?? null,
          unitsLast28: f?.unitsLast28 ?? 0,
          lastSaleDay: f?.lastSaleDay ?? null,
          historyDays: f?.result.historyDays ?? 0,
        };
      }),
    });
    const synced = await syncRecommendations(tx, shopId, recs, now);
    const result: RecomputeResult = {
      products: live.length,
      forecasts: forecasts.filter((f) => f.result.state === "ok").length,
      notEnoughHistory: forecasts.filter((f) => f.result.state === "not_enough_history").length,
      customers: customers.length,
      recommendations: synced,
    };
    await tx
      .insert(intelligenceRuns)
      .values({ shopId, computedAt: now, detail: { ...result } })
      .onConflictDoUpdate({
        target: intelligenceRuns.shopId,
        set: { computedAt: now, detail: { ...result } },
      });
    await audit.record({
      action: "intelligence.recomputed",
      entityType: "shop",
      entityId: shopId,
      newValue: result,
    });
    return result;
  });
}

/** When the shop was last recomputed; null if never. */
export async function lastComputed(db: Queryable, shopId: string): Promise<Date | null> {
  const [row] = await db
    .select({ at: intelligenceRuns.computedAt })
    .from(intelligenceRuns)
    .where(eq(intelligenceRuns.shopId, shopId));
  return row?.at ?? null;
}

/**
 * The shops whose intelligence is due, stalest first (never computed, then computed more than
 * STALE_AFTER_HOURS ago), at most `limit`: a shop with no live product has nothing to forecast.
 */
export async function staleShops(
  db: Database,
  now: Date = new Date(),
  limit = MAX_SHOPS_PER_RUN,
): Promise<string[]> {
  const stale = await db.execute<{ id: string }>(sql`
    select s.id from shops s left join intelligence_runs r on r.shop_id = s.id
    where s.deleted_at is null
      and (r.computed_at is null
        or r.computed_at < ${new Date(now.getTime() - STALE_AFTER_HOURS * 3_600_000)})
      and exists (select 1 from products p where p.shop_id = s.id and p.deleted_at is null)
    order by r.computed_at asc nulls first, s.id
    limit ${limit}`);
  return stale.rows.map((r) => r.id);
}
