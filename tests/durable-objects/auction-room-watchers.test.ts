import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { Frame } from "../../durable-objects/auction-room/types.ts";
import type { AuctionRoom } from "../../durable-objects/auction-room.ts";
import { frameOf, freshAuction, seedBidders, type Watcher, watch } from "../helpers/auctions.ts";
import { eventually } from "../helpers/eventually.ts";
import { api } from "../helpers/http.ts";
import { setRoomFrameBatch } from "../helpers/object-hooks.ts";

/** A reply to a client command (not part of the numbered stream). */
async function whoami(w: Watcher) {
  const before = w.others.length;
  w.ws.send("whoami");
  return eventually(async () => w.others.slice(before).find((o) => o.type === "hello"));
}

/** The frames after the snapshot are numbered snapshot.seq + 1, + 2 … with no gap. */
function expectGapless(frames: Frame[]) {
  const [snapshot, ...rest] = frames;
  expect(snapshot?.type).toBe("snapshot");
  const start = snapshot?.seq ?? 0;
  expect(rest.map((f) => f.seq)).toEqual(rest.map((_, i) => start + i + 1));
}

describe("AuctionRoom watchers", () => {
  it("keeps three hibernated sockets and their identities across an eviction; the next bid reaches all, in order", async () => {
    const { auction } = await freshAuction({ startPriceMinor: 1000 });
    const [a, b] = await seedBidders(2);
    if (!a || !b) throw new Error("bidders");
    const first = await api("POST", `/v1/auctions/${auction.id}/bids`, {
      token: a.token,
      body: { maxMinor: 1500 },
    });
    expect(first.status).toBe(201);

    const watchers = [
      await watch(auction.id),
      await watch(auction.id, a.token),
      await watch(auction.id),
    ];
    const snapshots = await Promise.all(watchers.map((w) => frameOf(w, "snapshot")));
    expect(new Set(snapshots.map((s) => s.watcher.id)).size).toBe(3);
    expect(snapshots.map((s) => s.watcher.you)).toEqual([null, "bidder-1", null]);
    expect(snapshots[0]?.auction).toMatchObject({ bidCount: 1, leaderAlias: "bidder-1" });
    expect(JSON.stringify(snapshots)).not.toContain(a.id);
    expect((await auction.stub.state())?.watchers).toBe(3);
    const before = await Promise.all(watchers.map(whoami));

    // Mark the live instance, evict it (sockets hibernate), and prove a new instance answers.
    await runInDurableObject(auction.stub, (instance: AuctionRoom) => {
      (instance as unknown as { marker?: string }).marker = "old instance";
    });
    await evictDurableObject(auction.stub);
    await runInDurableObject(auction.stub, (instance: AuctionRoom) => {
      expect((instance as unknown as { marker?: string }).marker).toBeUndefined();
    });

    const second = await api<{ sequence: number; priceMinor: number }>(
      "POST",
      `/v1/auctions/${auction.id}/bids`,
      { token: b.token, body: { maxMinor: 1200 } },
    );
    expect(second.status).toBe(201);
    expect(second.body).toMatchObject({ sequence: 2, priceMinor: 1250 });

    for (const w of watchers) {
      const bid = await frameOf(w, "bid", (f) => f.bidSequence === 2);
      expect(bid).toMatchObject({ bidder: "bidder-2", leader: "bidder-1", priceMinor: 1250 });
      expectGapless(w.frames);
    }
    const after = await Promise.all(watchers.map(whoami));
    expect(after).toEqual(before);
    expect(after[1]).toMatchObject({ watcher: { userId: a.id } });
    expect(after[0]).toMatchObject({ watcher: { userId: null } });
    expect((await auction.stub.state())?.watchers).toBe(3);
    for (const w of watchers) w.close();
  });

  it("sends the result to watchers and answers ping and snapshot commands", async () => {
    const { auction } = await freshAuction({ startPriceMinor: 1000, buyNowPriceMinor: 1300 });
    const [buyer] = await seedBidders(1);
    if (!buyer) throw new Error("buyer");
    const w = await watch(auction.id);
    await frameOf(w, "snapshot");
    w.ws.send("ping");
    await eventually(async () => (w.messages.includes("pong") ? true : undefined));
    const bought = await auction.stub.buyNow({ auctionId: auction.id, buyerId: buyer.id });
    expect(bought.ok).toBe(true);
    const closed = await frameOf(w, "closed");
    expect(closed).toMatchObject({ status: "bought_now", priceMinor: 1300, winner: null });
    w.ws.send("snapshot");
    const resync = await eventually(async () =>
      w.frames.filter((f) => f.type === "snapshot").at(1),
    );
    expect(resync).toMatchObject({ seq: closed.seq, auction: { status: "bought_now" } });
    w.close();
  });

  it("coalesces frames into one message per interval when batching is on, keeping their order", async () => {
    const { auction } = await freshAuction({ startPriceMinor: 1000 });
    await setRoomFrameBatch(auction.stub, 250);
    const bidders = await seedBidders(6);
    const w = await watch(auction.id);
    await frameOf(w, "snapshot");
    let max = 1000;
    for (const b of bidders) {
      max += 500;
      const r = await auction.stub.placeBid({
        auctionId: auction.id,
        bidderId: b.id,
        maxMinor: max,
      });
      expect(r.ok).toBe(true);
    }
    await eventually(async () =>
      w.frames.filter((f) => f.type === "bid").length === 6 ? true : undefined,
    );
    expectGapless(w.frames);
    expect(
      w.frames.filter((f) => f.type === "bid").map((f) => (f.type === "bid" ? f.bidSequence : 0)),
    ).toEqual([1, 2, 3, 4, 5, 6]);
    const batches = w.messages.filter((m) => Array.isArray(m));
    expect(batches.length).toBeGreaterThan(0);
    expect(batches.length).toBeLessThan(6);
    expect(Math.max(...batches.map((m) => (m as unknown[]).length))).toBeGreaterThan(1);

    // Back to immediate: one message per frame again.
    await setRoomFrameBatch(auction.stub, 0);
    const [late] = await seedBidders(1);
    if (!late) throw new Error("bidder");
    const count = w.messages.length;
    await auction.stub.placeBid({ auctionId: auction.id, bidderId: late.id, maxMinor: 9000 });
    const msg = await eventually(async () => w.messages[count]);
    expect(Array.isArray(msg)).toBe(false);
    expect(msg).toMatchObject({ type: "bid", bidSequence: 7 });
    w.close();
  });
});
