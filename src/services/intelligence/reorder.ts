import { and, asc, eq, isNull, sql } from "drizzle-orm";
import { probit } from "simple-statistics";
import type { Queryable } from "../../db/client.ts";
import { products } from "../../db/schema/catalog.ts";
import {
  type ProductForecastRow,
  productForecasts,
  reorderSettings,
} from "../../db/schema/intelligence.ts";
import { shopLocations } from "../../db/schema/shops.ts";
import { addDays } from "./days.ts";

/** Days from placing an order to the units being on the shelf, when the shop set none. */
export const DEFAULT_LEAD_TIME_DAYS = 7;
/** Chance of not running out while an order is on its way, when the shop set none. */
export const DEFAULT_SERVICE_LEVEL = 0.95;
/** A suggested order covers the lead time and this many days more (the review period). */
export const REVIEW_DAYS = 14;
/** The stock-out date is searched this far ahead; beyond it, none is given. */
const STOCKOUT_SEARCH_DAYS = 365;

export interface ReorderPlan {
  /** Expected units sold over the lead time. */
  demandOverLeadTime: number;
  /** z(service level) · σ · √(lead time). */
  safetyStock: number;
  /** Demand over the lead time + safety stock: order when available stock is at or below it. */
  reorderPoint: number;
  /** Units to order now to cover lead time + review period at the service level (0 above the reorder point). */
  suggestedQuantity: number;
  /** The first day forecast demand exhausts the available stock; null when not within a year. */
  stockoutDay: string | null;
  /** Available ÷ mean daily forecast demand; null when nothing is expected to sell. */
  daysOfCover: number | null;
  status: "reorder_now" | "ok";
}

/** Sum of the daily means over `days`, the last week's average repeated past the horizon. */
export function demandOver(mean: readonly number[], days: number): number {
  const tail = mean.slice(-7);
  const beyond = tail.length ? tail.reduce((a, b) => a + b, 0) / tail.length : 0;
  let total = 0;
  for (let d = 0; d < days; d++) total += d < mean.length ? (mean[d] ?? 0) : beyond;
  return total;
}

const r2 = (v: number) => Math.round(v * 100) / 100;

/**
 * The reorder point and suggested quantity for one product at one location, from its daily
 * forecast means (location share applied), the one-step error sd σ, and the settings.
 * Safety stock assumes independent daily errors: z·σ·√L. The suggested quantity brings stock
 * up to the demand over lead time + review period plus its own safety stock.
 */
export function reorderPlan(input: {
  available: number;
  mean: readonly number[];
  sigma: number;
  leadTimeDays: number;
  serviceLevel: number;
  /** The first forecast day. */
  startDay: string;
}): ReorderPlan {
  const { available, mean, sigma, leadTimeDays: L, serviceLevel } = input;
  const z = probit(serviceLevel);
  const demandL = demandOver(mean, L);
  const safety = Math.max(0, z * sigma * Math.sqrt(L));
  const reorderPoint = demandL + safety;
  const cover = L + REVIEW_DAYS;
  const orderUpTo = demandOver(mean, cover) + Math.max(0, z * sigma * Math.sqrt(cover));
  const below = available <= reorderPoint && reorderPoint > 0;
  let stockoutDay: string | null = null;
  if (available <= 0) stockoutDay = input.startDay;
  else {
    let left = available;
    const tail = mean.slice(-7);
    const beyond = tail.length ? tail.reduce((a, b) => a + b, 0) / tail.length : 0;
    for (let d = 0; d < STOCKOUT_SEARCH_DAYS; d++) {
      left -= d < mean.length ? (mean[d] ?? 0) : beyond;
      if (left <= 0) {
        stockoutDay = addDays(input.startDay, d);
        break;
      }
    }
  }
  const daily = mean.length ? demandOver(mean, mean.length) / mean.length : 0;
  return {
    demandOverLeadTime: r2(demandL),
    safetyStock: r2(safety),
    reorderPoint: r2(reorderPoint),
    suggestedQuantity: below ? Math.max(0, Math.ceil(orderUpTo - available)) : 0,
    stockoutDay,
    daysOfCover: daily > 0 ? r2(Math.max(0, available) / daily) : null,
    status: below ? "reorder_now" : "ok",
  };
}

/**
 * Each location's share of a product's demand: its share of the units sold from it over the
 * last 90 days; with none sold, in proportion to the stock available there; with no stock
 * either, all at the first location (the warehouse).
 */
export function locationShares(
  locations: readonly string[],
  soldBy: ReadonlyMap<string, number>,
  availableBy: ReadonlyMap<string, number>,
): Map<string, number> {
  const pick = (by: ReadonlyMap<string, number>) => {
    const total = locations.reduce((s, l) => s + Math.max(0, by.get(l) ?? 0), 0);
    return total > 0
      ? new Map(locations.map((l) => [l, Math.max(0, by.get(l) ?? 0) / total]))
      : null;
  };
  return (
    pick(soldBy) ??
    pick(availableBy) ??
    new Map(locations.map((l, i) => [l, i === 0 ? 1 : 0] as [string, number]))
  );
}

export interface LocationReorder extends ReorderPlan {
  locationId: string;
  code: string;
  name: string;
  available: number;
  /** This location's share of the product's demand. */
  share: number;
}

export interface ProductReorder {
  productId: string;
  sku: string;
  title: string;
  forecastState: "ok" | "not_enough_history" | "not_computed";
  method: string | null;
  leadTimeDays: number;
  serviceLevel: number;
  /** Whether lead time and service level are the shop's own (`custom`) or the defaults. */
  settings: { leadTimeDays: "custom" | "default"; serviceLevel: "custom" | "default" };
  available: number;
  locations: LocationReorder[];
}

/**
 * The reorder view of a shop, from the stored forecasts, the settings, the Postgres stock mirror
 * (latest movement per product and location: as current as the mirror is) and where each
 * product sold from over the last 90 days. Four reads; the arithmetic is `reorderPlan`.
 */
export async function shopReorder(
  db: Queryable,
  shopId: string,
  opts: { productId?: string } = {},
): Promise<ProductReorder[]> {
  const productFilter = opts.productId ? eq(products.id, opts.productId) : undefined;
  const [rows, locations, levels, sold] = await Promise.all([
    db
      .select({
        productId: products.id,
        sku: products.sku,
        title: products.title,
        forecast: productForecasts,
        leadTimeDays: reorderSettings.leadTimeDays,
        serviceLevel: reorderSettings.serviceLevel,
      })
      .from(products)
      .leftJoin(productForecasts, eq(productForecasts.productId, products.id))
      .leftJoin(reorderSettings, eq(reorderSettings.productId, products.id))
      .where(and(eq(products.shopId, shopId), isNull(products.deletedAt), productFilter))
      .orderBy(asc(products.id)),
    db
      .select({ id: shopLocations.id, code: shopLocations.code, name: shopLocations.name })
      .from(shopLocations)
      .where(and(eq(shopLocations.shopId, shopId), isNull(shopLocations.deletedAt)))
      .orderBy(asc(shopLocations.kind), asc(shopLocations.code)),
    db.execute<{ product_id: string; location_id: string; available: number }>(sql`
      select distinct on (product_id, location_id) product_id, location_id,
        on_hand_after - reserved_after as available
      from stock_movements where shop_id = ${shopId}
        ${opts.productId ? sql`and product_id = ${opts.productId}` : sql``}
      order by product_id, location_id, sequence desc`),
    db.execute<{ product_id: string; location_id: string; units: string }>(sql`
      select product_id, location_id, sum(q)::text as units from (
        select i.product_id, i.location_id, i.quantity as q
          from orders o join order_items i on i.order_id = o.id
          where o.shop_id = ${shopId} and o.paid_at > now() - interval '90 days'
            and o.status not in ('cancelled', 'refunded')
        union all
        select product_id, location_id, quantity from sales_transactions
          where shop_id = ${shopId} and sold_at > now() - interval '90 days'
      ) s group by product_id, location_id`),
  ]);
  const key = (p: string, l: string) => `${p}:${l}`;
  const availableAt = new Map(
    levels.rows.map((r) => [key(r.product_id, r.location_id), Number(r.available)]),
  );
  const soldAt = new Map(sold.rows.map((r) => [key(r.product_id, r.location_id), Number(r.units)]));
  const locationIds = locations.map((l) => l.id);
  return rows.map((row) => {
    const leadTimeDays = row.leadTimeDays ?? DEFAULT_LEAD_TIME_DAYS;
    const serviceLevel = row.serviceLevel ?? DEFAULT_SERVICE_LEVEL;
    const f: ProductForecastRow | null = row.forecast;
    const availableBy = new Map(
      locationIds.map((l) => [l, availableAt.get(key(row.productId, l)) ?? 0]),
    );
    const soldBy = new Map(locationIds.map((l) => [l, soldAt.get(key(row.productId, l)) ?? 0]));
    const shares = locationShares(locationIds, soldBy, availableBy);
    const mean = f?.state === "ok" ? f.points.map((p) => p.mean) : null;
    const located = locations.map((loc) => {
      const share = shares.get(loc.id) ?? 0;
      const available = availableBy.get(loc.id) ?? 0;
      const plan = mean
        ? reorderPlan({
            available,
            mean: mean.map((m) => m * share),
            // Demand split over locations like independent thinning: σ scales with √share.
            sigma: (f?.sigma ?? 0) * Math.sqrt(share),
            leadTimeDays,
            serviceLevel,
            startDay: f?.startDay ?? "",
          })
        : null;
      return plan
        ? {
            locationId: loc.id,
            code: loc.code,
            name: loc.name,
            available,
            share: r2(share),
            ...plan,
          }
        : null;
    });
    return {
      productId: row.productId,
      sku: row.sku,
      title: row.title,
      forecastState: f ? (f.state as "ok" | "not_enough_history") : "not_computed",
      method: f?.method ?? null,
      leadTimeDays,
      serviceLevel,
      settings: {
        leadTimeDays: row.leadTimeDays === null ? "default" : "custom",
        serviceLevel: row.serviceLevel === null ? "default" : "custom",
      },
      available: [...availableBy.values()].reduce((a, b) => a + b, 0),
      // Locations that sell it or hold it; a product with no forecast has no plan.
      locations: located.filter(
        (l): l is LocationReorder => l !== null && (l.share > 0 || l.available > 0),
      ),
    };
  });
}
