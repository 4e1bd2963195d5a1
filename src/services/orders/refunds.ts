import { and, asc, eq, isNull, lt, ne, sql } from "drizzle-orm";
import type Stripe from "stripe";
import { z } from "zod";
import { type Actor, recordAudit, withAudit } from "../../db/audit.ts";
import type { Tx } from "../../db/client.ts";
import { checkouts, type Order, orderItems, orders, refunds } from "../../db/schema/orders.ts";
import { errorMessage } from "../../lib/errors.ts";
import { uuidv7 } from "../../lib/ids.ts";
import { isPermanentStripeError } from "../../lib/stripe.ts";
import { text } from "../../lib/text.ts";
import type { ServiceContext } from "../context.ts";
import { releaseRefundedSlots } from "../delivery/booking.ts";
import { Conflict, ValidationFailed } from "../errors.ts";
import { lockCheckout } from "../payments/checkouts.ts";
import {
  applyRefundStatus,
  ensureReversals,
  recordRefund,
  refundStatusOf,
} from "../payments/refund-events.ts";
import { cronRun } from "../payments/run.ts";
import { requireOrder, requireShopOrder } from "./queries.ts";
import { refundTaxOf } from "./tax.ts";
import { type OrderDetailView, orderDetail } from "./views.ts";

/** Statuses in which the buyer's money was taken and can be given back. */
export const REFUNDABLE = [
  "paid",
  "picking",
  "ready",
  "shipped",
  "delivered",
  "ready_for_pickup",
  "collected",
  "partially_refunded",
] as const;

/** Locks an order for the rest of the transaction (its checkout first, as the payment path does). */
export async function lockOrder(tx: Tx, orderId: string): Promise<Order | null> {
  const [head] = await tx
    .select({ checkoutId: orders.checkoutId })
    .from(orders)
    .where(eq(orders.id, orderId));
  if (!head) return null;
  if (head.checkoutId) await lockCheckout(tx, head.checkoutId);
  const [o] = await tx.select().from(orders).where(eq(orders.id, orderId)).for("update");
  return o ?? null;
}

/** Everything refunded or still being refunded for an order (failed refunds excepted). */
async function committedRefunds(tx: Tx, orderId: string): Promise<number> {
  const [row] = await tx
    .select({ sum: sql<string | null>`sum(${refunds.amountMinor})` })
    .from(refunds)
    .where(and(eq(refunds.orderId, orderId), ne(refunds.status, "failed")));
  return Number(row?.sum ?? 0);
}

export interface OpenRefundInput {
  /** What the refund is for, unique per order: `item:<id>`, `cancel`, `delivery`, `manual:<key>`. */
  reasonKey: string;
  reason: string;
  amountMinor: number;
  /** Give back what is left when less than asked remains (a missing line after a goodwill refund). */
  capToRefundable?: boolean;
}

/**
 * Writes the `refunds` row (status `requested`, no Stripe id yet) inside the caller's
 * transaction, with the order locked: the row is what makes the refund exist before Stripe is
 * asked, so a crash after Stripe's answer is completed by `charge.refunded` (it finds the row by
 * order and `souk_reason_key`) and a retry reuses the Stripe idempotency key `refund:<row id>`.
 * Never more than paid: the sum of every refund not failed stays within the order's total (409).
 * The row carries the tax the refund gives back, per line (./tax.ts `refundTaxOf`).
 * The same reason key again returns the row already there.
 */
export async function openRefund(
  tx: Tx,
  actor: Actor,
  order: Order,
  input: OpenRefundInput,
): Promise<{ id: string; amountMinor: number; created: boolean } | null> {
  const [existing] = await tx
    .select()
    .from(refunds)
    .where(and(eq(refunds.orderId, order.id), eq(refunds.reasonKey, input.reasonKey)));
  if (existing) return { id: existing.id, amountMinor: existing.amountMinor, created: false };
  const refundable = order.totalMinor - (await committedRefunds(tx, order.id));
  const amount = input.capToRefundable
    ? Math.min(input.amountMinor, refundable)
    : input.amountMinor;
  if (amount <= 0 && input.capToRefundable) return null;
  if (amount > refundable) {
    throw new Conflict(
      `Order ${order.id} has ${refundable} ${order.currency} minor units left to refund; ${amount} is more than was paid.`,
      { refundableMinor: refundable, requestedMinor: amount },
    );
  }
  const id = uuidv7();
  const tax = await refundTaxOf(tx, order, input.reasonKey, amount);
  await tx.insert(refunds).values({
    id,
    orderId: order.id,
    amountMinor: amount,
    ...tax,
    reasonKey: input.reasonKey,
    reason: input.reason,
    status: "requested",
  });
  await recordAudit(tx, actor, {
    action: "refund.requested",
    entityType: "order",
    entityId: order.id,
    newValue: {
      refundId: id,
      amountMinor: amount,
      taxMinor: tax.taxMinor,
      reasonKey: input.reasonKey,
      reason: input.reason,
    },
  });
  return { id, amountMinor: amount, created: true };
}

export interface DriveResult {
  refunded: number;
  failed: Array<{ refundId: string; message: string }>;
}

/**
 * Sends every refund of the order that Stripe has not yet seen: one Stripe refund on the
 * checkout's PaymentIntent per row (idempotency key `refund:<row id>`, the row's reason key in the
 * metadata), recorded with the status Stripe answers (a pending refund stays `requested` until
 * `charge.refunded` confirms it), the order's refunded amount and status following. Then the
 * shop's share of each succeeded refund is reversed from its transfer (`ensureReversals`:
 * reversal = round(refund × transfer / order total), i.e. the platform gives back its fee in the
 * same proportion). A refund Stripe refuses is marked `failed` (its amount is refundable again)
 * and audited. Safe to call again: a row with a Stripe id is never sent twice.
 */
export async function driveRefunds(
  ctx: ServiceContext,
  orderId: string,
  actor: Actor,
): Promise<DriveResult> {
  const due = await ctx.db
    .select({ refund: refunds, order: orders, paymentIntentId: checkouts.paymentIntentId })
    .from(refunds)
    .innerJoin(orders, eq(orders.id, refunds.orderId))
    .leftJoin(checkouts, eq(checkouts.id, orders.checkoutId))
    .where(
      and(
        eq(refunds.orderId, orderId),
        eq(refunds.status, "requested"),
        isNull(refunds.stripeRefundId),
      ),
    )
    .orderBy(asc(refunds.createdAt), asc(refunds.id));
  const result: DriveResult = { refunded: 0, failed: [] };
  for (const { refund: row, order, paymentIntentId } of due) {
    let refund: Stripe.Refund;
    try {
      if (!paymentIntentId) throw new Error("the order has no PaymentIntent to refund");
      refund = await ctx.stripe.refunds.create(
        {
          payment_intent: paymentIntentId,
          amount: row.amountMinor,
          metadata: {
            order_id: order.id,
            checkout_id: order.checkoutId ?? "",
            refund_id: row.id,
            souk_reason_key: row.reasonKey,
            souk_reason: row.reason.slice(0, 400),
          },
        },
        { idempotencyKey: `refund:${row.id}` },
      );
    } catch (err) {
      const permanent = isPermanentStripeError(err) || !paymentIntentId;
      if (!permanent) throw err;
      const message = errorMessage(err);
      await withAudit(ctx.db, actor, async (tx) => {
        const marked = await tx
          .update(refunds)
          .set({ status: "failed" })
          .where(and(eq(refunds.id, row.id), isNull(refunds.stripeRefundId)))
          .returning({ id: refunds.id });
        if (marked.length === 0) return;
        await recordAudit(tx, actor, {
          action: "refund.failed",
          entityType: "order",
          entityId: order.id,
          newValue: { refundId: row.id, amountMinor: row.amountMinor, stripeError: message },
        });
      });
      ctx.logger.error("Stripe refused a refund", { orderId: order.id, refundId: row.id, message });
      result.failed.push({ refundId: row.id, message });
      continue;
    }
    const moved = await withAudit(ctx.db, actor, async (tx) => {
      await lockOrder(tx, order.id);
      await recordRefund(tx, actor, {
        orderId: order.id,
        stripeRefundId: refund.id,
        amountMinor: refund.amount,
        status: refundStatusOf(refund),
        reasonKey: row.reasonKey,
        reason: row.reason,
      });
      const itemId = row.reasonKey.startsWith("item:") ? row.reasonKey.slice(5) : null;
      if (itemId) {
        await tx
          .update(orderItems)
          .set({ refundedMinor: refund.amount })
          .where(and(eq(orderItems.id, itemId), eq(orderItems.orderId, order.id)));
      }
      return applyRefundStatus(tx, actor, order.id, `refund ${refund.id}: ${row.reason}`);
    });
    await releaseRefundedSlots(ctx, actor, [moved]);
    result.refunded += 1;
  }
  await ensureReversals(ctx, { orderIds: [orderId], run: cronRun(actor) });
  return result;
}

/**
 * Cron-ready: sends refunds that were opened but never reached Stripe (a transient Stripe error
 * or a crash between the row and the call), older than `olderThanMs` so a request still working
 * on its own refund is left alone. Each goes out with the same idempotency key as before, so a
 * refund Stripe did make is returned, not made twice. Returns how many orders were driven.
 */
export async function redriveUnsentRefunds(
  ctx: ServiceContext,
  actor: Actor,
  opts: { olderThanMs?: number; limit?: number; now?: Date } = {},
): Promise<number> {
  const cutoff = new Date((opts.now ?? new Date()).getTime() - (opts.olderThanMs ?? 5 * 60_000));
  const rows = await ctx.db
    .selectDistinct({ orderId: refunds.orderId })
    .from(refunds)
    .where(
      and(
        eq(refunds.status, "requested"),
        isNull(refunds.stripeRefundId),
        lt(refunds.createdAt, cutoff),
      ),
    )
    .limit(opts.limit ?? 50);
  for (const { orderId } of rows) await driveRefunds(ctx, orderId, actor);
  return rows.length;
}

export const refundInput = z.object({
  amountMinor: z.int().min(1).max(100_000_000),
  reason: text().trim().min(1).max(500),
});
export type RefundInput = z.infer<typeof refundInput>;

function parseRefund(raw: unknown): RefundInput {
  const parsed = refundInput.safeParse(raw);
  if (parsed.success) return parsed.data;
  throw new ValidationFailed(
    parsed.error.issues.map((i) => ({ field: i.path.join("."), in: "body", message: i.message })),
  );
}

/**
 * A refund of part or all of a paid order, by the shop (owner or manager) or an admin: the
 * row first (never more than what remains), then Stripe, then the transfer reversal. The
 * optional client key makes a retry return the same refund instead of refunding twice.
 */
async function refundOrder(
  ctx: ServiceContext,
  order: Order,
  raw: unknown,
  clientKey: string | undefined,
): Promise<OrderDetailView> {
  const input = parseRefund(raw);
  const reasonKey = `manual:${clientKey ?? uuidv7()}`;
  const opened = await withAudit(ctx.db, ctx.actor, async (tx) => {
    const locked = await lockOrder(tx, order.id);
    if (!locked) return null;
    if (!(REFUNDABLE as readonly string[]).includes(locked.status)) {
      throw new Conflict(`Order ${order.id} is ${locked.status}; it cannot be refunded.`, {
        currentStatus: locked.status,
      });
    }
    const row = await openRefund(tx, ctx.actor, locked, { reasonKey, ...input });
    if (row && !row.created && row.amountMinor !== input.amountMinor) {
      throw new Conflict("This idempotency key was used for a refund of another amount.", {
        amountMinor: row.amountMinor,
      });
    }
    return row;
  });
  if (opened) {
    const driven = await driveRefunds(ctx, order.id, ctx.actor);
    const failure = driven.failed.find((f) => f.refundId === opened.id);
    if (failure) throw new Conflict(`Stripe refused the refund: ${failure.message}`);
  }
  const [fresh] = await ctx.db.select().from(orders).where(eq(orders.id, order.id));
  return orderDetail(ctx.db, fresh ?? order);
}

/** `POST /v1/seller/orders/{id}/refunds`: owner or manager of the order's shop. */
export async function refundBySeller(
  ctx: ServiceContext,
  userId: string,
  orderId: string,
  raw: unknown,
  clientKey?: string,
): Promise<OrderDetailView> {
  const order = await requireShopOrder(ctx.db, userId, orderId, "orders.ship");
  return refundOrder(ctx, order, raw, clientKey ? `${userId}:${clientKey}` : undefined);
}

/** `POST /v1/admin/orders/{id}/refunds`: any order, by an admin. */
export async function refundByAdmin(
  ctx: ServiceContext,
  adminId: string,
  orderId: string,
  raw: unknown,
  clientKey?: string,
): Promise<OrderDetailView> {
  const order = await requireOrder(ctx.db, orderId);
  return refundOrder(ctx, order, raw, clientKey ? `${adminId}:${clientKey}` : undefined);
}
