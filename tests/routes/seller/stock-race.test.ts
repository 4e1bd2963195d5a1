import { describe, expect, it } from "vitest";
import { auditRows } from "../../helpers/audit.ts";
import {
  adjust,
  flush,
  levelAt,
  mirrorOf,
  product,
  setStock,
  stockOf,
  stockShop,
} from "../../helpers/seller-stock.ts";

describe("concurrent stock changes through the HTTP API", () => {
  it("lets exactly 50 of 200 concurrent −1 adjustments through for 50 units, never below zero", async () => {
    const shop = await stockShop();
    const p = await product(shop);
    const t = shop.owner.accessToken;
    await setStock(t, p.id, shop.warehouseId, 50);

    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        adjust(t, p.id, {
          locationId: shop.warehouseId,
          mode: "delta",
          quantity: -1,
          reason: `sale ${i}`,
        }),
      ),
    );
    const statuses = results.map((r) => r.status);
    const odd = results.filter((r) => r.status !== 201 && r.status !== 409);
    expect(odd.map((r) => [r.status, r.body.detail]).slice(0, 3)).toEqual([]);
    expect(statuses.filter((s) => s === 201)).toHaveLength(50);
    expect(statuses.filter((s) => s === 409)).toHaveLength(150);
    for (const r of results.filter((x) => x.status === 409)) {
      expect(r.body.code).toBe("INSUFFICIENT_STOCK");
    }
    // Every success saw a distinct level on the way down: 49, 48, … 0.
    const after = results
      .filter((r) => r.status === 201)
      .map((r) => r.body.movement.onHandAfter)
      .sort((a, b) => a - b);
    expect(after).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(levelAt(await stockOf(t, p.id), shop.warehouseId)).toMatchObject({
      onHand: 0,
      reserved: 0,
      available: 0,
    });

    await flush(p.id);
    const mirror = await mirrorOf(p.id);
    // The initial set, then exactly the 50 sales, with gapless sequences.
    expect(mirror.map((m) => m.sequence)).toEqual(Array.from({ length: 51 }, (_, i) => i + 1));
    const sales = mirror.filter((m) => m.kind === "adjust");
    expect(sales).toHaveLength(50);
    expect(sales.every((m) => m.deltaOnHand === -1 && m.onHandAfter >= 0)).toBe(true);
    expect(Math.min(...mirror.map((m) => m.onHandAfter))).toBe(0);
    const audits = await auditRows(
      sales.map((m) => m.id),
      { entityType: "stock_movement" },
    );
    expect(audits).toHaveLength(50);
    expect(new Set(audits.map((a) => a.entityId)).size).toBe(50);
    expect(audits.every((a) => a.action === "stock.adjusted")).toBe(true);
  });
});
