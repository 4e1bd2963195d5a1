import { createStripe, type Stripe } from "../lib/stripe.ts";
import type { AuctionContext } from "../services/auctions/context.ts";
import { expireDueOffers } from "../services/auctions/second-chance.ts";
import { sweepAuctions } from "../services/auctions/sweep.ts";
import { expireUnpaidAuctionOrders } from "../services/auctions/unpaid.ts";
import type { JobContext } from "./context.ts";

function auctionContext(ctx: JobContext): AuctionContext {
  return {
    get db() {
      return ctx.db;
    },
    config: ctx.config,
    logger: ctx.logger,
    actor: ctx.actor,
    rooms: ctx.env.AUCTION_ROOM,
    queue: ctx.env.NOTIFICATIONS,
    redis: ctx.redis,
  };
}

/** `* * * * *` auction-sweep: closes overdue auctions whose alarm has not (see sweepAuctions). */
export async function auctionSweepJob(ctx: JobContext): Promise<Record<string, unknown>> {
  const report = await sweepAuctions(auctionContext(ctx));
  return { ...report };
}

/**
 * `*\/5 * * * *` auction-unpaid: expires unpaid auction orders past their deadline (strike,
 * block at two, second chance to the next bidder) and expires second-chance offers past 48 h.
 * Checkout orders are the payment-deadlines job's; the split is `orders.source`.
 */
export async function auctionUnpaidJob(ctx: JobContext): Promise<Record<string, unknown>> {
  const actx = auctionContext(ctx);
  let stripe: Stripe | null = null;
  try {
    stripe = createStripe(ctx.config);
  } catch {
    ctx.logger.warn(
      "Stripe is not configured: unpaid auction orders expire without cancelling intents",
    );
  }
  const unpaid = await expireUnpaidAuctionOrders({ ...actx, db: actx.db, stripe });
  const offersExpired = await expireDueOffers(actx.db, actx.actor);
  return { ...unpaid, offersExpired };
}
