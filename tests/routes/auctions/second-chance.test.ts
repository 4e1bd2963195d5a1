import {
  createExecutionContext,
  createScheduledController,
  waitOnExecutionContext,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { secondChanceOffers } from "../../../src/db/schema/index.ts";
import worker from "../../../src/index.ts";
import { auctionOrders, auctionRow, freshAuction, seedBidders } from "../../helpers/auctions.ts";
import { withDb } from "../../helpers/db.ts";
import { eventually, sleep } from "../../helpers/eventually.ts";
import { api, type Problem } from "../../helpers/http.ts";
import { registerUser } from "../../helpers/users.ts";

interface Offer {
  id: string;
  bidderId: string;
  priceMinor: number;
  status: string;
  offeredBy: string;
  code?: string;
  reason?: string;
}

describe("second-chance offers after an unsold auction", () => {
  it("offers the top bidder at their own maximum, one open offer at a time, then the next after a decline", async () => {
    const { setup, auction } = await freshAuction({
      startPriceMinor: 1000,
      reservePriceMinor: 50_000,
      endsInMs: 5_500,
      softCloseSeconds: 0,
    });
    const [a, b, c] = await seedBidders(3);
    if (!a || !b || !c) throw new Error("bidders");
    for (const [who, max] of [
      [c, 2000],
      [a, 4000],
      [b, 3000],
    ] as const) {
      const r = await api("POST", `/v1/auctions/${auction.id}/bids`, {
        token: who.token,
        body: { maxMinor: max },
      });
      expect(r.status).toBe(201);
    }
    const owner = setup.shop.owner.accessToken;
    const offer = (bidderId: string) =>
      api<Offer>("POST", `/v1/seller/auctions/${auction.id}/second-chance`, {
        token: owner,
        body: { bidderId },
      });
    // Not ended yet.
    expect((await offer("top")).body).toMatchObject({ reason: "not_ended" });

    await sleep(Date.parse(auction.endsAt) - Date.now() + 50);
    await auction.stub.closeIfDue();
    await eventually(async () => ((await auctionRow(auction.id))?.closedAt ? true : undefined));
    expect((await auctionRow(auction.id))?.status).toBe("ended_unsold");

    const stranger = await registerUser("seller");
    const foreign = await api("POST", `/v1/seller/auctions/${auction.id}/second-chance`, {
      token: stranger.accessToken,
      body: { bidderId: "top" },
    });
    expect(foreign.status).toBe(404);
    expect((await offer(crypto.randomUUID())).status).toBe(404);

    const top = await offer("top");
    expect(top.status, JSON.stringify(top.body)).toBe(201);
    expect(top.body).toMatchObject({
      bidderId: a.id,
      priceMinor: 4000,
      status: "offered",
      offeredBy: "seller",
    });
    const second = await offer(b.id);
    expect(second.status).toBe(409);

    const detail = await api<{
      bidders: Array<{ bidderId: string; maxMinor: number; offered: boolean }>;
    }>("GET", `/v1/seller/auctions/${auction.id}`, { token: owner });
    expect(detail.body.bidders.map((x) => [x.bidderId, x.maxMinor, x.offered])).toEqual([
      [a.id, 4000, true],
      [b.id, 3000, false],
      [c.id, 2000, false],
    ]);

    const declined = await api<Offer>("POST", `/v1/auctions/${auction.id}/second-chance/decline`, {
      token: a.token,
    });
    expect(declined.body.status).toBe("declined");
    expect((await offer(a.id)).status).toBe(409); // each bidder once
    const next = await offer(b.id);
    expect(next.status).toBe(201);
    expect(next.body).toMatchObject({ bidderId: b.id, priceMinor: 3000 });

    // The offer lapses after 48 h: the cron marks it expired and accepting is refused.
    await withDb((db) =>
      db
        .update(secondChanceOffers)
        .set({ expiresAt: new Date(Date.now() - 1_000) })
        .where(eq(secondChanceOffers.id, next.body.id)),
    );
    const late = await api<Problem & { reason: string }>(
      "POST",
      `/v1/auctions/${auction.id}/second-chance/accept`,
      { token: b.token, headers: { "idempotency-key": "late" } },
    );
    expect(late.status).toBe(409);
    expect(late.body.reason).toBe("offer_expired");
    const [row] = await withDb((db) =>
      db.select().from(secondChanceOffers).where(eq(secondChanceOffers.id, next.body.id)),
    );
    expect(row?.status).toBe("expired");
    expect(await auctionOrders(auction.id)).toHaveLength(0);

    // c is still eligible; their offer lapses unanswered and the cron marks it expired.
    const third = await offer("top");
    expect(third.body).toMatchObject({ bidderId: c.id, priceMinor: 2000 });
    await withDb((db) =>
      db
        .update(secondChanceOffers)
        .set({ expiresAt: new Date(Date.now() - 1_000) })
        .where(eq(secondChanceOffers.id, third.body.id)),
    );
    const ctx = createExecutionContext();
    await worker.scheduled(
      createScheduledController({ cron: "*/5 * * * *", scheduledTime: new Date() }),
      env,
      ctx,
    );
    await waitOnExecutionContext(ctx);
    const [lapsed] = await withDb((db) =>
      db.select().from(secondChanceOffers).where(eq(secondChanceOffers.id, third.body.id)),
    );
    expect(lapsed?.status).toBe("expired");
    const gone = await api("POST", `/v1/auctions/${auction.id}/second-chance/accept`, {
      token: c.token,
      headers: { "idempotency-key": "gone" },
    });
    expect(gone.status).toBe(404);
    const none = await offer("top");
    expect(none.status).toBe(409);
    expect(none.body.reason).toBe("no_candidate");
    expect(await auctionOrders(auction.id)).toHaveLength(0);
  });
});

describe("POST /v1/seller/auctions/{id}/cancel", () => {
  it("withdraws an auction without bids once; one with a bid cannot be cancelled", async () => {
    const { setup, auction } = await freshAuction();
    const owner = setup.shop.owner.accessToken;
    const cancel = (id: string) =>
      api<Problem & { status: string; reason?: string }>(
        "POST",
        `/v1/seller/auctions/${id}/cancel`,
        {
          token: owner,
          body: { reason: "item damaged" },
        },
      );
    const done = await cancel(auction.id);
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect(done.body.status).toBe("cancelled");
    expect((await cancel(auction.id)).status).toBe(200);
    const [bidder] = await seedBidders(1);
    if (!bidder) throw new Error("bidder");
    const bid = await api<Problem>("POST", `/v1/auctions/${auction.id}/bids`, {
      token: bidder.token,
      body: { maxMinor: 5000 },
    });
    expect(bid.body.code).toBe("AUCTION_CLOSED");

    const { setup: s2, auction: withBid } = await freshAuction();
    await api("POST", `/v1/auctions/${withBid.id}/bids`, {
      token: bidder.token,
      body: { maxMinor: 5000 },
    });
    const refused = await api<Problem & { reason: string }>(
      "POST",
      `/v1/seller/auctions/${withBid.id}/cancel`,
      { token: s2.shop.owner.accessToken, body: { reason: "changed my mind" } },
    );
    expect(refused.status).toBe(409);
    expect(refused.body.reason).toBe("has_bids");
  });
});
