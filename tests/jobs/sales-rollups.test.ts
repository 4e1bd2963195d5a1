import { and, desc, eq, gte, sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import {
  jobRuns,
  orders,
  rollupWatermarks,
  salesDaily,
  salesDailyShops,
} from "../../src/db/schema/index.ts";
import { catchUpSalesRollups, SALES_ROLLUP } from "../../src/services/analytics/rollups.ts";
import { refund, seedPaidOrder } from "../helpers/analytics.ts";
import { testContext } from "../helpers/context.ts";
import { withDb } from "../helpers/db.ts";
import { fireCron } from "../helpers/jobs.ts";
import { product, type StockShop, stockShop } from "../helpers/seller-stock.ts";
import { registerUser, type TestUser } from "../helpers/users.ts";

const catchUp = () => withDb((db) => catchUpSalesRollups(testContext({ db })));

function dayOf(shopId: string) {
  return withDb(async (db) => ({
    products: await db
      .select()
      .from(salesDaily)
      .where(eq(salesDaily.shopId, shopId))
      .orderBy(salesDaily.day, salesDaily.productId),
    shop: await db.select().from(salesDailyShops).where(eq(salesDailyShops.shopId, shopId)),
  }));
}

let shop: StockShop;
let buyer: TestUser;

beforeAll(async () => {
  [shop, buyer] = await Promise.all([stockShop(), registerUser("buyer")]);
});

describe("sales rollups", () => {
  it("runs under the */10 cron and records its run", async () => {
    const since = new Date(Date.now() - 1000);
    await fireCron("*/10 * * * *");
    const [run] = await withDb((db) =>
      db
        .select()
        .from(jobRuns)
        .where(and(eq(jobRuns.job, "sales-rollups"), gte(jobRuns.startedAt, since)))
        .orderBy(desc(jobRuns.startedAt)),
    );
    expect(run?.outcome).toBe("ok");
    expect(run?.detail).toMatchObject({ watermark: expect.any(String) });
  });

  it("rebuilds a day rather than adding to it: a second run changes nothing", async () => {
    const p = await product(shop);
    await seedPaidOrder(
      shop,
      buyer,
      [{ productId: p.id, unitPriceMinor: 400, quantity: 3 }],
      new Date("2026-01-05T12:00:00Z"),
    );
    await catchUp();
    const first = await dayOf(shop.id);
    await catchUp();
    const second = await dayOf(shop.id);
    const row = first.products.find((r) => r.productId === p.id);
    expect(row).toMatchObject({
      day: "2026-01-05",
      grossMinor: 1200,
      feesMinor: 24,
      units: 3,
      orders: 1,
    });
    expect(second.products.map((r) => [r.productId, r.day, r.grossMinor, r.units])).toEqual(
      first.products.map((r) => [r.productId, r.day, r.grossMinor, r.units]),
    );
  });

  it("counts a refund made later on the day of the sale it undoes", async () => {
    const p = await product(shop);
    const order = await seedPaidOrder(
      shop,
      buyer,
      [
        { productId: p.id, unitPriceMinor: 1000, quantity: 1 },
        { productId: p.id, unitPriceMinor: 3000, quantity: 1 },
      ],
      new Date("2026-01-20T09:00:00Z"),
    );
    await catchUp();
    // A refund of the whole order's 2000, not of a line: shared over the lines by value.
    await refund(order, 2000);
    await catchUp();
    const { shop: days } = await dayOf(shop.id);
    expect(days.find((d) => d.day === "2026-01-20")).toMatchObject({
      grossMinor: 4000,
      refundsMinor: 2000,
      feesMinor: 80,
      netMinor: 1920,
      orders: 1,
      units: 2,
    });
  });

  it("takes back the whole of a paid order that was cancelled, fees included", async () => {
    const p = await product(shop);
    const order = await seedPaidOrder(
      shop,
      buyer,
      [{ productId: p.id, unitPriceMinor: 900, quantity: 2 }],
      new Date("2026-02-02T09:00:00Z"),
    );
    await withDb((db) =>
      db
        .update(orders)
        .set({ status: "cancelled", updatedAt: new Date() })
        .where(eq(orders.id, order.id)),
    );
    await catchUp();
    const { products } = await dayOf(shop.id);
    expect(products.find((r) => r.productId === p.id)).toMatchObject({
      grossMinor: 1800,
      refundsMinor: 1800,
      feesMinor: 0,
      netMinor: 0,
      units: 2,
      refundedUnits: 2,
    });
  });

  it("moves its watermark to the run's start, in the database's clock", async () => {
    const before = await withDb(
      async (db) =>
        (await db.execute<{ now: string }>(sql`select now()::text as now`)).rows[0]?.now,
    );
    const result = await catchUp();
    const [mark] = await withDb((db) =>
      db.select().from(rollupWatermarks).where(eq(rollupWatermarks.name, SALES_ROLLUP)),
    );
    expect(mark?.watermark.getTime()).toBeGreaterThanOrEqual(new Date(before ?? 0).getTime());
    expect(result.watermark).not.toBeNull();
  });
});
