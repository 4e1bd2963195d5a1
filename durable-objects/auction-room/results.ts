/**
 * What an auction's result does outside the room, carried there by its outbox (outbox.ts): the
 * Postgres writes (order, final columns, audit) and the notices put on the `notifications`
 * queue. Services that need the same rules (the payment deadline) import them from here, so the
 * room never imports a service.
 */
import { eq, inArray } from "drizzle-orm";
import { type Actor, recordAudit } from "../../src/db/audit.ts";
import type { Database, Tx } from "../../src/db/client.ts";
import { auctions } from "../../src/db/schema/auctions.ts";
import { products } from "../../src/db/schema/catalog.ts";
import { shops } from "../../src/db/schema/shops.ts";
import { users } from "../../src/db/schema/users.ts";
import { formatMoney } from "../../src/lib/currencies.ts";
import type { Logger } from "../../src/lib/logger.ts";
import { createAuctionOrder } from "./orders.ts";
import type { AuctionResult } from "./types.ts";

/**
 * A message of the `notifications` queue, as the room builds it. The queue's consumer validates
 * every message against its schema (src/services/notifications/message.ts); the room only
 * produces this subset of it.
 */
export interface ResultNotice {
  userId: string;
  kind: string;
  title: string;
  body: string;
  data: Record<string, unknown>;
  dedupeKey: string;
  email?: { to: string; subject: string; text: string };
}

/** The queue binding, as far as the room uses it. */
export interface NoticeQueue {
  send(body: ResultNotice): Promise<unknown>;
  sendBatch?: (messages: Array<{ body: ResultNotice }>) => Promise<unknown>;
}

const SYSTEM: Actor = { type: "system", id: null, requestId: "auction-room" };

/** The winner's payment deadline: from the close, so a late mirror never lengthens it. */
export function paymentDeadlineOf(result: AuctionResult, deadlineHours: number): Date {
  return new Date(Date.parse(result.closedAt) + deadlineHours * 60 * 60 * 1000);
}

/**
 * Applies an auction's one result to Postgres inside the caller's transaction: the winner's
 * order (pending payment, with the deadline), the auction row's final columns, and the audit
 * rows. Exactly once: the auction row is locked and a row already closed is left alone, and the
 * order id was minted by the object, so a retry after a lost acknowledgement changes nothing.
 * Returns whether this call applied it.
 */
export async function applyAuctionResult(
  tx: Tx,
  result: AuctionResult,
  opts: { deadlineHours: number; platformFeeBps: number },
): Promise<boolean> {
  const [row] = await tx
    .select({ closedAt: auctions.closedAt, status: auctions.status })
    .from(auctions)
    .where(eq(auctions.id, result.auctionId))
    .for("update");
  if (!row) throw new Error(`auction ${result.auctionId} has no Postgres row`);
  if (row.closedAt !== null) return false;

  if (result.winnerId !== null && result.orderId !== null) {
    await createAuctionOrder(tx, SYSTEM, {
      orderId: result.orderId,
      auctionId: result.auctionId,
      buyerId: result.winnerId,
      shopId: result.shopId,
      productId: result.productId,
      priceMinor: result.priceMinor,
      currency: result.currency,
      paymentDeadline: paymentDeadlineOf(result, opts.deadlineHours),
      via: result.status === "bought_now" ? "buy_now" : "win",
      platformFeeBps: opts.platformFeeBps,
    });
  }
  const closedAt = new Date(result.closedAt);
  await tx
    .update(auctions)
    .set({
      status: result.status,
      priceMinor: result.priceMinor,
      winnerId: result.winnerId,
      orderId: result.orderId,
      reserveMet: result.reserveMet,
      closedAt,
      updatedAt: new Date(),
    })
    .where(eq(auctions.id, result.auctionId));
  const actor: Actor = result.actorId
    ? { type: "user", id: result.actorId, requestId: "auction-room" }
    : SYSTEM;
  await recordAudit(tx, actor, {
    action: `auction.${result.status}`,
    entityType: "auction",
    entityId: result.auctionId,
    oldValue: { status: row.status },
    newValue: {
      status: result.status,
      priceMinor: result.priceMinor,
      winnerId: result.winnerId,
      orderId: result.orderId,
      reserveMet: result.reserveMet,
      bidCount: result.bidCount,
      closedBy: result.closedBy,
      closedAt: result.closedAt,
      reason: result.reason,
    },
  });
  return true;
}

const money = formatMoney;

/**
 * The notices of a result: the winner (with the deadline and how to pay), the seller, and every
 * other bidder. Each dedupe key is `auction.<kind>:<auction>:<user>`, so however often a result is
 * sent (the outbox retries until acknowledged), each person is told once.
 */
export async function resultNotifications(
  db: Database,
  result: AuctionResult,
  deadlineHours: number,
): Promise<ResultNotice[]> {
  const [ctx] = await db
    .select({ title: products.title, ownerId: shops.ownerId })
    .from(products)
    .innerJoin(shops, eq(shops.id, products.shopId))
    .where(eq(products.id, result.productId));
  if (!ctx) return [];
  const people = [result.winnerId, ctx.ownerId].filter((x): x is string => x !== null);
  const emails = new Map(
    (
      await db
        .select({ id: users.id, email: users.email })
        .from(users)
        .where(inArray(users.id, people))
    ).map((u) => [u.id, u.email]),
  );
  const price = money(result.priceMinor, result.currency);
  const data = { auctionId: result.auctionId, status: result.status, orderId: result.orderId };
  const key = (kind: string, userId: string) => `auction.${kind}:${result.auctionId}:${userId}`;
  const out: ResultNotice[] = [];
  const sold = result.status === "ended_sold" || result.status === "bought_now";

  if (sold && result.winnerId !== null) {
    const deadline = paymentDeadlineOf(result, deadlineHours).toISOString();
    const body =
      `You won "${ctx.title}" at ${price}. Pay by ${deadline} (POST /v1/orders/${result.orderId}/pay); ` +
      "an unpaid win counts as a strike, and two strikes in 12 months block bidding and buying.";
    const email = emails.get(result.winnerId);
    out.push({
      userId: result.winnerId,
      kind: "auction.won",
      title: `You won: ${ctx.title}`,
      body,
      data,
      dedupeKey: key("won", result.winnerId),
      ...(email ? { email: { to: email, subject: `You won: ${ctx.title}`, text: body } } : {}),
    });
  }
  if (result.status !== "cancelled") {
    const body = sold
      ? `"${ctx.title}" sold at ${price}${result.status === "bought_now" ? " (buy-now)" : ""}; the buyer has been asked to pay.`
      : result.bidCount === 0
        ? `"${ctx.title}" ended without bids.`
        : `"${ctx.title}" ended with the reserve not met (highest bid ${price}). You may make a second-chance offer.`;
    const email = emails.get(ctx.ownerId);
    const kind = sold ? "sold" : "unsold";
    out.push({
      userId: ctx.ownerId,
      kind: `auction.${kind}`,
      title: sold ? `Sold: ${ctx.title}` : `Not sold: ${ctx.title}`,
      body,
      data,
      dedupeKey: key(kind, ctx.ownerId),
      ...(email
        ? { email: { to: email, subject: `Auction ended: ${ctx.title}`, text: body } }
        : {}),
    });
  }
  for (const bidderId of result.bidderIds) {
    if (bidderId === result.winnerId) continue;
    const kind = sold ? "lost" : "reserve_not_met";
    out.push({
      userId: bidderId,
      kind: `auction.${kind}`,
      title: sold ? `Outbid: ${ctx.title}` : `Reserve not met: ${ctx.title}`,
      body: sold
        ? `"${ctx.title}" went to another bidder at ${price}.`
        : `"${ctx.title}" ended without meeting the seller's reserve; nobody won.`,
      data,
      dedupeKey: key(kind, bidderId),
    });
  }
  return out;
}

/** Puts the notices on the queue in batches of 100 (the Queues limit). */
export async function sendNotifications(
  queue: NoticeQueue,
  messages: ResultNotice[],
  logger?: Logger,
): Promise<void> {
  for (let i = 0; i < messages.length; i += 100) {
    const chunk = messages.slice(i, i + 100);
    if (queue.sendBatch) await queue.sendBatch(chunk.map((body) => ({ body })));
    else for (const body of chunk) await queue.send(body);
  }
  logger?.debug("auction notices enqueued", { count: messages.length });
}
