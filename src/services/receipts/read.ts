import { and, eq, inArray } from "drizzle-orm";
import { withAudit } from "../../db/audit.ts";
import { type Receipt, type ReceiptStatus, receipts } from "../../db/schema/receipts.ts";
import { minorUnits } from "../../lib/currencies.ts";
import { errorMessage } from "../../lib/errors.ts";
import { uuidv7 } from "../../lib/ids.ts";
import type { ServiceContext } from "../context.ts";
import { shopCatalog } from "./catalog.ts";
import { httpOcrReader, type OcrReader, UnreadableImage } from "./ocr-client.ts";
import { parseReceipt } from "./parse.ts";
import { auditedReceipt } from "./receipts.ts";

/** Tries before a receipt the OCR service keeps failing on is marked failed (the queue's own). */
export const MAX_READ_ATTEMPTS = 5;

/**
 * The `imports` queue's work for one receipt: queued → reading → review (lines parsed and
 * matched to the shop's products) or failed (the image is missing or unreadable, or the OCR
 * service kept failing). A redelivered message for a receipt past reading does nothing, so a
 * reviewed or confirmed receipt is never read over. When the OCR service is down, the error is
 * thrown for the queue to retry, until the last attempt marks the receipt failed.
 */
export async function readReceipt(
  ctx: ServiceContext,
  receiptId: string,
  reader: OcrReader | null = ctx.config.OCR_PROVIDER_URL
    ? httpOcrReader(ctx.config.OCR_PROVIDER_URL)
    : null,
): Promise<void> {
  const receipt = await startReading(ctx, receiptId);
  if (!receipt) return;
  if (!reader) {
    await finish(ctx, receipt, "failed", { error: "no OCR service is configured" });
    return;
  }
  const file = await ctx.files.get(receipt.fileKey);
  if (!file) {
    await finish(ctx, receipt, "failed", { error: "the image is missing from storage" });
    return;
  }
  let answer: Awaited<ReturnType<OcrReader["read"]>>;
  try {
    answer = await reader.read(await file.arrayBuffer(), receipt.contentType);
  } catch (err) {
    if (err instanceof UnreadableImage || receipt.attempts >= MAX_READ_ATTEMPTS) {
      await finish(ctx, receipt, "failed", { error: errorMessage(err) });
      return;
    }
    throw err;
  }
  const catalog = await shopCatalog(ctx, receipt.shopId);
  const parsed = parseReceipt(answer.lines, catalog, minorUnits(receipt.currency));
  const soldAt = parsed.soldAt && Date.parse(parsed.soldAt) <= Date.now() ? parsed.soldAt : null;
  await finish(ctx, receipt, "review", {
    ocrText: answer.text,
    lines: parsed.lines.map((l) => ({ id: uuidv7(), ...l, saleId: null })),
    totalMinor: parsed.totalMinor,
    soldAt: soldAt ? new Date(soldAt) : null,
  });
}

/** Claims the receipt for this run (counting the attempt); null when it is past reading. */
async function startReading(ctx: ServiceContext, receiptId: string): Promise<Receipt | null> {
  const [current] = await ctx.db.select().from(receipts).where(eq(receipts.id, receiptId));
  if (!current || (current.status !== "queued" && current.status !== "reading")) {
    ctx.logger.info("receipt not waiting to be read; message dropped", {
      receiptId,
      status: current?.status ?? null,
    });
    return null;
  }
  return withAudit(ctx.db, ctx.actor, async (tx, audit) => {
    const [claimed] = await tx
      .update(receipts)
      .set({ status: "reading", attempts: current.attempts + 1, updatedAt: new Date() })
      .where(
        and(
          eq(receipts.id, receiptId),
          inArray(receipts.status, ["queued", "reading"]),
          eq(receipts.attempts, current.attempts),
        ),
      )
      .returning();
    if (!claimed) return null;
    await audit.record({
      action: "receipt.reading",
      entityType: "receipt",
      entityId: receiptId,
      newValue: { status: "reading", attempts: claimed.attempts },
    });
    return claimed;
  });
}

/** Ends the reading; a receipt rejected meanwhile stays rejected. */
async function finish(
  ctx: ServiceContext,
  receipt: Receipt,
  status: Extract<ReceiptStatus, "review" | "failed">,
  changes: Partial<Pick<Receipt, "ocrText" | "lines" | "totalMinor" | "soldAt" | "error">>,
): Promise<void> {
  await withAudit(ctx.db, ctx.actor, async (tx, audit) => {
    const [updated] = await tx
      .update(receipts)
      .set({ ...changes, status, updatedAt: new Date() })
      .where(
        and(
          eq(receipts.id, receipt.id),
          eq(receipts.status, "reading"),
          eq(receipts.attempts, receipt.attempts),
        ),
      )
      .returning();
    if (!updated) return;
    await audit.record({
      action: status === "review" ? "receipt.read" : "receipt.read_failed",
      entityType: "receipt",
      entityId: receipt.id,
      newValue: auditedReceipt(updated),
    });
  });
}
