import { sql } from "drizzle-orm";
import {
  boolean,
  check,
  doublePrecision,
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
import { users } from "./users.ts";

export const shopStatus = pgEnum("shop_status", ["pending", "approved", "rejected", "suspended"]);
export const shopRole = pgEnum("shop_role", ["owner", "manager", "staff"]);
export const locationKind = pgEnum("location_kind", ["warehouse", "branch"]);
export const otpPurpose = pgEnum("otp_purpose", ["email", "phone"]);

export const shops = pgTable(
  "shops",
  {
    id: uuid("id").primaryKey(),
    ownerId: uuid("owner_id")
      .notNull()
      .references(() => users.id),
    name: text("name").notNull(),
    slug: text("slug").notNull(),
    description: text("description").notNull().default(""),
    contactEmail: text("contact_email").notNull(),
    contactPhone: text("contact_phone").notNull(),
    /** ISO 3166-1 alpha-2. */
    country: text("country").notNull(),
    /** ISO 4217; every product of the shop is priced in it. */
    currency: text("currency").notNull(),
    status: shopStatus("status").notNull().default("pending"),
    statusReason: text("status_reason"),
    emailVerifiedAt: timestamp("email_verified_at", { withTimezone: true }),
    phoneVerifiedAt: timestamp("phone_verified_at", { withTimezone: true }),
    approvedAt: timestamp("approved_at", { withTimezone: true }),
    /** Stripe Connect (issue 5). A shop without payouts cannot publish. */
    stripeAccountId: text("stripe_account_id"),
    payoutsEnabled: boolean("payouts_enabled").notNull().default(false),
    /** Delivery fee overrides in minor units; null → platform defaults (issue 5). */
    freeDeliveryMinMinor: integer("free_delivery_min_minor"),
    deliveryFeeMinor: integer("delivery_fee_minor"),
    /** IANA time zone of the shop's opening hours (and, later, delivery windows). */
    timeZone: text("time_zone").notNull().default("UTC"),
    /**
     * Taxes (VAT-style, src/lib/tax.ts): whether the shop's prices (and delivery fee) already
     * include tax, and its default rate in basis points (1700 = 17%); a category's own rate is
     * in `shop_tax_rates`.
     */
    pricesIncludeTax: boolean("prices_include_tax").notNull().default(false),
    taxRateBps: integer("tax_rate_bps").notNull().default(0),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
    deletedAt: timestamp("deleted_at", { withTimezone: true }),
  },
  (t) => [
    uniqueIndex("shops_slug_live_key").on(t.slug).where(sql`${t.deletedAt} is null`),
    index("shops_status_idx").on(t.status, t.id),
    check("shops_tax_rate_check", sql`${t.taxRateBps} between 0 and 10000`),
  ],
);

/** The team: the owner is a member too, so one lookup answers every permission question. */
export const shopMembers = pgTable(
  "shop_members",
  {
    shopId: uuid("shop_id")
      .notNull()
      .references(() => shops.id),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id),
    role: shopRole("role").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.shopId, t.userId] }),
    index("shop_members_user_idx").on(t.userId),
  ],
);

/** Where stock lives: one `warehouse` (delivery) per shop, any number of `branch`es (pickup). */
export const shopLocations = pgTable(
  "shop_locations",
  {
    id: uuid("id").primaryKey(),
    shopId: uuid("shop_id")
      .notNull()
      .references(() => shops.id),
    kind: locationKind("kind").notNull(),
    name: text("name").notNull(),
    /** Short code used by CSV imports (`sku,location,quantity`), unique per shop. */
    code: text("code").notNull(),
    /** Street address buyers see (branches) and staff ship from (warehouses); see locations.ts. */
    address: jsonb("address").$type<LocationAddress>(),
    /** WGS 84 degrees; both set or both null. */
    latitude: doublePrecision("latitude"),
    longitude: doublePrecision("longitude"),
    /** Opening hours per weekday in the shop's time zone; a missing day is closed. */
    openingHours: jsonb("opening_hours").$type<OpeningHours>().notNull().default({}),
    /** Whether buyers may pick up here; meaningful for branches only. */
    pickupEnabled: boolean("pickup_enabled").notNull().default(true),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
    /** Retired (soft-deleted): kept for the stock and orders that name it, never offered again. */
    deletedAt: timestamp("deleted_at", { withTimezone: true }),
  },
  (t) => [
    uniqueIndex("shop_locations_code_key").on(t.shopId, t.code),
    uniqueIndex("shop_locations_one_warehouse_key")
      .on(t.shopId)
      .where(sql`${t.kind} = 'warehouse' and ${t.deletedAt} is null`),
    check(
      "shop_locations_coordinates_check",
      sql`(${t.latitude} is null) = (${t.longitude} is null) and ${t.latitude} between -90 and 90 and ${t.longitude} between -180 and 180`,
    ),
  ],
);

export interface LocationAddress {
  line1: string;
  line2: string | null;
  city: string;
  region: string | null;
  postalCode: string | null;
  /** ISO 3166-1 alpha-2. */
  country: string;
}

export const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
export type Weekday = (typeof WEEKDAYS)[number];
/** `HH:MM` 24-hour local times, open < close; several intervals per day, in order. */
export type OpeningHours = Partial<Record<Weekday, Array<{ open: string; close: string }>>>;

/** One-time codes proving the shop's contact email / phone. Only the hash is stored. */
export const shopOtps = pgTable(
  "shop_otps",
  {
    id: uuid("id").primaryKey(),
    shopId: uuid("shop_id")
      .notNull()
      .references(() => shops.id),
    purpose: otpPurpose("purpose").notNull(),
    codeHash: text("code_hash").notNull(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    failedAttempts: integer("failed_attempts").notNull().default(0),
    consumedAt: timestamp("consumed_at", { withTimezone: true }),
    voidedAt: timestamp("voided_at", { withTimezone: true }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    // At most one live code per shop and purpose, enforced by Postgres, not by luck.
    uniqueIndex("shop_otps_one_active_key")
      .on(t.shopId, t.purpose)
      .where(sql`${t.consumedAt} is null and ${t.voidedAt} is null`),
  ],
);

export type Shop = typeof shops.$inferSelect;
export type ShopRole = (typeof shopRole.enumValues)[number];
