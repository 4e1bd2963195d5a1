import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { intelligenceRuns } from "../../../src/db/schema/index.ts";
import {
  dailySeries,
  MAX_SHOPS_PER_RUN,
  recomputeShop,
  recomputeStaleShops,
} from "../../../src/services/intelligence/compute.ts";
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

describe("recomputeStaleShops (cron)", () => {
  it("does a bounded batch and leaves a shop computed within the day alone", async () => {
    const shop = await seedShop();
    await withDb(async (db) => {
      const ctx = testContext({ db });
      const at = new Date(Date.now() - 60_000);
      await recomputeShop(ctx, shop.id, at);
      const result = await recomputeStaleShops(ctx);
      expect(result.shops + result.failed).toBeLessThanOrEqual(MAX_SHOPS_PER_RUN);
      const [run] = await db
        .select()
        .from(intelligenceRuns)
        .where(eq(intelligenceRuns.shopId, shop.id));
      expect(run?.computedAt.getTime()).toBe(at.getTime());
    });
  });
});
