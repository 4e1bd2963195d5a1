import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { bids, users } from "../../../src/db/schema/index.ts";
import {
  freshAuction,
  type RoomStub,
  seedBidders,
  UNREACHABLE_DB,
} from "../../helpers/auctions.ts";
import { withDb } from "../../helpers/db.ts";
import { eventually } from "../../helpers/eventually.ts";
import { api, type Problem } from "../../helpers/http.ts";
import { aimMirror } from "../../helpers/object-hooks.ts";
import { countRoundTrips } from "../../helpers/roundtrips.ts";
import { createAdmin } from "../../helpers/shops.ts";

const bid = (auctionId: string, token: string, maxMinor: number) =>
  api<Problem & { sequence: number }>("POST", `/v1/auctions/${auctionId}/bids`, {
    token,
    body: { maxMinor },
  });

/** The commands of an Upstash REST body: one command, or a pipeline of them. */
function commandsOf(body: string): unknown[][] {
  try {
    const parsed: unknown = JSON.parse(body);
    if (!Array.isArray(parsed)) return [[body]];
    return parsed.every(Array.isArray) ? (parsed as unknown[][]) : [parsed];
  } catch {
    return [[body]];
  }
}

/**
 * Counts the Redis commands sent while `fn` runs, by wrapping the global `fetch` that the
 * Upstash REST client calls (the Worker and its objects share this isolate in the vitest plugin).
 * The room's summary write is left out: it refreshes the list cache after a change, in the
 * background, and no caller waits for it (durable-objects/auction-room/summary.ts). Every other
 * command, a rate limit's included, counts.
 */
async function countRedis<T>(fn: () => Promise<T>): Promise<{ result: T; commands: string[] }> {
  const base = env.UPSTASH_REDIS_REST_URL ?? "";
  const commands: string[] = [];
  const original = globalThis.fetch;
  globalThis.fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = input instanceof Request ? input.url : String(input);
    if (base && url.startsWith(base)) {
      for (const command of commandsOf(typeof init?.body === "string" ? init.body : "")) {
        const [name, key] = command;
        const summaryWrite =
          String(name).toLowerCase() === "set" && /:auction:[^:]+:summary$/.test(String(key));
        if (!summaryWrite) commands.push(JSON.stringify(command).slice(0, 80));
      }
    }
    return original(input, init);
  };
  try {
    return { result: await fn(), commands };
  } finally {
    globalThis.fetch = original;
  }
}

/**
 * Fails the room's outbox (aimed at a dead database) until its next try is at least 1.5 s away,
 * so no mirror write can start while a bid is counted.
 */
async function mirrorBackingOff(stub: RoomStub): Promise<void> {
  await eventually(
    async () => {
      const { retryAt } = await stub.mirrorStatus();
      if (retryAt && Date.parse(retryAt) - Date.now() > 1_500) return true;
      await stub.flushOutbox();
      return undefined;
    },
    60_000,
    "the outbox backing off",
  );
}

describe("the bid path", () => {
  it("makes 0 Postgres and 0 Redis round trips for a bid over POST", async () => {
    const { auction } = await freshAuction({ startPriceMinor: 1000 });
    const [a, b] = await seedBidders(2);
    if (!a || !b) throw new Error("bidders");

    // The mirror (the outbox's write of accepted bids to Postgres) runs after the answer and
    // nobody waits for it. Aimed at a dead database it reaches no Postgres (no query) and, once
    // backing off, does not run while a bid is being counted.
    await aimMirror(auction.stub, UNREACHABLE_DB);

    // A first bid in a room asks Postgres once (one SQL-over-HTTP request) whether the bidder may
    // bid here, then never again.
    const first = await countRoundTrips(() => bid(auction.id, a.token, 1000));
    expect(first.result.status).toBe(201);
    expect(first.roundTrips).toMatchObject({ http: 1, wsQueries: 0 });
    expect((await bid(auction.id, b.token, 1100)).status).toBe(201);

    await mirrorBackingOff(auction.stub);
    const counted = await countRedis(() => countRoundTrips(() => bid(auction.id, a.token, 2000)));
    expect(counted.result.result.status).toBe(201);
    expect(counted.result.result.body.sequence).toBe(3);
    // No request to Postgres over HTTP, no query over a WebSocket.
    expect(counted.result.roundTrips).toMatchObject({ http: 0, wsQueries: 0 });
    expect(counted.commands).toEqual([]);

    await aimMirror(auction.stub, null);
  });

  it("refuses a user blocked while the room holds them as eligible on the very next bid", async () => {
    const { auction } = await freshAuction({ startPriceMinor: 1000 });
    const [a] = await seedBidders(1);
    if (!a) throw new Error("bidder");
    expect((await bid(auction.id, a.token, 1000)).status).toBe(201);
    // The room now holds A as eligible: the bid is in the Postgres mirror, and A's next bid
    // would not ask Postgres.
    await eventually(async () => {
      const rows = await withDb((db) => db.select().from(bids).where(eq(bids.bidderId, a.id)));
      return rows.length > 0 ? true : undefined;
    });

    const admin = await createAdmin();
    const blocked = await api("POST", `/v1/admin/users/${a.id}/block`, {
      token: admin.accessToken,
      body: { reason: "shill bidding" },
    });
    expect(blocked.status).toBe(200);

    const next = await bid(auction.id, a.token, 5000);
    expect(next.status).toBe(403);
    expect(next.body.code).toBe("FORBIDDEN");
    expect((await auction.stub.ledger())?.bids).toHaveLength(1);
  });

  it("forgets a bidder blocked before the room mirrored their bid, at the next flush", async () => {
    const { auction } = await freshAuction({ startPriceMinor: 1000 });
    const [a] = await seedBidders(1);
    if (!a) throw new Error("bidder");
    // The mirror goes down once the room's start is mirrored (a flush in progress would carry
    // the bid along): the block's search of `bids` cannot find this room.
    await eventually(async () =>
      (await auction.stub.flushOutbox()).pending === 0 ? true : undefined,
    );
    await aimMirror(auction.stub, UNREACHABLE_DB);
    expect((await bid(auction.id, a.token, 1000)).status).toBe(201);
    await withDb((db) =>
      db
        .update(users)
        .set({ blockedAt: new Date(), blockedReason: "test" })
        .where(eq(users.id, a.id)),
    );
    await aimMirror(auction.stub, null);
    await eventually(async () =>
      (await auction.stub.flushOutbox()).pending === 0 ? true : undefined,
    );
    const next = await bid(auction.id, a.token, 5000);
    expect(next.status).toBe(403);
  });

  it("limits a bidder to 30 bids per 10 s in a room: 429 with Retry-After", async () => {
    const { auction } = await freshAuction({ startPriceMinor: 1000 });
    const [a, b] = await seedBidders(2);
    if (!a || !b) throw new Error("bidders");
    for (let i = 0; i < 30; i++) {
      expect((await bid(auction.id, a.token, 1000 + i * 100)).status).toBe(201);
    }
    const limited = await bid(auction.id, a.token, 10_000);
    expect(limited.status).toBe(429);
    expect(limited.body.code).toBe("RATE_LIMITED");
    const retryAfter = Number(limited.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(10);
    // Another bidder in the same room is not held back.
    expect((await bid(auction.id, b.token, 10_000)).status).toBe(201);
  });
});
