import { minimumNextBid } from "../../../durable-objects/auction-room/proxy-bidding.ts";
import type { PublicState, RoomStatus } from "../../../durable-objects/auction-room/types.ts";
import type { Auction } from "../../db/schema/auctions.ts";

/** An auction as buyers see it: the reserve amount, bidder ids and maximums never appear. */
export interface PublicAuction {
  id: string;
  product: { id: string; title: string; imageUrls: string[]; categoryId: string };
  shop: { id: string; name: string; slug: string };
  currency: string;
  status: RoomStatus;
  startPriceMinor: number;
  priceMinor: number;
  bidCount: number;
  leaderAlias: string | null;
  hasReserve: boolean;
  reserveMet: boolean;
  buyNowPriceMinor: number | null;
  buyNowAvailable: boolean;
  minimumNextBidMinor: number;
  startsAt: string;
  endsAt: string;
  scheduledEndsAt: string;
  softCloseSeconds: number;
  /** `object`: read from the auction's object now; `cache`/`mirror`: may trail it briefly. */
  source: "object" | "cache" | "mirror";
}

export interface AuctionJoinRow {
  auction: Auction;
  title: string;
  imageUrls: string[];
  categoryId: string;
  shopName: string;
  shopSlug: string;
}

/** What the Postgres mirror says the status is at `now` (it does not know "closing"). */
export function mirrorStatus(a: Auction, now: number): RoomStatus {
  if (a.status !== "scheduled" && a.status !== "active") return a.status;
  if (now < a.startsAt.getTime()) return "scheduled";
  if (now >= a.currentEndsAt.getTime()) return "closing";
  return "active";
}

/** The public view from the mirror row alone (the object is asked when it can be). */
export function publicFromMirror(r: AuctionJoinRow, now: number): PublicAuction {
  const a = r.auction;
  const status = mirrorStatus(a, now);
  const terms = { startPriceMinor: a.startPriceMinor, reservePriceMinor: a.reservePriceMinor };
  const leaderKnown = a.bidCount > 0;
  return {
    id: a.id,
    product: { id: a.productId, title: r.title, imageUrls: r.imageUrls, categoryId: r.categoryId },
    shop: { id: a.shopId, name: r.shopName, slug: r.shopSlug },
    currency: a.currency,
    status,
    startPriceMinor: a.startPriceMinor,
    priceMinor: a.priceMinor,
    bidCount: a.bidCount,
    leaderAlias: a.leaderAlias,
    hasReserve: a.reservePriceMinor !== null,
    reserveMet: a.reserveMet,
    buyNowPriceMinor: a.buyNowPriceMinor,
    buyNowAvailable:
      a.buyNowPriceMinor !== null &&
      status === "active" &&
      (a.bidCount === 0 || (a.reservePriceMinor !== null && !a.reserveMet)),
    minimumNextBidMinor: minimumNextBid(
      {
        leaderId: leaderKnown ? "leader" : null,
        leaderMaxMinor: 0,
        secondMaxMinor: 0,
        priceMinor: a.priceMinor,
        bidCount: a.bidCount,
      },
      terms,
    ),
    startsAt: a.startsAt.toISOString(),
    endsAt: a.currentEndsAt.toISOString(),
    scheduledEndsAt: a.endsAt.toISOString(),
    softCloseSeconds: a.softCloseSeconds,
    source: "mirror",
  };
}

/** The public view with the live fields from the object's state. */
export function publicFromState(r: AuctionJoinRow, s: PublicState): PublicAuction {
  return {
    ...publicFromMirror(r, Date.parse(s.serverTime)),
    status: s.status,
    priceMinor: s.priceMinor,
    bidCount: s.bidCount,
    leaderAlias: s.leaderAlias,
    reserveMet: s.reserveMet,
    buyNowAvailable: s.buyNowAvailable,
    minimumNextBidMinor: s.minimumNextBidMinor,
    endsAt: s.endsAt,
    source: "object",
  };
}

/** An auction as its shop's team sees it: the reserve and the outcome included. */
export interface SellerAuction {
  id: string;
  shopId: string;
  productId: string;
  title: string;
  currency: string;
  status: RoomStatus;
  startPriceMinor: number;
  reservePriceMinor: number | null;
  buyNowPriceMinor: number | null;
  startsAt: string;
  endsAt: string;
  currentEndsAt: string;
  softCloseSeconds: number;
  maxExtensionSeconds: number;
  priceMinor: number;
  bidCount: number;
  leaderAlias: string | null;
  reserveMet: boolean;
  winnerId: string | null;
  orderId: string | null;
  closedAt: string | null;
  createdAt: string;
}

export function sellerView(a: Auction, title: string, now: number = Date.now()): SellerAuction {
  return {
    id: a.id,
    shopId: a.shopId,
    productId: a.productId,
    title,
    currency: a.currency,
    status: mirrorStatus(a, now),
    startPriceMinor: a.startPriceMinor,
    reservePriceMinor: a.reservePriceMinor,
    buyNowPriceMinor: a.buyNowPriceMinor,
    startsAt: a.startsAt.toISOString(),
    endsAt: a.endsAt.toISOString(),
    currentEndsAt: a.currentEndsAt.toISOString(),
    softCloseSeconds: a.softCloseSeconds,
    maxExtensionSeconds: a.maxExtensionSeconds,
    priceMinor: a.priceMinor,
    bidCount: a.bidCount,
    leaderAlias: a.leaderAlias,
    reserveMet: a.reserveMet,
    winnerId: a.winnerId,
    orderId: a.orderId,
    closedAt: a.closedAt?.toISOString() ?? null,
    createdAt: a.createdAt.toISOString(),
  };
}
