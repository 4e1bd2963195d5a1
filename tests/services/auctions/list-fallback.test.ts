import { describe, expect, it } from "vitest";
import type { Redis } from "../../../src/lib/redis.ts";
import { listAuctions } from "../../../src/services/auctions/queries.ts";
import type { ServiceContext } from "../../../src/services/context.ts";
import { auctionRow, freshAuction, seedBidders } from "../../helpers/auctions.ts";
import { deadRedis } from "../../helpers/catalog.ts";
import { testContext } from "../../helpers/context.ts";
import { withDb } from "../../helpers/db.ts";
import { eventually } from "../../helpers/eventually.ts";

function ctxWith(db: ServiceContext["db"], redis: Redis | null): ServiceContext {
  return testContext({ db, redis });
}

describe("the public auction list without Redis", () => {
  it("answers from the Postgres mirror when Redis is absent or not answering", async () => {
    const { setup, auction } = await freshAuction({ startPriceMinor: 1000 });
    const [a, b] = await seedBidders(2);
    if (!a || !b) throw new Error("bidders");
    await auction.stub.placeBid({ auctionId: auction.id, bidderId: a.id, maxMinor: 3000 });
    await auction.stub.placeBid({ auctionId: auction.id, bidderId: b.id, maxMinor: 2000 });
    await auction.stub.flushOutbox();
    await eventually(async () =>
      (await auctionRow(auction.id))?.bidCount === 2 ? true : undefined,
    );

    for (const redis of [null, deadRedis()]) {
      const { page, cache } = await withDb((db) =>
        listAuctions(ctxWith(db, redis), {
          status: "active",
          sort: "ending_soon",
          category: setup.categoryId,
          limit: 20,
        }),
      );
      expect(cache).toBe("bypass");
      expect(page.items).toEqual([
        expect.objectContaining({
          id: auction.id,
          source: "mirror",
          bidCount: 2,
          priceMinor: 2050,
          leaderAlias: "bidder-1",
          minimumNextBidMinor: 2100,
        }),
      ]);
    }
  });
});
