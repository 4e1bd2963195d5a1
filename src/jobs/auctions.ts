import { expireDueOffers } from "../services/auctions/second-chance.ts";
import { sweepAuctions } from "../services/auctions/sweep.ts";
import { expireUnpaidAuctionOrders } from "../services/auctions/unpaid.ts";
import type { JobContext } from "./context.ts";

/** `* * * * *` auction-sweep: closes overdue auctions whose alarm has not (see sweepAuctions). */
export async function auctionSweepJob(ctx: JobContext): Promise<Record<string, unknown>> {
  const report = await sweepAuctions(ctx);
  return { ...report };
}

/**
 * `*\/5 * * * *` auction-unpaid: expires unpaid auction orders past their deadline (strike,
 * block at two, second chance to the next bidder) and expires second-chance offers past 48 h.
 * Checkout orders are the payment-deadlines job's; the split is `orders.source`.
 */
export async function auctionUnpaidJob(ctx: JobContext): Promise<Record<string, unknown>> {
  const unpaid = await expireUnpaidAuctionOrders(ctx);
  const offersExpired = await expireDueOffers(ctx.db, ctx.actor);
  return { ...unpaid, offersExpired };
}
