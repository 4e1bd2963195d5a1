/**
 * Receipt photos (issue 13): a shop's team uploads one (R2), the `imports` queue reads it with
 * OCR (read.ts), the team reviews and corrects the lines here, then confirms (confirm.ts) or
 * rejects it. Owners and managers only (`sales.write`, `sales.read`); anyone outside the shop
 * gets 404, staff 403.
 */
import { and, desc, eq, inArray, isNull, lt } from "drizzle-orm";
import { z } from "zod";
import { withAudit } from "../../db/audit.ts";
import {
  RECEIPT_STATUSES,
  type Receipt,
  type ReceiptLine,
  type ReceiptStatus,
  receipts,
} from "../../db/schema/receipts.ts";
import { sha256Hex } from "../../lib/hash.ts";
import { uuidv7 } from "../../lib/ids.ts";
import { parseOr422 } from "../../lib/input.ts";
import { type Page, pageQuery, toPage } from "../../lib/pagination.ts";
import { text } from "../../lib/text.ts";
import type { ServiceContext } from "../context.ts";
import { afterId } from "../cursor.ts";
import { Conflict, NotFound, ServiceUnavailable, ValidationFailed } from "../errors.ts";
import { shopLocationsOf } from "../inventory/access.ts";
import { MAX_SALE_QUANTITY } from "../sales/transactions.ts";
import { requireShopPermission, type ShopPermission } from "../shops/access.ts";
import { liveProductSkus } from "./catalog.ts";

/** A phone photo of a receipt is well under this; the route refuses more (413). */
export const MAX_RECEIPT_BYTES = 5 * 1024 * 1024;
/** More lines than any till roll; keeps a review edit small. */
export const MAX_RECEIPT_LINES = 200;
export const RECEIPT_IMAGE_TYPES = ["image/png", "image/jpeg"] as const;
export type ReceiptImageType = (typeof RECEIPT_IMAGE_TYPES)[number];

export interface ReceiptView {
  id: string;
  shopId: string;
  status: ReceiptStatus;
  contentType: string;
  sizeBytes: number;
  currency: string;
  lines: ReceiptLine[];
  /** The total printed on the receipt, when one was read. */
  totalMinor: number | null;
  /** The lines' own sum (unit price × quantity; a line without a price counts 0). */
  linesTotalMinor: number;
  soldAt: string | null;
  locationId: string | null;
  ocrText: string | null;
  error: string | null;
  attempts: number;
  uploadedBy: string;
  decidedBy: string | null;
  decidedAt: string | null;
  createdAt: string;
  updatedAt: string;
}

export function receiptView(r: Receipt): ReceiptView {
  return {
    id: r.id,
    shopId: r.shopId,
    status: r.status,
    contentType: r.contentType,
    sizeBytes: r.sizeBytes,
    currency: r.currency,
    lines: r.lines,
    totalMinor: r.totalMinor,
    linesTotalMinor: r.lines.reduce((sum, l) => sum + (l.unitPriceMinor ?? 0) * l.quantity, 0),
    soldAt: r.soldAt?.toISOString() ?? null,
    locationId: r.locationId,
    ocrText: r.ocrText,
    error: r.error,
    attempts: r.attempts,
    uploadedBy: r.uploadedBy,
    decidedBy: r.decidedBy,
    decidedAt: r.decidedAt?.toISOString() ?? null,
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
  };
}

/** What the audit log keeps of a receipt: its state, not the OCR's whole text. */
export function auditedReceipt(r: Receipt) {
  const { ocrText: _text, ...rest } = receiptView(r);
  return rest;
}

/** The receipt, for a member of its shop with `permission`; 404 for anyone else. */
export async function receiptFor(
  ctx: ServiceContext,
  userId: string,
  receiptId: string,
  permission: ShopPermission,
): Promise<Receipt> {
  const [row] = await ctx.db.select().from(receipts).where(eq(receipts.id, receiptId));
  if (!row) throw new NotFound("Receipt", receiptId);
  try {
    await requireShopPermission(ctx.db, row.shopId, userId, permission);
  } catch (err) {
    // The shop's own 404 would name the shop: a stranger learns nothing of either.
    if (err instanceof NotFound) throw new NotFound("Receipt", receiptId);
    throw err;
  }
  return row;
}

function isImage(bytes: Uint8Array, type: ReceiptImageType): boolean {
  const png = [137, 80, 78, 71, 13, 10, 26, 10];
  if (type === "image/png") return png.every((b, i) => bytes[i] === b);
  return bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}

export interface UploadResult {
  receipt: ReceiptView;
  /** False when this image was already a live receipt of the shop: that one is returned. */
  created: boolean;
}

/**
 * Stores a receipt photo in R2 and queues it for OCR (owner, manager). The same image again for
 * the same shop returns the receipt it already is (queued again if it never left the queue),
 * unless that one was rejected: a photo sent twice is never read, or sold, twice. 503 when no
 * OCR service is configured; 422 when the bytes are not the image their type says.
 */
export async function uploadReceipt(
  ctx: ServiceContext,
  userId: string,
  shopId: string,
  contentType: ReceiptImageType,
  readBody: () => Promise<ArrayBuffer>,
): Promise<UploadResult> {
  const { shop } = await requireShopPermission(ctx.db, shopId, userId, "sales.write");
  if (!ctx.config.OCR_PROVIDER_URL) {
    throw new ServiceUnavailable("Receipt reading is not available: no OCR service is configured.");
  }
  const bytes = await readBody();
  if (bytes.byteLength === 0 || !isImage(new Uint8Array(bytes), contentType)) {
    throw new ValidationFailed([
      { field: "body", in: "body", message: `is not a ${contentType} image` },
    ]);
  }
  const fileHash = await sha256Hex(bytes);
  const fileKey = `receipts/${shop.id}/${fileHash}`;
  await ctx.files.put(fileKey, bytes, { httpMetadata: { contentType } });
  const id = uuidv7();
  const created = await withAudit(ctx.db, ctx.actor, async (tx, audit) => {
    const [row] = await tx
      .insert(receipts)
      .values({
        id,
        shopId: shop.id,
        fileKey,
        fileHash,
        contentType,
        sizeBytes: bytes.byteLength,
        currency: shop.currency,
        uploadedBy: userId,
      })
      .onConflictDoNothing()
      .returning();
    if (!row) return null;
    await audit.record({
      action: "receipt.uploaded",
      entityType: "receipt",
      entityId: row.id,
      newValue: auditedReceipt(row),
    });
    return row;
  });
  if (created) {
    await ctx.imports.send({ kind: "receipt", receiptId: created.id });
    return { receipt: receiptView(created), created: true };
  }
  const [existing] = await ctx.db
    .select()
    .from(receipts)
    .where(
      and(
        eq(receipts.shopId, shop.id),
        eq(receipts.fileHash, fileHash),
        inArray(
          receipts.status,
          RECEIPT_STATUSES.filter((s) => s !== "rejected"),
        ),
      ),
    );
  if (!existing) throw new Conflict("The receipt changed while it was uploaded; send it again.");
  // The first upload may have lost its message (a failed send): queueing again is harmless.
  if (existing.status === "queued")
    await ctx.imports.send({ kind: "receipt", receiptId: existing.id });
  return { receipt: receiptView(existing), created: false };
}

export const receiptListQuery = pageQuery.extend({
  shopId: z.uuid(),
  status: z.enum(RECEIPT_STATUSES).optional(),
});

/** The shop's receipts, newest first, by status when asked (owner, manager). */
export async function listReceipts(
  ctx: ServiceContext,
  userId: string,
  raw: z.input<typeof receiptListQuery>,
): Promise<Page<ReceiptView>> {
  const q = parseOr422(receiptListQuery, raw, "query");
  const after = afterId(q.cursor);
  await requireShopPermission(ctx.db, q.shopId, userId, "sales.read");
  const rows = await ctx.db
    .select()
    .from(receipts)
    .where(
      and(
        eq(receipts.shopId, q.shopId),
        q.status ? eq(receipts.status, q.status) : undefined,
        after ? lt(receipts.id, after) : undefined,
      ),
    )
    .orderBy(desc(receipts.id))
    .limit(q.limit + 1);
  const page = toPage(rows, q.limit, (r) => ({ id: r.id }));
  return { items: page.items.map(receiptView), nextCursor: page.nextCursor };
}

/** One receipt with its lines (owner, manager). */
export async function getReceipt(
  ctx: ServiceContext,
  userId: string,
  receiptId: string,
): Promise<ReceiptView> {
  return receiptView(await receiptFor(ctx, userId, receiptId, "sales.read"));
}

/** The image as uploaded (owner, manager), for the reviewer to compare with the lines. */
export async function receiptImage(
  ctx: ServiceContext,
  userId: string,
  receiptId: string,
): Promise<{ body: ReadableStream; contentType: string }> {
  const receipt = await receiptFor(ctx, userId, receiptId, "sales.read");
  const file = await ctx.files.get(receipt.fileKey);
  if (!file) throw new NotFound("Receipt image", receiptId);
  return { body: file.body, contentType: receipt.contentType };
}

export const receiptLineInput = z
  .object({
    description: text().trim().min(1).max(200),
    quantity: z.int().min(1).max(MAX_SALE_QUANTITY),
    /** Minor units; null or left out: the product's price when confirmed. */
    unitPriceMinor: z.int().min(0).max(100_000_000).nullable().optional(),
    /** The shop's product this line sells; null or left out: not matched yet. */
    productId: z.uuid().nullable().optional(),
  })
  .strict();

export const receiptEditInput = z
  .object({
    /** Replaces the lines not yet recorded as sales (those stay, first). */
    lines: z.array(receiptLineInput).max(MAX_RECEIPT_LINES).optional(),
    /** The location the units leave; null: the shop's only one. */
    locationId: z.uuid().nullable().optional(),
    /** When the sale happened; null: when the receipt was uploaded. Never in the future. */
    soldAt: z.iso.datetime({ offset: true }).nullable().optional(),
  })
  .strict()
  .refine((v) => !v.soldAt || Date.parse(v.soldAt) <= Date.now(), {
    path: ["soldAt"],
    message: "must not be in the future",
  });

/**
 * Corrects a receipt in review (owner, manager): its lines (each with a new id, so an edited
 * line is a new sale request), the location and the time of sale. Products and the location must
 * be the shop's (422 naming the field). 409 unless the receipt is in review.
 */
export async function editReceipt(
  ctx: ServiceContext,
  userId: string,
  receiptId: string,
  raw: z.input<typeof receiptEditInput>,
): Promise<ReceiptView> {
  const input = parseOr422(receiptEditInput, raw);
  const receipt = await receiptFor(ctx, userId, receiptId, "sales.write");
  if (receipt.status !== "review") {
    throw new Conflict(`Only a receipt in review can be edited; this one is ${receipt.status}.`);
  }
  const { productSkus, locations } = await shopRefs(ctx, receipt.shopId, input);
  const errors = [
    ...(input.lines ?? []).flatMap((l, i) =>
      l.productId && !productSkus.has(l.productId)
        ? [
            {
              field: `lines.${i}.productId`,
              in: "body" as const,
              message: "is not a live product of this shop",
            },
          ]
        : [],
    ),
    ...(input.locationId && !locations.has(input.locationId)
      ? [{ field: "locationId", in: "body" as const, message: "is not a location of this shop" }]
      : []),
  ];
  if (errors.length > 0) throw new ValidationFailed(errors);
  const kept = receipt.lines.filter((l) => l.saleId !== null);
  const lines: ReceiptLine[] | undefined = input.lines && [
    ...kept,
    ...input.lines.map((l) => ({
      id: uuidv7(),
      description: l.description,
      quantity: l.quantity,
      unitPriceMinor: l.unitPriceMinor ?? null,
      productId: l.productId ?? null,
      sku: l.productId ? (productSkus.get(l.productId) ?? null) : null,
      confidence: null,
      saleId: null,
    })),
  ];
  return withAudit(ctx.db, ctx.actor, async (tx, audit) => {
    const [updated] = await tx
      .update(receipts)
      .set({
        ...(lines ? { lines } : {}),
        ...(input.locationId !== undefined ? { locationId: input.locationId } : {}),
        ...(input.soldAt !== undefined
          ? { soldAt: input.soldAt === null ? null : new Date(input.soldAt) }
          : {}),
        updatedAt: new Date(),
      })
      .where(and(eq(receipts.id, receipt.id), eq(receipts.status, "review")))
      .returning();
    if (!updated) throw new Conflict("The receipt left review while it was edited.");
    await audit.record({
      action: "receipt.edited",
      entityType: "receipt",
      entityId: receipt.id,
      oldValue: auditedReceipt(receipt),
      newValue: auditedReceipt(updated),
    });
    return receiptView(updated);
  });
}

/** The SKUs of the live products and the ids of the locations an edit names, in the shop. */
async function shopRefs(
  ctx: ServiceContext,
  shopId: string,
  input: z.output<typeof receiptEditInput>,
): Promise<{ productSkus: Map<string, string>; locations: Set<string> }> {
  const ids = [...new Set((input.lines ?? []).flatMap((l) => (l.productId ? [l.productId] : [])))];
  const [productSkus, locations] = await Promise.all([
    liveProductSkus(ctx, shopId, ids),
    input.locationId ? shopLocationsOf(ctx.db, shopId) : Promise.resolve([]),
  ]);
  return { productSkus, locations: new Set(locations.map((l) => l.id)) };
}

/**
 * Rejects a receipt (owner, manager): nothing is sold, and the same image may be uploaded again.
 * A receipt still queued or being read can be rejected too (its reading is then dropped). 409
 * once confirmed, or once any line was recorded as a sale; rejecting twice answers the same.
 */
export async function rejectReceipt(
  ctx: ServiceContext,
  userId: string,
  receiptId: string,
): Promise<ReceiptView> {
  const receipt = await receiptFor(ctx, userId, receiptId, "sales.write");
  if (receipt.status === "rejected") return receiptView(receipt);
  if (receipt.status === "confirmed" || receipt.lines.some((l) => l.saleId !== null)) {
    throw new Conflict(
      "This receipt's lines are already recorded as sales; it cannot be rejected.",
    );
  }
  // A confirmation under way may be recording sales right now.
  if (receipt.decidedBy !== null) {
    throw new Conflict("A confirmation of this receipt is under way; it cannot be rejected.");
  }
  return withAudit(ctx.db, ctx.actor, async (tx, audit) => {
    const now = new Date();
    const [updated] = await tx
      .update(receipts)
      .set({ status: "rejected", decidedBy: userId, decidedAt: now, updatedAt: now })
      .where(
        and(
          eq(receipts.id, receipt.id),
          eq(receipts.status, receipt.status),
          isNull(receipts.decidedBy),
        ),
      )
      .returning();
    if (!updated) throw new Conflict("The receipt changed while it was rejected; try again.");
    await audit.record({
      action: "receipt.rejected",
      entityType: "receipt",
      entityId: receipt.id,
      oldValue: auditedReceipt(receipt),
      newValue: auditedReceipt(updated),
    });
    return receiptView(updated);
  });
}
