import { and, asc, desc, eq, gt, inArray, isNull, lte, or, type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import type { PublicBid, RankedBidder } from "../../../durable-objects/auction-room/types.ts";
import { roomOf } from "../../../durable-objects/auction-room.ts";
import type { Queryable } from "../../db/client.ts";
import { auctions, secondChanceOffers } from "../../db/schema/auctions.ts";
import { products } from "../../db/schema/catalog.ts";
import { shops } from "../../db/schema/shops.ts";
import { decodeCursor, encodeCursor, type Page } from "../../lib/pagination.ts";
import { cacheNamespace } from "../catalog/cache-keys.ts";
import { categorySubtree } from "../catalog/search.ts";
import type { ServiceContext } from "../context.ts";
import { NotFound, ValidationFailed } from "../errors.ts";
import { requireShopPermission, visibleShopCondition } from "../shops/access.ts";
import { readSummaries } from "./cache.ts";
import {
  type AuctionJoinRow,
  type PublicAuction,
  publicFromMirror,
  publicFromState,
  type SellerAuction,
  sellerView,
} from "./views.ts";

export const AUCTION_LIST_STATUSES = ["active", "upcoming"] as const;
export const AUCTION_SORTS = ["ending_soon", "newest"] as const;

export interface AuctionListQuery {
  status: (typeof AUCTION_LIST_STATUSES)[number];
  sort: (typeof AUCTION_SORTS)[number];
  category?: string | undefined;
  shopId?: string | undefined;
  limit: number;
  cursor?: string | undefined;
}

const cursorSchema = z.union([
  z.object({ s: z.literal("ending_soon"), e: z.int(), id: z.uuid() }),
  z.object({ s: z.literal("newest"), id: z.uuid() }),
]);

const joinColumns = {
  auction: auctions,
  title: products.title,
  imageUrls: products.imageUrls,
  categoryId: products.categoryId,
  shopName: shops.name,
  shopSlug: shops.slug,
};

/**
 * The public list: auctions of visible shops that are running (`active`) or yet to start
 * (`upcoming`), ending soonest first or newest first, optionally by category (its subtree) or
 * shop; cursor-paged. Which auctions, and their order, come from the Postgres mirror (the shop's
 * visibility is a join, so a hidden shop's auctions never show); the live numbers (price, bids,
 * leader, end) come from the Upstash summary each object refreshes after every change, falling
 * back to the mirror's when Redis is absent, failing or lacks the key.
 */
export async function listAuctions(
  ctx: ServiceContext,
  query: AuctionListQuery,
): Promise<{ page: Page<PublicAuction>; cache: "hit" | "partial" | "bypass" }> {
  const after = query.cursor ? decodeCursor(query.cursor, cursorSchema) : null;
  if (query.cursor && (!after || after.s !== query.sort)) {
    throw new ValidationFailed([
      { field: "cursor", in: "query", message: "is not a cursor of this list and sort" },
    ]);
  }
  const now = new Date();
  const window =
    query.status === "active"
      ? and(
          inArray(auctions.status, ["scheduled", "active"]),
          lte(auctions.startsAt, now),
          gt(auctions.currentEndsAt, now),
        )
      : and(eq(auctions.status, "scheduled"), gt(auctions.startsAt, now));
  let keyset: SQL | undefined;
  let order: SQL[];
  if (query.sort === "ending_soon") {
    order = [asc(auctions.currentEndsAt), asc(auctions.id)];
    if (after?.s === "ending_soon") {
      const e = new Date(after.e).toISOString();
      keyset = or(
        gt(auctions.currentEndsAt, new Date(after.e)),
        sql`(${auctions.currentEndsAt} = ${e}::timestamptz and ${auctions.id} > ${after.id}::uuid)`,
      );
    }
  } else {
    order = [desc(auctions.id)];
    if (after?.s === "newest") keyset = sql`${auctions.id} < ${after.id}::uuid`;
  }
  const rows: AuctionJoinRow[] = await ctx.db
    .select(joinColumns)
    .from(auctions)
    .innerJoin(products, eq(products.id, auctions.productId))
    .innerJoin(shops, eq(shops.id, auctions.shopId))
    .where(
      and(
        visibleShopCondition,
        isNull(products.deletedAt),
        window,
        query.category ? categorySubtree(query.category) : undefined,
        query.shopId ? eq(auctions.shopId, query.shopId) : undefined,
        keyset,
      ),
    )
    .orderBy(...order)
    .limit(query.limit + 1);

  const pageRows = rows.slice(0, query.limit);
  const ids = pageRows.map((r) => r.auction.id);
  const summaries = await readSummaries(
    ctx.redis,
    cacheNamespace(ctx.config.DATABASE_URL),
    ids,
    ctx.logger,
  );
  const nowMs = now.getTime();
  const items = pageRows.map((r): PublicAuction => {
    const base = publicFromMirror(r, nowMs);
    const s = summaries?.get(r.auction.id);
    if (!s) return base;
    return {
      ...base,
      status: s.status,
      priceMinor: s.priceMinor,
      bidCount: s.bidCount,
      leaderAlias: s.leaderAlias,
      reserveMet: s.reserveMet,
      buyNowAvailable: s.buyNowAvailable,
      minimumNextBidMinor: s.minimumNextBidMinor,
      endsAt: s.endsAt,
      source: "cache",
    };
  });
  const last = pageRows.at(-1);
  const nextCursor =
    rows.length > query.limit && last
      ? encodeCursor(
          query.sort === "ending_soon"
            ? { s: "ending_soon", e: last.auction.currentEndsAt.getTime(), id: last.auction.id }
            : { s: "newest", id: last.auction.id },
        )
      : null;
  const hits = items.filter((i) => i.source === "cache").length;
  const cache =
    summaries === null
      ? "bypass"
      : hits === items.length
        ? "hit"
        : hits === 0
          ? "bypass"
          : "partial";
  return { page: { items, nextCursor }, cache };
}

/** The auction with its product and shop, if a buyer may see it (else 404). */
export async function visibleAuction(db: Queryable, auctionId: string): Promise<AuctionJoinRow> {
  const [row] = await db
    .select(joinColumns)
    .from(auctions)
    .innerJoin(products, eq(products.id, auctions.productId))
    .innerJoin(shops, eq(shops.id, auctions.shopId))
    .where(and(eq(auctions.id, auctionId), visibleShopCondition, isNull(products.deletedAt)));
  if (!row) throw new NotFound("auction", auctionId);
  return row;
}

/**
 * One auction with its live state read from its object (price, bids, leader alias, reserve met,
 * buy-now available, end, status). Falls back to the mirror only while the object is not yet
 * configured. A hidden shop's auction is a 404.
 */
export async function getAuction(ctx: ServiceContext, auctionId: string): Promise<PublicAuction> {
  const row = await visibleAuction(ctx.db, auctionId);
  const state = await roomOf(ctx.rooms, auctionId).state();
  return state ? publicFromState(row, state) : publicFromMirror(row, Date.now());
}

/** Public bid history from the object, newest first (aliases and prices only). */
export async function auctionHistory(
  ctx: ServiceContext,
  auctionId: string,
  page: { limit: number; beforeSequence?: number | undefined },
): Promise<{ items: PublicBid[]; nextBeforeSequence: number | null }> {
  await visibleAuction(ctx.db, auctionId);
  const items = await roomOf(ctx.rooms, auctionId).history({
    limit: page.limit,
    ...(page.beforeSequence !== undefined ? { beforeSequence: page.beforeSequence } : {}),
  });
  const last = items.at(-1);
  return {
    items,
    nextBeforeSequence:
      items.length === page.limit && last && last.sequence > 1 ? last.sequence : null,
  };
}

/** A shop's auctions for its team (catalog.read), newest first. */
export async function listShopAuctions(
  ctx: ServiceContext,
  userId: string,
  shopId: string,
  page: { limit: number; cursor?: string | undefined },
): Promise<Page<SellerAuction>> {
  await requireShopPermission(ctx.db, shopId, userId, "catalog.read");
  const after = page.cursor ? decodeCursor(page.cursor, z.object({ id: z.uuid() })) : null;
  if (page.cursor && !after) {
    throw new ValidationFailed([
      { field: "cursor", in: "query", message: "is not a valid cursor" },
    ]);
  }
  const rows = await ctx.db
    .select({ auction: auctions, title: products.title })
    .from(auctions)
    .innerJoin(products, eq(products.id, auctions.productId))
    .where(
      and(eq(auctions.shopId, shopId), after ? sql`${auctions.id} < ${after.id}::uuid` : undefined),
    )
    .orderBy(desc(auctions.id))
    .limit(page.limit + 1);
  const items = rows.slice(0, page.limit);
  const last = items.at(-1);
  return {
    items: items.map((r) => sellerView(r.auction, r.title)),
    nextCursor: rows.length > page.limit && last ? encodeCursor({ id: last.auction.id }) : null,
  };
}

export interface SellerAuctionDetail extends SellerAuction {
  /** Once ended: every bidder by best maximum, for choosing a second-chance offer. */
  bidders: Array<RankedBidder & { offered: boolean }>;
  offers: Array<{
    id: string;
    bidderId: string;
    priceMinor: number;
    status: string;
    expiresAt: string;
    orderId: string | null;
  }>;
}

/** One auction for its shop's team: terms, outcome, and (once ended) the bidders and offers. */
export async function getShopAuction(
  ctx: ServiceContext,
  userId: string,
  auctionId: string,
): Promise<SellerAuctionDetail> {
  const [row] = await ctx.db
    .select({ auction: auctions, title: products.title })
    .from(auctions)
    .innerJoin(products, eq(products.id, auctions.productId))
    .where(eq(auctions.id, auctionId));
  if (!row) throw new NotFound("auction", auctionId);
  await requireShopPermission(ctx.db, row.auction.shopId, userId, "catalog.read");
  const offers = await ctx.db
    .select()
    .from(secondChanceOffers)
    .where(eq(secondChanceOffers.auctionId, auctionId))
    .orderBy(asc(secondChanceOffers.id));
  const offered = new Set(offers.map((o) => o.bidderId));
  const ended = row.auction.closedAt !== null;
  const ranked = ended ? await roomOf(ctx.rooms, auctionId).rankedBidders() : [];
  return {
    ...sellerView(row.auction, row.title),
    bidders: ranked.map((b) => ({ ...b, offered: offered.has(b.bidderId) })),
    offers: offers.map((o) => ({
      id: o.id,
      bidderId: o.bidderId,
      priceMinor: o.priceMinor,
      status: o.status,
      expiresAt: o.expiresAt.toISOString(),
      orderId: o.orderId,
    })),
  };
}
