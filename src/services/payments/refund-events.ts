import { and, asc, eq, inArray, isNotNull, isNull, sql } from "drizzle-orm";
import type Stripe from "stripe";
import { type Actor, recordAudit, withAudit } from "../../db/audit.ts";
import type { Tx } from "../../db/client.ts";
import { type Order, orders, refunds, transfers } from "../../db/schema/orders.ts";
import { uuidv7 } from "../../lib/ids.ts";
import { isPermanentStripeError } from "../../lib/stripe.ts";
import type { ServiceContext } from "../context.ts";
import { releaseRefundedSlots } from "../delivery/booking.ts";
import type { NotificationInput } from "../notifications/message.ts";
import { canTransition, transitionOrder } from "../orders/state-machine.ts";
import { refundTaxOf } from "../orders/tax.ts";
import { type CheckoutBundle, findCheckoutForIntent, lockCheckout } from "./checkouts.ts";
import { raiseIssue } from "./issues.ts";
import { adminIssueNotices, money, sendNotices, userNotice } from "./notices.ts";
import type { PaymentRun } from "./run.ts";

type RefundStatus = "requested" | "succeeded" | "failed";

/** Stripe's refund status in Souk's three: pending and requires_action are still requested. */
export function refundStatusOf(r: Pick<Stripe.Refund, "status">): RefundStatus {
  if (r.status === "succeeded") return "succeeded";
  if (r.status === "failed" || r.status === "canceled") return "failed";
  return "requested";
}

export interface RefundFact {
  orderId: string;
  stripeRefundId: string;
  amountMinor: number;
  status: RefundStatus;
  /** What the refund is for; unique per order. `stripe:<re_…>` for refunds made outside Souk. */
  reasonKey: string;
  reason: string;
}

async function countRefund(
  tx: Tx,
  actor: Actor,
  orderId: string,
  stripeRefundId: string,
  amount: number,
): Promise<void> {
  const [o] = await tx
    .update(orders)
    .set({ refundedMinor: sql`${orders.refundedMinor} + ${amount}`, updatedAt: new Date() })
    .where(eq(orders.id, orderId))
    .returning({ refundedMinor: orders.refundedMinor });
  await recordAudit(tx, actor, {
    action: "order.refund_recorded",
    entityType: "order",
    entityId: orderId,
    oldValue: { refundedMinor: (o?.refundedMinor ?? amount) - amount },
    newValue: { refundedMinor: o?.refundedMinor ?? amount, stripeRefundId, amountMinor: amount },
  });
}

/**
 * Records a Stripe refund against an order, once per `stripe_refund_id`: its amount is added to
 * `orders.refunded_minor` only the first time it is seen succeeded, however many times
 * `charge.refunded` (or the late-success path) reports it. A row Souk wrote before it knew the
 * Stripe id (same order and reason key, no id yet) is completed rather than duplicated.
 * Returns whether this call counted the money.
 */
export async function recordRefund(tx: Tx, actor: Actor, fact: RefundFact): Promise<boolean> {
  const now = new Date();
  const [known] = await tx
    .select()
    .from(refunds)
    .where(eq(refunds.stripeRefundId, fact.stripeRefundId))
    .for("update");
  if (known) {
    if (known.status === "succeeded" || known.status === fact.status) return false;
    await tx
      .update(refunds)
      .set({ status: fact.status, ...(fact.status === "succeeded" ? { confirmedAt: now } : {}) })
      .where(eq(refunds.id, known.id));
    if (fact.status !== "succeeded") return false;
    await countRefund(tx, actor, known.orderId, fact.stripeRefundId, known.amountMinor);
    return true;
  }
  const [asked] = await tx
    .select()
    .from(refunds)
    .where(
      and(
        eq(refunds.orderId, fact.orderId),
        eq(refunds.reasonKey, fact.reasonKey),
        isNull(refunds.stripeRefundId),
      ),
    )
    .for("update");
  if (asked) {
    await tx
      .update(refunds)
      .set({
        stripeRefundId: fact.stripeRefundId,
        amountMinor: fact.amountMinor,
        status: fact.status,
        ...(fact.status === "succeeded" ? { confirmedAt: now } : {}),
      })
      .where(eq(refunds.id, asked.id));
  } else {
    // A refund Souk did not open (the Stripe dashboard, a late payment): its tax share is worked
    // out here as for one Souk opens (src/services/orders/tax.ts).
    const [order] = await tx.select().from(orders).where(eq(orders.id, fact.orderId));
    const tax = order
      ? await refundTaxOf(tx, order, fact.reasonKey, fact.amountMinor)
      : { taxMinor: 0, taxLines: [] };
    const inserted = await tx
      .insert(refunds)
      .values({
        id: uuidv7(),
        orderId: fact.orderId,
        stripeRefundId: fact.stripeRefundId,
        amountMinor: fact.amountMinor,
        ...tax,
        reasonKey: fact.reasonKey,
        reason: fact.reason,
        status: fact.status,
        confirmedAt: fact.status === "succeeded" ? now : null,
      })
      .onConflictDoNothing()
      .returning({ id: refunds.id });
    if (inserted.length === 0) {
      throw new Error(
        `refund ${fact.stripeRefundId}: order ${fact.orderId} already has a refund for ${fact.reasonKey}`,
      );
    }
  }
  if (fact.status !== "succeeded") return false;
  await countRefund(tx, actor, fact.orderId, fact.stripeRefundId, fact.amountMinor);
  return true;
}

/**
 * Moves an order to `refunded` once its refunds cover the total, or to `partially_refunded`
 * when they cover part of it, where the state machine allows (an expired order can only become
 * refunded; a paid one either).
 */
export async function applyRefundStatus(
  tx: Tx,
  actor: Actor,
  orderId: string,
  reason: string,
): Promise<Order | null> {
  return withAudit(tx, actor, async (tx, audit) => {
    const [o] = await tx.select().from(orders).where(eq(orders.id, orderId)).for("update");
    if (!o || o.refundedMinor <= 0) return null;
    if (o.refundedMinor >= o.totalMinor) {
      if (!canTransition(o.status, "refunded")) return null;
      return transitionOrder(tx, audit, { orderId, to: "refunded", reason });
    }
    if (o.status === "partially_refunded" || !canTransition(o.status, "partially_refunded")) {
      return null;
    }
    return transitionOrder(tx, audit, { orderId, to: "partially_refunded", reason });
  });
}

/**
 * Gives a late payment back (it arrived after its orders had ended unpaid: their stock may be
 * someone else's now). One Stripe refund per order, idempotency key `late-refund:<pi>` for a
 * single-order checkout (the whole payment) or `late-refund:<pi>:<order>` per order of a larger
 * one; recorded at once (Stripe says succeeded) and confirmed again by `charge.refunded`; the
 * order becomes `refunded`. A refund Stripe refuses (a disputed charge) is left to an admin.
 */
export async function refundLateOrders(
  ctx: ServiceContext,
  input: {
    bundle: CheckoutBundle;
    paymentIntentId: string;
    late: readonly Order[];
    run: PaymentRun;
  },
): Promise<number> {
  const { bundle, run } = input;
  let refunded = 0;
  for (const order of input.late) {
    const key =
      bundle.orders.length === 1
        ? `late-refund:${input.paymentIntentId}`
        : `late-refund:${input.paymentIntentId}:${order.id}`;
    let refund: Stripe.Refund;
    try {
      refund = await ctx.stripe.refunds.create(
        {
          payment_intent: input.paymentIntentId,
          amount: order.totalMinor,
          metadata: {
            order_id: order.id,
            checkout_id: bundle.checkout.id,
            souk_reason: "late_success",
          },
        },
        { idempotencyKey: key },
      );
    } catch (err) {
      if (!isPermanentStripeError(err)) throw err;
      const issue = await withAudit(ctx.db, run.actor, async (tx) => {
        await lockCheckout(tx, bundle.checkout.id);
        return raiseIssue(tx, run.actor, {
          kind: "late_refund_failed",
          checkoutId: bundle.checkout.id,
          orderId: order.id,
          paymentIntentId: input.paymentIntentId,
          stripeEventId: run.eventId,
          detail: { amountMinor: order.totalMinor, stripeError: err.message, code: err.code },
          flag: { orderIds: [order.id], reason: "a late payment could not be refunded" },
        });
      });
      ctx.logger.error("late payment could not be refunded", {
        orderId: order.id,
        paymentIntentId: input.paymentIntentId,
        error: err.message,
      });
      if (issue.created) {
        await sendNotices(
          ctx,
          await adminIssueNotices(ctx.db, {
            id: issue.id,
            kind: "late_refund_failed",
            summary: `Order ${order.id} was paid after it ended, and Stripe refused the refund (${err.message}).`,
            data: { orderId: order.id, paymentIntentId: input.paymentIntentId },
          }),
        );
      }
      continue;
    }
    await withAudit(ctx.db, run.actor, async (tx) => {
      await lockCheckout(tx, bundle.checkout.id);
      await recordRefund(tx, run.actor, {
        orderId: order.id,
        stripeRefundId: refund.id,
        amountMinor: refund.amount,
        status: refundStatusOf(refund),
        reasonKey: "late_success",
        reason: "The payment arrived after the order had ended unpaid; refunded in full.",
      });
      await applyRefundStatus(
        tx,
        run.actor,
        order.id,
        `late payment ${input.paymentIntentId} refunded`,
      );
    });
    refunded += 1;
    await sendNotices(ctx, [
      await userNotice(ctx.db, {
        userId: order.buyerId,
        kind: "order.refunded",
        title: `Payment refunded for order ${order.id.slice(-8)}`,
        body: `Your payment of ${money(order.totalMinor, order.currency)} arrived after the order had expired, so we refunded it in full. Nothing was charged in the end.`,
        dedupeKey: `late-refund:${order.id}`,
        data: { orderId: order.id, stripeRefundId: refund.id },
      }),
    ]);
  }
  return refunded;
}

/** Which order of the checkout a refund belongs to, and whether that needed a guess. */
function allocate(
  refund: Stripe.Refund,
  known: Map<string, string>,
  bundleOrders: readonly Order[],
  remaining: Map<string, number>,
): { orderId: string; overflow: boolean } | null {
  const byRow = known.get(refund.id);
  if (byRow) return { orderId: byRow, overflow: false };
  const named = refund.metadata?.order_id;
  if (named && bundleOrders.some((o) => o.id === named)) return { orderId: named, overflow: false };
  const first = bundleOrders[0];
  if (!first) return null;
  if (bundleOrders.length === 1) return { orderId: first.id, overflow: false };
  // Made outside Souk (the dashboard) on a multi-shop payment: the first order it fits in whole.
  const fits = bundleOrders.find((o) => (remaining.get(o.id) ?? 0) >= refund.amount);
  if (fits) return { orderId: fits.id, overflow: false };
  const largest = [...bundleOrders].sort(
    (a, b) => (remaining.get(b.id) ?? 0) - (remaining.get(a.id) ?? 0),
  )[0];
  return largest ? { orderId: largest.id, overflow: true } : null;
}

/**
 * `charge.refunded`: the refunds Stripe has for the charge (listed from Stripe, not taken from
 * the event) are recorded once each, the orders' refunded amounts and statuses follow, and the
 * shop's share of each refund is taken back from its transfer. Refunds made outside Souk (the
 * dashboard) are recorded too.
 */
export async function applyChargeRefunded(
  ctx: ServiceContext,
  chargeId: string,
  run: PaymentRun,
): Promise<string> {
  const charge = await ctx.stripe.charges.retrieve(chargeId);
  const piId =
    typeof charge.payment_intent === "string" ? charge.payment_intent : charge.payment_intent?.id;
  if (!piId) return "ignored:charge_without_payment_intent";
  const bundle = await findCheckoutForIntent(ctx.db, { id: piId, metadata: charge.metadata });
  if (!bundle) return "ignored:not_a_souk_payment";
  const listed = await ctx.stripe.refunds.list({ charge: chargeId, limit: 100 });
  const stripeRefunds = [...listed.data].sort(
    (a, b) => a.created - b.created || (a.id < b.id ? -1 : 1),
  );
  const counted: Array<{ refund: Stripe.Refund; order: Order }> = [];
  const moved: Array<Order | null> = [];
  await withAudit(ctx.db, run.actor, async (tx) => {
    const locked = await lockCheckout(tx, bundle.checkout.id);
    if (!locked) return;
    const knownRows = stripeRefunds.length
      ? await tx
          .select({ orderId: refunds.orderId, stripeRefundId: refunds.stripeRefundId })
          .from(refunds)
          .where(
            inArray(
              refunds.stripeRefundId,
              stripeRefunds.map((r) => r.id),
            ),
          )
      : [];
    const known = new Map(
      knownRows.flatMap((r) => (r.stripeRefundId ? [[r.stripeRefundId, r.orderId] as const] : [])),
    );
    const remaining = new Map(locked.orders.map((o) => [o.id, o.totalMinor - o.refundedMinor]));
    const touched = new Set<string>();
    for (const r of stripeRefunds) {
      const target = allocate(r, known, locked.orders, remaining);
      if (!target) continue;
      const status = refundStatusOf(r);
      const didCount = await recordRefund(tx, run.actor, {
        orderId: target.orderId,
        stripeRefundId: r.id,
        amountMinor: r.amount,
        status,
        reasonKey: r.metadata?.souk_reason_key ?? `stripe:${r.id}`,
        reason: r.metadata?.souk_reason ?? r.reason ?? "refunded on Stripe",
      });
      if (!didCount) continue;
      remaining.set(target.orderId, (remaining.get(target.orderId) ?? 0) - r.amount);
      touched.add(target.orderId);
      const order = locked.orders.find((o) => o.id === target.orderId);
      if (order) counted.push({ refund: r, order });
      if (target.overflow) {
        await raiseIssue(tx, run.actor, {
          kind: "refund_unallocated",
          checkoutId: bundle.checkout.id,
          orderId: target.orderId,
          paymentIntentId: piId,
          stripeEventId: run.eventId,
          detail: {
            stripeRefundId: r.id,
            amountMinor: r.amount,
            note: "larger than any one order's unrefunded amount",
          },
        });
      }
    }
    for (const orderId of touched) {
      moved.push(
        await applyRefundStatus(tx, run.actor, orderId, `refund recorded from charge ${chargeId}`),
      );
    }
  });
  await releaseRefundedSlots(ctx, run.actor, moved);
  await ensureReversals(ctx, { orderIds: bundle.orders.map((o) => o.id), run });
  const notices: NotificationInput[] = [];
  for (const { refund, order } of counted) {
    notices.push(
      await userNotice(ctx.db, {
        userId: order.buyerId,
        kind: "order.refund",
        title: `Refund for order ${order.id.slice(-8)}`,
        body: `${money(refund.amount, refund.currency)} was refunded to your card.`,
        dedupeKey: `refund:${refund.id}`,
        data: { orderId: order.id, stripeRefundId: refund.id },
      }),
    );
  }
  await sendNotices(ctx, notices);
  return counted.length > 0
    ? `refunds_recorded:${counted.length}`
    : "noop:refunds_already_recorded";
}

/**
 * Takes the shop's share of each succeeded refund back from the order's transfer (Connect's
 * separate charges and transfers leave that to the platform): the refunded fraction of the
 * transfer, once per refund (the reversal id is stored on the refund; Stripe's idempotency key
 * `reversal:<re_…>` covers a crash between Stripe and Postgres).
 */
export async function ensureReversals(
  ctx: ServiceContext,
  input: { orderIds: readonly string[]; run: PaymentRun },
): Promise<number> {
  if (input.orderIds.length === 0) return 0;
  const due = await ctx.db
    .select({ refund: refunds, transfer: transfers, order: orders })
    .from(refunds)
    .innerJoin(transfers, eq(transfers.orderId, refunds.orderId))
    .innerJoin(orders, eq(orders.id, refunds.orderId))
    .where(
      and(
        inArray(refunds.orderId, [...input.orderIds]),
        eq(refunds.status, "succeeded"),
        isNull(refunds.transferReversalId),
        isNotNull(refunds.stripeRefundId),
        isNotNull(transfers.stripeTransferId),
      ),
    )
    .orderBy(asc(refunds.createdAt), asc(refunds.id));
  const reversedSoFar = new Map<string, number>();
  let done = 0;
  for (const { refund, transfer, order } of due) {
    if (!transfer.stripeTransferId || !refund.stripeRefundId) continue;
    const already = reversedSoFar.get(transfer.id) ?? transfer.reversedMinor;
    const share = Math.min(
      transfer.amountMinor - already,
      Math.round((refund.amountMinor * transfer.amountMinor) / order.totalMinor),
    );
    if (share <= 0) continue;
    let reversal: Stripe.TransferReversal;
    try {
      reversal = await ctx.stripe.transfers.createReversal(
        transfer.stripeTransferId,
        { amount: share, metadata: { refund_id: refund.stripeRefundId, order_id: order.id } },
        { idempotencyKey: `reversal:${refund.stripeRefundId}` },
      );
    } catch (err) {
      if (!isPermanentStripeError(err)) throw err;
      ctx.logger.error("Stripe refused a transfer reversal", {
        orderId: order.id,
        stripeRefundId: refund.stripeRefundId,
        error: err.message,
      });
      continue;
    }
    const applied = await withAudit(ctx.db, input.run.actor, async (tx) => {
      const marked = await tx
        .update(refunds)
        .set({ transferReversalId: reversal.id })
        .where(and(eq(refunds.id, refund.id), isNull(refunds.transferReversalId)))
        .returning({ id: refunds.id });
      if (marked.length === 0) return false;
      const [t] = await tx
        .update(transfers)
        .set({ reversedMinor: sql`${transfers.reversedMinor} + ${reversal.amount}` })
        .where(eq(transfers.id, transfer.id))
        .returning({ reversedMinor: transfers.reversedMinor });
      await recordAudit(tx, input.run.actor, {
        action: "transfer.reversed",
        entityType: "order",
        entityId: order.id,
        oldValue: { reversedMinor: (t?.reversedMinor ?? reversal.amount) - reversal.amount },
        newValue: {
          reversedMinor: t?.reversedMinor,
          stripeReversalId: reversal.id,
          stripeRefundId: refund.stripeRefundId,
          amountMinor: reversal.amount,
        },
      });
      return true;
    });
    if (applied) {
      done += 1;
      reversedSoFar.set(transfer.id, already + reversal.amount);
    }
  }
  return done;
}
