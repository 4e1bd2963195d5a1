import { sql } from "drizzle-orm";
import {
  bigint,
  check,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import { products } from "./catalog.ts";
import { shopLocations, shops } from "./shops.ts";
import { users } from "./users.ts";

export const stockRequestStatus = pgEnum("stock_request_status", [
  "pending",
  "approved",
  "rejected",
]);

/**
 * A staff member's proposed stock change, applied only when an owner or manager approves it.
 * Approval runs the adjustment through the product's ProductStock object with the request id
 * as its idempotency key, so a retried approval can never apply it twice, and links the
 * movement it produced.
 */
export const stockRequests = pgTable(
  "stock_requests",
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
    /** Signed change to on hand; never zero. */
    delta: integer("delta").notNull(),
    reason: text("reason").notNull(),
    status: stockRequestStatus("status").notNull().default("pending"),
    requestedBy: uuid("requested_by")
      .notNull()
      .references(() => users.id),
    reviewedBy: uuid("reviewed_by").references(() => users.id),
    reviewNote: text("review_note"),
    /** The ProductStock movement the approval produced (its id in `stock_movements`). */
    movementId: uuid("movement_id"),
    movementSequence: bigint("movement_sequence", { mode: "number" }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    reviewedAt: timestamp("reviewed_at", { withTimezone: true }),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index("stock_requests_shop_status_idx").on(t.shopId, t.status, t.id),
    index("stock_requests_product_idx").on(t.productId),
    check("stock_requests_delta_nonzero", sql`${t.delta} <> 0`),
    check(
      "stock_requests_approved_has_movement",
      sql`${t.status} <> 'approved' or ${t.movementId} is not null`,
    ),
    check(
      "stock_requests_reviewed_has_reviewer",
      sql`${t.status} = 'pending' or (${t.reviewedBy} is not null and ${t.reviewedAt} is not null)`,
    ),
  ],
);

/**
 * Low-stock alerts, derived in sequence order from the `alert` column of the stock mirror: a
 * `raised` movement opens one, the next `cleared` movement of the same location closes it.
 * At most one open alert per product and location, enforced by Postgres.
 */
export const stockAlerts = pgTable(
  "stock_alerts",
  {
    id: uuid("id").primaryKey(),
    shopId: uuid("shop_id").notNull(),
    productId: uuid("product_id").notNull(),
    locationId: uuid("location_id").notNull(),
    /** The threshold and available quantity right after the raising movement. */
    threshold: integer("threshold"),
    availableAtRaise: integer("available_at_raise").notNull(),
    raisedMovementId: uuid("raised_movement_id").notNull(),
    raisedSequence: bigint("raised_sequence", { mode: "number" }).notNull(),
    raisedAt: timestamp("raised_at", { withTimezone: true }).notNull(),
    clearedMovementId: uuid("cleared_movement_id"),
    clearedSequence: bigint("cleared_sequence", { mode: "number" }),
    clearedAt: timestamp("cleared_at", { withTimezone: true }),
    /** A manager saw it; it leaves the default list but stays open until stock recovers. */
    acknowledgedAt: timestamp("acknowledged_at", { withTimezone: true }),
    acknowledgedBy: uuid("acknowledged_by").references(() => users.id),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("stock_alerts_one_open_key")
      .on(t.productId, t.locationId)
      .where(sql`${t.clearedAt} is null`),
    uniqueIndex("stock_alerts_raised_movement_key").on(t.raisedMovementId),
    index("stock_alerts_shop_open_idx")
      .on(t.shopId, t.id)
      .where(sql`${t.clearedAt} is null and ${t.acknowledgedAt} is null`),
  ],
);

/**
 * How far each product's mirror rows have been turned into alerts. Syncing a product locks its
 * row, so two syncs never process the same crossing, and each crossing is applied in order.
 */
export const stockAlertCursors = pgTable("stock_alert_cursors", {
  productId: uuid("product_id").primaryKey(),
  lastSequence: bigint("last_sequence", { mode: "number" }).notNull().default(0),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
});

export const bulkOperationState = pgEnum("bulk_operation_state", [
  /** Phase one running: holds may exist; no commit has been sent. Re-drive aborts. */
  "preparing",
  /** The decision: every object prepared. Re-drive commits (before the holds expire). */
  "committing",
  "committed",
  "aborted",
  /** Committing found a hold already expired; the objects that did commit were compensated. */
  "failed",
]);

export interface BulkPlanEntry {
  productId: string;
  ops: Array<{ locationId: string; mode: "delta" | "set"; quantity: number }>;
}

/**
 * The two-phase coordinator's log for multi-product stock changes (bulk API, CSV import). The
 * state moves to `committing` before any object is asked to commit, so a coordinator that dies
 * mid-commit can be re-driven to the same decision; its id is the objects' `txId`.
 */
export const bulkOperations = pgTable(
  "bulk_operations",
  {
    id: uuid("id").primaryKey(),
    shopId: uuid("shop_id")
      .notNull()
      .references(() => shops.id),
    source: text("source").notNull(),
    state: bulkOperationState("state").notNull().default("preparing"),
    idempotencyKey: text("idempotency_key"),
    /** Digest of the request body, to tell a replay from a reused key. */
    requestHash: text("request_hash").notNull(),
    actorId: uuid("actor_id"),
    requestId: text("request_id"),
    reason: text("reason").notNull(),
    plan: jsonb("plan").$type<BulkPlanEntry[]>().notNull(),
    /** When the objects drop the holds of an uncommitted prepare. */
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    /** The response of a finished operation (replayed for its idempotency key), or why it failed. */
    outcome: jsonb("outcome"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("bulk_operations_idempotency_key")
      .on(t.shopId, t.actorId, t.idempotencyKey)
      .where(sql`${t.idempotencyKey} is not null`),
    index("bulk_operations_unfinished_idx")
      .on(t.updatedAt)
      .where(sql`${t.state} in ('preparing', 'committing')`),
  ],
);

export type StockRequest = typeof stockRequests.$inferSelect;
export type StockAlert = typeof stockAlerts.$inferSelect;
export type BulkOperation = typeof bulkOperations.$inferSelect;
