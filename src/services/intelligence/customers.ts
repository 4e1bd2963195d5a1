import { and, asc, desc, eq, gt, lt, or, sql } from "drizzle-orm";
import { z } from "zod";
import type { Queryable } from "../../db/client.ts";
import { type CustomerInsightRow, customerInsights } from "../../db/schema/intelligence.ts";
import { users } from "../../db/schema/users.ts";
import { type Page, toPage } from "../../lib/pagination.ts";
import { keysetOr422 } from "./cursor.ts";
import { elapsedDays } from "./days.ts";

/** A first purchase this recent makes a customer `new`, whatever the scores. */
export const NEW_CUSTOMER_DAYS = 30;
/** Churn risk: days since the last purchase ÷ the typical gap; at or over these, medium / high. */
export const CHURN_MEDIUM_RATIO = 1.5;
export const CHURN_HIGH_RATIO = 3;
/** The gap assumed for a one-purchase customer when the shop has no repeat customer yet. */
export const DEFAULT_GAP_DAYS = 30;

export const SEGMENTS = ["champions", "loyal", "at_risk", "hibernating", "lost", "new"] as const;
export type Segment = (typeof SEGMENTS)[number];
export const CHURN_RISKS = ["high", "medium", "low"] as const;
export type ChurnRisk = (typeof CHURN_RISKS)[number];

/** What the shop's paid orders say about one buyer. */
export interface CustomerFacts {
  buyerId: string;
  orders: number;
  spendMinor: number;
  currency: string;
  firstPurchaseAt: Date;
  lastPurchaseAt: Date;
  /** Median days between consecutive purchases; null with one purchase. */
  typicalGapDays: number | null;
}

export interface CustomerInsight extends CustomerFacts {
  daysSinceLast: number;
  recencyScore: number;
  frequencyScore: number;
  monetaryScore: number;
  segment: Segment;
  churnRisk: ChurnRisk;
}

/**
 * Quintile score 1–5 of `value` among `values` (higher is better): ⌈5 · share of customers at
 * or below it⌉. Ties share a score; a lone customer scores 5.
 */
export function quintile(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((sorted[mid] ?? 0) <= value) lo = mid + 1;
    else hi = mid;
  }
  return Math.max(1, Math.min(5, Math.ceil((5 * lo) / Math.max(1, sorted.length))));
}

/**
 * The named segment, first rule that matches:
 * new (first purchase ≤ 30 days ago) · champions (R ≥ 4, F ≥ 4, M ≥ 4) · loyal (F ≥ 3 and
 * either R ≥ 3 or still on their own rhythm: churn risk low) · at_risk (F ≥ 3, R ≤ 2 and late
 * against their rhythm: used to buy often, not lately) · lost (R = 1) · hibernating (the rest:
 * few purchases, none lately). The churn check keeps quintiles honest in a small shop, where
 * the least recent of a few weekly buyers would otherwise score R = 2.
 */
export function segmentOf(
  c: Pick<CustomerInsight, "recencyScore" | "frequencyScore" | "monetaryScore" | "churnRisk">,
  daysSinceFirst: number,
): Segment {
  const { recencyScore: r, frequencyScore: f, monetaryScore: m } = c;
  if (daysSinceFirst <= NEW_CUSTOMER_DAYS) return "new";
  if (r >= 4 && f >= 4 && m >= 4) return "champions";
  if (f >= 3 && (r >= 3 || c.churnRisk === "low")) return "loyal";
  if (r <= 2 && f >= 3) return "at_risk";
  if (r === 1) return "lost";
  return "hibernating";
}

/**
 * Churn risk by the customer's own rhythm: days since the last purchase ÷ their typical gap
 * (the shop's median typical gap for a one-purchase customer, 30 days when the shop has no
 * repeat customer): under 1.5 low, under 3 medium, else high.
 */
export function churnRiskOf(daysSinceLast: number, gapDays: number): ChurnRisk {
  const ratio = daysSinceLast / Math.max(1, gapDays);
  if (ratio >= CHURN_HIGH_RATIO) return "high";
  if (ratio >= CHURN_MEDIUM_RATIO) return "medium";
  return "low";
}

function median(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor((s.length - 1) / 2);
  return ((s[mid] ?? 0) + (s[Math.ceil((s.length - 1) / 2)] ?? 0)) / 2;
}

/** RFM quintiles within the shop, segments and churn risk for every buyer, as of `now`. */
export function scoreCustomers(facts: readonly CustomerFacts[], now: Date): CustomerInsight[] {
  const since = facts.map((c) => Math.max(0, Math.floor(elapsedDays(c.lastPurchaseAt, now))));
  // Recency: fewer days is better, so score the negated days.
  const recency = since.map((d) => -d).sort((a, b) => a - b);
  const frequency = facts.map((c) => c.orders).sort((a, b) => a - b);
  const monetary = facts.map((c) => c.spendMinor).sort((a, b) => a - b);
  const shopGap =
    median(facts.flatMap((c) => (c.typicalGapDays === null ? [] : [c.typicalGapDays]))) ??
    DEFAULT_GAP_DAYS;
  return facts.map((c, i) => {
    const daysSinceLast = since[i] ?? 0;
    const scores = {
      recencyScore: quintile(recency, -daysSinceLast),
      frequencyScore: quintile(frequency, c.orders),
      monetaryScore: quintile(monetary, c.spendMinor),
      churnRisk: churnRiskOf(daysSinceLast, c.typicalGapDays ?? shopGap),
    };
    return {
      ...c,
      daysSinceLast,
      ...scores,
      segment: segmentOf(scores, elapsedDays(c.firstPurchaseAt, now)),
    };
  });
}

/**
 * Every buyer's facts from the shop's paid orders (paid, not cancelled or fully refunded),
 * in one query: spend is totals less refunds; the typical gap is the median of the gaps
 * between consecutive purchases.
 */
export async function readCustomerFacts(db: Queryable, shopId: string): Promise<CustomerFacts[]> {
  const result = await db.execute<{
    buyer_id: string;
    orders: number;
    spend: string;
    currency: string;
    first_at: string;
    last_at: string;
    gap: number | null;
  }>(sql`with o as (
      select buyer_id, paid_at, currency, total_minor - refunded_minor as net,
        extract(epoch from paid_at - lag(paid_at) over (partition by buyer_id order by paid_at))
          / 86400 as gap
      from orders
      where shop_id = ${shopId} and paid_at is not null
        and status not in ('cancelled', 'refunded')
    )
    select buyer_id, count(*)::int as orders, sum(net)::text as spend, min(currency) as currency,
      min(paid_at)::text as first_at, max(paid_at)::text as last_at,
      (percentile_cont(0.5) within group (order by gap))::float8 as gap
    from o group by buyer_id`);
  return result.rows.map((r) => ({
    buyerId: r.buyer_id,
    orders: Number(r.orders),
    spendMinor: Number(r.spend),
    currency: r.currency,
    firstPurchaseAt: new Date(r.first_at),
    lastPurchaseAt: new Date(r.last_at),
    typicalGapDays: r.gap === null ? null : Math.round(Number(r.gap) * 100) / 100,
  }));
}

const CHUNK = 500;

/** Replaces the shop's stored customer figures (inside the caller's transaction). */
export async function storeCustomers(
  tx: Queryable,
  shopId: string,
  rows: readonly CustomerInsight[],
  now: Date,
): Promise<void> {
  await tx.delete(customerInsights).where(eq(customerInsights.shopId, shopId));
  for (let i = 0; i < rows.length; i += CHUNK) {
    await tx.insert(customerInsights).values(
      rows.slice(i, i + CHUNK).map((c) => ({
        shopId,
        buyerId: c.buyerId,
        orders: c.orders,
        spendMinor: c.spendMinor,
        currency: c.currency,
        firstPurchaseAt: c.firstPurchaseAt,
        lastPurchaseAt: c.lastPurchaseAt,
        typicalGapDays: c.typicalGapDays,
        daysSinceLast: c.daysSinceLast,
        recencyScore: c.recencyScore,
        frequencyScore: c.frequencyScore,
        monetaryScore: c.monetaryScore,
        segment: c.segment,
        churnRisk: c.churnRisk,
        computedAt: now,
      })),
    );
  }
}

export const customerListQuery = z.object({
  shopId: z.uuid(),
  segment: z.enum(SEGMENTS).optional(),
  risk: z.enum(CHURN_RISKS).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().min(1).max(512).optional(),
});

export interface CustomerView {
  buyerId: string;
  displayName: string;
  orders: number;
  spendMinor: number;
  currency: string;
  firstPurchaseAt: string;
  lastPurchaseAt: string;
  typicalGapDays: number | null;
  daysSinceLast: number;
  rfm: { recency: number; frequency: number; monetary: number };
  segment: Segment;
  churnRisk: ChurnRisk;
  computedAt: string;
}

function customerView(r: CustomerInsightRow & { displayName: string }): CustomerView {
  return {
    buyerId: r.buyerId,
    displayName: r.displayName,
    orders: r.orders,
    spendMinor: r.spendMinor,
    currency: r.currency,
    firstPurchaseAt: r.firstPurchaseAt.toISOString(),
    lastPurchaseAt: r.lastPurchaseAt.toISOString(),
    typicalGapDays: r.typicalGapDays,
    daysSinceLast: r.daysSinceLast,
    rfm: { recency: r.recencyScore, frequency: r.frequencyScore, monetary: r.monetaryScore },
    segment: r.segment as Segment,
    churnRisk: r.churnRisk as ChurnRisk,
    computedAt: r.computedAt.toISOString(),
  };
}

const CustomerCursor = z.object({ spend: z.number().int(), buyerId: z.uuid() });

/** A page of the shop's stored customers, biggest spenders first (the caller checked access). */
export async function listCustomers(
  db: Queryable,
  q: z.output<typeof customerListQuery>,
): Promise<Page<CustomerView>> {
  const after = keysetOr422(q.cursor, CustomerCursor);
  const rows = await db
    .select({ c: customerInsights, displayName: users.displayName })
    .from(customerInsights)
    .innerJoin(users, eq(users.id, customerInsights.buyerId))
    .where(
      and(
        eq(customerInsights.shopId, q.shopId),
        q.segment ? eq(customerInsights.segment, q.segment) : undefined,
        q.risk ? eq(customerInsights.churnRisk, q.risk) : undefined,
        after
          ? or(
              lt(customerInsights.spendMinor, after.spend),
              and(
                eq(customerInsights.spendMinor, after.spend),
                gt(customerInsights.buyerId, after.buyerId),
              ),
            )
          : undefined,
      ),
    )
    .orderBy(desc(customerInsights.spendMinor), asc(customerInsights.buyerId))
    .limit(q.limit + 1);
  const page = toPage(rows, q.limit, (r) => ({ spend: r.c.spendMinor, buyerId: r.c.buyerId }));
  return {
    items: page.items.map((r) => customerView({ ...r.c, displayName: r.displayName })),
    nextCursor: page.nextCursor,
  };
}
