import { and, eq, isNull, or } from "drizzle-orm";
import { withAudit } from "../../db/audit.ts";
import { type Receipt, type ReceiptLine, receipts } from "../../db/schema/receipts.ts";
import type { ServiceContext } from "../context.ts";
import { Conflict, InsufficientStock, ValidationFailed } from "../errors.ts";
import { recordSale } from "../sales/transactions.ts";
import { auditedReceipt, type ReceiptView, receiptFor, receiptView } from "./receipts.ts";

/**
 * Confirms a receipt in review (owner, manager): each line becomes an offline sale (source
 * `receipt`) through recordSale, so its units leave stock at the receipt's location through the
 * product's stock object, at the line's price (the product's when it has none) and the
 * receipt's time of sale. Every line must name a product (422 `lines.N.productId` otherwise).
 *
 * Idempotent: each line's sale is keyed by the receipt and the line's id under the user who
 * first confirmed it (the receipt remembers who), so a repeated confirmation, by anyone,
 * replays the sales already made and takes nothing twice; a confirmed receipt answers as it is.
 * When a line is refused (409 INSUFFICIENT_STOCK, say) the lines before it stay recorded and
 * locked, the receipt stays in review, and confirming again after fixing the rest records only
 * what is left.
 */
export async function confirmReceipt(
  ctx: ServiceContext,
  userId: string,
  receiptId: string,
): Promise<ReceiptView> {
  const receipt = await receiptFor(ctx, userId, receiptId, "sales.write");
  if (receipt.status === "confirmed") return receiptView(receipt);
  if (receipt.status !== "review") {
    throw new Conflict(`Only a receipt in review can be confirmed; this one is ${receipt.status}.`);
  }
  checkLines(receipt.lines);
  const claimed = await claim(ctx, receipt, userId);
  const seller = claimed.decidedBy ?? userId;
  const lines = [...claimed.lines];
  try {
    for (const [i, line] of lines.entries()) {
      if (line.saleId !== null || line.productId === null) continue;
      const { sale } = await recordSale(
        ctx,
        seller,
        {
          shopId: claimed.shopId,
          productId: line.productId,
          quantity: line.quantity,
          ...(line.unitPriceMinor === null ? {} : { unitPriceMinor: line.unitPriceMinor }),
          ...(claimed.locationId ? { locationId: claimed.locationId } : {}),
          soldAt: (claimed.soldAt ?? claimed.createdAt).toISOString(),
          note: `receipt ${claimed.id}`,
        },
        `receipt:${claimed.id}:${line.id}`,
        "receipt",
      );
      lines[i] = { ...line, saleId: sale.id };
    }
  } catch (err) {
    const noted = (e: unknown) =>
      ctx.logger.warn("could not note a refused confirmation", { receiptId, err: e });
    if (lines.some((l, i) => l.saleId !== claimed.lines[i]?.saleId)) {
      // What was recorded stays recorded: lock those lines so an edit cannot sell them again.
      await settle(ctx, claimed, lines, "review").catch(noted);
    } else if (
      (err instanceof InsufficientStock || err instanceof ValidationFailed) &&
      lines.every((l) => l.saleId === null)
    ) {
      // Refused before any stock moved (both are decided before the object takes units):
      // nothing is under way any more, so the receipt may be rejected again.
      await release(ctx, claimed).catch(noted);
    }
    throw err;
  }
  return receiptView(await settle(ctx, claimed, lines, "confirmed"));
}

function checkLines(lines: ReceiptLine[]): void {
  if (lines.length === 0) {
    throw new ValidationFailed([
      { field: "lines", in: "body", message: "the receipt has no lines to confirm" },
    ]);
  }
  const unmatched = lines.flatMap((l, i) =>
    l.productId === null
      ? [
          {
            field: `lines.${i}.productId`,
            in: "body" as const,
            message: "names no product: set one, or remove the line",
          },
        ]
      : [],
  );
  if (unmatched.length > 0) throw new ValidationFailed(unmatched);
}

/**
 * Remembers who confirms first (their user scopes the sales' keys), so two people confirming
 * at once record each line under one key, once. Audited as the start of the confirmation.
 */
async function claim(ctx: ServiceContext, receipt: Receipt, userId: string): Promise<Receipt> {
  if (receipt.decidedBy !== null) return receipt;
  return withAudit(ctx.db, ctx.actor, async (tx, audit) => {
    const [claimed] = await tx
      .update(receipts)
      .set({ decidedBy: userId, updatedAt: new Date() })
      .where(
        and(
          eq(receipts.id, receipt.id),
          eq(receipts.status, "review"),
          or(isNull(receipts.decidedBy), eq(receipts.decidedBy, userId)),
        ),
      )
      .returning();
    if (!claimed) {
      // Someone else claimed it first: confirm under their key.
      const [current] = await tx.select().from(receipts).where(eq(receipts.id, receipt.id));
      if (current?.status !== "review") {
        throw new Conflict("The receipt left review while it was confirmed.");
      }
      return current;
    }
    await audit.record({
      action: "receipt.confirming",
      entityType: "receipt",
      entityId: receipt.id,
      newValue: auditedReceipt(claimed),
    });
    return claimed;
  });
}

/** Forgets who started a confirmation that recorded nothing. */
async function release(ctx: ServiceContext, receipt: Receipt): Promise<void> {
  const claimer = receipt.decidedBy;
  if (claimer === null) return;
  await withAudit(ctx.db, ctx.actor, async (tx, audit) => {
    const [updated] = await tx
      .update(receipts)
      .set({ decidedBy: null, updatedAt: new Date() })
      .where(
        and(
          eq(receipts.id, receipt.id),
          eq(receipts.status, "review"),
          eq(receipts.decidedBy, claimer),
        ),
      )
      .returning();
    if (!updated) return;
    await audit.record({
      action: "receipt.confirm_refused",
      entityType: "receipt",
      entityId: receipt.id,
      oldValue: { decidedBy: receipt.decidedBy },
      newValue: { decidedBy: null },
    });
  });
}

async function settle(
  ctx: ServiceContext,
  receipt: Receipt,
  lines: ReceiptLine[],
  status: "review" | "confirmed",
): Promise<Receipt> {
  return withAudit(ctx.db, ctx.actor, async (tx, audit) => {
    const now = new Date();
    const [updated] = await tx
      .update(receipts)
      .set({
        lines,
        status,
        ...(status === "confirmed" ? { decidedAt: now } : {}),
        updatedAt: now,
      })
      .where(and(eq(receipts.id, receipt.id), eq(receipts.status, "review")))
      .returning();
    if (!updated) {
      // A twin confirmation finished first: its answer is ours.
      const [current] = await tx.select().from(receipts).where(eq(receipts.id, receipt.id));
      if (current?.status === "confirmed") return current;
      throw new Conflict("The receipt left review while it was confirmed.");
    }
    await audit.record({
      action: status === "confirmed" ? "receipt.confirmed" : "receipt.partly_confirmed",
      entityType: "receipt",
      entityId: receipt.id,
      oldValue: auditedReceipt(receipt),
      newValue: auditedReceipt(updated),
    });
    return updated;
  });
}
