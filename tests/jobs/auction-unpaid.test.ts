import {
  createExecutionContext,
  createScheduledController,
  waitOnExecutionContext,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { and, eq, like } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import {
  auditLog,
  checkouts,
  notifications,
  orders,
  secondChanceOffers,
  userStrikes,
  users,
} from "../../src/db/schema/index.ts";
import worker from "../../src/index.ts";
import { uuidv7 } from "../../src/lib/ids.ts";
import { auctionRow, type Bidder, freshAuction, seedBidders } from "../helpers/auctions.ts";
import { withDb } from "../helpers/db.ts";
import { eventually, sleep } from "../helpers/eventually.ts";
import { api, type Problem } from "../helpers/http.ts";
import { createAdmin } from "../helpers/shops.ts";

async function runCron(cron: string): Promise<void> {
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ cron, scheduledTime: new Date() }), env, ctx);
  await waitOnExecutionContext(ctx);
}

/** An auction that ended with `bids` (in order), its result in Postgres: the winner's order. */
async function endedAuction(bids: Array<[Bidder, number]>) {
  const { setup, auction } = await freshAuction({
    startPriceMinor: 1000,
    endsInMs: 6_000,
    softCloseSeconds: 0,
  });
  for (const [bidder, maxMinor] of bids) {
    const r = await auction.stub.placeBid({ auctionId: auction.id, bidderId: bidder.id, maxMinor });
    if (!r.ok) throw new Error(`bid refused: ${r.code}`);
  }
  return { setup, auction };
}

async function settle(auctionId: string, stub: { closeIfDue: () => Promise<unknown> }) {
  const end = Date.parse((await auctionRow(auctionId))?.currentEndsAt.toISOString() ?? "");
  await sleep(Math.max(0, end - Date.now() + 50));
  await stub.closeIfDue();
  const row = await eventually(async () => {
    const r = await auctionRow(auctionId);
    return r?.closedAt && r.orderId ? r : undefined;
  });
  return { orderId: row.orderId ?? "" };
}

/** As if the payment deadline passed: the order's deadline is moved into the past. */
async function pastDeadline(orderId: string) {
  await withDb((db) =>
    db
      .update(orders)
      .set({ paymentDeadline: new Date(Date.now() - 60_000) })
      .where(eq(orders.id, orderId)),
  );
}

const strikesOf = (userId: string) =>
  withDb((db) => db.select().from(userStrikes).where(eq(userStrikes.userId, userId)));

describe("unpaid auction orders (the */5 cron)", () => {
  it("expires the order once, records one strike and offers the next bidder once, however often the cron runs", async () => {
    const [winner, second, third] = await seedBidders(3);
    if (!winner || !second || !third) throw new Error("bidders");
    const { setup, auction } = await endedAuction([
      [third, 2000],
      [winner, 3000],
      [second, 2500],
    ]);
    const { orderId } = await settle(auction.id, auction.stub);
    await pastDeadline(orderId);

    await Promise.all([runCron("*/5 * * * *"), runCron("*/5 * * * *")]);
    await runCron("*/5 * * * *");

    const [order] = await withDb((db) => db.select().from(orders).where(eq(orders.id, orderId)));
    expect(order?.status).toBe("expired");
    const expiredAudits = await withDb((db) =>
      db
        .select()
        .from(auditLog)
        .where(and(eq(auditLog.entityId, orderId), eq(auditLog.action, "order.expired"))),
    );
    expect(expiredAudits).toHaveLength(1);
    expect(await strikesOf(winner.id)).toEqual([
      expect.objectContaining({ orderId, auctionId: auction.id, reason: "unpaid_auction_order" }),
    ]);
    const [w] = await withDb((db) => db.select().from(users).where(eq(users.id, winner.id)));
    expect(w?.blockedAt).toBeNull();

    const offers = await withDb((db) =>
      db.select().from(secondChanceOffers).where(eq(secondChanceOffers.auctionId, auction.id)),
    );
    expect(offers).toHaveLength(1);
    const offer = offers[0];
    expect(offer).toMatchObject({
      bidderId: second.id,
      priceMinor: 2500,
      status: "offered",
      offeredBy: "system",
      sourceOrderId: orderId,
    });
    const ttl = (offer?.expiresAt.getTime() ?? 0) - Date.now();
    expect(ttl).toBeGreaterThan(47 * 3_600_000);
    expect(ttl).toBeLessThanOrEqual(48 * 3_600_000);
    await eventually(async () => {
      const rows = await withDb((db) =>
        db
          .select()
          .from(notifications)
          .where(
            and(
              eq(notifications.userId, second.id),
              like(notifications.dedupeKey, "auction.second_chance:%"),
            ),
          ),
      );
      return rows.length === 1 ? true : undefined;
    });

    // The offered bidder accepts (Idempotency-Key): one order at their own maximum.
    const path = `/v1/auctions/${auction.id}/second-chance/accept`;
    const headers = { "idempotency-key": `accept-${orderId}` };
    const accepted = await api<{ order: { id: string; totalMinor: number; status: string } }>(
      "POST",
      path,
      { token: second.token, headers },
    );
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(201);
    expect(accepted.body.order).toMatchObject({ totalMinor: 2500, status: "pending_payment" });
    const replay = await api("POST", path, { token: second.token, headers });
    expect(replay.status).toBe(201);
    expect(replay.body).toEqual(accepted.body);
    const noOffer = await api<Problem>("POST", path, {
      token: third.token,
      headers: { "idempotency-key": "x" },
    });
    expect(noOffer.status).toBe(404);
    const live = await withDb((db) =>
      db
        .select()
        .from(orders)
        .where(and(eq(orders.auctionId, auction.id), eq(orders.status, "pending_payment"))),
    );
    expect(live.map((o) => [o.id, o.buyerId, o.totalMinor])).toEqual([
      [accepted.body.order.id, second.id, 2500],
    ]);
    // The seller cannot offer anyone else while that order holds the item.
    const more = await api<Problem & { reason: string }>(
      "POST",
      `/v1/seller/auctions/${auction.id}/second-chance`,
      { token: setup.shop.owner.accessToken, body: { bidderId: "top" } },
    );
    expect(more.status).toBe(409);
    expect(more.body.reason).toBe("order_live");
  });

  it("expires the order and records the strike when Stripe no longer knows its PaymentIntent", async () => {
    const [winner] = await seedBidders(1);
    if (!winner) throw new Error("bidders");
    const { auction } = await endedAuction([[winner, 2000]]);
    const { orderId } = await settle(auction.id, auction.stub);
    // The winner started paying, then the intent vanished from Stripe (keys rotated, account
    // changed): retrieving it answers resource_missing.
    const checkoutId = uuidv7();
    await withDb(async (db) => {
      await db.insert(checkouts).values({
        id: checkoutId,
        buyerId: winner.id,
        currency: "EUR",
        amountMinor: 2000,
        platformFeeMinor: 40,
        paymentIntentId: `pi_gone_${checkoutId.replaceAll("-", "")}`,
        transferGroup: `checkout_${checkoutId}`,
        paymentDeadline: new Date(Date.now() - 60_000),
      });
      await db.update(orders).set({ checkoutId }).where(eq(orders.id, orderId));
    });
    await pastDeadline(orderId);

    await runCron("*/5 * * * *");

    const [order] = await withDb((db) => db.select().from(orders).where(eq(orders.id, orderId)));
    expect(order?.status).toBe("expired");
    expect(await strikesOf(winner.id)).toEqual([expect.objectContaining({ orderId })]);
    const [checkout] = await withDb((db) =>
      db.select().from(checkouts).where(eq(checkouts.id, checkoutId)),
    );
    expect(checkout?.status).toBe("expired");
  });

  it("leaves a flagged order to its admin: no expiry, no strike", async () => {
    const [winner] = await seedBidders(1);
    if (!winner) throw new Error("bidders");
    const { auction } = await endedAuction([[winner, 2000]]);
    const { orderId } = await settle(auction.id, auction.stub);
    // As a payment whose amount disagreed with the order leaves it.
    await withDb((db) =>
      db
        .update(orders)
        .set({ flagged: true, flagReason: "payment mismatch" })
        .where(eq(orders.id, orderId)),
    );
    await pastDeadline(orderId);

    await runCron("*/5 * * * *");

    const [order] = await withDb((db) => db.select().from(orders).where(eq(orders.id, orderId)));
    expect(order?.status).toBe("pending_payment");
    expect(await strikesOf(winner.id)).toEqual([]);
  });

  it("blocks a second strike within 12 months from bidding (403) until an admin lifts it", async () => {
    const [winner, other] = await seedBidders(2);
    if (!winner || !other) throw new Error("bidders");
    const [one, two] = await Promise.all([
      endedAuction([
        [winner, 2000],
        [other, 1500],
      ]),
      endedAuction([[winner, 2000]]),
    ]);
    if (!one || !two) throw new Error("auctions");
    const settled = await Promise.all([
      settle(one.auction.id, one.auction.stub),
      settle(two.auction.id, two.auction.stub),
    ]);
    for (const s of settled) await pastDeadline(s.orderId);
    await runCron("*/5 * * * *");
    await runCron("*/5 * * * *");

    expect(await strikesOf(winner.id)).toHaveLength(2);
    const [w] = await withDb((db) => db.select().from(users).where(eq(users.id, winner.id)));
    expect(w?.blockedAt).not.toBeNull();
    expect(w?.blockedReason).toBe("two unpaid auction wins within 12 months");

    const { auction: third } = await freshAuction({ startPriceMinor: 1000 });
    const bid = () =>
      api<Problem>("POST", `/v1/auctions/${third.id}/bids`, {
        token: winner.token,
        body: { maxMinor: 5000 },
      });
    expect((await bid()).status).toBe(403);

    const admin = await createAdmin();
    const seen = await api<{ blocked: boolean; strikes: unknown[]; strikesWithinYear: number }>(
      "GET",
      `/v1/admin/users/${winner.id}`,
      { token: admin.accessToken },
    );
    expect(seen.status).toBe(200);
    expect(seen.body).toMatchObject({ blocked: true, strikesWithinYear: 2 });
    expect(seen.body.strikes).toHaveLength(2);
    expect((await api("GET", `/v1/admin/users/${winner.id}`, { token: other.token })).status).toBe(
      403,
    );

    const lifted = await api<{ blocked: boolean }>("POST", `/v1/admin/users/${winner.id}/unblock`, {
      token: admin.accessToken,
      body: { reason: "paid the seller directly" },
    });
    expect(lifted.status).toBe(200);
    expect(lifted.body.blocked).toBe(false);
    expect((await bid()).status).toBe(201);
    const again = await api<Problem>("POST", `/v1/admin/users/${winner.id}/unblock`, {
      token: admin.accessToken,
      body: {},
    });
    expect(again.status).toBe(409);

    const blocked = await api<{ blocked: boolean }>("POST", `/v1/admin/users/${winner.id}/block`, {
      token: admin.accessToken,
      body: { reason: "abusive bidding" },
    });
    expect(blocked.status).toBe(200);
    expect((await bid()).status).toBe(403);
    const bad = await api<Problem>("POST", `/v1/admin/users/${winner.id}/block`, {
      token: admin.accessToken,
      body: {},
    });
    expect(bad.status).toBe(422);
    expect(bad.body.errors?.[0]?.field).toBe("reason");
    const audits = await withDb((db) =>
      db
        .select({ action: auditLog.action, actorId: auditLog.actorId })
        .from(auditLog)
        .where(and(eq(auditLog.entityId, winner.id), like(auditLog.action, "user.%"))),
    );
    expect(audits.map((a) => a.action).sort()).toEqual(
      [
        "user.blocked",
        "user.blocked",
        "user.strike_recorded",
        "user.strike_recorded",
        "user.unblocked",
      ].sort(),
    );
    expect(
      audits
        .filter((a) => a.actorId === admin.id)
        .map((a) => a.action)
        .sort(),
    ).toEqual(["user.blocked", "user.unblocked"]);
  });
});
