import {
  createExecutionContext,
  createScheduledController,
  runDurableObjectAlarm,
  runInDurableObject,
  waitOnExecutionContext,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { AuctionRoom } from "../../durable-objects/auction-room.ts";
import worker from "../../src/index.ts";
import {
  auctionOrders,
  auctionRow,
  freshAuction,
  resultNotices,
  seedBidders,
  UNREACHABLE_DB,
} from "../helpers/auctions.ts";
import { auditRows } from "../helpers/audit.ts";
import { eventually, sleep } from "../helpers/eventually.ts";
import { aimMirror } from "../helpers/object-hooks.ts";

async function runCron(cron: string): Promise<void> {
  const ctx = createExecutionContext();
  await worker.scheduled(createScheduledController({ cron, scheduledTime: new Date() }), env, ctx);
  await waitOnExecutionContext(ctx);
}

describe("AuctionRoom close", () => {
  it("closes once although the alarm fails, runs twice and the sweep pokes too: one result, one order, one notice each", async () => {
    const { setup, auction } = await freshAuction({
      startPriceMinor: 1000,
      reservePriceMinor: 1500,
      endsInMs: 6_000,
      softCloseSeconds: 0,
    });
    const [a, b, c] = await seedBidders(3);
    if (!a || !b || !c) throw new Error("bidders");
    const bid = (bidderId: string, maxMinor: number) =>
      auction.stub.placeBid({ auctionId: auction.id, bidderId, maxMinor });
    expect(await bid(a.id, 3000)).toMatchObject({ ok: true, priceMinor: 1500 }); // reserve lift
    // 20.00 and 22.00 each get one 0.50 increment over them (eBay: 5.00–24.99 → 0.50).
    expect(await bid(b.id, 2000)).toMatchObject({ ok: true, outcome: "outbid", priceMinor: 2050 });
    expect(await bid(c.id, 2200)).toMatchObject({ ok: true, outcome: "outbid", priceMinor: 2250 });

    // Postgres "goes down" before the end: the close itself needs no database.
    await aimMirror(auction.stub, UNREACHABLE_DB);
    await sleep(Date.parse(auction.endsAt) - Date.now() + 50);
    await runDurableObjectAlarm(auction.stub);
    const closed = await auction.stub.state();
    expect(closed).toMatchObject({
      status: "ended_sold",
      priceMinor: 2250,
      result: { status: "ended_sold", winnerAlias: "bidder-1", priceMinor: 2250 },
    });
    const down = await auction.stub.mirrorStatus();
    expect(down.failures).toBeGreaterThanOrEqual(1);
    expect(down.pending).toBeGreaterThan(0);
    expect((await auctionRow(auction.id))?.closedAt).toBeNull();
    expect(await auctionOrders(auction.id)).toHaveLength(0);
    // The object answers bids with the stored result meanwhile.
    expect(await bid(b.id, 9000)).toMatchObject({
      ok: false,
      code: "AUCTION_CLOSED",
      reason: "ended_sold",
    });

    // Keep a copy of the pending outbox, to replay it later as if an acknowledgement was lost.
    await runInDurableObject(auction.stub, (_i: AuctionRoom, state) => {
      state.storage.sql.exec("CREATE TABLE outbox_copy AS SELECT * FROM outbox");
    });

    // Back up: the alarm runs again (and may run on its own), the sweep pokes, the alarm once more.
    await aimMirror(auction.stub, null);
    await runDurableObjectAlarm(auction.stub);
    await runCron("* * * * *");
    await runDurableObjectAlarm(auction.stub);
    expect(await auction.stub.closeIfDue()).toMatchObject({ outcome: "already", pending: 0 });

    const row = await eventually(async () => {
      const r = await auctionRow(auction.id);
      return r?.closedAt ? r : undefined;
    });
    const orders = await auctionOrders(auction.id);
    expect(orders).toHaveLength(1);
    const order = orders[0];
    expect(order).toMatchObject({
      id: row?.orderId,
      buyerId: a.id,
      shopId: setup.shop.id,
      source: "auction",
      status: "pending_payment",
      subtotalMinor: 2250,
      totalMinor: 2250,
      deliveryFeeMinor: 0,
      platformFeeMinor: 45,
      currency: "EUR",
    });
    expect(row).toMatchObject({ status: "ended_sold", winnerId: a.id, priceMinor: 2250 });
    // The deadline counts from the close (96 h by default), not from when Postgres came back.
    const closedAt = Date.parse(closed?.result?.closedAt ?? "");
    expect(order?.paymentDeadline?.getTime()).toBe(closedAt + 96 * 3_600_000);

    const expected = [
      { userId: a.id, kind: "auction.won" },
      { userId: setup.shop.owner.id, kind: "auction.sold" },
      { userId: b.id, kind: "auction.lost" },
      { userId: c.id, kind: "auction.lost" },
    ];
    const sortKey = (n: { userId: string; kind: string }) => `${n.kind}:${n.userId}`;
    const sorted = (xs: Array<{ userId: string; kind: string }>) =>
      [...xs].sort((x, y) => sortKey(x).localeCompare(sortKey(y)));
    await eventually(async () =>
      (await resultNotices(auction.id)).length >= 4 ? true : undefined,
    );
    // A lost acknowledgement: Postgres committed, the object never heard. Everything is sent again.
    await runInDurableObject(auction.stub, (_i: AuctionRoom, state) => {
      state.storage.sql.exec("INSERT INTO outbox SELECT * FROM outbox_copy");
    });
    expect(await auction.stub.flushOutbox()).toMatchObject({ error: null, pending: 0 });
    expect(await auctionOrders(auction.id)).toHaveLength(1);
    // Give any duplicate a chance to arrive before counting.
    await runDurableObjectAlarm(auction.stub);
    await sleep(1_500);
    expect(sorted(await resultNotices(auction.id))).toEqual(sorted(expected));

    expect(await auditRows([auction.id], { action: "auction.ended_sold" })).toHaveLength(1);
    expect(await auditRows([order?.id ?? ""], { action: "order.created" })).toHaveLength(1);
    expect((await auction.stub.mirrorStatus()).pending).toBe(0);
  });

  it("ends unsold when the reserve is not met: no order, the seller and the bidders are told", async () => {
    const { setup, auction } = await freshAuction({
      startPriceMinor: 1000,
      reservePriceMinor: 10_000,
      endsInMs: 5_500,
      softCloseSeconds: 0,
    });
    const [a, b] = await seedBidders(2);
    if (!a || !b) throw new Error("bidders");
    await auction.stub.placeBid({ auctionId: auction.id, bidderId: a.id, maxMinor: 4000 });
    await auction.stub.placeBid({ auctionId: auction.id, bidderId: b.id, maxMinor: 3000 });
    await sleep(Date.parse(auction.endsAt) - Date.now() + 50);
    // The sweep alone (as if the alarm never came) closes it.
    await runCron("* * * * *");
    const row = await eventually(async () => {
      const r = await auctionRow(auction.id);
      return r?.closedAt ? r : undefined;
    });
    expect(row).toMatchObject({
      status: "ended_unsold",
      winnerId: null,
      orderId: null,
      reserveMet: false,
    });
    expect(await auctionOrders(auction.id)).toHaveLength(0);
    const notices = await eventually(async () => {
      const n = await resultNotices(auction.id);
      return n.length >= 3 ? n : undefined;
    });
    expect(notices.map((n) => `${n.kind}:${n.userId}`).sort()).toEqual(
      [
        `auction.unsold:${setup.shop.owner.id}`,
        `auction.reserve_not_met:${a.id}`,
        `auction.reserve_not_met:${b.id}`,
      ].sort(),
    );
  });
});
