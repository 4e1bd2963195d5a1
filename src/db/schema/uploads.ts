import { sql } from "drizzle-orm";
import {
  check,
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
import { shops } from "./shops.ts";
import { users } from "./users.ts";

export const UPLOAD_KINDS = ["transactions", "inventory"] as const;
export type UploadKind = (typeof UPLOAD_KINDS)[number];

export const UPLOAD_STATUSES = [
  "queued",
  "processing",
  "succeeded",
  "failed",
  "partially_failed",
] as const;
export type UploadStatus = (typeof UPLOAD_STATUSES)[number];

/** One problem with one row of an upload: the row is the file's line (the header is row 1). */
export interface UploadRowError {
  row: number;
  /** The CSV column at fault; null when the row as a whole is (wrong width, a refused sale). */
  field: string | null;
  message: string;
}

/**
 * A CSV file a shop's team uploaded (issue 13), worked off the request by the `imports` queue.
 * The bytes sit in R2 (`file_key`); the same bytes for the same shop and kind are one upload
 * (`file_hash`, sha256), so sending a file twice never applies it twice. Its creation, each
 * retry and each completion are audited.
 */
export const uploads = pgTable(
  "uploads",
  {
    id: uuid("id").primaryKey(),
    shopId: uuid("shop_id")
      .notNull()
      .references(() => shops.id),
    kind: text("kind").$type<UploadKind>().notNull(),
    /** sha256 of the file's bytes, lower-case hex. */
    fileHash: text("file_hash").notNull(),
    /** Where the bytes are in the UPLOADS bucket. */
    fileKey: text("file_key").notNull(),
    sizeBytes: integer("size_bytes").notNull(),
    status: text("status").$type<UploadStatus>().notNull().default("queued"),
    /** Data rows in the file (the header not counted); 0 until the first run reads it. */
    totalRows: integer("total_rows").notNull().default(0),
    succeededRows: integer("succeeded_rows").notNull().default(0),
    failedRows: integer("failed_rows").notNull().default(0),
    /** The failed rows' problems at the last completion, by row. */
    rowErrors: jsonb("row_errors").$type<UploadRowError[]>().notNull().default([]),
    /** Runs asked for: 1, then one more for each retry of the failed rows. */
    attempts: integer("attempts").notNull().default(1),
    createdBy: uuid("created_by")
      .notNull()
      .references(() => users.id),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    startedAt: timestamp("started_at", { withTimezone: true }),
    finishedAt: timestamp("finished_at", { withTimezone: true }),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("uploads_shop_kind_hash_key").on(t.shopId, t.kind, t.fileHash),
    index("uploads_shop_idx").on(t.shopId, t.id),
    index("uploads_status_idx").on(t.status, t.id),
    check("uploads_kind_check", sql`${t.kind} in ('transactions', 'inventory')`),
    check(
      "uploads_status_check",
      sql`${t.status} in ('queued', 'processing', 'succeeded', 'failed', 'partially_failed')`,
    ),
  ],
);

/**
 * What became of each row of an upload: the ledger a redelivered message or a retry reads to
 * skip the rows already applied, so a fault or a retry never applies a row twice. Bookkeeping
 * (what a row did is audited by the change it made: the sale, the product, the movement).
 */
export const uploadRows = pgTable(
  "upload_rows",
  {
    uploadId: uuid("upload_id")
      .notNull()
      .references(() => uploads.id),
    row: integer("row").notNull(),
    status: text("status").$type<"succeeded" | "failed">().notNull(),
    /** The row's problems when it failed (`row` repeated, so they read alone). */
    errors: jsonb("errors").$type<UploadRowError[]>().notNull().default([]),
    /** What the row made: the sale's id, or the product's. */
    resultId: uuid("result_id"),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.uploadId, t.row] }),
    check("upload_rows_status_check", sql`${t.status} in ('succeeded', 'failed')`),
  ],
);

export type Upload = typeof uploads.$inferSelect;
