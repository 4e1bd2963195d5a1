import { sql } from "drizzle-orm";
import {
  bigint,
  check,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import { products } from "./catalog.ts";
import { shops } from "./shops.ts";
import { users } from "./users.ts";

/** One forecast step as stored: its day and the mean with 80% and 95% bounds. */
export interface StoredForecastPoint {
  day: string;
  mean: number;
  lo80: number;
  hi80: number;
  lo95: number;
  hi95: number;
}

/** How the last week sold against what the chosen method expected for it (fitted without it). */
export interface RecentCheck {
  actual7: number;
  expected7: number;
  upper80: number;
}

/**
 * Each product's latest demand forecast (src/services/intelligence/forecast), replaced whole by
 * every recompute of its shop. `state` is `ok` or `not_enough_history` (then no method, no
 * points). Derived data: no audit rows, a recompute rebuilds it from the sales rollups.
 */
export const productForecasts = pgTable(
  "product_forecasts",
  {
    productId: uuid("product_id")
      .primaryKey()
      .references(() => products.id),
    shopId: uuid("shop_id")
      .notNull()
      .references(() => shops.id),
    state: text("state").notNull(),
    historyDays: integer("history_days").notNull(),
    method: text("method"),
    params: jsonb("params").$type<Record<string, number>>(),
    /** One-step error sd of the chosen method (units per day). */
    sigma: doublePrecision("sigma"),
    /** The first forecast day (the day after the last complete one). */
    startDay: text("start_day").notNull(),
    points: jsonb("points").$type<StoredForecastPoint[]>().notNull().default([]),
    /** Rolling-origin backtest: origins, horizon and per-method MAE / MASE. */
    backtest: jsonb("backtest").$type<Record<string, unknown>>(),
    recent: jsonb("recent").$type<RecentCheck>(),
    unitsLast28: integer("units_last_28").notNull().default(0),
    lastSaleDay: text("last_sale_day"),
    computedAt: timestamp("computed_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index("product_forecasts_shop_idx").on(t.shopId, t.productId),
    check("product_forecasts_state_check", sql`${t.state} in ('ok', 'not_enough_history')`),
  ],
);

/**
 * A product's reorder settings where the shop set them; without a row (or with a null column)
 * the defaults apply (src/services/intelligence/reorder.ts). Changes are audited.
 */
export const reorderSettings = pgTable(
  "reorder_settings",
  {
    productId: uuid("product_id")
      .primaryKey()
      .references(() => products.id),
    shopId: uuid("shop_id")
      .notNull()
      .references(() => shops.id),
    leadTimeDays: integer("lead_time_days"),
    /** Cycle service level: the chance of no stock-out while an order is on its way. */
    serviceLevel: doublePrecision("service_level"),
    updatedBy: uuid("updated_by").references(() => users.id),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index("reorder_settings_shop_idx").on(t.shopId),
    check(
      "reorder_settings_lead_time_check",
      sql`${t.leadTimeDays} is null or ${t.leadTimeDays} between 1 and 365`,
    ),
    check(
      "reorder_settings_service_level_check",
      sql`${t.serviceLevel} is null or (${t.serviceLevel} >= 0.5 and ${t.serviceLevel} <= 0.999)`,
    ),
  ],
);

/**
 * Each buyer's figures with a shop, from the shop's paid orders, replaced whole by every
 * recompute (src/services/intelligence/customers.ts).
 */
export const customerInsights = pgTable(
  "customer_insights",
  {
    shopId: uuid("shop_id")
      .notNull()
      .references(() => shops.id),
    buyerId: uuid("buyer_id")
      .notNull()
      .references(() => users.id),
    orders: integer("orders").notNull(),
    /** Paid totals less refunds, in the shop's currency's minor units. */
    spendMinor: bigint("spend_minor", { mode: "number" }).notNull(),
    currency: text("currency").notNull(),
    firstPurchaseAt: timestamp("first_purchase_at", { withTimezone: true }).notNull(),
    lastPurchaseAt: timestamp("last_purchase_at", { withTimezone: true }).notNull(),
    /** Median days between consecutive purchases; null with one purchase. */
    typicalGapDays: doublePrecision("typical_gap_days"),
    daysSinceLast: integer("days_since_last").notNull(),
    recencyScore: integer("recency_score").notNull(),
    frequencyScore: integer("frequency_score").notNull(),
    monetaryScore: integer("monetary_score").notNull(),
    segment: text("segment").notNull(),
    churnRisk: text("churn_risk").notNull(),
    computedAt: timestamp("computed_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.shopId, t.buyerId] }),
    index("customer_insights_shop_spend_idx").on(t.shopId, t.spendMinor, t.buyerId),
  ],
);

export const RECOMMENDATION_KINDS = [
  "reorder",
  "restock_above_forecast",
  "win_back",
  "move_slow_stock",
] as const;
export type RecommendationKind = (typeof RECOMMENDATION_KINDS)[number];
export const RECOMMENDATION_STATUSES = ["new", "seen", "done", "dismissed"] as const;
export type RecommendationStatus = (typeof RECOMMENDATION_STATUSES)[number];
export const URGENCIES = ["high", "medium", "low"] as const;
export type Urgency = (typeof URGENCIES)[number];

/**
 * A shop's feed of suggested actions. One open (new or seen) row per shop, kind and subject:
 * a recompute refreshes its numbers in place, drops it when its reason is gone, and raises
 * none again for a subject done or dismissed within the quiet period. Status changes are
 * audited.
 */
export const recommendations = pgTable(
  "recommendations",
  {
    id: uuid("id").primaryKey(),
    shopId: uuid("shop_id")
      .notNull()
      .references(() => shops.id),
    kind: text("kind").$type<RecommendationKind>().notNull(),
    /** A product id, or `shop` for a shop-wide action (win back). */
    subject: text("subject").notNull(),
    productId: uuid("product_id").references(() => products.id),
    urgency: text("urgency").$type<Urgency>().notNull(),
    status: text("status").$type<RecommendationStatus>().notNull().default("new"),
    title: text("title").notNull(),
    detail: text("detail").notNull(),
    /** The numbers behind it, by name. */
    figures: jsonb("figures").$type<Record<string, unknown>>().notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
    statusChangedAt: timestamp("status_changed_at", { withTimezone: true }),
    statusChangedBy: uuid("status_changed_by").references(() => users.id),
  },
  (t) => [
    uniqueIndex("recommendations_open_key")
      .on(t.shopId, t.kind, t.subject)
      .where(sql`${t.status} in ('new', 'seen')`),
    index("recommendations_shop_idx").on(t.shopId, t.id),
    check("recommendations_status_check", sql`${t.status} in ('new', 'seen', 'done', 'dismissed')`),
    check("recommendations_urgency_check", sql`${t.urgency} in ('high', 'medium', 'low')`),
  ],
);

/** When each shop's intelligence was last recomputed: the cron picks the stalest shops first. */
export const intelligenceRuns = pgTable("intelligence_runs", {
  shopId: uuid("shop_id")
    .primaryKey()
    .references(() => shops.id),
  computedAt: timestamp("computed_at", { withTimezone: true }).notNull(),
  detail: jsonb("detail").$type<Record<string, unknown>>().notNull(),
});

export type ProductForecastRow = typeof productForecasts.$inferSelect;
export type CustomerInsightRow = typeof customerInsights.$inferSelect;
export type RecommendationRow = typeof recommendations.$inferSelect;
