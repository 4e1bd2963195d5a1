import { sql } from "drizzle-orm";
import {
  boolean,
  check,
  index,
  integer,
  pgEnum,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import { products } from "./catalog.ts";
import { orders } from "./orders.ts";
import { shops } from "./shops.ts";
import { users } from "./users.ts";

/**
 * `scheduled` → `active` → one of `ended_sold` (reserve met: an order for the winner),
 * `ended_unsold` (no bid, or the reserve not met), `bought_now` (closed early by buy-now);
 * `cancelled` by the seller before any bid.
 */
export const AUCTION_STATUSES = [
  "scheduled",
  "active",
  "ended_sold",
  "ended_unsold",
  "bought_now",
  "cancelled",
] as const;
export type AuctionStatus = (typeof AUCTION_STATUSES)[number];
export const auctionStatus = pgEnum("auction_status", AUCTION_STATUSES);

export const SECOND_CHANCE_STATUSES = ["offered", "accepted", "expired", "declined"] as const;
export type SecondChanceStatus = (typeof SECOND_CHANCE_STATUSES)[number];
export const secondChanceStatus = pgEnum("second_chance_status", SECOND_CHANCE_STATUSES);

/**
 * The Postgres mirror of each AuctionRoom object. The service writes the row (terms, status
 * `scheduled`) before it configures the object; after that the object is the only writer of the
 * live columns (price, bids, end, status, winner), which its outbox brings here. Readers that
 * need the exact live state ask the object; lists read this row (and the Redis summary).
 */
export const auctions = pgTable(
  "auctions",
  {
    /** UUIDv7; also the object's name (`idFromName(id)`). */
    id: uuid("id").primaryKey(),
    shopId: uuid("shop_id")
      .notNull()
      .references(() => shops.id),
    productId: uuid("product_id")
      .notNull()
      .references(() => products.id),
    createdBy: uuid("created_by")
      .notNull()
      .references(() => users.id),
    currency: text("currency").notNull(),
    startPriceMinor: integer("start_price_minor").notNull(),
    /** Hidden: only "reserve met / not met" is public. */
    reservePriceMinor: integer("reserve_price_minor"),
    buyNowPriceMinor: integer("buy_now_price_minor"),
    startsAt: timestamp("starts_at", { withTimezone: true }).notNull(),
    /** The scheduled end; `currentEndsAt` is the end after soft-close extensions. */
    endsAt: timestamp("ends_at", { withTimezone: true }).notNull(),
    currentEndsAt: timestamp("current_ends_at", { withTimezone: true }).notNull(),
    softCloseSeconds: integer("soft_close_seconds").notNull(),
    /** Cap on the total of all extensions: the end never passes endsAt + this. */
    maxExtensionSeconds: integer("max_extension_seconds").notNull(),
    status: auctionStatus("status").notNull().default("scheduled"),
    /** The public price as of `lastSequence`. */
    priceMinor: integer("price_minor").notNull(),
    /** The leader's per-auction pseudonym (`bidder-3`), never the user. */
    leaderAlias: text("leader_alias"),
    bidCount: integer("bid_count").notNull().default(0),
    /** The last bid the mirror holds: later outbox rows only move the row forward. */
    lastSequence: integer("last_sequence").notNull().default(0),
    reserveMet: boolean("reserve_met").notNull().default(false),
    winnerId: uuid("winner_id"),
    /** The winner's order (or the buy-now buyer's). */
    orderId: uuid("order_id"),
    closedAt: timestamp("closed_at", { withTimezone: true }),
    /** When the object accepted `configure`; null → the sweep configures it again. */
    configuredAt: timestamp("configured_at", { withTimezone: true }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    // One open auction per product: the item is one of a kind.
    uniqueIndex("auctions_one_open_per_product_key")
      .on(t.productId)
      .where(sql`${t.status} in ('scheduled', 'active')`),
    // The public list (active / upcoming, ending soon) and the cron sweep of overdue auctions.
    index("auctions_open_end_idx")
      .on(t.currentEndsAt, t.id)
      .where(sql`${t.status} in ('scheduled', 'active')`),
    index("auctions_shop_idx").on(t.shopId, t.id),
    check("auctions_start_positive", sql`${t.startPriceMinor} > 0`),
    check(
      "auctions_reserve_at_least_start",
      sql`${t.reservePriceMinor} is null or ${t.reservePriceMinor} >= ${t.startPriceMinor}`,
    ),
    // ≥ 30% above the start, in integers: buy × 10 ≥ start × 13 ⇔ buy ≥ ceil(start × 1.3).
    check(
      "auctions_buy_now_30_percent",
      sql`${t.buyNowPriceMinor} is null or ${t.buyNowPriceMinor}::bigint * 10 >= ${t.startPriceMinor}::bigint * 13`,
    ),
    check("auctions_ends_after_start", sql`${t.endsAt} > ${t.startsAt}`),
    check("auctions_current_end_not_earlier", sql`${t.currentEndsAt} >= ${t.endsAt}`),
  ],
);

/**
 * Every accepted bid, mirrored from the object. `(auction_id, sequence)` is the idempotency key.
 * No foreign keys on purpose (as with stock movements): a bid the object has committed must never
 * be refused here, or the outbox would retry it forever.
 */
export const bids = pgTable(
  "bids",
  {
    auctionId: uuid("auction_id").notNull(),
    /** Gapless and strictly increasing per auction: 1, 2, 3 … */
    sequence: integer("sequence").notNull(),
    bidderId: uuid("bidder_id").notNull(),
    bidderAlias: text("bidder_alias").notNull(),
    /** The bidder's maximum: hidden from everyone but the bidder. */
    maxMinor: integer("max_minor").notNull(),
    /** The public price right after this bid. */
    priceAfterMinor: integer("price_after_minor").notNull(),
    /** `leading` or `outbid`: the bidder's standing right after this bid. */
    outcome: text("outcome").notNull(),
    acceptedAt: timestamp("accepted_at", { withTimezone: true }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.auctionId, t.sequence] }),
    index("bids_bidder_idx").on(t.bidderId, t.auctionId),
  ],
);

/** A winner who did not pay: one strike per unpaid order. Two within 12 months block the user. */
export const userStrikes = pgTable(
  "user_strikes",
  {
    id: uuid("id").primaryKey(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id),
    /** The unpaid order: the unique key that makes the deadline cron's strike happen once. */
    orderId: uuid("order_id")
      .notNull()
      .unique()
      .references(() => orders.id),
    auctionId: uuid("auction_id").references(() => auctions.id),
    reason: text("reason").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("user_strikes_user_idx").on(t.userId, t.createdAt)],
);

/**
 * An offer to a losing bidder to buy at their own maximum: the seller's after an unsold end, or
 * the system's after the winner did not pay. Valid 48 h; accepting makes an order.
 */
export const secondChanceOffers = pgTable(
  "second_chance_offers",
  {
    id: uuid("id").primaryKey(),
    auctionId: uuid("auction_id")
      .notNull()
      .references(() => auctions.id),
    bidderId: uuid("bidder_id")
      .notNull()
      .references(() => users.id),
    /** The bidder's own maximum. */
    priceMinor: integer("price_minor").notNull(),
    currency: text("currency").notNull(),
    status: secondChanceStatus("status").notNull().default("offered"),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    /** The order made when the bidder accepted. */
    orderId: uuid("order_id").references(() => orders.id),
    /** `seller` or `system` (the unpaid-winner cron). */
    offeredBy: text("offered_by").notNull(),
    /** The unpaid order that led to this offer: the cron offers once per unpaid order. */
    sourceOrderId: uuid("source_order_id")
      .unique()
      .references(() => orders.id),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    decidedAt: timestamp("decided_at", { withTimezone: true }),
  },
  (t) => [
    // A bidder is offered an auction's item at most once.
    uniqueIndex("second_chance_offers_bidder_key").on(t.auctionId, t.bidderId),
    // One open offer per auction: two accepted offers would sell one item twice.
    uniqueIndex("second_chance_offers_one_open_key")
      .on(t.auctionId)
      .where(sql`${t.status} = 'offered'`),
    index("second_chance_offers_open_expiry_idx")
      .on(t.expiresAt)
      .where(sql`${t.status} = 'offered'`),
  ],
);

export type Auction = typeof auctions.$inferSelect;
export type Bid = typeof bids.$inferSelect;
export type UserStrike = typeof userStrikes.$inferSelect;
export type SecondChanceOffer = typeof secondChanceOffers.$inferSelect;
