import { describe, expect, it } from "vitest";
import {
  dailySeries,
  recomputeShop,
  staleShops,
} from "../../../src/services/intelligence/compute.ts";
import { createProduct, seedCategory } from "../../helpers/catalog.ts";
import { testContext } from "../../helpers/context.ts";
import { withDb } from "../../helpers/db.ts";
import { seedShop } from "../../helpers/shops.ts";

describe("dailySeries", () => {
  it("runs from the first sale to yesterday, zeros on days without sales", () => {
    const sales = new Map([
      ["2026-11-27", 3],
      ["2026-11-29", 1],
    ]);
    expect(dailySeries(sales, "2026-11-30", "2025-01-01", "2026-12-01")).toEqual([3, 0, 1, 0]);
  });

  it("starts at the listing when that is earlier than the first sale", () => {
    expect(
      dailySeries(new Map([["2026-11-30", 2]]), "2026-11-27", "2025-01-01", "2026-12-01"),
    ).toEqual([0, 0, 0, 2]);
  });

  it("never reaches back past the window read", () => {
    expect(dailySeries(undefined, "2020-01-01", "2026-11-21", "2026-12-01")).toHaveLength(10);
  });
});

describe("staleShops (the cron's selection)", () => {
  it("leaves out a shop computed within the day and includes one never computed", async () => {
    const [fresh, never, category] = await Promise.all([seedShop(), seedShop(), seedCategory()]);
    await Promise.all(
      [fresh, never].map((shop) =>
        createProduct(shop.owner.accessToken, { shopId: shop.id, categoryId: category.id }),
      ),
    );
    await withDb(async (db) => {
      const ctx = testContext({ db });
      await recomputeShop(ctx, fresh.id, new Date(Date.now() - 60_000));
      const due = await staleShops(db, new Date(), 10_000);
      expect(due).toContain(never.id);
      expect(due).not.toContain(fresh.id);
      expect(await staleShops(db, new Date(), 1)).toHaveLength(1);
    });
  });
});
