import { and, asc, count, eq, gte, inArray, isNotNull, isNull, lte, or, sql } from "drizzle-orm";
import type { RankedBidder } from "../../../durable-objects/auction-room/types.ts";
import { roomOf } from "../../../durable-objects/auction-room.ts";
import { withAudit } from "../../db/audit.ts";
import { type Auction, auctions, userStrikes } from "../../db/schema/auctions.ts";
import { products } from "../../db/schema/catalog.ts";
import { checkouts, type Order, orders } from "../../db/schema/orders.ts";
import { shops } from "../../db/schema/shops.ts";
import { users } from "../../db/schema/users.ts";
import { errorMessage } from "../../lib/errors.ts";
import { uuidv7 } from "../../lib/ids.ts";
import {
  isPermanentStripeError,
  type Stripe,
  stripeErrorCode,
  stripeIfConfigured,
} from "../../lib/stripe.ts";
import type { ServiceContext } from "../context.ts";
import { notifyAfterCommit } from "../notifications/notify.ts";
import { transitionOrder } from "../orders/state-machine.ts";
import { recordStanding } from "../users/standing.ts";
import { tellRoomsOfBlock } from "./eligibility.ts";
import { insertOffer, nextCandidates, notifyOffer } from "./second-chance.ts";

/** Two strikes within this window block the user from bidding and buying. */
export const STRIKE_WINDOW_MS = 365 * 24 * 60 * 60 * 1000;
export const STRIKES_TO_BLOCK = 2;
export const STRIKE_BLOCK_REASON = "two unpaid auction wins within 12 months";

/**
 * The orders this job owns: orders born of an auction (win, buy-now or second chance) unpaid
 * past their deadline — and, in case the checkout payment-deadline job expired one first, auction
 * orders expired unpaid that have no strike yet. The checkout job should leave auction orders
 * alone (`source = 'auction'`); this predicate makes the outcome right even if it does not.
 * A flagged order (its payment disagrees with it) is an admin's, as in the checkout sweeps: its
 * intent may have succeeded, so it would be skipped every run while holding a batch slot.
 */
export const unpaidAuctionOrderDue = (now: Date) =>
  and(
    eq(orders.source, "auction"),
    isNull(orders.paidAt),
    or(
      and(
        inArray(orders.status, ["pending_payment", "payment_failed"]),
        eq(orders.flagged, false),
        isNotNull(orders.paymentDeadline),
        lte(orders.paymentDeadline, now),
      ),
      and(
        eq(orders.status, "expired"),
        sql`not exists (select 1 from ${userStrikes} where ${userStrikes.orderId} = ${orders.id})`,
      ),
    ),
  );

export interface UnpaidOutcome {
  orderId: string;
  /** False when another run (or a late payment) got there first: nothing changed. */
  expired: boolean;
  strike: boolean;
  blocked: boolean;
  offerId: string | null;
}

class AlreadySettled extends Error {}

/**
 * An auction order unpaid at its deadline: it becomes `expired` (not `cancelled`: nobody decided
 * to cancel; the payment window lapsed, as checkout orders do), the buyer gets a strike (one per
 * order: `user_strikes.order_id` is unique), a second strike within 12 months blocks the buyer,
 * and the next-highest bidder by the object's bids (not the unpaid buyer, not anyone offered or
 * blocked) is offered the item at their own maximum for 48 h. All in one transaction with its
 * audit rows, behind the order's row lock: running twice, or racing another run, does it once.
 */
export async function expireUnpaidAuctionOrder(
  ctx: ServiceContext,
  order: Pick<Order, "id" | "auctionId" | "buyerId" | "checkoutId">,
): Promise<UnpaidOutcome> {
  const auctionId = order.auctionId;
  if (auctionId === null) throw new Error(`order ${order.id} is not an auction order`);
  const skipped = {
    orderId: order.id,
    expired: false,
    strike: false,
    blocked: false,
    offerId: null,
  };
  // The buyer may have started paying (POST /v1/orders/{id}/pay): cancel that intent first, so
  // nothing can be charged for an order that expires; one that succeeded after all is left to
  // the payments consumer, which marks the order paid.
  if (order.checkoutId && (await intentStillPayable(ctx, order.checkoutId))) return skipped;
  // Read before the transaction: an RPC does not belong inside a database lock.
  const ranked: RankedBidder[] = await roomOf(ctx.rooms, auctionId).rankedBidders({
    exclude: [order.buyerId],
  });
  let outcome: {
    strike: boolean;
    blocked: boolean;
    offer: Awaited<ReturnType<typeof insertOffer>>;
    auction: Auction;
  };
  try {
    outcome = await withAudit(ctx.db, ctx.actor, async (tx, audit) => {
      const [locked] = await tx
        .select({
          status: orders.status,
          deadline: orders.paymentDeadline,
          paidAt: orders.paidAt,
          struck: sql<boolean>`exists (select 1 from ${userStrikes} where ${userStrikes.orderId} = ${orders.id})`,
        })
        .from(orders)
        .where(eq(orders.id, order.id))
        .for("update");
      const awaiting = locked?.status === "pending_payment" || locked?.status === "payment_failed";
      const due = awaiting && locked?.deadline != null && locked.deadline.getTime() <= Date.now();
      const expiredElsewhere =
        locked?.status === "expired" && locked.paidAt === null && !locked.struck;
      if (!due && !expiredElsewhere) throw new AlreadySettled();
      if (due) {
        await transitionOrder(tx, audit, {
          orderId: order.id,
          to: "expired",
          reason: "auction_payment_deadline",
          expectFrom: ["pending_payment", "payment_failed"],
        });
      }

      const now = Date.now();
      const [strike] = await tx
        .insert(userStrikes)
        .values({
          id: uuidv7(now),
          userId: order.buyerId,
          orderId: order.id,
          auctionId,
          reason: "unpaid_auction_order",
        })
        .onConflictDoNothing({ target: userStrikes.orderId })
        .returning();
      if (strike) {
        await audit.record({
          action: "user.strike_recorded",
          entityType: "user",
          entityId: order.buyerId,
          newValue: { strikeId: strike.id, orderId: order.id, auctionId, reason: strike.reason },
        });
      }

      let blocked = false;
      const [recent] = await tx
        .select({ n: count() })
        .from(userStrikes)
        .where(
          and(
            eq(userStrikes.userId, order.buyerId),
            gte(userStrikes.createdAt, new Date(now - STRIKE_WINDOW_MS)),
          ),
        );
      if ((recent?.n ?? 0) >= STRIKES_TO_BLOCK) {
        const [user] = await tx
          .update(users)
          .set({
            blockedAt: new Date(now),
            blockedReason: STRIKE_BLOCK_REASON,
            updatedAt: new Date(),
          })
          .where(and(eq(users.id, order.buyerId), isNull(users.blockedAt)))
          .returning({ id: users.id });
        if (user) {
          blocked = true;
          await audit.record({
            action: "user.blocked",
            entityType: "user",
            entityId: order.buyerId,
            oldValue: { blocked: false },
            newValue: { blocked: true, reason: STRIKE_BLOCK_REASON, strikes: recent?.n },
          });
        }
      }

      const [auction] = await tx
        .select()
        .from(auctions)
        .where(eq(auctions.id, auctionId))
        .for("update");
      if (!auction) throw new Error(`auction ${auctionId} is missing`);
      const candidates = await nextCandidates(tx, ranked, auction, [order.buyerId]);
      const next = candidates[0];
      const offer = next
        ? await insertOffer(tx, audit, {
            auction,
            bidder: next,
            offeredBy: "system",
            sourceOrderId: order.id,
            now,
          })
        : null;
      return { strike: strike !== undefined, blocked, offer, auction };
    });
  } catch (err) {
    if (err instanceof AlreadySettled) return skipped;
    throw err;
  }
  // The strike's block committed: the rooms holding this buyer as eligible must learn it now.
  if (outcome.blocked) {
    await Promise.all([
      tellRoomsOfBlock(ctx, order.buyerId),
      recordStanding(ctx, order.buyerId, "blocked"),
    ]);
  }
  await notifyUnpaid(ctx, order, outcome);
  return {
    orderId: order.id,
    expired: true,
    strike: outcome.strike,
    blocked: outcome.blocked,
    offerId: outcome.offer?.id ?? null,
  };
}

/**
 * Cancels the checkout's PaymentIntent (idempotently, as the checkout deadline job does) and
 * says whether a payment may still land: true when Stripe reports it succeeded or processing.
 */
async function intentStillPayable(ctx: ServiceContext, checkoutId: string): Promise<boolean> {
  const [checkout] = await ctx.db
    .select({ paymentIntentId: checkouts.paymentIntentId })
    .from(checkouts)
    .where(eq(checkouts.id, checkoutId));
  const piId = checkout?.paymentIntentId;
  const stripe = stripeIfConfigured(ctx.config);
  if (!piId || !stripe) {
    if (piId) ctx.logger.warn("Stripe is not configured: an unpaid order's intent stays open");
    return false;
  }
  let pi: Stripe.PaymentIntent;
  try {
    pi = await stripe.paymentIntents.retrieve(piId);
  } catch (err) {
    if (stripeErrorCode(err) !== "resource_missing") throw err;
    // Not on this Stripe account (keys changed?): nothing can be paid or cancelled there, so
    // the order expires as the checkout expiry does; throwing would retry it every run forever.
    ctx.logger.warn("auction order's PaymentIntent is unknown to Stripe", {
      paymentIntentId: piId,
    });
    await closeCheckout(ctx, checkoutId);
    return false;
  }
  if (pi.status !== "canceled" && pi.status !== "succeeded" && pi.status !== "processing") {
    try {
      pi = await stripe.paymentIntents.cancel(
        piId,
        { cancellation_reason: "abandoned" },
        { idempotencyKey: `expire:${piId}` },
      );
    } catch (err) {
      if (!isPermanentStripeError(err)) throw err;
      // Lost a race with the buyer's payment (or another canceller): ask again what it is.
      pi = await stripe.paymentIntents.retrieve(piId);
    }
  }
  if (pi.status === "canceled") {
    await closeCheckout(ctx, checkoutId);
    return false;
  }
  return true;
}

async function closeCheckout(ctx: ServiceContext, checkoutId: string): Promise<void> {
  await ctx.db
    .update(checkouts)
    .set({ status: "expired", updatedAt: new Date() })
    .where(and(eq(checkouts.id, checkoutId), eq(checkouts.status, "open")));
}

async function notifyUnpaid(
  ctx: ServiceContext,
  order: Pick<Order, "id" | "auctionId" | "buyerId">,
  outcome: {
    strike: boolean;
    blocked: boolean;
    offer: Awaited<ReturnType<typeof insertOffer>>;
    auction: Auction;
  },
): Promise<void> {
  const [ctxRow] = await ctx.db
    .select({ title: products.title, ownerId: shops.ownerId })
    .from(products)
    .innerJoin(shops, eq(shops.id, products.shopId))
    .where(eq(products.id, outcome.auction.productId));
  const title = ctxRow?.title ?? "the item";
  const data = { auctionId: outcome.auction.id, orderId: order.id };
  await notifyAfterCommit(ctx.queue, ctx.logger, {
    userId: order.buyerId,
    kind: "auction.payment_expired",
    title: `Unpaid: ${title}`,
    body:
      `Your order for "${title}" expired unpaid and counts as a strike.` +
      (outcome.blocked
        ? " With two strikes in 12 months your account can no longer bid or buy until an admin lifts the block."
        : " A second strike within 12 months blocks bidding and buying."),
    data,
    dedupeKey: `auction.payment_expired:${order.id}`,
  });
  if (ctxRow) {
    await notifyAfterCommit(ctx.queue, ctx.logger, {
      userId: ctxRow.ownerId,
      kind: "auction.unpaid",
      title: `Winner did not pay: ${title}`,
      body: outcome.offer
        ? `The order expired unpaid; the next-highest bidder was offered "${title}" at their maximum.`
        : `The order expired unpaid; no other bidder is left to offer "${title}".`,
      data,
      dedupeKey: `auction.unpaid:${order.id}`,
    });
  }
  if (outcome.offer) await notifyOffer(ctx, outcome.offer, title);
}

/**
 * The `*\/5` cron's auction part: expires unpaid auction orders past their deadline (oldest
 * first, a bounded batch per run). Returns what it did.
 */
export async function expireUnpaidAuctionOrders(
  ctx: ServiceContext,
  limit = 50,
): Promise<{ due: number; expired: number; strikes: number; blocked: number; offers: number }> {
  const due = await ctx.db
    .select({
      id: orders.id,
      auctionId: orders.auctionId,
      buyerId: orders.buyerId,
      checkoutId: orders.checkoutId,
    })
    .from(orders)
    .where(unpaidAuctionOrderDue(new Date()))
    .orderBy(asc(orders.paymentDeadline))
    .limit(limit);
  const totals = { due: due.length, expired: 0, strikes: 0, blocked: 0, offers: 0 };
  for (const order of due) {
    try {
      const r = await expireUnpaidAuctionOrder(ctx, order);
      if (r.expired) totals.expired += 1;
      if (r.strike) totals.strikes += 1;
      if (r.blocked) totals.blocked += 1;
      if (r.offerId) totals.offers += 1;
    } catch (err) {
      ctx.logger.error("unpaid auction order not processed", {
        orderId: order.id,
        error: errorMessage(err),
      });
    }
  }
  return totals;
}

/** The strikes of a user, newest first, with the count inside the 12-month window. */
export async function strikesOf(ctx: { db: ServiceContext["db"] }, userId: string) {
  const rows = await ctx.db
    .select()
    .from(userStrikes)
    .where(eq(userStrikes.userId, userId))
    .orderBy(sql`${userStrikes.createdAt} desc`);
  const since = Date.now() - STRIKE_WINDOW_MS;
  return {
    strikes: rows.map((s) => ({
      id: s.id,
      orderId: s.orderId,
      auctionId: s.auctionId,
      reason: s.reason,
      at: s.createdAt.toISOString(),
    })),
    withinWindow: rows.filter((s) => s.createdAt.getTime() >= since).length,
  };
}
