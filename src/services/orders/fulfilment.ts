import { and, asc, eq } from "drizzle-orm";
import { z } from "zod";
import { withAudit } from "../../db/audit.ts";
import { orderItems, orders } from "../../db/schema/orders.ts";
import { text } from "../../lib/text.ts";
import type { ServiceContext } from "../context.ts";
import { Conflict, NotFound, ValidationFailed } from "../errors.ts";
import { notifyAfterCommit } from "../notifications/notify.ts";
import { userNotice } from "../payments/notices.ts";
import { requireShopOrder } from "./queries.ts";
import { driveRefunds, lockOrder, openRefund } from "./refunds.ts";
import { IllegalTransition, transitionOrder } from "./state-machine.ts";
import { type OrderDetailView, orderDetail } from "./views.ts";

export type LineDecision = "picked" | "missing";

/** Statuses from which the first decided line starts picking. */
const PICKABLE = ["paid", "partially_refunded"] as const;

async function freshDetail(ctx: ServiceContext, orderId: string): Promise<OrderDetailView> {
  const [o] = await ctx.db.select().from(orders).where(eq(orders.id, orderId));
  if (!o) throw new NotFound("order", orderId);
  return orderDetail(ctx.db, o);
}

/**
 * A member of the shop (staff included) decides one line: `picked` or `missing`.
 * - The first decision moves the order `paid → picking`.
 * - A missing line is refunded through Stripe for exactly its amount (unit price × quantity),
 *   once: its refunds row is keyed `item:<line id>` and Stripe's idempotency key derives from
 *   that row. Its units were sold at payment (the hold was committed), so there is nothing to
 *   release; the shortfall is the seller's to correct with a stock adjustment.
 * - When every line is decided the order becomes `ready`; if every line is missing, the
 *   delivery fee is refunded too and the order ends `refunded` once Stripe confirms.
 * The same decision again answers the order unchanged; the other decision on a decided line,
 * or a line of an order not being picked, is a 409.
 */
export async function decideLine(
  ctx: ServiceContext,
  userId: string,
  orderId: string,
  itemId: string,
  decision: LineDecision,
): Promise<OrderDetailView> {
  await requireShopOrder(ctx.db, userId, orderId, "orders.pick");
  const refundsOpened = await withAudit(ctx.db, ctx.actor, async (tx, audit) => {
    const order = await lockOrder(tx, orderId);
    if (!order) throw new NotFound("order", orderId);
    const lines = await tx
      .select()
      .from(orderItems)
      .where(eq(orderItems.orderId, orderId))
      .orderBy(asc(orderItems.id))
      .for("update");
    const line = lines.find((l) => l.id === itemId);
    if (!line) throw new NotFound("order item", itemId);
    if (line.status === decision) return false;
    if (line.status !== "pending") {
      throw new Conflict(`Line ${itemId} is already ${line.status}.`, {
        itemStatus: line.status,
        currentStatus: order.status,
      });
    }
    let current = order;
    if ((PICKABLE as readonly string[]).includes(order.status)) {
      current = await transitionOrder(tx, audit, {
        orderId,
        to: "picking",
        reason: `picking started (line ${itemId} ${decision})`,
        expectFrom: PICKABLE,
      });
    } else if (order.status !== "picking") {
      throw new IllegalTransition(order.status, "picking", orderId);
    }
    await tx
      .update(orderItems)
      .set({ status: decision })
      .where(and(eq(orderItems.id, itemId), eq(orderItems.status, "pending")));
    await audit.record({
      action: `order_item.${decision}`,
      entityType: "order_item",
      entityId: itemId,
      oldValue: { status: "pending" },
      newValue: {
        status: decision,
        orderId,
        // The units were sold (committed) at payment; a missing one does not exist to restock.
        ...(decision === "missing" ? { stock: "not restocked: the units are missing" } : {}),
      },
    });
    let opened = false;
    if (decision === "missing") {
      const row = await openRefund(tx, ctx.actor, current, {
        reasonKey: `item:${itemId}`,
        reason: `missing item: ${line.title} × ${line.quantity}`,
        // What the buyer paid for the line: its tax too when it was added on top.
        amountMinor:
          line.unitPriceMinor * line.quantity + (current.pricesIncludeTax ? 0 : line.taxMinor),
        capToRefundable: true,
      });
      opened = row !== null;
    }
    const after = lines.map((l) => (l.id === itemId ? { ...l, status: decision } : l));
    if (after.some((l) => l.status === "pending")) return opened;
    const missing = after.filter((l) => l.status === "missing").length;
    if (missing === after.length) {
      // Nothing to send: the delivery fee goes back too, and the refunds end the order.
      if (current.deliveryFeeMinor > 0) {
        const row = await openRefund(tx, ctx.actor, current, {
          reasonKey: "delivery",
          reason: "every item was missing: delivery fee",
          amountMinor:
            current.deliveryFeeMinor + (current.pricesIncludeTax ? 0 : current.deliveryTaxMinor),
          capToRefundable: true,
        });
        opened = opened || row !== null;
      }
      return opened;
    }
    await transitionOrder(tx, audit, {
      orderId,
      to: "ready",
      reason: `every line decided: ${after.length - missing} picked, ${missing} missing`,
      expectFrom: ["picking"],
    });
    return opened;
  });
  // Always: a refund a transient Stripe error left unsent goes out on the next decision call.
  if (refundsOpened || decision === "missing") await driveRefunds(ctx, orderId, ctx.actor);
  return freshDetail(ctx, orderId);
}

export const shipInput = z.object({
  carrier: text().trim().min(1).max(100),
  trackingNumber: text().trim().min(1).max(100),
});

/** Owner or manager: `ready → shipped` with carrier and tracking number; the buyer is told. */
export async function shipOrder(
  ctx: ServiceContext,
  userId: string,
  orderId: string,
  raw: unknown,
): Promise<OrderDetailView> {
  const parsed = shipInput.safeParse(raw);
  if (!parsed.success) {
    throw new ValidationFailed(
      parsed.error.issues.map((i) => ({ field: i.path.join("."), in: "body", message: i.message })),
    );
  }
  await requireShopOrder(ctx.db, userId, orderId, "orders.ship");
  const shipped = await withAudit(ctx.db, ctx.actor, async (tx, audit) => {
    await lockOrder(tx, orderId);
    return transitionOrder(tx, audit, {
      orderId,
      to: "shipped",
      reason: `shipped with ${parsed.data.carrier} (${parsed.data.trackingNumber})`,
      expectFrom: ["ready"],
      patch: { carrier: parsed.data.carrier, trackingNumber: parsed.data.trackingNumber },
    });
  });
  await notifyAfterCommit(
    ctx.queue,
    ctx.logger,
    await userNotice(ctx.db, {
      userId: shipped.buyerId,
      kind: "order.shipped",
      title: `Order ${shipped.id.slice(-8)} shipped`,
      body: `Your order is on its way with ${parsed.data.carrier}, tracking number ${parsed.data.trackingNumber}.`,
      dedupeKey: `order-shipped:${shipped.id}`,
      data: {
        orderId: shipped.id,
        carrier: parsed.data.carrier,
        trackingNumber: parsed.data.trackingNumber,
      },
    }),
  );
  return freshDetail(ctx, orderId);
}
