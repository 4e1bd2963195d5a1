import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { ProductStock } from "../../durable-objects/product-stock.ts";

describe("Durable Object RPC", () => {
  it("ProductStock.snapshot answers over RPC with its SQLite-backed levels", async () => {
    const stub = env.PRODUCT_STOCK.get(env.PRODUCT_STOCK.idFromName(crypto.randomUUID()));
    await runInDurableObject(stub, async (instance, state) => {
      expect(instance).toBeInstanceOf(ProductStock);
      state.storage.sql.exec(
        "INSERT INTO stock_levels (location_id, on_hand, reserved) VALUES ('wh', 5, 2)",
      );
    });
    const snap = await stub.snapshot();
    expect(snap.locations).toEqual([
      { locationId: "wh", onHand: 5, reserved: 2, available: 3, threshold: null, low: false },
    ]);
  });

  it("AuctionRoom.summary answers over RPC", async () => {
    const stub = env.AUCTION_ROOM.get(env.AUCTION_ROOM.idFromName(crypto.randomUUID()));
    expect(await stub.summary()).toEqual({ status: "not_configured", watchers: 0 });
  });
});
