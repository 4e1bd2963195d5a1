import { sql } from "drizzle-orm";
import { z } from "zod";
import { parseOr422 } from "../../lib/input.ts";
import type { ServiceContext } from "../context.ts";
import { requireShopPermission } from "../shops/access.ts";
import { addDays, checkPeriod, isoDay } from "./period.ts";

export const taxReportInput = z
  .object({
    shopId: z.uuid(),
    from: isoDay,
    to: isoDay,
  })
  .superRefine((v, ctx) => checkPeriod(v, ctx, ["from", "to"]));
export type TaxReportInput = z.input<typeof taxReportInput>;

export interface TaxAmounts {
  /** The net amount taxed (before tax), minor units. */
  baseMinor: number;
  taxMinor: number;
}

export interface TaxReportRate {
  rateBps: number;
  sales: TaxAmounts;
  refunds: TaxAmounts;
  /** sales − refunds. */
  net: TaxAmounts;
}

export interface TaxReport {
  shopId: string;
  currency: string;
  period: { from: string; to: string };
  rates: TaxReportRate[];
  totals: { sales: TaxAmounts; refunds: TaxAmounts; net: TaxAmounts };
}

const zero = (): TaxAmounts => ({ baseMinor: 0, taxMinor: 0 });
const minus = (a: TaxAmounts, b: TaxAmounts): TaxAmounts => ({
  baseMinor: a.baseMinor - b.baseMinor,
  taxMinor: a.taxMinor - b.taxMinor,
});
const plus = (a: TaxAmounts, b: TaxAmounts): TaxAmounts => ({
  baseMinor: a.baseMinor + b.baseMinor,
  taxMinor: a.taxMinor + b.taxMinor,
});

type Row = { rate: number; base: string | number; tax: string | number };

/**
 * The shop's tax by rate over `from..to` (UTC days, both included): the net amount taxed and the
 * tax of its orders paid in the period (every line and the delivery fee, as stored at checkout),
 * less what the refunds confirmed in the period gave back (their per-line shares), rate 0
 * (zero-rated sales) included. Owners and managers; staff 403, anyone else 404.
 */
export async function taxReport(
  ctx: ServiceContext,
  userId: string,
  raw: TaxReportInput,
): Promise<TaxReport> {
  const input = parseOr422(taxReportInput, raw);
  const { shop } = await requireShopPermission(ctx.http, input.shopId, userId, "analytics.read");
  const start = `${input.from}T00:00:00Z`;
  const end = `${addDays(input.to, 1)}T00:00:00Z`;
  const sold = await ctx.http.execute<Row>(sql`
    select i.tax_rate_bps as rate,
      sum(i.unit_price_minor::bigint * i.quantity
        - case when o.prices_include_tax then i.tax_minor else 0 end) as base,
      sum(i.tax_minor) as tax
    from orders o join order_items i on i.order_id = o.id
    where o.shop_id = ${input.shopId} and o.paid_at >= ${start} and o.paid_at < ${end}
    group by 1
    union all
    select o.delivery_tax_rate_bps,
      sum(o.delivery_fee_minor - case when o.prices_include_tax then o.delivery_tax_minor else 0 end),
      sum(o.delivery_tax_minor)
    from orders o
    where o.shop_id = ${input.shopId} and o.paid_at >= ${start} and o.paid_at < ${end}
      and o.delivery_fee_minor > 0
    group by 1`);
  const refunded = await ctx.http.execute<Row>(sql`
    select (l->>'rateBps')::int as rate, sum((l->>'baseMinor')::bigint) as base,
      sum((l->>'taxMinor')::bigint) as tax
    from refunds r join orders o on o.id = r.order_id
      cross join lateral jsonb_array_elements(r.tax_lines) l
    where o.shop_id = ${input.shopId} and o.paid_at is not null and r.status = 'succeeded'
      and r.confirmed_at >= ${start} and r.confirmed_at < ${end}
    group by 1`);
  const byRate = new Map<number, { sales: TaxAmounts; refunds: TaxAmounts }>();
  const add = (rows: Row[], side: "sales" | "refunds") => {
    for (const r of rows) {
      const rate = Number(r.rate);
      const entry = byRate.get(rate) ?? { sales: zero(), refunds: zero() };
      entry[side] = plus(entry[side], { baseMinor: Number(r.base), taxMinor: Number(r.tax) });
      byRate.set(rate, entry);
    }
  };
  add(sold.rows, "sales");
  add(refunded.rows, "refunds");
  const rates = [...byRate.entries()]
    .sort(([a], [b]) => a - b)
    .map(([rateBps, e]) => ({ rateBps, ...e, net: minus(e.sales, e.refunds) }));
  const sales = rates.reduce((a, r) => plus(a, r.sales), zero());
  const refunds = rates.reduce((a, r) => plus(a, r.refunds), zero());
  return {
    shopId: input.shopId,
    currency: shop.currency,
    period: { from: input.from, to: input.to },
    rates,
    totals: { sales, refunds, net: minus(sales, refunds) },
  };
}
