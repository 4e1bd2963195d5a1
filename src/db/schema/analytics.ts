import { sql } from "drizzle-orm";
import {
  bigint,
  check,
  date,
  index,
  integer,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import { products } from "./catalog.ts";
import { shopLocations, shops } from "./shops.ts";
import { users } from "./users.ts";

/**
 * A sale made outside Souk (a till, a market stall), entered by the shop's team: the units leave
 * stock through the product's ProductStock object (`movement_id`), and the sale counts in the
 * daily rollups like a paid order line. `source` says how it arrived (quick entry today; CSV
 * import and receipt OCR later).
 */
export const salesTransactions = pgTable(
  "sales_transactions",
  {
    id: uuid("id").primaryKey(),
    shopId: uuid("shop_id")
      .notNull()
      .references(() => shops.id),
    productId: uuid("product_id")
      .notNull()
      .references(() => products.id),
    locationId: uuid("location_id")
      .notNull()
      .references(() => shopLocations.id),
    /** The product's SKU and title when sold: later catalog edits never change a past sale. */
    sku: text("sku").notNull(),
    title: text("title").notNull(),
    quantity: integer("quantity").notNull(),
    unitPriceMinor: integer("unit_price_minor").notNull(),
    /** quantity × unit price, in `currency` (always the shop's). */
    totalMinor: bigint("total_minor", { mode: "number" }).notNull(),
    currency: text("currency").notNull(),
    /** When the sale happened (the seller's word, never in the future); its UTC day is the rollup's. */
    soldAt: timestamp("sold_at", { withTimezone: true }).notNull(),
    /** An optional customer, as the seller knows them; the email is stored lower-cased. */
    customerEmail: text("customer_email"),
    customerPhone: text("customer_phone"),
    customerName: text("customer_name"),
    note: text("note"),
    /** `manual` (quick entry), `import` (CSV), `receipt` (OCR). */
    source: text("source").notNull().default("manual"),
    /** The ProductStock movement that took the units out of stock. */
    movementId: uuid("movement_id").notNull(),
    /** The client's Idempotency-Key, per shop and user: the same key never records a sale twice. */
    clientKey: text("client_key"),
    createdBy: uuid("created_by")
      .notNull()
      .references(() => users.id),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index("sales_transactions_shop_sold_idx").on(t.shopId, t.soldAt, t.id),
    index("sales_transactions_product_sold_idx").on(t.productId, t.soldAt),
    // The rollup's catch-up scans what arrived since its watermark.
    index("sales_transactions_created_idx").on(t.createdAt),
    uniqueIndex("sales_transactions_client_key")
      .on(t.shopId, t.createdBy, t.clientKey)
      .where(sql`${t.clientKey} is not null`),
    check("sales_transactions_quantity_positive", sql`${t.quantity} > 0`),
    check("sales_transactions_price_not_negative", sql`${t.unitPriceMinor} >= 0`),
  ],
);

/**
 * Per shop, product and UTC day: what was sold (paid order lines and offline sales) and what
 * refunds and cancellations took back, in minor units of the shop's currency. Rebuilt per
 * (shop, day) by the rollup job (src/services/analytics/rollups.ts), never incremented, so a
 * rerun is harmless. Refunds and cancellations count on the day of the sale they undo.
 *
 * Shape kept stable for other readers (forecasts): shop_id, product_id, day, currency,
 * gross_minor, refunds_minor, fees_minor, net_minor, orders, units.
 */
export const salesDaily = pgTable(
  "sales_daily",
  {
    shopId: uuid("shop_id").notNull(),
    productId: uuid("product_id").notNull(),
    day: date("day", { mode: "string" }).notNull(),
    currency: text("currency").notNull(),
    /** Unit price × quantity of every sale that day, refunded or not. */
    grossMinor: bigint("gross_minor", { mode: "number" }).notNull(),
    refundsMinor: bigint("refunds_minor", { mode: "number" }).notNull(),
    /** The platform fee, shared over an order's lines by their value; 0 for offline sales. */
    feesMinor: bigint("fees_minor", { mode: "number" }).notNull(),
    /** gross − refunds − fees. */
    netMinor: bigint("net_minor", { mode: "number" }).notNull(),
    /** Orders (and offline sales) with at least one line of the product that day. */
    orders: integer("orders").notNull(),
    /** Units sold (refunded or not); `refunded_units` are the ones taken back since. */
    units: integer("units").notNull(),
    refundedUnits: integer("refunded_units").notNull().default(0),
    /** Of the above, what offline sales brought. */
    offlineGrossMinor: bigint("offline_gross_minor", { mode: "number" }).notNull().default(0),
    offlineUnits: integer("offline_units").notNull().default(0),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.shopId, t.productId, t.day, t.currency] }),
    // Covers a period's per-product sums (the KPIs' top products) in an index-only scan.
    index("sales_daily_shop_day_idx").on(
      t.shopId,
      t.currency,
      t.day,
      t.productId,
      t.grossMinor,
      t.netMinor,
      t.units,
      t.orders,
    ),
  ],
);

/**
 * The shop's whole day: the same figures as `sales_daily` summed over products, except `orders`,
 * which counts each order once (an order of three products is one order here, three there).
 */
export const salesDailyShops = pgTable(
  "sales_daily_shops",
  {
    shopId: uuid("shop_id").notNull(),
    day: date("day", { mode: "string" }).notNull(),
    currency: text("currency").notNull(),
    grossMinor: bigint("gross_minor", { mode: "number" }).notNull(),
    refundsMinor: bigint("refunds_minor", { mode: "number" }).notNull(),
    feesMinor: bigint("fees_minor", { mode: "number" }).notNull(),
    netMinor: bigint("net_minor", { mode: "number" }).notNull(),
    orders: integer("orders").notNull(),
    units: integer("units").notNull(),
    refundedUnits: integer("refunded_units").notNull().default(0),
    offlineGrossMinor: bigint("offline_gross_minor", { mode: "number" }).notNull().default(0),
    offlineUnits: integer("offline_units").notNull().default(0),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.shopId, t.day, t.currency] })],
);

/**
 * The product rows of `sales_daily` summed per calendar month, rebuilt with them for every
 * touched month: a year's top products read ~12 rows per product instead of ~365 (the KPIs
 * read whole months here and the partial months at either end from `sales_daily`).
 */
export const salesMonthly = pgTable(
  "sales_monthly",
  {
    shopId: uuid("shop_id").notNull(),
    currency: text("currency").notNull(),
    /** The month's first day. */
    month: date("month", { mode: "string" }).notNull(),
    productId: uuid("product_id").notNull(),
    grossMinor: bigint("gross_minor", { mode: "number" }).notNull(),
    netMinor: bigint("net_minor", { mode: "number" }).notNull(),
    units: integer("units").notNull(),
    /** The sum of the days' `orders` (as the KPIs sum them over days). */
    orders: integer("orders").notNull(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.shopId, t.currency, t.month, t.productId] })],
);

/** How far each catch-up job has read: rows changed after `watermark` are not rolled up yet. */
export const rollupWatermarks = pgTable("rollup_watermarks", {
  name: text("name").primaryKey(),
  watermark: timestamp("watermark", { withTimezone: true }).notNull(),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
});

export type SalesTransaction = typeof salesTransactions.$inferSelect;
export type SalesDailyRow = typeof salesDaily.$inferSelect;
