import { runInDurableObject } from "cloudflare:test";
import { asc, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import {
  type AuctionTerms,
  type BidState,
  initialState,
  placeBid,
} from "../../durable-objects/auction-room/proxy-bidding.ts";
import type { Ledger } from "../../durable-objects/auction-room/types.ts";
import type { AuctionRoom } from "../../durable-objects/auction-room.ts";
import { bids } from "../../src/db/schema/index.ts";
import { uuidv7 } from "../../src/lib/ids.ts";
import { auctionRow, freshAuction, roomStub, seedBidders } from "../helpers/auctions.ts";
import { withDb } from "../helpers/db.ts";
import { eventually } from "../helpers/eventually.ts";
import { shiftRoomClock } from "../helpers/object-hooks.ts";

/** Folds the stored bids, in sequence order, through the pure engine. */
function replay(ledger: Ledger): BidState {
  const terms: AuctionTerms = ledger.terms;
  let state = initialState(terms);
  for (const b of ledger.bids) {
    const r = placeBid(state, terms, b.bidderId, b.maxMinor);
    if (!r.ok) throw new Error(`stored bid ${b.sequence} is refused on replay: ${r.code}`);
    expect(r.state.priceMinor, `price after bid ${b.sequence}`).toBe(b.priceAfterMinor);
    expect(r.state.leaderId, `leader after bid ${b.sequence}`).toBe(b.leaderAfterId);
    expect(r.outcome).toBe(b.outcome);
    state = r.state;
  }
  return state;
}

describe("AuctionRoom", () => {
  it("answers not_configured for a fresh object and refuses bids on it", async () => {
    const stub = roomStub(uuidv7());
    expect(await stub.summary()).toEqual({ status: "not_configured", watchers: 0 });
    const auctionId = uuidv7();
    const r = await roomStub(auctionId).placeBid({ auctionId, bidderId: uuidv7(), maxMinor: 100 });
    expect(r).toMatchObject({ ok: false, code: "NOT_FOUND" });
  });

  it("configures once: the same terms replay, other terms are refused", async () => {
    const { auction } = await freshAuction({ startPriceMinor: 2000 });
    const row = await auctionRow(auction.id);
    if (!row) throw new Error("no row");
    expect(row.configuredAt).not.toBeNull();
    const same = {
      auctionId: row.id,
      shopId: row.shopId,
      productId: row.productId,
      currency: row.currency,
      startPriceMinor: row.startPriceMinor,
      reservePriceMinor: row.reservePriceMinor,
      buyNowPriceMinor: row.buyNowPriceMinor,
      startsAt: row.startsAt.toISOString(),
      endsAt: row.endsAt.toISOString(),
      softCloseSeconds: row.softCloseSeconds,
      maxExtensionSeconds: row.maxExtensionSeconds,
    };
    expect(await auction.stub.configure(same)).toMatchObject({ ok: true, replayed: true });
    expect(await auction.stub.configure({ ...same, startPriceMinor: 1 })).toMatchObject({
      ok: false,
      code: "CONFLICT",
      reason: "configure_mismatch",
    });
    // Thrown, not returned (a caller bug): called in the object so the throw stays local.
    await runInDurableObject(auction.stub, async (instance: AuctionRoom) => {
      await expect(instance.configure({ ...same, auctionId: uuidv7() })).rejects.toThrow(
        /AUCTION_MISMATCH/,
      );
      await expect(instance.configure({ ...same, buyNowPriceMinor: 2001 })).rejects.toThrow(
        /VALIDATION_FAILED: buyNowPriceMinor/,
      );
    });
  });

  it("takes 100 simultaneous bidders: one leader, a gapless sequence, a price the replay reproduces", async () => {
    const { auction } = await freshAuction({ startPriceMinor: 1000, reservePriceMinor: 5000 });
    const bidders = await seedBidders(100);
    // Distinct maximums, some tied (equal maxima: the earlier bid leads), in a shuffled order.
    const maxes = bidders.map((_, i) => 1000 + ((i * 7919) % 60) * 150);
    const results = await Promise.all(
      bidders.map((b, i) =>
        auction.stub.placeBid({ auctionId: auction.id, bidderId: b.id, maxMinor: maxes[i] ?? 0 }),
      ),
    );
    const accepted = results.filter((r) => r.ok);
    const refused = results.filter((r) => !r.ok);
    // Bids arrive in some order; those under the minimum by then are refused (BID_TOO_LOW).
    expect(accepted.length).toBeGreaterThan(1);
    expect(refused.every((r) => !r.ok && r.code === "BID_TOO_LOW")).toBe(true);
    expect(accepted.length + refused.length).toBe(100);

    const ledger = await auction.stub.ledger();
    if (!ledger) throw new Error("no ledger");
    expect(ledger.bids.map((b) => b.sequence)).toEqual(
      Array.from({ length: accepted.length }, (_, i) => i + 1),
    );
    expect(accepted.flatMap((r) => (r.ok ? [r.sequence] : [])).sort((a, b) => a - b)).toEqual(
      ledger.bids.map((b) => b.sequence),
    );

    const replayed = replay(ledger);
    expect(replayed).toEqual(ledger.state);
    // One leader: the highest maximum, the earliest of any tie at that maximum.
    const top = Math.max(...ledger.bids.map((b) => b.maxMinor));
    const firstTop = ledger.bids.find((b) => b.maxMinor === top);
    expect(ledger.state.leaderId).toBe(firstTop?.bidderId);
    const state = await auction.stub.state();
    expect(state).toMatchObject({
      status: "active",
      bidCount: accepted.length,
      sequence: accepted.length,
      priceMinor: ledger.state.priceMinor,
      reserveMet: true,
    });
    // The price follows the rules: the reserve (met) or second-highest + one increment, ≤ top.
    expect(ledger.state.priceMinor).toBeLessThanOrEqual(top);
    expect(ledger.state.priceMinor).toBeGreaterThanOrEqual(5000);
    expect(JSON.stringify(state)).not.toContain(firstTop?.bidderId ?? "-");

    // The mirror gets every bid once, in order, and the auction row's live columns.
    await auction.stub.flushOutbox();
    const mirrored = await withDb((db) =>
      db.select().from(bids).where(eq(bids.auctionId, auction.id)).orderBy(asc(bids.sequence)),
    );
    expect(mirrored.map((b) => b.sequence)).toEqual(ledger.bids.map((b) => b.sequence));
    expect(mirrored.map((b) => b.bidderId)).toEqual(ledger.bids.map((b) => b.bidderId));
    const row = await auctionRow(auction.id);
    expect(row).toMatchObject({
      status: "active",
      bidCount: accepted.length,
      lastSequence: accepted.length,
      priceMinor: ledger.state.priceMinor,
      reserveMet: true,
    });
  });

  it("refuses what the rules refuse and changes nothing", async () => {
    const { auction } = await freshAuction({ startPriceMinor: 1000 });
    const [a, b] = await seedBidders(2);
    if (!a || !b) throw new Error("bidders");
    const id = auction.id;
    expect(await auction.stub.placeBid({ auctionId: id, bidderId: a.id, maxMinor: 999 })).toEqual({
      ok: false,
      code: "BID_TOO_LOW",
      reason: "below_minimum",
      minimumMinor: 1000,
      message: expect.any(String),
    });
    const first = await auction.stub.placeBid({ auctionId: id, bidderId: a.id, maxMinor: 3000 });
    expect(first).toMatchObject({ ok: true, outcome: "leading", sequence: 1, priceMinor: 1000 });
    // 10.00 → next increment is 0.50.
    expect(
      await auction.stub.placeBid({ auctionId: id, bidderId: b.id, maxMinor: 1049 }),
    ).toMatchObject({ ok: false, code: "BID_TOO_LOW", minimumMinor: 1050 });
    expect(
      await auction.stub.placeBid({ auctionId: id, bidderId: a.id, maxMinor: 2000 }),
    ).toMatchObject({
      ok: false,
      code: "BID_TOO_LOW",
      reason: "not_higher_than_own_max",
      minimumMinor: 3001,
    });
    const outbid = await auction.stub.placeBid({ auctionId: id, bidderId: b.id, maxMinor: 2000 });
    expect(outbid).toMatchObject({ ok: true, outcome: "outbid", sequence: 2, priceMinor: 2050 });
    expect((await auction.stub.ledger())?.bids).toHaveLength(2);
  });

  it("answers a keyed bid's retry with the first answer and bids once", async () => {
    const { auction } = await freshAuction();
    const [a] = await seedBidders(1);
    if (!a) throw new Error("bidder");
    const bid = { auctionId: auction.id, bidderId: a.id, maxMinor: 1500, key: `k-${uuidv7()}` };
    const first = await auction.stub.placeBid(bid);
    const again = await auction.stub.placeBid(bid);
    expect(first).toMatchObject({ ok: true, sequence: 1, replayed: false });
    expect(again).toMatchObject({ ok: true, sequence: 1, replayed: true });
    expect(await auction.stub.placeBid({ ...bid, maxMinor: 1600 })).toMatchObject({
      ok: false,
      code: "CONFLICT",
      reason: "idempotency_key_reused",
    });
    expect((await auction.stub.ledger())?.bids).toHaveLength(1);
  });

  it("refuses bids before the start by its own clock", async () => {
    const { auction } = await freshAuction({
      startsAt: new Date(Date.now() + 60 * 60_000).toISOString(),
      endsInMs: 2 * 60 * 60_000,
    });
    const [a] = await seedBidders(1);
    if (!a) throw new Error("bidder");
    expect(
      await auction.stub.placeBid({ auctionId: auction.id, bidderId: a.id, maxMinor: 5000 }),
    ).toMatchObject({ ok: false, code: "AUCTION_CLOSED", reason: "not_started" });
    expect(await auction.stub.state()).toMatchObject({ status: "scheduled", bidCount: 0 });
  });

  it("serializes buy-now against bids: exactly one of them wins", async () => {
    for (let round = 0; round < 3; round++) {
      const { auction } = await freshAuction({ startPriceMinor: 1000, buyNowPriceMinor: 1300 });
      const [buyer, bidder] = await seedBidders(2);
      if (!buyer || !bidder) throw new Error("users");
      const [bought, bid] = await Promise.all([
        auction.stub.buyNow({ auctionId: auction.id, buyerId: buyer.id }),
        auction.stub.placeBid({ auctionId: auction.id, bidderId: bidder.id, maxMinor: 2000 }),
      ]);
      expect([bought.ok, bid.ok].filter(Boolean)).toHaveLength(1);
      const state = await auction.stub.state();
      if (bought.ok) {
        expect(bid).toMatchObject({ ok: false, code: "AUCTION_CLOSED", reason: "bought_now" });
        expect(state).toMatchObject({ status: "bought_now", bidCount: 0, priceMinor: 1300 });
      } else {
        expect(bought).toMatchObject({
          ok: false,
          code: "CONFLICT",
          reason: "buy_now_unavailable",
        });
        expect(state).toMatchObject({ status: "active", bidCount: 1, buyNowAvailable: false });
      }
    }
  });

  it("keeps buy-now after a bid while the reserve is not met, and closes with one result", async () => {
    const { auction } = await freshAuction({
      startPriceMinor: 1000,
      reservePriceMinor: 5000,
      buyNowPriceMinor: 8000,
    });
    const [bidder, buyer] = await seedBidders(2);
    if (!bidder || !buyer) throw new Error("users");
    const low = await auction.stub.placeBid({
      auctionId: auction.id,
      bidderId: bidder.id,
      maxMinor: 2000,
    });
    expect(low).toMatchObject({ ok: true, reserveMet: false, buyNowAvailable: true });
    const bought = await auction.stub.buyNow({ auctionId: auction.id, buyerId: buyer.id });
    if (!bought.ok) throw new Error(`buy-now refused: ${bought.code}`);
    expect(bought.result).toMatchObject({
      status: "bought_now",
      winnerId: buyer.id,
      priceMinor: 8000,
      bidderIds: [bidder.id],
    });
    expect(bought.mirrored).toBe(true);
    // The same buyer again: the same result; nobody else; the close is a no-op.
    const again = await auction.stub.buyNow({ auctionId: auction.id, buyerId: buyer.id });
    expect(again).toMatchObject({ ok: true, replayed: true, result: bought.result });
    expect(await auction.stub.closeIfDue()).toMatchObject({ outcome: "already" });
    const row = await eventually(async () => {
      const r = await auctionRow(auction.id);
      return r?.closedAt ? r : undefined;
    });
    expect(row).toMatchObject({
      status: "bought_now",
      winnerId: buyer.id,
      orderId: bought.result.orderId,
    });
  });

  it("lets a reserve-met bid take buy-now away", async () => {
    const { auction } = await freshAuction({
      startPriceMinor: 1000,
      reservePriceMinor: 2000,
      buyNowPriceMinor: 5000,
    });
    const [bidder, buyer] = await seedBidders(2);
    if (!bidder || !buyer) throw new Error("users");
    const met = await auction.stub.placeBid({
      auctionId: auction.id,
      bidderId: bidder.id,
      maxMinor: 2500,
    });
    expect(met).toMatchObject({
      ok: true,
      reserveMet: true,
      priceMinor: 2000,
      buyNowAvailable: false,
    });
    expect(await auction.stub.buyNow({ auctionId: auction.id, buyerId: buyer.id })).toMatchObject({
      ok: false,
      code: "CONFLICT",
      reason: "buy_now_unavailable",
    });
  });

  it("moves its own clock by the test-only offset (ENVIRONMENT=test)", async () => {
    const { auction } = await freshAuction();
    const { now } = await shiftRoomClock(auction.stub, 60_000);
    expect(Date.parse(now) - Date.now()).toBeGreaterThan(55_000);
    const state = await auction.stub.state();
    expect(Date.parse(state?.serverTime ?? "") - Date.now()).toBeGreaterThan(55_000);
    await shiftRoomClock(auction.stub, 0);
  });
});
