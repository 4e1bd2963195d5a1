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
import { shopLocations, shops } from "./shops.ts";
import { users } from "./users.ts";

export const RECEIPT_STATUSES = [
  "queued",
  "reading",
  "review",
  "failed",
  "confirmed",
  "rejected",
] as const;
export type ReceiptStatus = (typeof RECEIPT_STATUSES)[number];

/** One line read from a receipt (or typed by the seller in review): a sale once confirmed. */
export interface ReceiptLine {
  /**
   * The line's own id, new whenever the line is written (read or edited): the key its sale is
   * recorded under, so a repeated confirmation replays the same sale while an edited line is a
   * new request.
   */
  id: string;
  description: string;
  quantity: number;
  /** Minor units of the shop's currency; null: the product's current price at confirmation. */
  unitPriceMinor: number | null;
  /** The shop's product the line sells; null until matched (by the parser or the seller). */
  productId: string | null;
  sku: string | null;
  /** Tesseract's confidence in the printed line (0–100); null for a line the seller typed. */
  confidence: number | null;
  /** The sale recorded for this line on confirmation; a line with one is no longer editable. */
  saleId: string | null;
}

/**
 * A photo of a paper receipt a shop's team uploaded (issue 13): the bytes sit in R2
 * (`file_key`), the `imports` queue reads it with OCR (queued → reading → review | failed), the
 * team corrects the lines in review, then confirms (each line becomes an offline sale that takes
 * stock) or rejects it. The same image twice for one shop is one receipt unless rejected
 * (`file_hash`), so a photo sent twice is never sold twice. Every change is audited.
 */
export const receipts = pgTable(
  "receipts",
  {
    id: uuid("id").primaryKey(),
    shopId: uuid("shop_id")
      .notNull()
      .references(() => shops.id),
    status: text("status").$type<ReceiptStatus>().notNull().default("queued"),
    /** Where the image is in the UPLOADS bucket. */
    fileKey: text("file_key").notNull(),
    /** sha256 of the image's bytes, lower-case hex. */
    fileHash: text("file_hash").notNull(),
    contentType: text("content_type").notNull(),
    sizeBytes: integer("size_bytes").notNull(),
    /** The shop's currency when uploaded: prices on the receipt are read in it. */
    currency: text("currency").notNull(),
    lines: jsonb("lines").$type<ReceiptLine[]>().notNull().default([]),
    /** The total printed on the receipt, when one was read. */
    totalMinor: bigint("total_minor", { mode: "number" }),
    /** When the sale happened: printed on the receipt, or set in review; upload time otherwise. */
    soldAt: timestamp("sold_at", { withTimezone: true }),
    /** The location the units leave; may stay null when the shop has one location. */
    locationId: uuid("location_id").references(() => shopLocations.id),
    /** The OCR's full text, kept for the reviewer. */
    ocrText: text("ocr_text"),
    /** Why reading failed (status `failed`). */
    error: text("error"),
    /** OCR runs started (a redelivered message counts again). */
    attempts: integer("attempts").notNull().default(0),
    uploadedBy: uuid("uploaded_by")
      .notNull()
      .references(() => users.id),
    /** Who confirmed or rejected it, and when. */
    decidedBy: uuid("decided_by").references(() => users.id),
    decidedAt: timestamp("decided_at", { withTimezone: true }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index("receipts_shop_created_idx").on(t.shopId, t.createdAt, t.id),
    uniqueIndex("receipts_shop_file_hash_live_idx")
      .on(t.shopId, t.fileHash)
      .where(sql`${t.status} <> 'rejected'`),
    check(
      "receipts_status_check",
      sql`${t.status} in ('queued', 'reading', 'review', 'failed', 'confirmed', 'rejected')`,
    ),
  ],
);

export type Receipt = typeof receipts.$inferSelect;
