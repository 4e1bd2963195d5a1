import { sql } from "drizzle-orm";
import {
  boolean,
  index,
  integer,
  jsonb,
  pgEnum,
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

/** The order state machine's states; the transitions live in src/services/orders/state-machine.ts. */
export const orderStatus = pgEnum("order_status", [
  "pending_payment",
  "paid",
  "picking",
  "ready",
  "shipped",
  "delivered",
  "cancelled",
  "payment_failed",
  "expired",
  "partially_refunded",
  "refunded",
  // Pickup (migration 0019): ready → ready_for_pickup → collected.
  "ready_for_pickup",
  "collected",
]);
export const fulfilment = pgEnum("fulfilment", ["delivery", "pickup"]);
export const orderItemStatus = pgEnum("order_item_status", ["pending", "picked", "missing"]);

export const carts = pgTable("carts", {
  id: uuid("id").primaryKey(),
  /** One active cart per buyer. */
  buyerId: uuid("buyer_id")
    .notNull()
    .unique()
    .references(() => users.id),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
});

export const cartItems = pgTable(
  "cart_items",
  {
    cartId: uuid("cart_id")
      .notNull()
      .references(() => carts.id),
    productId: uuid("product_id")
      .notNull()
      .references(() => products.id),
    quantity: integer("quantity").notNull(),
    addedAt: timestamp("added_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.cartId, t.productId] })],
);

export const wishlistItems = pgTable(
  "wishlist_items",
  {
    buyerId: uuid("buyer_id")
      .notNull()
      .references(() => users.id),
    productId: uuid("product_id")
      .notNull()
      .references(() => products.id),
    addedAt: timestamp("added_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.buyerId, t.productId] })],
);

/**
 * One checkout = one Stripe PaymentIntent, possibly spanning shops (one order per shop).
 * `transferGroup` ties the shops' transfers to the charge (Connect separate charges and transfers).
 */
export const checkouts = pgTable(
  "checkouts",
  {
    id: uuid("id").primaryKey(),
    buyerId: uuid("buyer_id")
      .notNull()
      .references(() => users.id),
    currency: text("currency").notNull(),
    amountMinor: integer("amount_minor").notNull(),
    platformFeeMinor: integer("platform_fee_minor").notNull(),
    paymentIntentId: text("payment_intent_id").unique(),
    transferGroup: text("transfer_group").notNull(),
    /** open → payment taken (succeeded) / failed / voided (Stripe failure or expiry). */
    status: text("status").notNull().default("open"),
    paymentDeadline: timestamp("payment_deadline", { withTimezone: true }).notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index("checkouts_buyer_idx").on(t.buyerId, t.id),
    // Reconciliation walks the open checkouts, oldest first.
    index("checkouts_open_idx").on(t.createdAt).where(sql`${t.status} = 'open'`),
  ],
);

export const orders = pgTable(
  "orders",
  {
    id: uuid("id").primaryKey(),
    checkoutId: uuid("checkout_id").references(() => checkouts.id),
    buyerId: uuid("buyer_id")
      .notNull()
      .references(() => users.id),
    shopId: uuid("shop_id")
      .notNull()
      .references(() => shops.id),
    status: orderStatus("status").notNull().default("pending_payment"),
    /** `checkout` or `auction` (an auction win, issue 6). */
    source: text("source").notNull().default("checkout"),
    auctionId: uuid("auction_id"),
    currency: text("currency").notNull(),
    subtotalMinor: integer("subtotal_minor").notNull(),
    deliveryFeeMinor: integer("delivery_fee_minor").notNull().default(0),
    platformFeeMinor: integer("platform_fee_minor").notNull(),
    totalMinor: integer("total_minor").notNull(),
    refundedMinor: integer("refunded_minor").notNull().default(0),
    /**
     * Taxes (src/lib/tax.ts), fixed at checkout: whether the prices included tax (else the tax
     * was added to the total), the tax of every line and of delivery, and delivery's rate.
     */
    pricesIncludeTax: boolean("prices_include_tax").notNull().default(false),
    taxMinor: integer("tax_minor").notNull().default(0),
    deliveryTaxRateBps: integer("delivery_tax_rate_bps").notNull().default(0),
    deliveryTaxMinor: integer("delivery_tax_minor").notNull().default(0),
    fulfilment: fulfilment("fulfilment").notNull().default("delivery"),
    pickupLocationId: uuid("pickup_location_id").references(() => shopLocations.id),
    /** A snapshot of the buyer's address at checkout; later edits to the address book don't move it. */
    shippingAddress: jsonb("shipping_address"),
    paymentDeadline: timestamp("payment_deadline", { withTimezone: true }),
    paidAt: timestamp("paid_at", { withTimezone: true }),
    carrier: text("carrier"),
    trackingNumber: text("tracking_number"),
    /** The delivery window booked at checkout (DeliverySlots), when the buyer chose one. */
    deliverySlotStart: timestamp("delivery_slot_start", { withTimezone: true }),
    deliverySlotEnd: timestamp("delivery_slot_end", { withTimezone: true }),
    /** Pickup: the HMAC of the code the buyer shows at the branch; never the code itself. */
    pickupCodeHash: text("pickup_code_hash"),
    /** Wrong codes entered for this order; at the limit the code must be issued again. */
    pickupCodeFailures: integer("pickup_code_failures").notNull().default(0),
    readyForPickupAt: timestamp("ready_for_pickup_at", { withTimezone: true }),
    collectedAt: timestamp("collected_at", { withTimezone: true }),
    /** Set when money and records disagree (amount mismatch, dispute): an admin must look. */
    flagged: boolean("flagged").notNull().default(false),
    flagReason: text("flag_reason"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index("orders_buyer_idx").on(t.buyerId, t.id),
    index("orders_shop_idx").on(t.shopId, t.status, t.id),
    index("orders_checkout_idx").on(t.checkoutId),
    index("orders_deadline_idx").on(t.paymentDeadline).where(sql`${t.status} = 'pending_payment'`),
    // Sales rollups (migration 0020): a shop's paid orders by day, and what changed since the
    // rollup job's watermark.
    index("orders_shop_paid_idx").on(t.shopId, t.paidAt).where(sql`${t.paidAt} is not null`),
    index("orders_updated_idx").on(t.updatedAt),
    index("orders_delivery_slot_idx")
      .on(t.shopId, t.deliverySlotStart)
      .where(sql`${t.deliverySlotStart} is not null`),
    // Auctions (issue 6): one order per auction and buyer — the close's order for the winner can
    // never be made twice, and a second-chance bidder gets at most one.
    uniqueIndex("orders_auction_buyer_key")
      .on(t.auctionId, t.buyerId)
      .where(sql`${t.auctionId} is not null`),
  ],
);

/** What was bought, as it was: later catalog edits never change a past order. */
export const orderItems = pgTable(
  "order_items",
  {
    id: uuid("id").primaryKey(),
    orderId: uuid("order_id")
      .notNull()
      .references(() => orders.id),
    productId: uuid("product_id")
      .notNull()
      .references(() => products.id),
    title: text("title").notNull(),
    sku: text("sku").notNull(),
    unitPriceMinor: integer("unit_price_minor").notNull(),
    quantity: integer("quantity").notNull(),
    locationId: uuid("location_id").notNull(),
    /** The ProductStock reservation holding the units until payment (committed when paid). */
    reservationId: text("reservation_id"),
    status: orderItemStatus("status").notNull().default("pending"),
    refundedMinor: integer("refunded_minor").notNull().default(0),
    /** The line's tax rate (basis points) and tax, rounded for the line (src/lib/tax.ts). */
    taxRateBps: integer("tax_rate_bps").notNull().default(0),
    taxMinor: integer("tax_minor").notNull().default(0),
  },
  (t) => [index("order_items_order_idx").on(t.orderId)],
);

/** One row per shop share moved to a connected account (Stripe transfer). */
export const transfers = pgTable(
  "transfers",
  {
    id: uuid("id").primaryKey(),
    orderId: uuid("order_id")
      .notNull()
      .references(() => orders.id),
    shopId: uuid("shop_id")
      .notNull()
      .references(() => shops.id),
    stripeTransferId: text("stripe_transfer_id").unique(),
    destinationAccount: text("destination_account").notNull(),
    amountMinor: integer("amount_minor").notNull(),
    reversedMinor: integer("reversed_minor").notNull().default(0),
    currency: text("currency").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [uniqueIndex("transfers_order_key").on(t.orderId)],
);

export const refunds = pgTable(
  "refunds",
  {
    id: uuid("id").primaryKey(),
    orderId: uuid("order_id")
      .notNull()
      .references(() => orders.id),
    stripeRefundId: text("stripe_refund_id").unique(),
    amountMinor: integer("amount_minor").notNull(),
    /** What the refund is for, e.g. `{"orderItemId": …}` for a missing line: the idempotency anchor. */
    reasonKey: text("reason_key").notNull(),
    reason: text("reason").notNull(),
    /** requested → succeeded (charge.refunded confirmed it) | failed. */
    status: text("status").notNull().default("requested"),
    /**
     * The reversal (`trr_…`) that took the shop's share of this refund back from its transfer:
     * set once, so a later `charge.refunded` never reverses the same refund twice.
     */
    transferReversalId: text("transfer_reversal_id"),
    /** The tax this refund gives back, per line (src/lib/tax.ts `refundTaxShare`). */
    taxMinor: integer("tax_minor").notNull().default(0),
    taxLines: jsonb("tax_lines").$type<RefundTaxLine[]>().notNull().default([]),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    confirmedAt: timestamp("confirmed_at", { withTimezone: true }),
  },
  (t) => [uniqueIndex("refunds_reason_key").on(t.orderId, t.reasonKey)],
);

/** One line's share of a refund's tax: an order item (its id) or the delivery fee. */
export interface RefundTaxLine {
  line: string;
  rateBps: number;
  baseMinor: number;
  taxMinor: number;
}

/** Every Stripe event id once: the consumer's idempotency record. */
export const stripeEvents = pgTable("stripe_events", {
  id: text("id").primaryKey(),
  type: text("type").notNull(),
  account: text("account"),
  /** Stripe's `created`: lets the consumer ignore a stale event about newer state. */
  createdAt: timestamp("created_at", { withTimezone: true }).notNull(),
  receivedAt: timestamp("received_at", { withTimezone: true }).notNull().defaultNow(),
  processedAt: timestamp("processed_at", { withTimezone: true }),
  outcome: text("outcome"),
});

/** Money that disagrees with records, for an admin: amount mismatch, dispute, late success. */
export const paymentIssues = pgTable(
  "payment_issues",
  {
    id: uuid("id").primaryKey(),
    kind: text("kind").notNull(),
    checkoutId: uuid("checkout_id").references(() => checkouts.id),
    orderId: uuid("order_id").references(() => orders.id),
    paymentIntentId: text("payment_intent_id"),
    stripeEventId: text("stripe_event_id"),
    detail: jsonb("detail"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    resolvedAt: timestamp("resolved_at", { withTimezone: true }),
    /** The admin who resolved it, and why (required): the audit row carries the same. */
    resolvedBy: uuid("resolved_by"),
    resolutionNote: text("resolution_note"),
  },
  (t) => [uniqueIndex("payment_issues_once_key").on(t.kind, t.paymentIntentId, t.stripeEventId)],
);

/**
 * IETF httpapi Idempotency-Key records: same key + same body → the stored first response;
 * another body → 422; a duplicate while the first is in flight → 409. Kept 24 h.
 */
export const idempotencyKeys = pgTable(
  "idempotency_keys",
  {
    userId: uuid("user_id").notNull(),
    key: text("key").notNull(),
    route: text("route").notNull(),
    requestHash: text("request_hash").notNull(),
    /** in_progress → done. A crashed in_progress record is reclaimable after `lockedUntil`. */
    state: text("state").notNull().default("in_progress"),
    lockedUntil: timestamp("locked_until", { withTimezone: true }).notNull(),
    responseStatus: integer("response_status"),
    responseBody: jsonb("response_body"),
    /**
     * Checkout confirm only: which attempt of this key the record speaks for. The checkout id is
     * derived from (buyer, key, attempt), so a retry after a voided attempt (Stripe refused the
     * PaymentIntent) makes a new checkout instead of colliding with the voided one.
     */
    attempt: integer("attempt").notNull().default(1),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.route, t.key] })],
);

export type Order = typeof orders.$inferSelect;
export type OrderStatus = (typeof orderStatus.enumValues)[number];
