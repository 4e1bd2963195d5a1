import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { stockAlerts } from "../../../src/db/schema/index.ts";
import { withDb } from "../../helpers/db.ts";
import { eventually } from "../../helpers/eventually.ts";
import { adjust, product, setStock, stockShop } from "../../helpers/seller-stock.ts";
import { alertNotices, alertsOf } from "./stock-alert-fixtures.ts";

describe("out-of-stock alerts", () => {
  it("raises an out-of-stock alert when a location with no threshold reaches 0, and notifies the owner and managers", async () => {
    const shop = await stockShop();
    const p = await product(shop, { title: "Olive soap" });
    const t = shop.manager.accessToken;
    const stocked = await setStock(t, p.id, shop.warehouseId, 4);
    expect(stocked.movement).toMatchObject({ threshold: null, alert: null });

    const some = await adjust(t, p.id, {
      locationId: shop.warehouseId,
      mode: "delta",
      quantity: -3,
      reason: "sold",
    });
    expect(some.body.movement).toMatchObject({ availableAfter: 1, alert: null });
    const gone = await adjust(t, p.id, {
      locationId: shop.warehouseId,
      mode: "delta",
      quantity: -1,
      reason: "sold the last one",
    });
    expect(gone.status).toBe(201);
    // The level is not "low" (no threshold), but the movement opens the alert.
    expect(gone.body.movement).toMatchObject({ availableAfter: 0, low: false, alert: "raised" });

    const open = await alertsOf(t, `shopId=${shop.id}&productId=${p.id}`);
    expect(open.status).toBe(200);
    expect(open.body.items).toEqual([
      expect.objectContaining({
        productId: p.id,
        locationId: shop.warehouseId,
        kind: "out_of_stock",
        threshold: null,
        availableAtRaise: 0,
        raisedMovementId: gone.body.movement.id,
        clearedAt: null,
      }),
    ]);
    const notices = await eventually(async () => {
      const rows = await alertNotices("stock.out_of_stock", gone.body.movement.id);
      return rows.length >= 2 ? rows : undefined;
    });
    expect(notices.map((n) => n.userId).sort()).toEqual([shop.owner.id, shop.manager.id].sort());
    expect(notices.every((n) => n.kind === "stock.out_of_stock")).toBe(true);
  });

  it("clears the out-of-stock alert when the location is restocked", async () => {
    const shop = await stockShop();
    const p = await product(shop);
    const t = shop.owner.accessToken;
    await setStock(t, p.id, shop.branchId, 2);
    const gone = await setStock(t, p.id, shop.branchId, 0);
    expect(gone.movement).toMatchObject({ availableAfter: 0, alert: "raised" });

    const back = await adjust(t, p.id, {
      locationId: shop.branchId,
      mode: "delta",
      quantity: 8,
      reason: "delivery arrived",
    });
    expect(back.body.movement).toMatchObject({ availableAfter: 8, alert: "cleared" });
    expect((await alertsOf(t, `shopId=${shop.id}&productId=${p.id}`)).body.items).toEqual([]);
    const rows = await withDb((db) =>
      db.select().from(stockAlerts).where(eq(stockAlerts.productId, p.id)),
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      availableAtRaise: 0,
      threshold: null,
      raisedMovementId: gone.movement.id,
      clearedMovementId: back.body.movement.id,
    });
  });
});
