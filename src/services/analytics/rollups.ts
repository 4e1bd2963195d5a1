import { type SQL, sql } from "drizzle-orm";
import { withAudit } from "../../db/audit.ts";
import type { Database, Tx } from "../../db/client.ts";
import type { ServiceContext } from "../context.ts";

/** The watermark row of the sales catch-up in `rollup_watermarks`. */
export const SALES_ROLLUP = "sales";

/**
 * How far back of its watermark each catch-up looks again. A change stamped before a run began
 * but committed after the run read (a slow transaction, a Worker clock a little behind the
 * database's) would otherwise be skipped for ever; reading a few minutes twice costs nothing
 * because a day is rebuilt whole, never incremented.
 */
export const WATERMARK_OVERLAP_MINUTES = 5;

/** Serialises rebuilds: two at once would both insert the same (shop, day) keys. */
const LOCK_KEY = sql`hashtext('souk:sales-rollup')`;

export interface RollupResult {
  /** (shop, day) pairs rebuilt. */
  days: number;
  /** Rows written to sales_daily. */
  productDays: number;
  /** The new watermark (cron catch-up only). */
  watermark: string | null;
}

/** Rollups are figures derived from audited orders and sales: they carry no audit rows of their own. */
const ROLLUP_ACTOR = { type: "system", id: null, requestId: "sales-rollups" } as const;

/**
 * Cron: rebuilds every (shop, UTC day) whose sales changed since the watermark, in one
 * transaction with the watermark's move, so a run that dies leaves the old watermark and the
 * next run does the same work again (at-least-once is safe: days are recomputed, not added to).
 * What changed: orders updated since (paid, refunded, cancelled: each such write stamps
 * `updated_at`) and offline sales recorded since.
 */
export async function catchUpSalesRollups(ctx: Pick<ServiceContext, "db">): Promise<RollupResult> {
  return withAudit(ctx.db, ROLLUP_ACTOR, async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${LOCK_KEY})`);
    await tx.execute(sql`insert into rollup_watermarks (name, watermark)
      values (${SALES_ROLLUP}, '-infinity') on conflict (name) do nothing`);
    const since = sql`(select watermark - make_interval(mins => ${WATERMARK_OVERLAP_MINUTES})
      from rollup_watermarks where name = ${SALES_ROLLUP})`;
    const result = await rebuild(tx, touchedSince(since, null));
    const moved = await tx.execute<{ watermark: string }>(sql`update rollup_watermarks
      set watermark = now(), updated_at = now() where name = ${SALES_ROLLUP}
      returning watermark::text as watermark`);
    return { ...result, watermark: moved.rows[0]?.watermark ?? null };
  });
}

/**
 * On demand, for one shop: rebuilds its days changed since the cron's watermark (or every day
 * it ever sold, with `full`), without moving the watermark, so the cron still covers the other
 * shops. A dashboard's `refresh=true` and the tests use it.
 */
export async function refreshShopRollups(
  db: Database,
  shopId: string,
  opts: { full?: boolean } = {},
): Promise<RollupResult> {
  return withAudit(db, ROLLUP_ACTOR, async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${LOCK_KEY})`);
    const since = opts.full
      ? sql`'-infinity'::timestamptz`
      : sql`coalesce((select watermark - make_interval(mins => ${WATERMARK_OVERLAP_MINUTES})
          from rollup_watermarks where name = ${SALES_ROLLUP}), '-infinity'::timestamptz)`;
    return { ...(await rebuild(tx, touchedSince(since, shopId))), watermark: null };
  });
}

/** The (shop, UTC day) pairs with a paid order changed, or an offline sale recorded, since. */
function touchedSince(since: SQL, shopId: string | null): SQL {
  const orderShop = shopId ? sql`and o.shop_id = ${shopId}` : sql``;
  const saleShop = shopId ? sql`and s.shop_id = ${shopId}` : sql``;
  return sql`select o.shop_id, (o.paid_at at time zone 'UTC')::date as day
      from orders o where o.paid_at is not null and o.updated_at > ${since} ${orderShop}
    union
    select s.shop_id, (s.sold_at at time zone 'UTC')::date
      from sales_transactions s where s.created_at > ${since} ${saleShop}`;
}

/**
 * Every sale line of the touched days, one row each: a paid order line or an offline sale.
 *
 * - gross: unit price × quantity, refunded or not, on the UTC day the order was paid (or the
 *   offline sale happened).
 * - refunds: the line's own refunds (a missing item) plus its share, by value, of refunds made
 *   on the whole order, at most the line's gross; a cancelled paid order takes back all of it.
 *   Refunds count on the day of the sale they undo, so a past day can change.
 * - fees: the order's platform fee shared over its lines by value (none once cancelled).
 * - refunded units: all of a line's units when its order was cancelled or fully refunded, the
 *   item went missing, or its refunds reached its gross.
 */
function linesSql(): SQL {
  return sql`with t as (select shop_id, day from rollup_touched),
    paid as (
      select o.shop_id, i.product_id, t.day, o.currency, o.id as sale_id, o.status,
        i.status as item_status, i.quantity,
        i.unit_price_minor::bigint * i.quantity as gross,
        i.refunded_minor::bigint as item_refunded,
        o.subtotal_minor::bigint as subtotal,
        o.platform_fee_minor::bigint as fee,
        -- Refunds not tied to a line; most orders have none, so only those are summed.
        case when o.refunded_minor = 0 then 0 else greatest(o.refunded_minor - (
          select sum(r.refunded_minor) from order_items r where r.order_id = o.id), 0)
        end::bigint as order_refunded
      from t
      join orders o on o.shop_id = t.shop_id and o.paid_at is not null
        and o.paid_at >= t.day::timestamp at time zone 'UTC'
        and o.paid_at < (t.day + 1)::timestamp at time zone 'UTC'
      join order_items i on i.order_id = o.id
    ),
    priced as (
      select *,
        case when status = 'cancelled' then gross
          else least(gross, item_refunded
            + case when subtotal > 0 then order_refunded * gross / subtotal else 0 end)
        end as refunds,
        case when status = 'cancelled' or subtotal = 0 then 0 else fee * gross / subtotal end
          as fees
      from paid
    )
    select shop_id, product_id, day, currency, sale_id, gross, refunds, fees, quantity as units,
        case when status in ('cancelled', 'refunded') or item_status = 'missing'
          or (gross > 0 and refunds >= gross) then quantity else 0 end as refunded_units,
        0::bigint as offline_gross, 0 as offline_units
      from priced
    union all
    select s.shop_id, s.product_id, t.day, s.currency, s.id, s.total_minor, 0, 0, s.quantity, 0,
        s.total_minor, s.quantity
      from t
      join sales_transactions s on s.shop_id = t.shop_id
        and s.sold_at >= t.day::timestamp at time zone 'UTC'
        and s.sold_at < (t.day + 1)::timestamp at time zone 'UTC'`;
}

/** Deletes the touched days' rows from both tables and writes them again from their lines. */
async function rebuild(tx: Tx, touched: SQL): Promise<Omit<RollupResult, "watermark">> {
  // Created, then filled: CREATE TABLE AS takes no bind parameters.
  await tx.execute(sql`create temp table rollup_touched (shop_id uuid not null, day date not null)
    on commit drop`);
  const touchedRows = await tx.execute(sql`insert into rollup_touched ${touched}`);
  const days = touchedRows.rowCount ?? 0;
  if (days === 0) return { days: 0, productDays: 0 };
  // A temporary table has no statistics until analysed: the planner would guess thousands of
  // days and scan every order instead of reading the touched days' by index.
  await tx.execute(sql`analyze rollup_touched`);
  await tx.execute(sql`create temp table rollup_lines on commit drop as ${linesSql()}`);
  await tx.execute(sql`delete from sales_daily d using rollup_touched t
    where d.shop_id = t.shop_id and d.day = t.day`);
  await tx.execute(sql`delete from sales_daily_shops d using rollup_touched t
    where d.shop_id = t.shop_id and d.day = t.day`);
  // Summed per sale first, then counted: a hash aggregate twice instead of count(distinct),
  // which sorts every line.
  const perSale = (keys: SQL) => sql`select ${keys}, sale_id, sum(gross) as gross,
      sum(refunds) as refunds, sum(fees) as fees, sum(units) as units,
      sum(refunded_units) as refunded_units, sum(offline_gross) as offline_gross,
      sum(offline_units) as offline_units
    from rollup_lines group by ${keys}, sale_id`;
  const figures = sql`sum(gross), sum(refunds), sum(fees), sum(gross - refunds - fees),
    count(*), sum(units), sum(refunded_units), sum(offline_gross), sum(offline_units)`;
  const productKeys = sql`shop_id, product_id, day, currency`;
  const shopKeys = sql`shop_id, day, currency`;
  const written = await tx.execute(sql`insert into sales_daily (shop_id, product_id, day,
      currency, gross_minor, refunds_minor, fees_minor, net_minor, orders, units, refunded_units,
      offline_gross_minor, offline_units)
    select ${productKeys}, ${figures}
    from (${perSale(productKeys)}) s group by ${productKeys}`);
  await tx.execute(sql`insert into sales_daily_shops (shop_id, day, currency, gross_minor,
      refunds_minor, fees_minor, net_minor, orders, units, refunded_units, offline_gross_minor,
      offline_units)
    select ${shopKeys}, ${figures}
    from (${perSale(shopKeys)}) s group by ${shopKeys}`);
  // The touched days' months, summed again from their days.
  const months = sql`(select distinct shop_id, date_trunc('month', day)::date as month
    from rollup_touched)`;
  await tx.execute(sql`delete from sales_monthly m using ${months} t
    where m.shop_id = t.shop_id and m.month = t.month`);
  await tx.execute(sql`insert into sales_monthly (shop_id, currency, month, product_id,
      gross_minor, net_minor, units, orders)
    select d.shop_id, d.currency, t.month, d.product_id, sum(d.gross_minor), sum(d.net_minor),
      sum(d.units), sum(d.orders)
    from sales_daily d join ${months} t on d.shop_id = t.shop_id
      and d.day >= t.month and d.day < (t.month + interval '1 month')::date
    group by d.shop_id, d.currency, t.month, d.product_id`);
  return { days, productDays: written.rowCount ?? 0 };
}
