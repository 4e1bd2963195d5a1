import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ACCESS_TOKEN_TTL_SECONDS, signAccessToken } from "../../../src/services/auth/tokens.ts";
import { frameOf, freshAuction, seedBidders, type Watcher, watch } from "../../helpers/auctions.ts";
import { eventually, sleep } from "../../helpers/eventually.ts";

/** Sends one JSON message and waits for the socket's answer carrying the same `ref`. */
async function send(w: Watcher, message: Record<string, unknown>) {
  const ref = crypto.randomUUID();
  w.ws.send(JSON.stringify({ ...message, ref }));
  return eventually(async () => w.others.find((o) => o.ref === ref), 10_000, `answer ${ref}`);
}

describe("bids on the live WebSocket", () => {
  it("accepts a bid message and answers it on the socket, as the POST route would", async () => {
    const { auction } = await freshAuction({ startPriceMinor: 1000 });
    const [a] = await seedBidders(1);
    if (!a) throw new Error("bidder");
    const w = await watch(auction.id, a.token);
    await frameOf(w, "snapshot");

    const answer = await send(w, { type: "bid", maxMinor: 1500 });
    expect(answer).toMatchObject({
      type: "bid.accepted",
      status: 201,
      outcome: "leading",
      sequence: 1,
      priceMinor: 1000,
      alias: "bidder-1",
    });
    // The bid is a bid like any other: every watcher (this one too) sees its frame.
    expect(await frameOf(w, "bid", (f) => f.bidSequence === 1)).toMatchObject({
      bidder: "bidder-1",
      priceMinor: 1000,
    });
    expect((await auction.stub.ledger())?.bids).toHaveLength(1);
    w.close();
  });

  it("answers a bad bid message with the failing field, and keeps the socket open", async () => {
    const { auction } = await freshAuction({ startPriceMinor: 1000 });
    const [a] = await seedBidders(1);
    if (!a) throw new Error("bidder");
    const w = await watch(auction.id, a.token);
    await frameOf(w, "snapshot");

    const bad = await send(w, { type: "bid", maxMinor: "lots" });
    expect(bad).toMatchObject({ type: "bid.refused", status: 422, code: "VALIDATION_FAILED" });
    expect(bad.errors).toEqual([expect.objectContaining({ field: "maxMinor" })]);
    const extra = await send(w, { type: "bid", maxMinor: 1200, bidderId: a.id });
    expect(extra).toMatchObject({ status: 422, errors: [{ field: "bidderId" }] });

    // Same socket, still open: a good bid goes through.
    expect(await send(w, { type: "bid", maxMinor: 1200 })).toMatchObject({ status: 201 });

    const anonymous = await watch(auction.id);
    await frameOf(anonymous, "snapshot");
    expect(await send(anonymous, { type: "bid", maxMinor: 5000 })).toMatchObject({
      status: 401,
      code: "UNAUTHENTICATED",
    });
    w.close();
    anonymous.close();
  });

  it("answers a too-low bid on the socket with BID_TOO_LOW and the minimum", async () => {
    const { auction } = await freshAuction({ startPriceMinor: 1000 });
    const [a] = await seedBidders(1);
    if (!a) throw new Error("bidder");
    const w = await watch(auction.id, a.token);
    await frameOf(w, "snapshot");
    const low = await send(w, { type: "bid", maxMinor: 999 });
    expect(low).toMatchObject({
      type: "bid.refused",
      status: 409,
      code: "BID_TOO_LOW",
      minimumMinor: 1000,
    });
    expect((await auction.stub.ledger())?.bids).toHaveLength(0);
    w.close();
  });

  it("takes a token in the query for browsers, and refuses the socket's bids once it expired", async () => {
    const { auction } = await freshAuction({ startPriceMinor: 1000 });
    const [a] = await seedBidders(1);
    if (!a) throw new Error("bidder");
    // Signed so that it expires 3 s from now.
    const issued = Date.now() - ACCESS_TOKEN_TTL_SECONDS * 1000 + 3_000;
    const token = await signAccessToken({ sub: a.id, role: "buyer" }, env.JWT_SECRET ?? "", issued);
    const res = await exports.default.fetch(
      `http://souk.test/v1/auctions/${auction.id}/live?access_token=${token}`,
      { headers: { upgrade: "websocket" } },
    );
    expect(res.status).toBe(101);
    const ws = res.webSocket;
    if (!ws) throw new Error("no WebSocket");
    ws.accept();
    const w: Watcher = { ws, frames: [], messages: [], others: [], close: () => ws.close() };
    ws.addEventListener("message", (e) => {
      const data = JSON.parse(String(e.data)) as Record<string, unknown>;
      if (typeof data.seq !== "number") w.others.push(data);
    });

    expect(await send(w, { type: "bid", maxMinor: 1000 })).toMatchObject({ status: 201 });
    await sleep(Math.max(0, issued + ACCESS_TOKEN_TTL_SECONDS * 1000 - Date.now()) + 200);
    expect(await send(w, { type: "bid", maxMinor: 2000 })).toMatchObject({
      status: 401,
      code: "UNAUTHENTICATED",
    });
    expect((await auction.stub.ledger())?.bids).toHaveLength(1);
    w.close();
  });
});
