import { eq } from "drizzle-orm";
import { z } from "zod";
import { stockOf } from "../../../durable-objects/product-stock.ts";
import type { Actor } from "../../db/audit.ts";
import { withAudit } from "../../db/audit.ts";
import { checkouts, type Order, orderItems, orders } from "../../db/schema/orders.ts";
import { errorMessage } from "../../lib/errors.ts";
import { text } from "../../lib/text.ts";
import type { ServiceContext } from "../context.ts";
import { releaseOrderSlot } from "../delivery/booking.ts";
import { Conflict, NotFound, ValidationFailed } from "../errors.ts";
import { askForFeedback } from "../notifications/feedback-request.ts";
import { notifyAfterCommit } from "../notifications/notify.ts";
import { AWAITING_PAYMENT, isAwaitingPayment } from "../payments/checkouts.ts";
import { userNotice } from "../payments/notices.ts";
import { requireBuyerOrder } from "./queries.ts";
import { driveRefunds, lockOrder, openRefund } from "./refunds.ts";
import { releaseReservations } from "./reservations.ts";
import { transitionOrder } from "./state-machine.ts";
import { type OrderDetailView, orderDetail } from "./views.ts";

export const cancelInput = z.object({ reason: text().trim().min(1).max(500).optional() });

async function freshDetail(ctx: ServiceContext, orderId: string): Promise<OrderDetailView> {
  const [o] = await ctx.db.select().from(orders).where(eq(orders.id, orderId));
  if (!o) throw new NotFound("order", orderId);
  return orderDetail(ctx.db, o);
}

function stockActor(actor: Actor) {
  return { type: actor.type, id: actor.id ?? null, requestId: actor.requestId ?? null };
}

/**
 * Gives a cancelled paid order's units back to stock. Their reservations were committed (sold)
 * at payment and a committed hold cannot be released, so each line is a compensating `adjust`
 * of +quantity with the reason "order cancelled", keyed `restock:<line id>` so a retry never
 * restocks twice. A failure is logged, not thrown: the cancellation and refund stand.
 */
async function restock(ctx: ServiceContext, order: Order): Promise<void> {
  const items = await ctx.db.select().from(orderItems).where(eq(orderItems.orderId, order.id));
  for (const item of items) {
    // A line without a hold never took units through checkout (an auction lot): nothing to put back.
    if (!item.reservationId) continue;
    try {
      const r = await stockOf(ctx.stock, item.productId).adjust({
        productId: item.productId,
        shopId: order.shopId,
        locationId: item.locationId,
        mode: "delta",
        quantity: item.quantity,
        reason: "order cancelled",
        key: `restock:${item.id}`,
        actor: stockActor(ctx.actor),
      });
      if (!r.ok) throw new Error(r.message);
    } catch (err) {
      ctx.logger.error("could not restock a cancelled order's line", {
        orderId: order.id,
        orderItemId: item.id,
        error: errorMessage(err),
      });
    }
  }
}

/**
 * The buyer cancels before picking starts.
 * - Unpaid (`pending_payment`, `payment_failed`): the order is `cancelled` and its holds are
 *   released. If no other order of the checkout is still payable, the PaymentIntent is cancelled
 *   on Stripe; if it cannot be (the buyer's payment is already in flight), the payment path
 *   treats the money as a late success and refunds this order. With other orders still payable
 *   the intent is left alone: paying it refunds this order's share the same way.
 * - Paid: `cancelled`, a full refund through Stripe (with the shop's transfer reversed), the
 *   units restocked; the order becomes `refunded` once the refund succeeds.
 * Any other state (picking started, shipped…) is a 409 naming it, and so is an unpaid auction
 * win (it expires at its deadline with a strike instead).
 */
export async function cancelOrder(
  ctx: ServiceContext,
  buyerId: string,
  orderId: string,
  raw: unknown,
): Promise<OrderDetailView> {
  const parsed = cancelInput.safeParse(raw ?? {});
  if (!parsed.success) {
    throw new ValidationFailed(
      parsed.error.issues.map((i) => ({ field: i.path.join("."), in: "body", message: i.message })),
    );
  }
  const reason = parsed.data.reason ?? "cancelled by the buyer";
  await requireBuyerOrder(ctx.db, buyerId, orderId);
  const outcome = await withAudit(ctx.db, ctx.actor, async (tx, audit) => {
    const locked = await lockOrder(tx, orderId);
    if (!locked) throw new NotFound("order", orderId);
    const wasPaid = locked.status === "paid";
    if (!wasPaid && locked.source === "auction") {
      // An unpaid win is not the buyer's to walk away from: it expires at its deadline and
      // counts as a strike (the auctions' unpaid-order job), which cancelling would dodge.
      throw new Conflict(
        `Order ${orderId} is an unpaid auction win; it cannot be cancelled, only paid or left to expire.`,
        { currentStatus: locked.status, source: "auction" },
      );
    }
    const next = await transitionOrder(tx, audit, {
      orderId,
      to: "cancelled",
      reason,
      expectFrom: [...AWAITING_PAYMENT, "paid"],
    });
    if (!wasPaid) {
      const siblings = locked.checkoutId
        ? await tx.select().from(orders).where(eq(orders.checkoutId, locked.checkoutId))
        : [];
      const othersPayable = siblings.some((o) => o.id !== orderId && isAwaitingPayment(o));
      return { order: next, paid: false, cancelIntent: !othersPayable };
    }
    await openRefund(tx, ctx.actor, locked, {
      reasonKey: "cancel",
      reason: `order cancelled by the buyer: ${reason}`,
      amountMinor: locked.totalMinor,
      capToRefundable: true,
    });
    return { order: next, paid: true, cancelIntent: false };
  });
  const order = outcome.order;
  if (outcome.paid) {
    await driveRefunds(ctx, orderId, ctx.actor);
    await restock(ctx, order);
  } else {
    const items = await ctx.db.select().from(orderItems).where(eq(orderItems.orderId, orderId));
    try {
      await releaseReservations(ctx.stock, items, ctx.actor);
    } catch (err) {
      // The holds expire at their TTL anyway; nothing is sold twice meanwhile.
      ctx.logger.warn("could not release a cancelled order's holds", {
        orderId,
        error: errorMessage(err),
      });
    }
    if (outcome.cancelIntent) await cancelIntent(ctx, order);
  }
  // Its delivery window, held or kept since payment, goes back for another order.
  await releaseOrderSlot(ctx.slots, ctx.logger, order, ctx.actor, `order cancelled: ${reason}`);
  await notifyAfterCommit(
    ctx.queue,
    ctx.logger,
    await userNotice(ctx.db, {
      userId: order.buyerId,
      kind: "order.cancelled",
      title: `Order ${order.id.slice(-8)} cancelled`,
      body: outcome.paid
        ? "Your order was cancelled and your payment is being refunded in full."
        : "Your order was cancelled; nothing was charged for it.",
      dedupeKey: `order-cancelled:${order.id}`,
      data: { orderId: order.id },
    }),
  );
  return freshDetail(ctx, orderId);
}

async function cancelIntent(ctx: ServiceContext, order: Order): Promise<void> {
  if (!order.checkoutId) return;
  const [c] = await ctx.db
    .select({ paymentIntentId: checkouts.paymentIntentId })
    .from(checkouts)
    .where(eq(checkouts.id, order.checkoutId));
  if (!c?.paymentIntentId) return;
  try {
    await ctx.stripe.paymentIntents.cancel(c.paymentIntentId, {
      cancellation_reason: "requested_by_customer",
    });
  } catch (err) {
    // Already succeeded or processing: the payment path refunds the cancelled order.
    ctx.logger.warn("could not cancel the PaymentIntent of a cancelled order", {
      orderId: order.id,
      paymentIntentId: c.paymentIntentId,
      error: errorMessage(err),
    });
  }
}

/**
 * The buyer confirms delivery: `shipped → delivered` (409 naming the state otherwise), and is
 * asked, once, to rate the order.
 */
export async function markReceived(
  ctx: ServiceContext,
  buyerId: string,
  orderId: string,
): Promise<OrderDetailView> {
  await requireBuyerOrder(ctx.db, buyerId, orderId);
  await withAudit(ctx.db, ctx.actor, async (tx, audit) => {
    await lockOrder(tx, orderId);
    await transitionOrder(tx, audit, {
      orderId,
      to: "delivered",
      reason: "received by the buyer",
      expectFrom: ["shipped"],
    });
  });
  await askForFeedback(ctx, orderId);
  return freshDetail(ctx, orderId);
}
