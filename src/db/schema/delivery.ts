import { sql } from "drizzle-orm";
import {
  bigint,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";

/**
 * Delivery windows (issue 12). The DeliverySlots Durable Object (one per shop) is the single
 * writer of a shop's schedule and bookings; these tables are its mirror, written by its outbox
 * (durable-objects/delivery-slots/mirror.ts). No foreign keys: the mirror may run before the
 * rows it names commit, as the stock mirror does.
 */

/** The schedule in force per shop: the newest revision the object mirrored. */
export const deliverySlotSchedules = pgTable("delivery_slot_schedules", {
  shopId: uuid("shop_id").primaryKey(),
  revision: integer("revision").notNull(),
  timeZone: text("time_zone").notNull(),
  capacity: integer("capacity").notNull(),
  cutoffMinutes: integer("cutoff_minutes").notNull(),
  horizonDays: integer("horizon_days").notNull(),
  days: jsonb("days").notNull(),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
});

/** Every decision of a shop's object, in its gapless sequence. */
export const deliverySlotEvents = pgTable(
  "delivery_slot_events",
  {
    id: uuid("id").primaryKey(),
    shopId: uuid("shop_id").notNull(),
    sequence: bigint("sequence", { mode: "number" }).notNull(),
    kind: text("kind").notNull(),
    bookingId: uuid("booking_id"),
    checkoutId: uuid("checkout_id"),
    slotStart: timestamp("slot_start", { withTimezone: true }),
    bookedAfter: integer("booked_after"),
    capacity: integer("capacity"),
    revision: integer("revision"),
    reason: text("reason"),
    actorType: text("actor_type").notNull(),
    actorId: uuid("actor_id"),
    requestId: text("request_id"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull(),
  },
  (t) => [
    uniqueIndex("delivery_slot_events_shop_sequence_key").on(t.shopId, t.sequence),
    index("delivery_slot_events_booking_idx")
      .on(t.bookingId)
      .where(sql`${t.bookingId} is not null`),
    index("delivery_slot_events_slot_idx").on(t.shopId, t.slotStart),
    check(
      "delivery_slot_events_kind_check",
      sql`${t.kind} in ('schedule', 'book', 'confirm', 'release', 'expire')`,
    ),
  ],
);
