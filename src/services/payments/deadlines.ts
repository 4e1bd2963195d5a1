import { and, asc, inArray, isNotNull, lt, min, ne, sql } from "drizzle-orm";
import { stockOf } from "../../../durable-objects/product-stock.ts";
import type { Actor } from "../../db/audit.ts";
import { orders } from "../../db/schema/orders.ts";
import { errorMessage } from "../../lib/errors.ts";
import type { ServiceContext } from "../context.ts";
import {
  AWAITING_PAYMENT,
  type CheckoutBundle,
  checkoutNotFlagged,
  loadCheckoutBundle,
} from "./checkouts.ts";
import { expireCheckout } from "./payment-intents.ts";
import { cronRun } from "./run.ts";

export interface SweepOptions {
  /** The clock the sweep judges deadlines by; the server's unless a caller pins it. */
  now?: Date;
  limit?: number;
  /** Only these checkouts (an admin expiring one by hand, a test keeping to its own data). */
  checkoutIds?: readonly string[];
}

export interface SweepSummary {
  checkouts: number;
  outcomes: Record<string, number>;
  failed: number;
}

async function sweep(
  ctx: ServiceContext,
  actor: Actor,
  bundles: AsyncIterable<CheckoutBundle>,
  why: string,
): Promise<SweepSummary> {
  const summary: SweepSummary = { checkouts: 0, outcomes: {}, failed: 0 };
  const errors: unknown[] = [];
  for await (const bundle of bundles) {
    summary.checkouts += 1;
    try {
      const outcome = await expireCheckout(ctx, bundle, cronRun(actor), why);
      const key = outcome.split(/[: ]/, 1)[0] ?? outcome;
      summary.outcomes[key] = (summary.outcomes[key] ?? 0) + 1;
    } catch (err) {
      // One checkout Stripe or a stock object cannot answer for now must not hold up the rest.
      summary.failed += 1;
      errors.push(err);
      ctx.logger.error("could not expire checkout", {
        checkoutId: bundle.checkout.id,
        error: errorMessage(err),
      });
    }
  }
  if (errors.length > 0) {
    throw new AggregateError(errors, `${errors.length} of ${summary.checkouts} checkouts failed`);
  }
  return summary;
}

async function* bundlesOf(ctx: ServiceContext, ids: readonly string[]) {
  for (const id of ids) {
    const bundle = await loadCheckoutBundle(ctx.db, id);
    if (bundle) yield bundle;
  }
}

/**
 * `payment-deadlines` cron: checkouts with orders still unpaid (`pending_payment`,
 * `payment_failed`) past their payment deadline (auction wins excepted: the auction job handles
 * an unpaid win; flagged checkouts excepted: an admin resolves them through their payment
 * issue). Each: PaymentIntent cancelled on Stripe (or, if it succeeded after all, the payment
 * applied), holds released, orders `expired`. A second run finds nothing left to do.
 */
export async function expireOverduePayments(
  ctx: ServiceContext,
  actor: Actor,
  opts: SweepOptions = {},
): Promise<SweepSummary> {
  const now = opts.now ?? new Date();
  const rows = await ctx.db
    .select({ checkoutId: orders.checkoutId, due: min(orders.paymentDeadline) })
    .from(orders)
    .where(
      and(
        inArray(orders.status, [...AWAITING_PAYMENT]),
        lt(orders.paymentDeadline, now),
        isNotNull(orders.checkoutId),
        // An unpaid auction win has its own rules (a strike, a second-chance offer): its job.
        ne(orders.source, "auction"),
        checkoutNotFlagged(orders.checkoutId),
        opts.checkoutIds ? inArray(orders.checkoutId, [...opts.checkoutIds]) : undefined,
      ),
    )
    .groupBy(orders.checkoutId)
    .orderBy(asc(min(orders.paymentDeadline)))
    .limit(opts.limit ?? 50);
  const ids = rows.flatMap((r) => (r.checkoutId ? [r.checkoutId] : []));
  return sweep(ctx, actor, bundlesOf(ctx, ids), "the payment deadline passed");
}

/**
 * `reservation-expiry` cron: unpaid checkouts still inside their deadline whose stock holds have
 * already lapsed in ProductStock (a hold's TTL is the stock's promise, not the order's). They
 * can no longer be served, so they end now, the same way as at the deadline: the PaymentIntent
 * is cancelled first, so the buyer cannot pay for stock that may be someone else's; a payment
 * that got in before is applied and the lapsed order refunded.
 */
export async function expireLapsedReservations(
  ctx: ServiceContext,
  actor: Actor,
  opts: SweepOptions = {},
): Promise<SweepSummary> {
  const now = opts.now ?? new Date();
  const rows = await ctx.db
    .selectDistinct({ checkoutId: orders.checkoutId, createdAt: orders.createdAt })
    .from(orders)
    .where(
      and(
        inArray(orders.status, [...AWAITING_PAYMENT]),
        isNotNull(orders.checkoutId),
        ne(orders.source, "auction"),
        checkoutNotFlagged(orders.checkoutId),
        sql`${orders.paymentDeadline} >= ${now}`,
        opts.checkoutIds ? inArray(orders.checkoutId, [...opts.checkoutIds]) : undefined,
      ),
    )
    .orderBy(asc(orders.createdAt))
    .limit(opts.limit ?? 100);
  const ids = [...new Set(rows.flatMap((r) => (r.checkoutId ? [r.checkoutId] : [])))];
  async function* lapsed() {
    for await (const bundle of bundlesOf(ctx, ids)) {
      const awaiting = new Set(
        bundle.orders
          .filter((o) => (AWAITING_PAYMENT as readonly string[]).includes(o.status))
          .map((o) => o.id),
      );
      const holds = bundle.items.filter((i) => awaiting.has(i.orderId) && i.reservationId);
      for (const item of holds) {
        if (!item.reservationId) continue;
        const view = await stockOf(ctx.stock, item.productId).reservation(item.reservationId);
        if (!view) {
          // Unknown to its stock object: not evidence of a lapse; leave it to the deadline.
          ctx.logger.warn("order line names a reservation its stock object does not know", {
            checkoutId: bundle.checkout.id,
            reservationId: item.reservationId,
          });
          continue;
        }
        const gone =
          view.state === "expired" ||
          view.state === "released" ||
          (view.state === "active" && Date.parse(view.expiresAt) <= now.getTime());
        if (gone) {
          yield bundle;
          break;
        }
      }
    }
  }
  return sweep(ctx, actor, lapsed(), "its stock hold lapsed before the payment");
}
