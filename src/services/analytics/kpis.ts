import { type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import type { HttpDatabase } from "../../db/http.ts";
import { parseOr422 } from "../../lib/input.ts";
import type { ServiceContext } from "../context.ts";
import { requireShopPermission } from "../shops/access.ts";
import { checkPeriod, daysBetween, isoDay, previousPeriod } from "./period.ts";
import { refreshShopRollups, SALES_ROLLUP } from "./rollups.ts";

export const kpiShape = z.object({
  shopId: z.uuid(),
  from: isoDay,
  to: isoDay,
  compareFrom: isoDay.optional(),
  compareTo: isoDay.optional(),
  top: z.coerce.number().int().min(1).max(50).default(10),
  /** Rebuild this shop's days changed since the last catch-up before reading. */
  refresh: z.enum(["true", "false"]).default("false"),
});

export const kpiInput = kpiShape.superRefine((v, ctx) => {
  checkPeriod(v, ctx, ["from", "to"]);
  checkPeriod(v, ctx, ["compareFrom", "compareTo"]);
});

export interface SalesFigures {
  grossMinor: number;
  refundsMinor: number;
  feesMinor: number;
  netMinor: number;
  orders: number;
  units: number;
  refundedUnits: number;
  /** gross ÷ orders, rounded; null without orders. */
  averageOrderValueMinor: number | null;
  offlineGrossMinor: number;
  offlineUnits: number;
}

export interface TopProduct {
  productId: string;
  sku: string;
  title: string;
  categoryId: string;
  grossMinor: number;
  netMinor: number;
  units: number;
  orders: number;
}

export interface TopCategory {
  categoryId: string;
  name: string;
  grossMinor: number;
  netMinor: number;
  units: number;
}

export interface InventoryHealth {
  skus: number;
  units: number;
  availableUnits: number;
  /** On hand × the product's current price: the shop's stock at retail value. */
  stockValueMinor: number;
  lowStock: number;
  outOfStock: number;
  /** Available units ÷ average units sold per day in the period; null without sales. */
  daysOfCover: number | null;
}

export interface Kpis {
  shopId: string;
  currency: string;
  period: { from: string; to: string };
  comparePeriod: { from: string; to: string };
  current: SalesFigures;
  previous: SalesFigures;
  /** (current − previous) ÷ previous per figure; null where previous is 0. */
  change: Record<keyof SalesFigures, number | null>;
  topProducts: TopProduct[];
  topCategories: TopCategory[];
  /** Units sold and kept ÷ (those + units on hand now), over the period; null when both are 0. */
  sellThrough: number | null;
  inventory: InventoryHealth;
  /** The rollups include every change up to about this instant (the last catch-up). */
  asOf: string | null;
}

const FIGURES = [
  ["grossMinor", "gross_minor"],
  ["refundsMinor", "refunds_minor"],
  ["feesMinor", "fees_minor"],
  ["netMinor", "net_minor"],
  ["orders", "orders"],
  ["units", "units"],
  ["refundedUnits", "refunded_units"],
  ["offlineGrossMinor", "offline_gross_minor"],
  ["offlineUnits", "offline_units"],
] as const;

type Row = Record<string, unknown>;

/**
 * A shop's dashboard for a period and a comparison period (by default the one just before, of
 * the same length), for its owners and managers. Sales come from the daily rollups (days, not
 * order lines); inventory health from each product's latest mirrored stock movement per
 * location. Four reads, at once, over HTTP.
 */
export async function getKpis(
  ctx: ServiceContext,
  userId: string,
  raw: z.input<typeof kpiInput>,
): Promise<Kpis> {
  const input = parseOr422(kpiInput, raw, "query");
  const { shop } = await requireShopPermission(ctx.http, input.shopId, userId, "analytics.read");
  if (input.refresh === "true") await refreshShopRollups(ctx.db, shop.id);
  const period = { from: input.from, to: input.to };
  const comparePeriod =
    input.compareFrom && input.compareTo
      ? { from: input.compareFrom, to: input.compareTo }
      : previousPeriod(input.from, input.to);
  const scope = { shopId: shop.id, currency: shop.currency };
  const [totals, tops, inventory] = await Promise.all([
    readTotals(ctx.http, scope, period, comparePeriod),
    readTops(ctx.http, scope, period, input.top),
    readInventory(ctx.http, shop.id),
  ]);
  const current = figuresOf(totals, "cur_");
  const previous = figuresOf(totals, "prev_");
  const keptUnits = current.units - current.refundedUnits;
  const perDay = keptUnits / daysBetween(period.from, period.to);
  const onHand = num(inventory.units);
  return {
    shopId: shop.id,
    currency: shop.currency,
    period,
    comparePeriod,
    current,
    previous,
    change: changeOf(current, previous),
    topProducts: (tops.products as Row[]).map(topProductOf),
    topCategories: (tops.categories as Row[]).map(topCategoryOf),
    sellThrough: keptUnits + onHand > 0 ? round4(keptUnits / (keptUnits + onHand)) : null,
    inventory: {
      skus: num(inventory.skus),
      units: onHand,
      availableUnits: num(inventory.available),
      stockValueMinor: num(inventory.stock_value),
      lowStock: num(inventory.low_stock),
      outOfStock: num(inventory.out_of_stock),
      daysOfCover: perDay > 0 ? round1(Math.max(0, num(inventory.available)) / perDay) : null,
    },
    asOf: typeof totals.as_of === "string" ? new Date(totals.as_of).toISOString() : null,
  };
}

interface Scope {
  shopId: string;
  currency: string;
}

async function one(db: HttpDatabase, query: SQL): Promise<Row> {
  const result = await db.execute(query);
  return (result.rows[0] ?? {}) as Row;
}

/** Both periods' sums from the shop's daily rows, in one scan of at most both periods' days. */
function readTotals(
  db: HttpDatabase,
  scope: Scope,
  cur: { from: string; to: string },
  prev: { from: string; to: string },
): Promise<Row> {
  const inCur = sql`day between ${cur.from}::date and ${cur.to}::date`;
  const inPrev = sql`day between ${prev.from}::date and ${prev.to}::date`;
  const sums = FIGURES.flatMap(([, col]) => [
    sql`coalesce(sum(${sql.raw(col)}) filter (where ${inCur}), 0)::float8 as ${sql.raw(`cur_${col}`)}`,
    sql`coalesce(sum(${sql.raw(col)}) filter (where ${inPrev}), 0)::float8 as ${sql.raw(`prev_${col}`)}`,
  ]);
  return one(
    db,
    sql`select ${sql.join(sums, sql`, `)},
      (select watermark::text from rollup_watermarks where name = ${SALES_ROLLUP}) as as_of
    from sales_daily_shops
    where shop_id = ${scope.shopId} and currency = ${scope.currency} and (${inCur} or ${inPrev})`,
  );
}

/**
 * The calendar months wholly inside [from, to] (dates, both ends included), as [start, end):
 * the first day of the first whole month and the first day after the last. Empty (start = end)
 * when no month fits.
 */
export function wholeMonths(from: string, to: string): { start: string; end: string } {
  const f = new Date(`${from}T00:00:00Z`);
  const start =
    f.getUTCDate() === 1 ? f : new Date(Date.UTC(f.getUTCFullYear(), f.getUTCMonth() + 1, 1));
  const after = new Date(Date.parse(`${to}T00:00:00Z`) + 86_400_000);
  const end = new Date(Date.UTC(after.getUTCFullYear(), after.getUTCMonth(), 1));
  const day = (d: Date) => d.toISOString().slice(0, 10);
  return end > start
    ? { start: day(start), end: day(end) }
    : { start: day(start), end: day(start) };
}

/**
 * The period's best products and categories by gross: whole months from `sales_monthly`, the
 * days of the partial months at either end from `sales_daily` (a year reads ~12 rows per
 * product, not ~365).
 */
function readTops(
  db: HttpDatabase,
  scope: Scope,
  period: { from: string; to: string },
  top: number,
): Promise<Row> {
  const months = wholeMonths(period.from, period.to);
  return one(
    db,
    sql`with rows as (
        select product_id, gross_minor, net_minor, units, orders
        from sales_monthly
        where shop_id = ${scope.shopId} and currency = ${scope.currency}
          and month >= ${months.start}::date and month < ${months.end}::date
        union all
        select product_id, gross_minor, net_minor, units, orders
        from sales_daily
        where shop_id = ${scope.shopId} and currency = ${scope.currency}
          and day between ${period.from}::date and ${period.to}::date
          and (day < ${months.start}::date or day >= ${months.end}::date)
      ),
      p as (
        select product_id, sum(gross_minor) as gross, sum(net_minor) as net, sum(units) as units,
          sum(orders) as orders
        from rows
        group by product_id
      ),
      j as (
        select p.*, pr.sku, pr.title, pr.category_id, c.name as category_name
        from p join products pr on pr.id = p.product_id
        join categories c on c.id = pr.category_id
      )
      select
        (select coalesce(json_agg(x), '[]') from (
          select product_id, sku, title, category_id, gross, net, units, orders from j
          order by gross desc, product_id limit ${top}) x) as products,
        (select coalesce(json_agg(y), '[]') from (
          select category_id, category_name, sum(gross) as gross, sum(net) as net,
            sum(units) as units
          from j group by category_id, category_name
          order by sum(gross) desc, category_id limit ${top}) y) as categories`,
  );
}

/**
 * The shop's live products at its live locations, each level from the latest mirrored movement
 * (the mirror trails the objects by about a second): a product with no movement has none.
 * Out of stock: nothing available anywhere; low: some location at or under its threshold.
 */
function readInventory(db: HttpDatabase, shopId: string): Promise<Row> {
  return one(
    db,
    sql`with levels as (
        select p.id, p.price_minor, coalesce(m.on_hand_after, 0) as on_hand,
          coalesce(m.reserved_after, 0) as reserved, coalesce(m.low_stock, false) as low
        from products p
        join shop_locations l on l.shop_id = p.shop_id and l.deleted_at is null
        left join lateral (
          select on_hand_after, reserved_after, low_stock from stock_movements sm
          where sm.product_id = p.id and sm.location_id = l.id
          order by sm.sequence desc limit 1
        ) m on true
        where p.shop_id = ${shopId} and p.deleted_at is null
      ),
      per_product as (
        select id, price_minor, sum(on_hand) as on_hand, sum(on_hand - reserved) as available,
          bool_or(low) as low
        from levels group by id, price_minor
      )
      select count(*)::int as skus, coalesce(sum(on_hand), 0)::float8 as units,
        coalesce(sum(available), 0)::float8 as available,
        coalesce(sum(on_hand * price_minor::bigint), 0)::float8 as stock_value,
        count(*) filter (where available <= 0)::int as out_of_stock,
        count(*) filter (where available > 0 and low)::int as low_stock
      from per_product`,
  );
}

function num(v: unknown): number {
  return typeof v === "number" ? v : Number(v ?? 0);
}

const round1 = (n: number) => Math.round(n * 10) / 10;
const round4 = (n: number) => Math.round(n * 10_000) / 10_000;

function figuresOf(row: Row, prefix: string): SalesFigures {
  const f = Object.fromEntries(
    FIGURES.map(([key, col]) => [key, num(row[`${prefix}${col}`])]),
  ) as Omit<SalesFigures, "averageOrderValueMinor">;
  return {
    ...f,
    averageOrderValueMinor: f.orders > 0 ? Math.round(f.grossMinor / f.orders) : null,
  };
}

function changeOf(
  cur: SalesFigures,
  prev: SalesFigures,
): Record<keyof SalesFigures, number | null> {
  const keys = Object.keys(cur) as Array<keyof SalesFigures>;
  return Object.fromEntries(
    keys.map((k) => {
      const c = cur[k];
      const p = prev[k];
      return [k, c === null || p === null || p === 0 ? null : round4((c - p) / p)];
    }),
  ) as Record<keyof SalesFigures, number | null>;
}

function topProductOf(r: Row): TopProduct {
  return {
    productId: String(r.product_id),
    sku: String(r.sku),
    title: String(r.title),
    categoryId: String(r.category_id),
    grossMinor: num(r.gross),
    netMinor: num(r.net),
    units: num(r.units),
    orders: num(r.orders),
  };
}

function topCategoryOf(r: Row): TopCategory {
  return {
    categoryId: String(r.category_id),
    name: String(r.category_name),
    grossMinor: num(r.gross),
    netMinor: num(r.net),
    units: num(r.units),
  };
}
