import { and, asc, eq, inArray, isNotNull, isNull, notInArray } from "drizzle-orm";
import type Stripe from "stripe";
import { recordAudit, withAudit } from "../../db/audit.ts";
import { checkouts, type Order, orders, transfers } from "../../db/schema/orders.ts";
import { shops } from "../../db/schema/shops.ts";
import { uuidv7 } from "../../lib/ids.ts";
import { isPermanentStripeError } from "../../lib/stripe.ts";
import type { ServiceContext } from "../context.ts";
import { lockCheckout } from "./checkouts.ts";
import { raiseIssue } from "./issues.ts";
import { ensureReversals } from "./refund-events.ts";
import type { PaymentRun } from "./run.ts";

/**
 * The shop's share of an order: everything the buyer paid for it (items and delivery: the shop
 * delivers) less the platform fee Souk keeps.
 */
export function shopShare(order: Pick<Order, "totalMinor" | "platformFeeMinor">): number {
  return order.totalMinor - order.platformFeeMinor;
}

/** Statuses in which a paid order's money no longer belongs to the shop. */
const NOT_TRANSFERABLE = ["refunded", "cancelled"] as const;

export function chargeIdOf(pi: Pick<Stripe.PaymentIntent, "latest_charge">): string | null {
  const c = pi.latest_charge;
  if (!c) return null;
  return typeof c === "string" ? c : c.id;
}

export interface TransferSummary {
  created: number;
  /** Paid orders whose shop cannot receive money yet (retried by reconciliation). */
  waiting: number;
}

/**
 * Moves each paid order's shop share to the shop's connected account ("separate charges and
 * transfers"): one Stripe transfer per order, `transfer_group` = the checkout's, funded by the
 * charge (`source_transaction`), with the Stripe idempotency key `transfer:<orderId>`, and one
 * `transfers` row (unique per order) with its audit row. Safe to call any number of times: an
 * order that has its row is skipped, a retry after a crash between Stripe and Postgres gets the
 * same transfer back from Stripe's idempotency.
 */
export async function ensureTransfers(
  ctx: ServiceContext,
  input: { checkoutId: string; chargeId: string | null; paymentIntentId: string; run: PaymentRun },
): Promise<TransferSummary> {
  const due = await ctx.db
    .select({ order: orders, shop: shops, transferGroup: checkouts.transferGroup })
    .from(orders)
    .innerJoin(shops, eq(shops.id, orders.shopId))
    .innerJoin(checkouts, eq(checkouts.id, orders.checkoutId))
    .leftJoin(transfers, eq(transfers.orderId, orders.id))
    .where(
      and(
        eq(orders.checkoutId, input.checkoutId),
        isNotNull(orders.paidAt),
        notInArray(orders.status, [...NOT_TRANSFERABLE]),
        isNull(transfers.id),
      ),
    )
    .orderBy(asc(orders.id));
  const summary: TransferSummary = { created: 0, waiting: 0 };
  for (const { order, shop, transferGroup } of due) {
    const amount = shopShare(order);
    if (amount <= 0) continue;
    if (!shop.stripeAccountId || !shop.payoutsEnabled) {
      summary.waiting += 1;
      await withAudit(ctx.db, input.run.actor, async (tx) => {
        await lockCheckout(tx, input.checkoutId);
        await raiseIssue(tx, input.run.actor, {
          kind: "transfer_pending",
          checkoutId: input.checkoutId,
          orderId: order.id,
          paymentIntentId: input.paymentIntentId,
          stripeEventId: input.run.eventId,
          detail: {
            shopId: shop.id,
            amountMinor: amount,
            why: shop.stripeAccountId ? "payouts are not enabled" : "no connected account",
          },
        });
      });
      ctx.logger.warn("transfer waits for the shop's payouts", {
        orderId: order.id,
        shopId: shop.id,
      });
      continue;
    }
    let transfer: Stripe.Transfer;
    try {
      transfer = await ctx.stripe.transfers.create(
        {
          amount,
          currency: order.currency.toLowerCase(),
          destination: shop.stripeAccountId,
          transfer_group: transferGroup,
          ...(input.chargeId ? { source_transaction: input.chargeId } : {}),
          metadata: { order_id: order.id, shop_id: shop.id, checkout_id: input.checkoutId },
        },
        { idempotencyKey: `transfer:${order.id}` },
      );
    } catch (err) {
      if (!isPermanentStripeError(err)) throw err;
      summary.waiting += 1;
      await withAudit(ctx.db, input.run.actor, async (tx) => {
        await lockCheckout(tx, input.checkoutId);
        await raiseIssue(tx, input.run.actor, {
          kind: "transfer_failed",
          checkoutId: input.checkoutId,
          orderId: order.id,
          paymentIntentId: input.paymentIntentId,
          stripeEventId: input.run.eventId,
          detail: {
            shopId: shop.id,
            amountMinor: amount,
            stripeError: err.message,
            code: err.code,
          },
        });
      });
      ctx.logger.error("Stripe refused a transfer", { orderId: order.id, error: err.message });
      continue;
    }
    const created = await withAudit(ctx.db, input.run.actor, async (tx) => {
      const id = uuidv7();
      const inserted = await tx
        .insert(transfers)
        .values({
          id,
          orderId: order.id,
          shopId: shop.id,
          stripeTransferId: transfer.id,
          destinationAccount: shop.stripeAccountId ?? transfer.destination?.toString() ?? "",
          amountMinor: transfer.amount,
          currency: transfer.currency,
        })
        .onConflictDoNothing()
        .returning({ id: transfers.id });
      if (inserted.length === 0) return false;
      await recordAudit(tx, input.run.actor, {
        action: "transfer.created",
        entityType: "order",
        entityId: order.id,
        newValue: {
          transferId: id,
          stripeTransferId: transfer.id,
          destination: shop.stripeAccountId,
          amountMinor: transfer.amount,
          platformFeeMinor: order.platformFeeMinor,
          transferGroup,
        },
      });
      return true;
    });
    if (created) summary.created += 1;
    // A refund recorded before the transfer existed still owes the shop's part back.
    await ensureReversals(ctx, { orderIds: [order.id], run: input.run });
  }
  return summary;
}

/** Paid orders still without a transfer, grouped by checkout (reconciliation's second sweep). */
export async function checkoutsOwingTransfers(
  ctx: ServiceContext,
  limit: number,
  checkoutIds?: readonly string[],
): Promise<Array<{ checkoutId: string; paymentIntentId: string }>> {
  const rows = await ctx.db
    .selectDistinct({ checkoutId: checkouts.id, paymentIntentId: checkouts.paymentIntentId })
    .from(orders)
    .innerJoin(checkouts, eq(checkouts.id, orders.checkoutId))
    .innerJoin(shops, eq(shops.id, orders.shopId))
    .leftJoin(transfers, eq(transfers.orderId, orders.id))
    .where(
      and(
        isNotNull(orders.paidAt),
        notInArray(orders.status, [...NOT_TRANSFERABLE]),
        isNull(transfers.id),
        isNotNull(checkouts.paymentIntentId),
        eq(shops.payoutsEnabled, true),
        isNotNull(shops.stripeAccountId),
        checkoutIds ? inArray(checkouts.id, [...checkoutIds]) : undefined,
      ),
    )
    .limit(limit);
  return rows.flatMap((r) =>
    r.paymentIntentId ? [{ checkoutId: r.checkoutId, paymentIntentId: r.paymentIntentId }] : [],
  );
}
