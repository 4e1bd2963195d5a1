import { describe, expect, it } from "vitest";
import { frameOf, freshAuction, seedBidders, watch } from "../helpers/auctions.ts";
import { sleep } from "../helpers/eventually.ts";
import { api } from "../helpers/http.ts";
import { shiftRoomClock } from "../helpers/object-hooks.ts";

/*
 * Time: the object reads its own clock. These tests move it with `shiftRoomClock` (from inside
 * the object, tests/helpers/object-hooks.ts) instead of waiting minutes: the object then
 * believes it is, say, 30 s before the end, and every rule (window, cap, refusal) runs on that.
 */

describe("AuctionRoom soft close", () => {
  it("moves the end on a bid at end − 30 s, tells every watcher, and refuses a bid at the new end", async () => {
    const { auction } = await freshAuction({
      endsInMs: 10 * 60_000,
      softCloseSeconds: 120,
      maxExtensionSeconds: 3600,
    });
    const [a, b] = await seedBidders(2);
    if (!a || !b) throw new Error("bidders");
    const watchers = [await watch(auction.id), await watch(auction.id, b.token)];
    for (const w of watchers) await frameOf(w, "snapshot");

    const end = Date.parse(auction.endsAt);
    await shiftRoomClock(auction.stub, end - 30_000 - Date.now());
    const bid = await auction.stub.placeBid({
      auctionId: auction.id,
      bidderId: a.id,
      maxMinor: 2000,
    });
    if (!bid.ok) throw new Error(`bid refused: ${bid.code}`);
    expect(bid.extended).toBe(true);
    // The bid landed at end − 30 s (+ the few ms this test took): the end is 120 s after it.
    const moved = Date.parse(bid.endsAt) - end;
    expect(moved).toBeGreaterThanOrEqual(90_000);
    expect(moved).toBeLessThan(92_000);

    for (const w of watchers) {
      const bidFrame = await frameOf(w, "bid", (f) => f.bidSequence === 1);
      const ext = await frameOf(w, "extended", (f) => f.bidSequence === 1);
      expect(bidFrame).toMatchObject({ bidder: "bidder-1", priceMinor: 1000, endsAt: bid.endsAt });
      expect(ext).toMatchObject({
        endsAt: bid.endsAt,
        previousEndsAt: new Date(end).toISOString(),
      });
      expect(ext.seq).toBe(bidFrame.seq + 1);
    }
    const state = await auction.stub.state();
    expect(state).toMatchObject({ endsAt: bid.endsAt, scheduledEndsAt: auction.endsAt });

    // At the moved end, by the object's clock: refused, and watchers hear nothing of it. (Its
    // alarm may close the auction meanwhile: then the refusal names the result instead.)
    const bidFrames = () =>
      watchers.map((w) => w.frames.filter((f) => f.type === "bid" || f.type === "extended").length);
    const seen = bidFrames();
    await shiftRoomClock(auction.stub, Date.parse(bid.endsAt) - Date.now());
    expect(
      await auction.stub.placeBid({ auctionId: auction.id, bidderId: b.id, maxMinor: 5000 }),
    ).toMatchObject({ ok: false, code: "AUCTION_CLOSED" });
    const viaHttp = await api<{ code: string }>("POST", `/v1/auctions/${auction.id}/bids`, {
      token: b.token,
      body: { maxMinor: 5000 },
    });
    expect(viaHttp.status).toBe(409);
    expect(viaHttp.body).toMatchObject({ code: "AUCTION_CLOSED" });
    await sleep(300);
    expect(bidFrames()).toEqual(seen);
    expect((await auction.stub.ledger())?.bids).toHaveLength(1);
    for (const w of watchers) w.close();
  });

  it("never extends past the scheduled end plus the cap", async () => {
    const { auction } = await freshAuction({
      endsInMs: 10 * 60_000,
      softCloseSeconds: 120,
      maxExtensionSeconds: 60,
    });
    const [a, b] = await seedBidders(2);
    if (!a || !b) throw new Error("bidders");
    const end = Date.parse(auction.endsAt);
    const cap = end + 60_000;

    await shiftRoomClock(auction.stub, end - 30_000 - Date.now());
    const first = await auction.stub.placeBid({
      auctionId: auction.id,
      bidderId: a.id,
      maxMinor: 2000,
    });
    expect(first).toMatchObject({ ok: true, extended: true, endsAt: new Date(cap).toISOString() });

    await shiftRoomClock(auction.stub, cap - 10_000 - Date.now());
    const second = await auction.stub.placeBid({
      auctionId: auction.id,
      bidderId: b.id,
      maxMinor: 3000,
    });
    expect(second).toMatchObject({
      ok: true,
      extended: false,
      endsAt: new Date(cap).toISOString(),
    });

    await shiftRoomClock(auction.stub, cap - Date.now());
    expect(
      await auction.stub.placeBid({ auctionId: auction.id, bidderId: a.id, maxMinor: 9000 }),
    ).toMatchObject({ ok: false, code: "AUCTION_CLOSED" });
  });

  it("does not extend a bid outside the window", async () => {
    const { auction } = await freshAuction({ endsInMs: 10 * 60_000, softCloseSeconds: 120 });
    const [a] = await seedBidders(1);
    if (!a) throw new Error("bidder");
    const end = Date.parse(auction.endsAt);
    await shiftRoomClock(auction.stub, end - 121_000 - Date.now());
    expect(
      await auction.stub.placeBid({ auctionId: auction.id, bidderId: a.id, maxMinor: 2000 }),
    ).toMatchObject({ ok: true, extended: false, endsAt: auction.endsAt });
  });
});
