import { and, eq, inArray, isNull, type SQL } from "drizzle-orm";
import { type Actor, recordAudit } from "../../db/audit.ts";
import type { Tx } from "../../db/client.ts";
import { orders, paymentIssues } from "../../db/schema/orders.ts";
import { uuidv7 } from "../../lib/ids.ts";

/** What an admin may have to look at; the money path never resolves these by itself. */
export type IssueKind =
  /** Stripe's PaymentIntent disagrees with the checkout (amount, currency, metadata). */
  | "amount_mismatch"
  /** A payment arrived for orders that had already ended unpaid: recorded and refunded. */
  | "late_success"
  /** The refund of a late success failed (e.g. the charge is disputed). */
  | "late_refund_failed"
  | "dispute"
  /** A paid order's shop cannot receive its transfer yet (no connected account / payouts off). */
  | "transfer_pending"
  /** Stripe refused a transfer. */
  | "transfer_failed"
  /** A refund made outside Souk that no single order of the checkout could absorb. */
  | "refund_unallocated"
  /** An intent carrying Souk metadata whose checkout does not exist. */
  | "unknown_checkout";

export interface IssueInput {
  kind: IssueKind;
  checkoutId: string | null;
  /** Set when the issue is about one order of the checkout (one issue per order). */
  orderId?: string | null;
  paymentIntentId: string | null;
  stripeEventId: string | null;
  detail: Record<string, unknown>;
  /** Orders to flag for an admin, with the reason shown on them. */
  flag?: { orderIds: readonly string[]; reason: string };
}

/**
 * Records a payment issue once: the same kind for the same PaymentIntent (and order, when given)
 * is one issue however many events or cron runs report it. Callers hold the checkout lock, so two
 * reporters cannot both miss the other's row. Flagging an order writes its audit row.
 */
export async function raiseIssue(
  tx: Tx,
  actor: Actor,
  input: IssueInput,
): Promise<{ id: string; created: boolean }> {
  const sameIssue: SQL[] = [eq(paymentIssues.kind, input.kind)];
  if (input.paymentIntentId)
    sameIssue.push(eq(paymentIssues.paymentIntentId, input.paymentIntentId));
  else if (input.stripeEventId)
    sameIssue.push(eq(paymentIssues.stripeEventId, input.stripeEventId));
  if (input.checkoutId) sameIssue.push(eq(paymentIssues.checkoutId, input.checkoutId));
  sameIssue.push(
    input.orderId ? eq(paymentIssues.orderId, input.orderId) : isNull(paymentIssues.orderId),
  );
  const [existing] = await tx
    .select({ id: paymentIssues.id })
    .from(paymentIssues)
    .where(and(...sameIssue))
    .limit(1);
  if (existing) return { id: existing.id, created: false };
  const id = uuidv7();
  const inserted = await tx
    .insert(paymentIssues)
    .values({
      id,
      kind: input.kind,
      checkoutId: input.checkoutId,
      orderId: input.orderId ?? null,
      paymentIntentId: input.paymentIntentId,
      stripeEventId: input.stripeEventId,
      detail: input.detail,
    })
    .onConflictDoNothing()
    .returning({ id: paymentIssues.id });
  if (inserted.length === 0) return { id, created: false };
  await recordAudit(tx, actor, {
    action: "payment_issue.raised",
    entityType: "payment_issue",
    entityId: id,
    newValue: {
      kind: input.kind,
      checkoutId: input.checkoutId,
      orderId: input.orderId ?? null,
      paymentIntentId: input.paymentIntentId,
    },
  });
  if (input.flag && input.flag.orderIds.length > 0) {
    const flagged = await tx
      .update(orders)
      .set({ flagged: true, flagReason: input.flag.reason, updatedAt: new Date() })
      .where(and(inArray(orders.id, [...input.flag.orderIds]), eq(orders.flagged, false)))
      .returning({ id: orders.id });
    for (const o of flagged) {
      await recordAudit(tx, actor, {
        action: "order.flagged",
        entityType: "order",
        entityId: o.id,
        oldValue: { flagged: false },
        newValue: { flagged: true, reason: input.flag.reason, issueId: id, kind: input.kind },
      });
    }
  }
  return { id, created: true };
}
