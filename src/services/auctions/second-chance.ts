import { and, eq, inArray, isNotNull, lte, notInArray, sql } from "drizzle-orm";
import { z } from "zod";
import { createAuctionOrder } from "../../../durable-objects/auction-room/orders.ts";
import type { RankedBidder } from "../../../durable-objects/auction-room/types.ts";
import { roomOf } from "../../../durable-objects/auction-room.ts";
import {
  type Actor,
  type AuditEntry,
  type AuditRecorder,
  recordAudits,
  withAudit,
} from "../../db/audit.ts";
import type { Database, Queryable, Tx } from "../../db/client.ts";
import {
  type Auction,
  auctions,
  type SecondChanceOffer,
  secondChanceOffers,
} from "../../db/schema/auctions.ts";
import { products } from "../../db/schema/catalog.ts";
import { orders } from "../../db/schema/orders.ts";
import { users } from "../../db/schema/users.ts";
import { formatMoney } from "../../lib/currencies.ts";
import { uuidv7 } from "../../lib/ids.ts";
import { parseOr422 } from "../../lib/input.ts";
import type { ServiceContext } from "../context.ts";
import { isUniqueViolation } from "../context.ts";
import { Conflict, Forbidden, NotFound } from "../errors.ts";
import { type NotificationQueue, notifyAfterCommit } from "../notifications/notify.ts";
import { requireShopPermission } from "../shops/access.ts";

/** eBay's second-chance offers stay open this long. */
export const SECOND_CHANCE_TTL_MS = 48 * 60 * 60 * 1000;

/** Orders that still hold the item: only when none is live may it be offered to someone else. */
const ENDED_UNPAID = ["expired", "cancelled", "refunded"] as const;

export const secondChanceInput = z.object({
  /** A bidder's user id, or `top`: the highest bidder not yet offered or ruled out. */
  bidderId: z.union([z.uuid(), z.literal("top")]).default("top"),
});
export type SecondChanceInput = z.input<typeof secondChanceInput>;

export interface OfferView {
  id: string;
  auctionId: string;
  bidderId: string;
  priceMinor: number;
  currency: string;
  status: SecondChanceOffer["status"];
  expiresAt: string;
  orderId: string | null;
  offeredBy: string;
  createdAt: string;
}

export function offerView(o: SecondChanceOffer): OfferView {
  return {
    id: o.id,
    auctionId: o.auctionId,
    bidderId: o.bidderId,
    priceMinor: o.priceMinor,
    currency: o.currency,
    status: o.status,
    expiresAt: o.expiresAt.toISOString(),
    orderId: o.orderId,
    offeredBy: o.offeredBy,
    createdAt: o.createdAt.toISOString(),
  };
}

/** True when the auction has an order that still holds the item (unpaid, paid, shipped …). */
async function hasLiveOrder(db: Queryable, auctionId: string): Promise<boolean> {
  const [row] = await db
    .select({ id: orders.id })
    .from(orders)
    .where(and(eq(orders.auctionId, auctionId), notInArray(orders.status, [...ENDED_UNPAID])))
    .limit(1);
  return row !== undefined;
}

/**
 * Who may be offered next: the object's bidders by best maximum, minus the winner, anyone
 * already offered this auction, anyone blocked, and `exclude`.
 */
export async function nextCandidates(
  db: Queryable,
  ranked: RankedBidder[],
  auction: Pick<Auction, "id" | "winnerId">,
  exclude: string[] = [],
): Promise<RankedBidder[]> {
  if (ranked.length === 0) return [];
  const offered = await db
    .select({ bidderId: secondChanceOffers.bidderId })
    .from(secondChanceOffers)
    .where(eq(secondChanceOffers.auctionId, auction.id));
  const blocked = await db
    .select({ id: users.id })
    .from(users)
    .where(
      and(
        inArray(
          users.id,
          ranked.map((r) => r.bidderId),
        ),
        isNotNull(users.blockedAt),
      ),
    );
  const out = new Set<string>([
    ...exclude,
    ...offered.map((o) => o.bidderId),
    ...blocked.map((b) => b.id),
    ...(auction.winnerId ? [auction.winnerId] : []),
  ]);
  return ranked.filter((r) => !out.has(r.bidderId));
}

/**
 * Writes an offer (at the bidder's own maximum, 48 h) inside the caller's transaction, with its
 * audit row. Null when the auction already has an open offer or this bidder had one (unique
 * keys), or when the unpaid order already led to one (`sourceOrderId`).
 */
export async function insertOffer(
  tx: Tx,
  audit: AuditRecorder,
  o: {
    auction: Pick<Auction, "id" | "currency">;
    bidder: RankedBidder;
    offeredBy: "seller" | "system";
    sourceOrderId: string | null;
    now: number;
  },
): Promise<SecondChanceOffer | null> {
  const [offer] = await tx
    .insert(secondChanceOffers)
    .values({
      id: uuidv7(o.now),
      auctionId: o.auction.id,
      bidderId: o.bidder.bidderId,
      priceMinor: o.bidder.maxMinor,
      currency: o.auction.currency,
      status: "offered",
      expiresAt: new Date(o.now + SECOND_CHANCE_TTL_MS),
      offeredBy: o.offeredBy,
      sourceOrderId: o.sourceOrderId,
    })
    .onConflictDoNothing()
    .returning();
  if (!offer) return null;
  await audit.record({
    action: "auction.second_chance_offered",
    entityType: "auction",
    entityId: o.auction.id,
    newValue: {
      offerId: offer.id,
      bidderId: offer.bidderId,
      priceMinor: offer.priceMinor,
      expiresAt: offer.expiresAt.toISOString(),
      offeredBy: o.offeredBy,
      sourceOrderId: o.sourceOrderId,
    },
  });
  return offer;
}

/** Tells the bidder about their offer (after the commit; a queue hiccup is logged). */
export async function notifyOffer(
  ctx: { queue: NotificationQueue; logger: ServiceContext["logger"] },
  offer: SecondChanceOffer,
  title: string,
): Promise<void> {
  const price = formatMoney(offer.priceMinor, offer.currency);
  await notifyAfterCommit(ctx.queue, ctx.logger, {
    userId: offer.bidderId,
    kind: "auction.second_chance",
    title: `Second chance: ${title}`,
    body:
      `The seller offers you "${title}" at your maximum bid, ${price}. The offer is open until ` +
      `${offer.expiresAt.toISOString()}: POST /v1/auctions/${offer.auctionId}/second-chance/accept.`,
    data: { auctionId: offer.auctionId, offerId: offer.id, priceMinor: offer.priceMinor },
    dedupeKey: `auction.second_chance:${offer.id}`,
  });
}

/**
 * The seller (catalog.write) offers the item to a losing bidder at that bidder's own maximum,
 * valid 48 h. Allowed once the auction has ended with nobody holding the item: unsold (reserve
 * not met), or its winner's order expired unpaid or was cancelled. One open offer at a time;
 * each bidder at most once. `top` picks the highest eligible bidder.
 */
export async function offerSecondChance(
  ctx: ServiceContext,
  userId: string,
  auctionId: string,
  raw: SecondChanceInput,
): Promise<OfferView> {
  const input = parseOr422(secondChanceInput, raw);
  const [row] = await ctx.db
    .select({ auction: auctions, title: products.title })
    .from(auctions)
    .innerJoin(products, eq(products.id, auctions.productId))
    .where(eq(auctions.id, auctionId));
  if (!row) throw new NotFound("auction", auctionId);
  const { auction, title } = row;
  await requireShopPermission(ctx.db, auction.shopId, userId, "catalog.write");
  if (auction.closedAt === null) {
    throw new Conflict("The auction has not ended (or its result is still being recorded).", {
      reason: "not_ended",
    });
  }
  if (auction.status === "cancelled") {
    throw new Conflict("A cancelled auction has no bidders to offer.", { reason: "cancelled" });
  }
  if (await hasLiveOrder(ctx.db, auctionId)) {
    throw new Conflict("The item is still held by an order for this auction.", {
      reason: "order_live",
    });
  }
  const ranked = await roomOf(ctx.rooms, auctionId).rankedBidders();
  const candidates = await nextCandidates(ctx.db, ranked, auction);
  const bidder =
    input.bidderId === "top"
      ? candidates[0]
      : candidates.find((c) => c.bidderId === input.bidderId);
  if (!bidder) {
    if (input.bidderId !== "top" && !ranked.some((r) => r.bidderId === input.bidderId)) {
      throw new NotFound("bidder of this auction", input.bidderId);
    }
    throw new Conflict(
      input.bidderId === "top"
        ? "No bidder is left to offer: each was offered already, won, or is blocked."
        : "This bidder cannot be offered: already offered, the winner, or blocked.",
      { reason: "no_candidate" },
    );
  }
  let offer: SecondChanceOffer | null;
  try {
    offer = await withAudit(ctx.db, ctx.actor, async (tx, audit) => {
      // Serialized with accepts and the unpaid cron on the auction row.
      await tx
        .select({ id: auctions.id })
        .from(auctions)
        .where(eq(auctions.id, auctionId))
        .for("update");
      if (await hasLiveOrder(tx, auctionId)) throw new NoOffer();
      const made = await insertOffer(tx, audit, {
        auction,
        bidder,
        offeredBy: "seller",
        sourceOrderId: null,
        now: Date.now(),
      });
      if (!made) throw new NoOffer(); // rolls back; nothing was written
      return made;
    });
  } catch (err) {
    if (err instanceof NoOffer || isUniqueViolation(err)) offer = null;
    else throw err;
  }
  if (!offer) {
    throw new Conflict("An offer for this auction is already open, or the item is held again.", {
      reason: "offer_open",
    });
  }
  await notifyOffer(ctx, offer, title);
  return offerView(offer);
}

/** Inside a transaction: nothing to offer after all (an open offer exists, or an order). */
class NoOffer extends Error {}

export interface AcceptedOffer {
  offer: OfferView;
  order: {
    id: string;
    status: "pending_payment";
    currency: string;
    totalMinor: number;
    paymentDeadline: string;
  };
}

/**
 * The bidder takes their open offer: an order at the offered price (pending payment, with the
 * auction payment deadline), in one transaction with the offer's acceptance and audit rows. An
 * expired offer is marked so (committed) and refused (409); a blocked bidder gets 403. The route
 * requires an Idempotency-Key; a repeat after success finds no open offer (404) rather than
 * making a second order, and `(auction, buyer)` is unique on orders besides.
 */
export async function acceptSecondChance(
  ctx: ServiceContext,
  auctionId: string,
  bidderId: string,
): Promise<AcceptedOffer> {
  const outcome = await withAudit(ctx.db, ctx.actor, async (tx, audit) => {
    const [auction] = await tx
      .select()
      .from(auctions)
      .where(eq(auctions.id, auctionId))
      .for("update");
    const [offer] = await tx
      .select()
      .from(secondChanceOffers)
      .where(
        and(
          eq(secondChanceOffers.auctionId, auctionId),
          eq(secondChanceOffers.bidderId, bidderId),
          eq(secondChanceOffers.status, "offered"),
        ),
      )
      .for("update");
    if (!auction || !offer) throw new NotFound("open second-chance offer for this auction");
    const now = Date.now();
    if (offer.expiresAt.getTime() <= now) {
      await tx
        .update(secondChanceOffers)
        .set({ status: "expired", decidedAt: new Date(now) })
        .where(eq(secondChanceOffers.id, offer.id));
      await audit.record(expiryAudit(offer));
      return { expired: true as const };
    }
    const [me] = await tx
      .select({ blockedAt: users.blockedAt })
      .from(users)
      .where(eq(users.id, bidderId));
    if (me?.blockedAt) throw new Forbidden("This account is blocked: it cannot buy.");
    if (await hasLiveOrder(tx, auctionId)) {
      throw new Conflict("The item is held by another order.", { reason: "order_live" });
    }
    const deadline = new Date(now + ctx.config.AUCTION_PAYMENT_DEADLINE_HOURS * 3_600_000);
    const { order } = await createAuctionOrder(tx, ctx.actor, {
      orderId: uuidv7(now),
      auctionId,
      buyerId: bidderId,
      shopId: auction.shopId,
      productId: auction.productId,
      priceMinor: offer.priceMinor,
      currency: offer.currency,
      paymentDeadline: deadline,
      via: "second_chance",
      platformFeeBps: ctx.config.PLATFORM_FEE_BPS,
    });
    const [updated] = await tx
      .update(secondChanceOffers)
      .set({ status: "accepted", orderId: order.id, decidedAt: new Date(now) })
      .where(eq(secondChanceOffers.id, offer.id))
      .returning();
    if (!updated) throw new Error("offer vanished under its lock");
    await audit.record({
      action: "auction.second_chance_accepted",
      entityType: "auction",
      entityId: auctionId,
      oldValue: { offerId: offer.id, status: "offered" },
      newValue: { offerId: offer.id, status: "accepted", orderId: order.id },
    });
    return {
      expired: false as const,
      offer: updated,
      orderId: order.id,
      totalMinor: order.totalMinor,
      deadline,
    };
  });
  if (outcome.expired) {
    throw new Conflict("This second-chance offer has expired.", { reason: "offer_expired" });
  }
  return {
    offer: offerView(outcome.offer),
    order: {
      id: outcome.orderId,
      status: "pending_payment",
      currency: outcome.offer.currency,
      totalMinor: outcome.totalMinor,
      paymentDeadline: outcome.deadline.toISOString(),
    },
  };
}

/** The bidder turns their open offer down; the seller may then offer the next bidder. */
export async function declineSecondChance(
  ctx: ServiceContext,
  auctionId: string,
  bidderId: string,
): Promise<OfferView> {
  const offer = await withAudit(ctx.db, ctx.actor, async (tx, audit) => {
    const [updated] = await tx
      .update(secondChanceOffers)
      .set({ status: "declined", decidedAt: new Date() })
      .where(
        and(
          eq(secondChanceOffers.auctionId, auctionId),
          eq(secondChanceOffers.bidderId, bidderId),
          eq(secondChanceOffers.status, "offered"),
        ),
      )
      .returning();
    if (!updated) throw new NotFound("open second-chance offer for this auction");
    await audit.record({
      action: "auction.second_chance_declined",
      entityType: "auction",
      entityId: auctionId,
      oldValue: { offerId: updated.id, status: "offered" },
      newValue: { offerId: updated.id, status: "declined" },
    });
    return updated;
  });
  return offerView(offer);
}

function expiryAudit(offer: SecondChanceOffer): AuditEntry {
  return {
    action: "auction.second_chance_expired",
    entityType: "auction",
    entityId: offer.auctionId,
    oldValue: { offerId: offer.id, status: "offered" },
    newValue: { offerId: offer.id, status: "expired", bidderId: offer.bidderId },
  };
}

/**
 * Marks offers past their 48 h expired (the cron), each with its audit row, in one statement:
 * two runs at once expire (and audit) each offer once. Returns how many.
 */
export async function expireDueOffers(db: Database, actor: Actor, limit = 200): Promise<number> {
  return withAudit(db, actor, async (tx) => {
    const due = tx
      .select({ id: secondChanceOffers.id })
      .from(secondChanceOffers)
      .where(
        and(
          eq(secondChanceOffers.status, "offered"),
          lte(secondChanceOffers.expiresAt, sql`now()`),
        ),
      )
      .limit(limit);
    const expired = await tx
      .update(secondChanceOffers)
      .set({ status: "expired", decidedAt: new Date() })
      .where(and(inArray(secondChanceOffers.id, due), eq(secondChanceOffers.status, "offered")))
      .returning();
    await recordAudits(
      tx,
      expired.map((o) => ({ actor, entry: expiryAudit(o) })),
    );
    return expired.length;
  });
}
