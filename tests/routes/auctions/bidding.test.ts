import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { initialState, placeBid } from "../../../durable-objects/auction-room/proxy-bidding.ts";
import { shops, users } from "../../../src/db/schema/index.ts";
import { auctionOrders, freshAuction, openAuction, seedBidders } from "../../helpers/auctions.ts";
import { hasRedis } from "../../helpers/catalog.ts";
import { withDb } from "../../helpers/db.ts";
import { eventually } from "../../helpers/eventually.ts";
import { api, type Problem } from "../../helpers/http.ts";
import { seedMember } from "../../helpers/shops.ts";
import { registerUser } from "../../helpers/users.ts";

interface BidBody extends Problem {
  outcome: "leading" | "outbid";
  sequence: number;
  priceMinor: number;
  minimumNextBidMinor: number;
  minimumMinor: number;
  alias: string;
  leaderAlias: string;
}

const bid = (
  auctionId: string,
  token: string,
  maxMinor: unknown,
  headers?: Record<string, string>,
) =>
  api<BidBody>("POST", `/v1/auctions/${auctionId}/bids`, {
    token,
    body: { maxMinor },
    ...(headers ? { headers } : {}),
  });

describe("POST /v1/auctions/{id}/bids", () => {
  it("takes a race of 25 bidders through the API: one leader, gapless sequences, a replayable price", async () => {
    const { auction } = await freshAuction({ startPriceMinor: 500 });
    const bidders = await seedBidders(25);
    const maxes = bidders.map((_, i) => 500 + ((i * 37) % 25) * 75);
    const responses = await Promise.all(bidders.map((b, i) => bid(auction.id, b.token, maxes[i])));
    for (const r of responses) expect([201, 409]).toContain(r.status);
    const accepted = responses.filter((r) => r.status === 201);
    expect(
      responses.filter((r) => r.status === 409).every((r) => r.body.code === "BID_TOO_LOW"),
    ).toBe(true);
    expect(accepted.map((r) => r.body.sequence).sort((x, y) => x - y)).toEqual(
      accepted.map((_, i) => i + 1),
    );
    const ledger = await auction.stub.ledger();
    if (!ledger) throw new Error("no ledger");
    let state = initialState(ledger.terms);
    for (const b of ledger.bids) {
      const r = placeBid(state, ledger.terms, b.bidderId, b.maxMinor);
      if (!r.ok) throw new Error("replay refused a stored bid");
      state = r.state;
    }
    expect(state).toEqual(ledger.state);
    const detail = await api<{ priceMinor: number; bidCount: number; source: string }>(
      "GET",
      `/v1/auctions/${auction.id}`,
    );
    expect(detail.body).toMatchObject({
      priceMinor: state.priceMinor,
      bidCount: accepted.length,
      source: "object",
    });
  });

  it("refuses a bid under the next minimum with 409 BID_TOO_LOW naming it, and bad input with 422", async () => {
    const { auction } = await freshAuction({ startPriceMinor: 1000 });
    const [a, b] = await seedBidders(2);
    if (!a || !b) throw new Error("bidders");
    const low = await bid(auction.id, a.token, 999);
    expect(low.status).toBe(409);
    expect(low.body).toMatchObject({ code: "BID_TOO_LOW", minimumMinor: 1000 });
    const first = await bid(auction.id, a.token, 1000);
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({
      outcome: "leading",
      sequence: 1,
      priceMinor: 1000,
      minimumNextBidMinor: 1050,
      alias: "bidder-1",
    });

    for (const maxMinor of [10.5, "12", -1, null]) {
      const r = await bid(auction.id, b.token, maxMinor);
      expect(r.status).toBe(422);
      expect(r.body.errors?.[0]).toMatchObject({ field: "maxMinor", in: "body" });
    }
    const missing = await api<Problem>("POST", `/v1/auctions/${crypto.randomUUID()}/bids`, {
      token: b.token,
      body: { maxMinor: 5000 },
    });
    expect(missing.status).toBe(404);
    const anonymous = await api<Problem>("POST", `/v1/auctions/${auction.id}/bids`, {
      body: { maxMinor: 5000 },
    });
    expect(anonymous.status).toBe(401);
  });

  it("forbids the auction shop's own team (403) and blocked users (403)", async () => {
    const { setup, auction } = await freshAuction();
    const staff = await registerUser("seller");
    await seedMember(setup.shop.id, staff, "staff");
    for (const token of [setup.shop.owner.accessToken, staff.accessToken]) {
      const r = await bid(auction.id, token, 5000);
      expect(r.status).toBe(403);
      expect(r.body.code).toBe("FORBIDDEN");
    }
    const [blocked] = await seedBidders(1);
    if (!blocked) throw new Error("bidder");
    await withDb((db) =>
      db
        .update(users)
        .set({ blockedAt: new Date(), blockedReason: "test" })
        .where(eq(users.id, blocked.id)),
    );
    const r = await bid(auction.id, blocked.token, 5000);
    expect(r.status).toBe(403);
    expect((await auction.stub.ledger())?.bids).toHaveLength(0);
  });

  it("bids once per Idempotency-Key, and keys of different users never collide", async () => {
    const { auction } = await freshAuction({ startPriceMinor: 1000 });
    const [a, b] = await seedBidders(2);
    if (!a || !b) throw new Error("bidders");
    const key = { "idempotency-key": "same-key" };
    const one = await bid(auction.id, a.token, 2000, key);
    const two = await bid(auction.id, a.token, 2000, key);
    const other = await bid(auction.id, b.token, 3000, key);
    expect([one.status, two.status, other.status]).toEqual([201, 201, 201]);
    expect(two.body).toMatchObject({ sequence: 1, replayed: true });
    expect(other.body).toMatchObject({ sequence: 2, replayed: false });
  });

  it("hides a suspended shop's auction (404)", async () => {
    const { setup, auction } = await freshAuction();
    const [a] = await seedBidders(1);
    if (!a) throw new Error("bidder");
    await withDb((db) =>
      db.update(shops).set({ status: "suspended" }).where(eq(shops.id, setup.shop.id)),
    );
    expect((await bid(auction.id, a.token, 5000)).status).toBe(404);
    expect((await api("GET", `/v1/auctions/${auction.id}`)).status).toBe(404);
  });
});

describe("POST /v1/auctions/{id}/buy-now", () => {
  it("needs an Idempotency-Key, closes the auction once, replays the same answer, and makes one order", async () => {
    const { auction } = await freshAuction({ startPriceMinor: 1000, buyNowPriceMinor: 1500 });
    const [buyer, other] = await seedBidders(2);
    if (!buyer || !other) throw new Error("users");
    const path = `/v1/auctions/${auction.id}/buy-now`;
    const noKey = await api<Problem>("POST", path, { token: buyer.token });
    expect(noKey.status).toBe(400);
    expect(noKey.body.code).toBe("IDEMPOTENCY_KEY_REQUIRED");

    const headers = { "idempotency-key": `buy-${crypto.randomUUID()}` };
    const first = await api<{ orderId: string; priceMinor: number; orderRecorded: boolean }>(
      "POST",
      path,
      { token: buyer.token, headers },
    );
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    expect(first.body).toMatchObject({
      status: "bought_now",
      priceMinor: 1500,
      orderRecorded: true,
    });
    const replay = await api("POST", path, { token: buyer.token, headers });
    expect(replay.status).toBe(201);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    expect(replay.body).toEqual(first.body);

    const late = await api<Problem>("POST", path, {
      token: other.token,
      headers: { "idempotency-key": "other" },
    });
    expect(late.status).toBe(409);
    expect(late.body.code).toBe("AUCTION_CLOSED");
    expect((await bid(auction.id, other.token, 5000)).body.code).toBe("AUCTION_CLOSED");

    const orders = await auctionOrders(auction.id);
    expect(orders).toHaveLength(1);
    expect(orders[0]).toMatchObject({
      id: first.body.orderId,
      buyerId: buyer.id,
      status: "pending_payment",
      totalMinor: 1500,
    });
  });

  it("gives a buy-now racing a bid exactly one outcome through the API", async () => {
    for (let round = 0; round < 3; round++) {
      const { auction } = await freshAuction({ startPriceMinor: 1000, buyNowPriceMinor: 2000 });
      const [buyer, bidder] = await seedBidders(2);
      if (!buyer || !bidder) throw new Error("users");
      const [bought, placed] = await Promise.all([
        api<Problem>("POST", `/v1/auctions/${auction.id}/buy-now`, {
          token: buyer.token,
          headers: { "idempotency-key": `race-${round}` },
        }),
        bid(auction.id, bidder.token, 1200),
      ]);
      expect([bought.status, placed.status].sort()).toEqual([201, 409]);
      const state = await auction.stub.state();
      expect(state?.status).toBe(bought.status === 201 ? "bought_now" : "active");
      expect(await auctionOrders(auction.id)).toHaveLength(bought.status === 201 ? 1 : 0);
    }
  });

  it("refuses buy-now for the seller's own team and when none is offered", async () => {
    const { setup, auction } = await freshAuction({ startPriceMinor: 1000 });
    const [buyer] = await seedBidders(1);
    if (!buyer) throw new Error("buyer");
    const own = await api<Problem>("POST", `/v1/auctions/${auction.id}/buy-now`, {
      token: setup.shop.owner.accessToken,
      headers: { "idempotency-key": "k1" },
    });
    expect(own.status).toBe(403);
    const none = await api<Problem & { reason: string }>(
      "POST",
      `/v1/auctions/${auction.id}/buy-now`,
      { token: buyer.token, headers: { "idempotency-key": "k2" } },
    );
    expect(none.status).toBe(409);
    expect(none.body).toMatchObject({ code: "CONFLICT", reason: "buy_now_unavailable" });
  });
});

describe("GET /v1/auctions", () => {
  it("lists running auctions by category, ending soonest first, with live prices from the summary cache", async () => {
    const { setup, auction: later } = await freshAuction({ endsInMs: 3 * 60 * 60_000 });
    const sooner = await openAuction(
      {
        ...setup,
        productId: (
          await api<{ id: string }>("POST", "/v1/seller/products", {
            token: setup.shop.owner.accessToken,
            body: {
              shopId: setup.shop.id,
              categoryId: setup.categoryId,
              title: "Second lot",
              priceMinor: 1000,
              sku: `SKU-${crypto.randomUUID().slice(0, 8)}`,
              listingType: "auction",
              status: "published",
            },
          })
        ).body.id,
      },
      { endsInMs: 60 * 60_000 },
    );
    const [a] = await seedBidders(1);
    if (!a) throw new Error("bidder");
    expect((await bid(later.id, a.token, 4000)).status).toBe(201);

    const list = async (qs: string) =>
      api<{
        items: Array<{ id: string; priceMinor: number; bidCount: number; source: string }>;
        nextCursor: string | null;
      }>("GET", `/v1/auctions?${qs}`);
    const page = await eventually(async () => {
      const r = await list(`category=${setup.categoryId}`);
      const item = r.body.items.find((i) => i.id === later.id);
      return item?.bidCount === 1 ? r : undefined;
    });
    expect(page.body.items.map((i) => i.id)).toEqual([sooner.id, later.id]);
    expect(page.body.items[1]).toMatchObject({ priceMinor: 1000, bidCount: 1 });
    if (hasRedis) {
      expect(page.headers.get("x-cache")).toBe("hit");
      expect(page.body.items[1]?.source).toBe("cache");
    }
    const first = await list(`category=${setup.categoryId}&limit=1`);
    expect(first.body.items.map((i) => i.id)).toEqual([sooner.id]);
    const second = await list(
      `category=${setup.categoryId}&limit=1&cursor=${first.body.nextCursor}`,
    );
    expect(second.body.items.map((i) => i.id)).toEqual([later.id]);
    expect(second.body.nextCursor).toBeNull();
    const bad = await list("cursor=garbage");
    expect(bad.status).toBe(422);

    const history = await api<{ items: Array<Record<string, unknown>> }>(
      "GET",
      `/v1/auctions/${later.id}/bids`,
    );
    expect(history.body.items).toEqual([
      { sequence: 1, bidder: "bidder-1", priceAfterMinor: 1000, acceptedAt: expect.any(String) },
    ]);
    expect(JSON.stringify(history.body)).not.toContain(a.id);
  });
});
