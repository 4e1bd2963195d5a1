import { and, eq, isNull } from "drizzle-orm";
import type Stripe from "stripe";
import { stockOf } from "../../../durable-objects/product-stock.ts";
import type { Actor } from "../../db/audit.ts";
import { withAudit } from "../../db/audit.ts";
import { checkouts, type Order } from "../../db/schema/orders.ts";
import { isPermanentStripeError, stripeErrorCode } from "../../lib/stripe.ts";
import type { ServiceContext } from "../context.ts";
import { confirmOrderSlot, releaseOrderSlot } from "../delivery/booking.ts";
import { commitReservations, releaseReservations } from "../orders/reservations.ts";
import { transitionOrder } from "../orders/state-machine.ts";
import {
  AWAITING_PAYMENT,
  type Checkout,
  type CheckoutBundle,
  endedUnpaid,
  findCheckoutForIntent,
  isAwaitingPayment,
  lockCheckout,
  metadataOrderIds,
  type OrderItem,
  recordCheckoutIntent,
  setCheckoutStatus,
} from "./checkouts.ts";
import { raiseIssue } from "./issues.ts";
import { adminIssueNotices, money, paidNotices, sendNotices, userNotice } from "./notices.ts";
import { refundLateOrders } from "./refund-events.ts";
import type { PaymentRun } from "./run.ts";
import { chargeIdOf, ensureTransfers } from "./transfers.ts";

/**
 * What Stripe's copy of the PaymentIntent says that Souk's records do not: the amount, the
 * currency, or the checkout and orders its metadata names. Empty when they agree.
 */
export function intentMismatches(bundle: CheckoutBundle, pi: Stripe.PaymentIntent): string[] {
  const { checkout, orders } = bundle;
  const problems: string[] = [];
  if (pi.amount !== checkout.amountMinor) {
    problems.push(`amount: Stripe ${pi.amount}, checkout ${checkout.amountMinor}`);
  }
  if (pi.currency.toLowerCase() !== checkout.currency.toLowerCase()) {
    problems.push(`currency: Stripe ${pi.currency}, checkout ${checkout.currency}`);
  }
  if (checkout.paymentIntentId && checkout.paymentIntentId !== pi.id) {
    problems.push(`payment intent: checkout has ${checkout.paymentIntentId}, Stripe sent ${pi.id}`);
  }
  const named = pi.metadata?.checkout_id;
  if (named && named !== checkout.id) {
    problems.push(`metadata checkout_id ${named} is not ${checkout.id}`);
  }
  const namedOrders = metadataOrderIds(pi.metadata);
  const ours = orders.map((o) => o.id).sort();
  if (namedOrders.length > 0 && [...namedOrders].sort().join(",") !== ours.join(",")) {
    problems.push(`metadata order_ids ${namedOrders.join(",")} are not ${ours.join(",")}`);
  }
  const sum = orders.reduce((s, o) => s + o.totalMinor, 0);
  if (sum !== checkout.amountMinor) {
    problems.push(`orders total ${sum}, checkout ${checkout.amountMinor}`);
  }
  return problems;
}

/**
 * Money and records disagree: one `amount_mismatch` issue, every order of the checkout flagged
 * (with its audit row), admins told; nothing is paid, released or cancelled.
 */
async function flagMismatch(
  ctx: ServiceContext,
  bundle: CheckoutBundle,
  pi: Stripe.PaymentIntent,
  problems: string[],
  run: PaymentRun,
): Promise<string> {
  const outcome = "flagged:amount_mismatch";
  const issue = await withAudit(ctx.db, run.actor, async (tx) => {
    await lockCheckout(tx, bundle.checkout.id);
    const raised = await raiseIssue(tx, run.actor, {
      kind: "amount_mismatch",
      checkoutId: bundle.checkout.id,
      paymentIntentId: pi.id,
      stripeEventId: run.eventId,
      detail: {
        problems,
        stripeAmount: pi.amount,
        stripeCurrency: pi.currency,
        stripeStatus: pi.status,
      },
      flag: {
        orderIds: bundle.orders.map((o) => o.id),
        reason: `payment mismatch: ${problems.join("; ")}`,
      },
    });
    await run.finish(tx, outcome);
    return raised;
  });
  ctx.logger.error("PaymentIntent does not match the checkout", {
    paymentIntentId: pi.id,
    checkoutId: bundle.checkout.id,
    problems,
  });
  if (issue.created) {
    await sendNotices(
      ctx,
      await adminIssueNotices(ctx.db, {
        id: issue.id,
        kind: "amount_mismatch",
        summary: `PaymentIntent ${pi.id} (${pi.status}) does not match checkout ${bundle.checkout.id}: ${problems.join("; ")}. Nothing was applied.`,
        data: { checkoutId: bundle.checkout.id, paymentIntentId: pi.id },
      }),
    );
  }
  return outcome;
}

/**
 * Applies what a PaymentIntent's CURRENT state on Stripe means for its checkout, whatever event
 * (or cron) prompted the look: `succeeded` pays, `canceled` ends the orders, a failed attempt
 * marks them `payment_failed`, anything in between changes nothing. Because the state is
 * re-read rather than taken from the event, a `payment_failed` delivered after `succeeded`, or a
 * second `succeeded`, changes nothing more, and a paid order never moves back.
 */
export async function settleIntent(
  ctx: ServiceContext,
  bundle: CheckoutBundle,
  pi: Stripe.PaymentIntent,
  run: PaymentRun,
): Promise<string> {
  const problems = intentMismatches(bundle, pi);
  if (problems.length > 0) return flagMismatch(ctx, bundle, pi, problems, run);
  switch (pi.status) {
    case "succeeded":
      return settleSucceeded(ctx, bundle, pi, run);
    case "canceled":
      return settleUnpaid(ctx, bundle, run, {
        to: pi.cancellation_reason === "abandoned" ? "expired" : "cancelled",
        why: `PaymentIntent ${pi.id} was canceled (${pi.cancellation_reason ?? "no reason given"})`,
      });
    case "requires_payment_method":
      if (pi.last_payment_error) return settleFailed(ctx, bundle, pi, run);
      return "noop:awaiting_payment";
    default:
      return `noop:intent_${pi.status}`;
  }
}

/** A `payment_intent.*` event: re-read the intent from Stripe, then settle from that. */
export async function applyPaymentIntentEvent(
  ctx: ServiceContext,
  intentId: string,
  run: PaymentRun,
): Promise<string> {
  let pi: Stripe.PaymentIntent;
  try {
    pi = await ctx.stripe.paymentIntents.retrieve(intentId);
  } catch (err) {
    if (stripeErrorCode(err) === "resource_missing") return "ignored:intent_not_found";
    throw err;
  }
  const bundle = await findCheckoutForIntent(ctx.db, pi);
  if (!bundle) {
    if (!pi.metadata?.checkout_id) return "ignored:not_a_souk_payment";
    // A confirm whose write was refused cancels the intent it made alongside: no money moved,
    // nobody held its client secret. Only an intent that took money without a checkout is news.
    if (pi.status === "canceled" || pi.status === "requires_payment_method") {
      return "ignored:unused_intent";
    }
    // Souk's metadata but no such checkout: money may have moved for nothing; an admin looks.
    const issue = await withAudit(ctx.db, run.actor, (tx) =>
      raiseIssue(tx, run.actor, {
        kind: "unknown_checkout",
        checkoutId: null,
        paymentIntentId: pi.id,
        stripeEventId: run.eventId,
        detail: {
          metadata: pi.metadata,
          status: pi.status,
          amount: pi.amount,
          currency: pi.currency,
        },
      }),
    );
    if (issue.created) {
      await sendNotices(
        ctx,
        await adminIssueNotices(ctx.db, {
          id: issue.id,
          kind: "unknown_checkout",
          summary: `PaymentIntent ${pi.id} (${pi.status}) names checkout ${pi.metadata.checkout_id}, which does not exist.`,
          data: { paymentIntentId: pi.id },
        }),
      );
    }
    return "flagged:unknown_checkout";
  }
  return settleIntent(ctx, bundle, pi, run);
}

/**
 * Gives units back to stock after a commit that then could not stand (a multi-line order whose
 * other hold had lapsed): an adjustment keyed by the reservation, so it happens once.
 */
async function restock(
  ctx: ServiceContext,
  items: readonly OrderItem[],
  actor: Actor,
  order: Map<string, Order>,
) {
  for (const item of items) {
    if (!item.reservationId) continue;
    const shopId = order.get(item.orderId)?.shopId;
    const result = await stockOf(ctx.stock, item.productId).adjust({
      productId: item.productId,
      ...(shopId ? { shopId } : {}),
      locationId: item.locationId,
      mode: "delta",
      quantity: item.quantity,
      key: `late-restock:${item.reservationId}`,
      reason: `order ${item.orderId} was refunded: its payment came after another line's hold lapsed`,
      actor: { type: actor.type, id: actor.id ?? null, requestId: actor.requestId ?? null },
    });
    if (!result.ok) {
      throw new Error(
        `restock of ${item.productId} for order ${item.orderId} refused: ${result.code}`,
      );
    }
  }
}

/**
 * The payment is taken. In order, each step safe to repeat after a crash at any point:
 * 1. commit the stock holds of the orders still awaiting payment (idempotent per reservation);
 *    an order whose hold had lapsed cannot be served (its stock may be sold) and is refunded;
 * 2. one transaction under the checkout lock: awaiting orders → `paid` (or `expired` when their
 *    hold lapsed), `late_success` issues for orders that had ended unpaid, checkout succeeded;
 * 3. refund the late orders, transfer each paid order's share to its shop, notify.
 */
export async function settleSucceeded(
  ctx: ServiceContext,
  bundle: CheckoutBundle,
  pi: Stripe.PaymentIntent,
  run: PaymentRun,
): Promise<string> {
  const awaiting = new Set(bundle.orders.filter(isAwaitingPayment).map((o) => o.id));
  const lapsed = new Set<string>();
  const committedItems: OrderItem[] = [];
  if (awaiting.size > 0) {
    const items = bundle.items.filter((i) => awaiting.has(i.orderId));
    const outcomes = await commitReservations(ctx.stock, items, run.actor);
    const refused = new Set(outcomes.flatMap((o) => (o.ok ? [] : [o.reservationId])));
    for (const item of items) {
      if (item.reservationId && refused.has(item.reservationId)) lapsed.add(item.orderId);
      else committedItems.push(item);
    }
    for (const o of outcomes) {
      if (!o.ok) {
        ctx.logger.warn("stock hold could not be committed", {
          reservationId: o.reservationId,
          reason: o.reason,
          paymentIntentId: pi.id,
        });
      }
    }
  }
  const now = new Date();
  const { paidNow, finalOrders } = await withAudit(ctx.db, run.actor, async (tx, audit) => {
    const locked = await lockCheckout(tx, bundle.checkout.id);
    if (!locked) throw new Error(`checkout ${bundle.checkout.id} vanished`);
    // The payment names its checkout: a paid checkout must know its intent (refunds need it)
    // even when `payment_intent.created` has not arrived, or never will.
    if (!locked.checkout.paymentIntentId) await recordCheckoutIntent(tx, pi);
    const paidNow: Order[] = [];
    const finalOrders: Order[] = [];
    for (const o of locked.orders) {
      if (!isAwaitingPayment(o) || !awaiting.has(o.id)) {
        finalOrders.push(o);
        continue;
      }
      if (lapsed.has(o.id)) {
        finalOrders.push(
          await transitionOrder(tx, audit, {
            orderId: o.id,
            to: "expired",
            reason: `payment ${pi.id} arrived after the stock hold lapsed`,
            expectFrom: AWAITING_PAYMENT,
          }),
        );
        continue;
      }
      const next = await transitionOrder(tx, audit, {
        orderId: o.id,
        to: "paid",
        reason: `payment ${pi.id} succeeded`,
        patch: { paidAt: now },
        expectFrom: AWAITING_PAYMENT,
      });
      paidNow.push(next);
      finalOrders.push(next);
    }
    for (const o of finalOrders.filter(endedUnpaid)) {
      await raiseIssue(tx, run.actor, {
        kind: "late_success",
        checkoutId: bundle.checkout.id,
        orderId: o.id,
        paymentIntentId: pi.id,
        stripeEventId: run.eventId,
        detail: {
          status: o.status,
          amountMinor: o.totalMinor,
          currency: o.currency,
          resolution: "refunded in full",
        },
      });
    }
    await setCheckoutStatus(tx, locked.checkout, "succeeded");
    return { paidNow, finalOrders };
  });

  // Units committed for an order that did not end up paid go back on the shelf.
  const notPaid = new Set(finalOrders.filter((o) => o.paidAt === null).map((o) => o.id));
  const byId = new Map(finalOrders.map((o) => [o.id, o]));
  await restock(
    ctx,
    committedItems.filter((i) => notPaid.has(i.orderId)),
    run.actor,
    byId,
  );

  // Paid orders keep their delivery windows for good; a late order's window goes back.
  await Promise.all(paidNow.map((o) => confirmOrderSlot(ctx.slots, ctx.logger, o, run.actor)));
  const late = finalOrders.filter(endedUnpaid);
  await Promise.all(
    late.map((o) => releaseOrderSlot(ctx.slots, ctx.logger, o, run.actor, "paid too late")),
  );
  const refunded = await refundLateOrders(ctx, { bundle, paymentIntentId: pi.id, late, run });
  const transfers = await ensureTransfers(ctx, {
    checkoutId: bundle.checkout.id,
    chargeId: chargeIdOf(pi),
    paymentIntentId: pi.id,
    run,
  });
  await sendNotices(
    ctx,
    await paidNotices(
      ctx.db,
      finalOrders.filter((o) => o.paidAt !== null),
    ),
  );
  if (paidNow.length > 0 || late.length > 0) {
    ctx.logger.info("payment applied", {
      paymentIntentId: pi.id,
      checkoutId: bundle.checkout.id,
      paid: paidNow.map((o) => o.id),
      refundedLate: late.map((o) => o.id),
      transfers: transfers.created,
    });
  }
  const parts = [`paid:${paidNow.length}`];
  if (late.length > 0) parts.push(`late_refunded:${refunded}`);
  if (transfers.created > 0) parts.push(`transfers:${transfers.created}`);
  if (transfers.waiting > 0) parts.push(`transfers_waiting:${transfers.waiting}`);
  return paidNow.length === 0 && late.length === 0 && transfers.created === 0
    ? "noop:already_applied"
    : `succeeded ${parts.join(" ")}`;
}

/**
 * A payment attempt failed (declined, 3-D Secure failed). The orders become `payment_failed`
 * but KEEP their stock holds: Stripe lets the buyer retry the same PaymentIntent with another
 * card until the payment deadline, when the deadline cron releases them.
 */
export async function settleFailed(
  ctx: ServiceContext,
  bundle: CheckoutBundle,
  pi: Stripe.PaymentIntent,
  run: PaymentRun,
): Promise<string> {
  const why = pi.last_payment_error?.decline_code ?? pi.last_payment_error?.code ?? "declined";
  const changed = await withAudit(ctx.db, run.actor, async (tx, audit) => {
    const locked = await lockCheckout(tx, bundle.checkout.id);
    if (!locked) return [];
    const out: Order[] = [];
    for (const o of locked.orders) {
      if (o.status !== "pending_payment") continue;
      out.push(
        await transitionOrder(tx, audit, {
          orderId: o.id,
          to: "payment_failed",
          reason: `payment attempt on ${pi.id} failed: ${why}`,
          expectFrom: ["pending_payment"],
        }),
      );
    }
    await run.finish(tx, out.length > 0 ? `payment_failed:${out.length}` : "noop:already_failed");
    return out;
  });
  const first = changed[0];
  if (first) {
    const deadline = bundle.checkout.paymentDeadline.toISOString();
    await sendNotices(ctx, [
      await userNotice(ctx.db, {
        userId: first.buyerId,
        kind: "payment.failed",
        title: "Your payment did not go through",
        body: `The payment of ${money(bundle.checkout.amountMinor, bundle.checkout.currency)} failed (${why}). Your items stay reserved until ${deadline}: try again with another card.`,
        dedupeKey: `payment-failed:${bundle.checkout.id}:${run.eventId ?? pi.id}`,
        data: { checkoutId: bundle.checkout.id, orderIds: changed.map((o) => o.id) },
      }),
    ]);
  }
  return changed.length > 0 ? `payment_failed:${changed.length}` : "noop:already_failed";
}

/**
 * The checkout will not be paid: its PaymentIntent was canceled (`to: cancelled`) or its payment
 * deadline passed (`to: expired`, with the intent canceled first). The holds are released, then
 * the awaiting orders move, and the checkout closes. Orders already paid are untouched.
 */
export async function settleUnpaid(
  ctx: ServiceContext,
  bundle: CheckoutBundle,
  run: PaymentRun,
  input: { to: "expired" | "cancelled"; why: string },
): Promise<string> {
  const awaiting = new Set(bundle.orders.filter(isAwaitingPayment).map((o) => o.id));
  const items = bundle.items.filter((i) => awaiting.has(i.orderId));
  const released = await releaseReservations(ctx.stock, items, run.actor);
  for (const r of released) {
    if (!r.ok) {
      ctx.logger.warn("stock hold could not be released", {
        reservationId: r.reservationId,
        reason: r.reason,
      });
    }
  }
  const changed = await withAudit(ctx.db, run.actor, async (tx, audit) => {
    const locked = await lockCheckout(tx, bundle.checkout.id);
    if (!locked) return [];
    const out: Order[] = [];
    for (const o of locked.orders) {
      if (!isAwaitingPayment(o) || !awaiting.has(o.id)) continue;
      out.push(
        await transitionOrder(tx, audit, {
          orderId: o.id,
          to: input.to,
          reason: input.why,
          expectFrom: AWAITING_PAYMENT,
        }),
      );
    }
    if (locked.checkout.status === "open") {
      await setCheckoutStatus(tx, locked.checkout, input.to === "expired" ? "expired" : "canceled");
    }
    await run.finish(tx, out.length > 0 ? `${input.to}:${out.length}` : `noop:already_${input.to}`);
    return out;
  });
  // Their delivery windows go back at once rather than when the holds run out.
  await Promise.all(
    changed.map((o) => releaseOrderSlot(ctx.slots, ctx.logger, o, run.actor, input.why)),
  );
  const first = changed[0];
  if (first) {
    const expired = input.to === "expired";
    await sendNotices(ctx, [
      await userNotice(ctx.db, {
        userId: first.buyerId,
        kind: expired ? "checkout.expired" : "checkout.cancelled",
        title: expired ? "Your checkout expired" : "Your checkout was cancelled",
        body: expired
          ? "We did not receive the payment in time, so the items were released. Nothing was charged."
          : "The payment was cancelled, so the items were released. Nothing was charged.",
        dedupeKey: `checkout-${input.to}:${bundle.checkout.id}`,
        data: { checkoutId: bundle.checkout.id, orderIds: changed.map((o) => o.id) },
      }),
    ]);
  }
  return changed.length > 0 ? `${input.to}:${changed.length}` : `noop:already_${input.to}`;
}

/** How far around a checkout's creation its PaymentIntent is looked for, and how many are read. */
const RECOVERY_WINDOW_S = { before: 120, after: 900 };
const RECOVERY_SCAN_LIMIT = 1_000;

/**
 * The PaymentIntent of a checkout that never stored its id (confirm created the intent, then
 * could not save it on the checkout): found among the intents Stripe created around the
 * checkout's creation by the `checkout_id` in their metadata, and stored now. Without this a
 * deadline would expire, and reconciliation would never look at, a checkout the buyer paid.
 */
export async function recoverIntentId(
  ctx: ServiceContext,
  checkout: Pick<Checkout, "id" | "createdAt">,
): Promise<string | null> {
  const created = Math.floor(checkout.createdAt.getTime() / 1000);
  let scanned = 0;
  for await (const pi of ctx.stripe.paymentIntents.list({
    created: { gte: created - RECOVERY_WINDOW_S.before, lte: created + RECOVERY_WINDOW_S.after },
    limit: 100,
  })) {
    if (pi.metadata?.checkout_id === checkout.id) {
      await ctx.db
        .update(checkouts)
        .set({ paymentIntentId: pi.id, updatedAt: new Date() })
        .where(and(eq(checkouts.id, checkout.id), isNull(checkouts.paymentIntentId)));
      ctx.logger.warn("found the PaymentIntent of a checkout that had not stored it", {
        checkoutId: checkout.id,
        paymentIntentId: pi.id,
      });
      return pi.id;
    }
    scanned += 1;
    if (scanned >= RECOVERY_SCAN_LIMIT) break;
  }
  return null;
}

/**
 * The deadline passed without a payment being applied. Cancels the PaymentIntent first, so no
 * payment can land afterwards; if Stripe says it already succeeded (the buyer paid at the last
 * second, or the webhook is late) the success path runs instead. Safe to run any number of
 * times: canceled is canceled, released is released, expired orders are skipped.
 */
export async function expireCheckout(
  ctx: ServiceContext,
  bundle: CheckoutBundle,
  run: PaymentRun,
  why: string,
): Promise<string> {
  const piId = bundle.checkout.paymentIntentId ?? (await recoverIntentId(ctx, bundle.checkout));
  let pi: Stripe.PaymentIntent | null = null;
  if (piId) {
    try {
      pi = await ctx.stripe.paymentIntents.retrieve(piId);
    } catch (err) {
      if (stripeErrorCode(err) !== "resource_missing") throw err;
      // Not on this Stripe account (keys changed?): nothing can be paid or cancelled there.
      ctx.logger.warn("checkout's PaymentIntent is unknown to Stripe", { paymentIntentId: piId });
    }
  }
  if (piId && pi) {
    if (pi.status !== "canceled" && pi.status !== "succeeded") {
      if (pi.status === "processing") return "skipped:payment_processing";
      try {
        pi = await ctx.stripe.paymentIntents.cancel(
          piId,
          { cancellation_reason: "abandoned" },
          { idempotencyKey: `expire:${piId}` },
        );
      } catch (err) {
        if (!isPermanentStripeError(err)) throw err;
        // Lost a race with the buyer's payment (or another canceller): ask again what it is.
        pi = await ctx.stripe.paymentIntents.retrieve(piId);
      }
    }
    if (pi.status === "succeeded") {
      ctx.logger.warn("payment succeeded at the deadline: applying it", { paymentIntentId: piId });
      return `deadline_found_payment: ${await settleIntent(ctx, bundle, pi, run)}`;
    }
    if (pi.status !== "canceled") return `skipped:intent_${pi.status}`;
  }
  return settleUnpaid(ctx, bundle, run, { to: "expired", why });
}
