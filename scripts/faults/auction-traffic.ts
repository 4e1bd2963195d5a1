/**
 * Auction traffic for `npm run faults`: an auction on a fresh product of the rig's shop, made
 * through the seller API, and bids through the public API. An auction sells its one unit
 * without a hold (the winner's order is made at the close), so the invariants keep its order
 * apart from the confirms' (invariants.ts).
 */
import { randomUUID } from "node:crypto";
import type { Rig } from "./rig.ts";
import { type Answer, type Buyer, request } from "./traffic.ts";

export interface Auction {
  id: string;
  endsAt: number;
}

/** A published auction product and an auction on it ending in `endsInMs`, without soft close. */
export async function auction(rig: Rig, endsInMs: number, title: string): Promise<Auction> {
  const product = await request(`${rig.url}/v1/seller/products`, {
    method: "POST",
    token: rig.sellerToken,
    body: {
      shopId: rig.shop.id,
      categoryId: rig.shop.categoryId,
      title,
      priceMinor: 2500,
      sku: `AUC-${randomUUID().slice(0, 8)}`,
      listingType: "auction",
      status: "published",
    },
  });
  const productId = product.body?.id;
  if (product.status !== 201 || typeof productId !== "string") {
    throw new Error(`auction product not made: ${product.status} ${JSON.stringify(product.body)}`);
  }
  const endsAt = Date.now() + endsInMs;
  const made = await request(`${rig.url}/v1/seller/auctions`, {
    method: "POST",
    token: rig.sellerToken,
    body: {
      productId,
      startPriceMinor: 1000,
      endsAt: new Date(endsAt).toISOString(),
      softCloseSeconds: 0,
      maxExtensionSeconds: 0,
    },
  });
  const id = made.body?.id;
  if (made.status !== 201 || typeof id !== "string") {
    throw new Error(`auction not made: ${made.status} ${JSON.stringify(made.body)}`);
  }
  return { id, endsAt };
}

export function bid(rig: Rig, buyer: Buyer, auctionId: string, maxMinor: number): Promise<Answer> {
  return request(`${rig.url}/v1/auctions/${auctionId}/bids`, {
    method: "POST",
    token: buyer.token,
    body: { maxMinor },
  });
}

export interface AuctionState {
  status: string;
  winnerId: string | null;
  priceMinor: number;
  orders: Array<{ id: string; buyerId: string; totalMinor: number }>;
  bids: Array<{ bidderId: string; maxMinor: number; acceptedAt: Date }>;
  closedAudits: number;
}

/** The auction as Postgres holds it once its room has mirrored the close. */
export async function auctionState(rig: Rig, auctionId: string): Promise<AuctionState> {
  const { rows: a } = await rig.pool.query<{
    status: string;
    winner_id: string | null;
    price_minor: number;
  }>("select status, winner_id, price_minor from auctions where id = $1", [auctionId]);
  const { rows: orders } = await rig.pool.query<{
    id: string;
    buyer_id: string;
    total_minor: number;
  }>("select id, buyer_id, total_minor from orders where auction_id = $1", [auctionId]);
  const { rows: bids } = await rig.pool.query<{
    bidder_id: string;
    max_minor: number;
    accepted_at: Date;
  }>("select bidder_id, max_minor, accepted_at from bids where auction_id = $1", [auctionId]);
  const { rows: audits } = await rig.pool.query<{ n: number }>(
    `select count(*)::int as n from audit_log where entity_id = $1 and action like 'auction.%'
       and action <> 'auction.created' and action not like 'auction.second_chance%'`,
    [auctionId],
  );
  return {
    status: a[0]?.status ?? "missing",
    winnerId: a[0]?.winner_id ?? null,
    priceMinor: a[0]?.price_minor ?? 0,
    orders: orders.map((o) => ({ id: o.id, buyerId: o.buyer_id, totalMinor: o.total_minor })),
    bids: bids.map((b) => ({
      bidderId: b.bidder_id,
      maxMinor: b.max_minor,
      acceptedAt: b.accepted_at,
    })),
    closedAudits: audits[0]?.n ?? 0,
  };
}
