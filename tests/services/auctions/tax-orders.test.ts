import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { createAuctionOrder } from "../../../durable-objects/auction-room/orders.ts";
import { orderItems, shops, shopTaxRates } from "../../../src/db/schema/index.ts";
import { uuidv7 } from "../../../src/lib/ids.ts";
import { auctionProduct } from "../../helpers/auctions.ts";
import { withDb } from "../../helpers/db.ts";
import { registerUser } from "../../helpers/users.ts";

/** An auction order for `priceMinor` in a shop with these tax terms, and its one item. */
async function taxedAuctionOrder(
  terms: { pricesIncludeTax: boolean; taxRateBps: number; categoryRateBps?: number },
  priceMinor: number,
) {
  const [setup, winner] = await Promise.all([auctionProduct(), registerUser("buyer")]);
  return withDb(async (db) => {
    await db
      .update(shops)
      .set({ pricesIncludeTax: terms.pricesIncludeTax, taxRateBps: terms.taxRateBps })
      .where(eq(shops.id, setup.shop.id));
    if (terms.categoryRateBps !== undefined) {
      await db.insert(shopTaxRates).values({
        shopId: setup.shop.id,
        categoryId: setup.categoryId,
        rateBps: terms.categoryRateBps,
      });
    }
    const { order } = await db.transaction((tx) =>
      createAuctionOrder(
        tx,
        { type: "system" },
        {
          orderId: uuidv7(),
          auctionId: uuidv7(),
          buyerId: winner.id,
          shopId: setup.shop.id,
          productId: setup.productId,
          priceMinor,
          currency: "EUR",
          paymentDeadline: new Date(Date.now() + 3_600_000),
          via: "win",
          platformFeeBps: 200,
        },
      ),
    );
    const [item] = await db.select().from(orderItems).where(eq(orderItems.orderId, order.id));
    return { order, item };
  });
}

describe("auction orders are taxed as checkout taxes", () => {
  it("adds exclusive tax to the hammer price at the category's rate", async () => {
    // 10 005 × 8 % = 800.4 → 800.
    const { order, item } = await taxedAuctionOrder(
      { pricesIncludeTax: false, taxRateBps: 1700, categoryRateBps: 800 },
      10_005,
    );
    expect(order).toMatchObject({
      subtotalMinor: 10_005,
      taxMinor: 800,
      totalMinor: 10_805,
      pricesIncludeTax: false,
      platformFeeMinor: 200,
    });
    expect(item).toMatchObject({ taxRateBps: 800, taxMinor: 800 });
  });

  it("takes inclusive tax out of the hammer price, which stays the total", async () => {
    // 11 700 × 1 700 / 11 700 = 1 700.
    const { order, item } = await taxedAuctionOrder(
      { pricesIncludeTax: true, taxRateBps: 1700 },
      11_700,
    );
    expect(order).toMatchObject({ taxMinor: 1700, totalMinor: 11_700, pricesIncludeTax: true });
    expect(item).toMatchObject({ taxRateBps: 1700, taxMinor: 1700 });
  });
});
