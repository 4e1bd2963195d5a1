import { sql } from "drizzle-orm";
import {
  bigint,
  boolean,
  check,
  index,
  integer,
  pgEnum,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";

/** What a ProductStock movement did; the object's types re-export this list. */
export const MOVEMENT_KINDS = [
  /** A seller's delta: on hand ± n. Undoable. */
  "adjust",
  /** A stock count: on hand = n, recorded as its delta. Undoable. */
  "set",
  /** A buyer's hold: reserved + n. */
  "reserve",
  /** A sold hold: on hand − n, reserved − n. */
  "commit",
  /** A dropped hold: reserved − n. */
  "release",
  /** A hold dropped by its expiry (alarm or lazily): reserved − n. */
  "expire",
  /** The compensation of an adjust, set or bulk movement: on hand ∓ its delta. */
  "undo",
  /** Two-phase bulk, phase one: units a negative delta will take are held, reserved + n. */
  "hold",
  /** Two-phase bulk, phase two: on hand + delta, the phase-one hold dropped. Undoable. */
  "bulk",
  /** Two-phase bulk aborted: the phase-one hold dropped. */
  "hold_release",
  /** Two-phase bulk never committed: the phase-one hold dropped at its expiry. */
  "hold_expire",
  /** The low-stock threshold changed (no quantity moves; audited and may raise an alert). */
  "threshold",
] as const;
export type MovementKind = (typeof MOVEMENT_KINDS)[number];

export const stockMovementKind = pgEnum("stock_movement_kind", MOVEMENT_KINDS);
export const stockAlert = pgEnum("stock_alert", ["raised", "cleared"]);

/**
 * The Postgres mirror of every ProductStock movement, written behind by the object's outbox.
 * `(product_id, sequence)` is the idempotency key: a flush retried after a lost acknowledgement
 * inserts nothing twice, and only rows it did insert get their audit row.
 *
 * No foreign keys on purpose: a row the object has already committed must never be refused
 * here, or the outbox would retry it forever; the API checks products and locations before it
 * calls the object.
 */
export const stockMovements = pgTable(
  "stock_movements",
  {
    /** UUIDv7 minted by the object; also the audit row's entity id. */
    id: uuid("id").primaryKey(),
    productId: uuid("product_id").notNull(),
    shopId: uuid("shop_id"),
    locationId: uuid("location_id").notNull(),
    /** Gapless and strictly increasing per product. */
    sequence: bigint("sequence", { mode: "number" }).notNull(),
    kind: stockMovementKind("kind").notNull(),
    deltaOnHand: integer("delta_on_hand").notNull(),
    deltaReserved: integer("delta_reserved").notNull(),
    onHandAfter: integer("on_hand_after").notNull(),
    reservedAfter: integer("reserved_after").notNull(),
    /** The location's threshold after the movement; null when none is set. */
    lowStockThreshold: integer("low_stock_threshold"),
    /** available ≤ threshold after the movement. */
    lowStock: boolean("low_stock").notNull(),
    /** Set on the movement that crossed the threshold: downward `raised`, back up `cleared`. */
    alert: stockAlert("alert"),
    reason: text("reason"),
    actorType: text("actor_type").notNull(),
    actorId: uuid("actor_id"),
    requestId: text("request_id"),
    reservationId: uuid("reservation_id"),
    txId: text("tx_id"),
    undoesSequence: bigint("undoes_sequence", { mode: "number" }),
    /** When the object applied it (the object's clock), not when it reached Postgres. */
    createdAt: timestamp("created_at", { withTimezone: true }).notNull(),
    mirroredAt: timestamp("mirrored_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("stock_movements_product_sequence_key").on(t.productId, t.sequence),
    index("stock_movements_shop_idx").on(t.shopId, t.id),
    // A product's latest level at each location (the dashboards' inventory health), without
    // walking back through the movements of its other locations (migration 0020).
    index("stock_movements_product_location_seq_idx").on(t.productId, t.locationId, t.sequence),
    index("stock_movements_alerts_idx").on(t.shopId, t.id).where(sql`${t.alert} is not null`),
    check(
      "stock_movements_levels_check",
      sql`${t.onHandAfter} >= 0 and ${t.reservedAfter} >= 0 and ${t.reservedAfter} <= ${t.onHandAfter}`,
    ),
  ],
);

export type StockMovementRow = typeof stockMovements.$inferSelect;

/**
 * Which product's object owns an undoable movement, written by the Worker as soon as the object
 * answers: an undo asks that object at once, where the mirror above may not have the movement
 * yet (its outbox flushes later). The object decides; this row only says where to ask.
 */
export const stockMovementOwners = pgTable("stock_movement_owners", {
  movementId: uuid("movement_id").primaryKey(),
  productId: uuid("product_id").notNull(),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
});
