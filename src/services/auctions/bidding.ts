import { and, eq, isNotNull, sql } from "drizzle-orm";
import { z } from "zod";
import { paymentDeadlineOf } from "../../../durable-objects/auction-room/results.ts";
import {
  type AuctionResult,
  type BidAcceptedResult,
  MAX_PRICE_MINOR,
} from "../../../durable-objects/auction-room/types.ts";
import { roomOf } from "../../../durable-objects/auction-room.ts";
import { auctions } from "../../db/schema/auctions.ts";
import { shopMembers, shops } from "../../db/schema/shops.ts";
import { users } from "../../db/schema/users.ts";
import { parseOr422 } from "../../lib/input.ts";
import type { ServiceContext } from "../context.ts";
import { Forbidden, NotFound } from "../errors.ts";
import { isShopVisible } from "../shops/access.ts";
import { unwrap } from "./refusals.ts";

export const bidInput = z.object({
  /** Your maximum: the system bids for you up to it, one increment at a time. */
  maxMinor: z.int().min(1).max(MAX_PRICE_MINOR),
});
export type BidInput = z.input<typeof bidInput>;

/**
 * Who may buy this auction now, in one round trip: it exists in a visible shop, the caller is
 * not on that shop's team (sellers cannot buy their own auctions), and no admin or strike
 * blocked the caller. A bid does not come here: its room decides the same rules itself
 * (durable-objects/auction-room/eligibility.ts).
 */
async function requireMayBuy(ctx: ServiceContext, auctionId: string, userId: string) {
  const [row] = await ctx.db
    .select({
      shopId: auctions.shopId,
      shopStatus: shops.status,
      emailVerifiedAt: shops.emailVerifiedAt,
      deletedAt: shops.deletedAt,
      member: sql<boolean>`exists (select 1 from ${shopMembers} where ${shopMembers.shopId} = ${auctions.shopId} and ${shopMembers.userId} = ${userId})`,
      blocked: sql<boolean>`exists (select 1 from ${users} where ${users.id} = ${userId} and ${users.blockedAt} is not null)`,
    })
    .from(auctions)
    .innerJoin(shops, eq(shops.id, auctions.shopId))
    .where(eq(auctions.id, auctionId));
  if (
    !row ||
    !isShopVisible({
      status: row.shopStatus,
      emailVerifiedAt: row.emailVerifiedAt,
      deletedAt: row.deletedAt,
    })
  ) {
    throw new NotFound("auction", auctionId);
  }
  if (row.member) {
    throw new Forbidden("Sellers cannot bid on or buy their own shop's auctions.");
  }
  if (row.blocked) {
    throw new Forbidden(
      "This account is blocked from bidding and buying (two unpaid wins within 12 months, or " +
        "an admin's decision); contact support to have it lifted.",
    );
  }
}

/**
 * Places a bid (a maximum) for `bidderId`: one call to the auction's room, no Postgres and no
 * Redis on the way. The room applies the per-bidder limit (429), eligibility (404 hidden shop,
 * 403 own team or blocked) and the rules by its own clock (409 AUCTION_CLOSED / BID_TOO_LOW with
 * the minimum); the same `key` twice bids once.
 */
export async function placeBid(
  ctx: ServiceContext,
  auctionId: string,
  bidderId: string,
  raw: BidInput,
  key?: string,
): Promise<BidAcceptedResult> {
  const input = parseOr422(bidInput, raw);
  const result = await roomOf(ctx.rooms, auctionId).bid({
    auctionId,
    bidderId,
    maxMinor: input.maxMinor,
    ...(key ? { key } : {}),
  });
  return unwrap(result);
}

export interface BuyNowView {
  auctionId: string;
  status: "bought_now";
  priceMinor: number;
  currency: string;
  orderId: string;
  paymentDeadline: string;
  /** False when Postgres was unreachable: the order appears as soon as the outbox delivers it. */
  orderRecorded: boolean;
}

/**
 * Buys the item at the buy-now price, closing the auction (see AuctionRoom.buyNow). The route
 * requires an Idempotency-Key; the object itself answers the same buyer's repeat with the same
 * result, so even a lost key record cannot make a second order.
 */
export async function buyNow(
  ctx: ServiceContext,
  auctionId: string,
  buyerId: string,
): Promise<BuyNowView> {
  await requireMayBuy(ctx, auctionId, buyerId);
  const outcome = unwrap(await roomOf(ctx.rooms, auctionId).buyNow({ auctionId, buyerId }));
  const result: AuctionResult = outcome.result;
  if (result.orderId === null) throw new Error("INVARIANT: a buy-now result without an order");
  return {
    auctionId,
    status: "bought_now",
    priceMinor: result.priceMinor,
    currency: result.currency,
    orderId: result.orderId,
    paymentDeadline: paymentDeadlineOf(
      result,
      ctx.config.AUCTION_PAYMENT_DEADLINE_HOURS,
    ).toISOString(),
    orderRecorded: outcome.mirrored || (await orderExists(ctx, auctionId, result.orderId)),
  };
}

async function orderExists(ctx: ServiceContext, auctionId: string, orderId: string) {
  const [row] = await ctx.db
    .select({ id: auctions.id })
    .from(auctions)
    .where(
      and(eq(auctions.id, auctionId), eq(auctions.orderId, orderId), isNotNull(auctions.closedAt)),
    );
  return row !== undefined;
}
