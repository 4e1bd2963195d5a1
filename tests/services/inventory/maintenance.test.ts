import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { stockAlerts } from "../../../src/db/schema/index.ts";
import { uuidv7 } from "../../../src/lib/ids.ts";
import { inventoryMaintenance } from "../../../src/services/inventory/maintenance.ts";
import { testContext } from "../../helpers/context.ts";
import { withDb } from "../../helpers/db.ts";
import { flush, product, setStock, stockShop, stub } from "../../helpers/seller-stock.ts";

describe("inventoryMaintenance (the cron job)", () => {
  it("turns a crossing made by a buyer's reservation into an alert without anyone listing alerts", async () => {
    const shop = await stockShop();
    const p = await product(shop);
    await setStock(shop.owner.accessToken, p.id, shop.warehouseId, 4, 1);
    const held = await stub(p.id).reserve({
      productId: p.id,
      locationId: shop.warehouseId,
      quantity: 3,
      ttlMs: 60_000,
      key: `checkout-${uuidv7()}`,
    });
    expect(held.ok).toBe(true);
    await flush(p.id);
    const alerts = () =>
      withDb((db) => db.select().from(stockAlerts).where(eq(stockAlerts.productId, p.id)));
    expect(await alerts()).toEqual([]);

    // Other test files leave crossings of their own; a run takes 50 products at most.
    for (let run = 0; run < 10 && (await alerts()).length === 0; run++) {
      await withDb((db) => inventoryMaintenance(testContext({ db })));
    }
    const rows = await alerts();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      locationId: shop.warehouseId,
      availableAtRaise: 1,
      threshold: 1,
    });
  });
});
