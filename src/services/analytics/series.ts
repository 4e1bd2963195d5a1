import { sql } from "drizzle-orm";
import { z } from "zod";
import { products } from "../../db/schema/catalog.ts";
import { parseOr422 } from "../../lib/input.ts";
import type { ServiceContext } from "../context.ts";
import { ValidationFailed } from "../errors.ts";
import { requireShopPermission } from "../shops/access.ts";
import { checkPeriod, isoDay } from "./period.ts";
import { refreshShopRollups } from "./rollups.ts";

export const SERIES_METRICS = ["revenue", "net_revenue", "orders", "units"] as const;
export const SERIES_INTERVALS = ["day", "week", "month"] as const;

/** Which rollup column each metric sums. */
const COLUMN: Record<(typeof SERIES_METRICS)[number], string> = {
  revenue: "gross_minor",
  net_revenue: "net_minor",
  orders: "orders",
  units: "units",
};

export const seriesShape = z.object({
  shopId: z.uuid(),
  metric: z.enum(SERIES_METRICS),
  interval: z.enum(SERIES_INTERVALS).default("day"),
  from: isoDay,
  to: isoDay,
  productId: z.uuid().optional(),
  refresh: z.enum(["true", "false"]).default("false"),
});

export const seriesInput = seriesShape.superRefine((v, ctx) => checkPeriod(v, ctx, ["from", "to"]));

export interface SeriesPoint {
  /** The bucket's first day: the day, the ISO week's Monday, the month's first. */
  period: string;
  value: number;
}

export interface Series {
  shopId: string;
  productId: string | null;
  metric: (typeof SERIES_METRICS)[number];
  interval: (typeof SERIES_INTERVALS)[number];
  currency: string;
  from: string;
  to: string;
  /** Every bucket from `from` to `to`, zeros included, oldest first. */
  points: SeriesPoint[];
}

/**
 * A metric per day, ISO week or month over a period, for the shop or one of its products, from
 * the daily rollups. `orders` for a product counts the orders that had it.
 */
export async function getSeries(
  ctx: ServiceContext,
  userId: string,
  raw: z.input<typeof seriesInput>,
): Promise<Series> {
  const input = parseOr422(seriesInput, raw, "query");
  const { shop } = await requireShopPermission(ctx.http, input.shopId, userId, "analytics.read");
  if (input.productId) {
    const [owned] = await ctx.http
      .select({ id: products.id })
      .from(products)
      .where(sql`${products.id} = ${input.productId} and ${products.shopId} = ${shop.id}`);
    if (!owned) {
      throw new ValidationFailed([
        { field: "productId", in: "query", message: "is not a product of this shop" },
      ]);
    }
  }
  if (input.refresh === "true") await refreshShopRollups(ctx.db, shop.id);
  const unit = sql.raw(`'${input.interval}'`);
  const column = sql.raw(COLUMN[input.metric]);
  const source = input.productId
    ? sql`sales_daily where product_id = ${input.productId} and shop_id = ${shop.id}`
    : sql`sales_daily_shops where shop_id = ${shop.id}`;
  const result = await ctx.http.execute(sql`with data as (
      select date_trunc(${unit}, day)::date as bucket, sum(${column})::float8 as value
      from ${source} and currency = ${shop.currency}
        and day between ${input.from}::date and ${input.to}::date
      group by 1
    ),
    buckets as (
      select generate_series(date_trunc(${unit}, ${input.from}::date),
        ${input.to}::date, ${sql.raw(`interval '1 ${input.interval}'`)})::date as bucket
    )
    select b.bucket::text as period, coalesce(d.value, 0)::float8 as value
    from buckets b left join data d on d.bucket = b.bucket
    order by b.bucket`);
  return {
    shopId: shop.id,
    productId: input.productId ?? null,
    metric: input.metric,
    interval: input.interval,
    currency: shop.currency,
    from: input.from,
    to: input.to,
    points: (result.rows as Array<{ period: string; value: number }>).map((r) => ({
      period: r.period,
      value: Number(r.value),
    })),
  };
}
