import { beforeAll, describe, expect, it } from "vitest";
import { type Kpis, wholeMonths } from "../../../src/services/analytics/kpis.ts";
import type { Series } from "../../../src/services/analytics/series.ts";
import { refund, seedPaidOrder } from "../../helpers/analytics.ts";
import { createProduct, type SellerProduct, seedCategory } from "../../helpers/catalog.ts";
import { api, type Problem } from "../../helpers/http.ts";
import { flush, product, type StockShop, setStock, stockShop } from "../../helpers/seller-stock.ts";
import { registerUser } from "../../helpers/users.ts";

const kpis = (token: string, query: string) =>
  api<Kpis & Problem>("GET", `/v1/seller/analytics/kpis?${query}`, { token });
const series = (token: string, query: string) =>
  api<Series & Problem>("GET", `/v1/seller/analytics/series?${query}`, { token });

/**
 * One shop's March 2026: in the week of 8–14 March, an order of 2 × A at 10.00 and 1 × B at
 * 5.00 (10th), an order of 1 × A refunded in full (11th) and an offline sale of 3 × B at 5.00
 * (12th); the week before, one order of 1 × A (5th). A and B sit in different categories; C
 * never sold and has no stock. On hand now: A 5, B 7 (threshold 8, so low).
 */
let shop: StockShop;
let a: SellerProduct;
let b: SellerProduct;

beforeAll(async () => {
  shop = await stockShop();
  const [other, buyer] = await Promise.all([seedCategory(), registerUser("buyer")]);
  a = await product(shop, { title: "Alpha" });
  b = await createProduct(shop.owner.accessToken, {
    shopId: shop.id,
    categoryId: other.id,
    title: "Beta",
    priceMinor: 500,
  });
  await product(shop, { title: "Gamma" });
  await setStock(shop.owner.accessToken, a.id, shop.warehouseId, 5);
  await setStock(shop.owner.accessToken, b.id, shop.warehouseId, 10, 8);
  await seedPaidOrder(
    shop,
    buyer,
    [
      { productId: a.id, unitPriceMinor: 1000, quantity: 2 },
      { productId: b.id, unitPriceMinor: 500, quantity: 1 },
    ],
    new Date("2026-03-10T10:00:00Z"),
  );
  const refunded = await seedPaidOrder(
    shop,
    buyer,
    [{ productId: a.id, unitPriceMinor: 1000, quantity: 1 }],
    new Date("2026-03-11T23:30:00Z"),
  );
  await refund(refunded, 1000, refunded.itemIds[0]);
  await seedPaidOrder(
    shop,
    buyer,
    [{ productId: a.id, unitPriceMinor: 1000, quantity: 1 }],
    new Date("2026-03-05T08:00:00Z"),
  );
  const sale = await api("POST", "/v1/seller/transactions", {
    token: shop.owner.accessToken,
    body: {
      shopId: shop.id,
      productId: b.id,
      quantity: 3,
      locationId: shop.warehouseId,
      soldAt: "2026-03-12T15:00:00Z",
    },
  });
  expect(sale.status, JSON.stringify(sale.body)).toBe(201);
  await Promise.all([flush(a.id), flush(b.id)]);
});

describe("GET /v1/seller/analytics/kpis", () => {
  it("sums paid orders and offline sales, less refunds and fees, against the week before", async () => {
    const res = await kpis(
      shop.manager.accessToken,
      `shopId=${shop.id}&from=2026-03-08&to=2026-03-14&refresh=true`,
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.comparePeriod).toEqual({ from: "2026-03-01", to: "2026-03-07" });
    expect(res.body.current).toEqual({
      grossMinor: 5000,
      refundsMinor: 1000,
      feesMinor: 70,
      netMinor: 3930,
      orders: 3,
      units: 7,
      refundedUnits: 1,
      averageOrderValueMinor: 1667,
      offlineGrossMinor: 1500,
      offlineUnits: 3,
    });
    expect(res.body.previous).toMatchObject({ grossMinor: 1000, feesMinor: 20, orders: 1 });
    expect(res.body.change.grossMinor).toBe(4);
    expect(res.body.change.refundsMinor).toBeNull();
  });

  it("ranks products and categories by gross", async () => {
    const res = await kpis(
      shop.owner.accessToken,
      `shopId=${shop.id}&from=2026-03-08&to=2026-03-14`,
    );
    expect(res.body.topProducts.map((p) => [p.title, p.grossMinor, p.netMinor, p.units])).toEqual([
      ["Alpha", 3000, 1940, 3],
      ["Beta", 2000, 1990, 4],
    ]);
    expect(res.body.topCategories.map((c) => [c.grossMinor, c.units])).toEqual([
      [3000, 3],
      [2000, 4],
    ]);
  });

  it("ranks the same over whole months and partial ones: March whole, February and April in part", async () => {
    const res = await kpis(
      shop.owner.accessToken,
      `shopId=${shop.id}&from=2026-02-20&to=2026-04-03`,
    );
    // Everything of March: the week above plus the order of the 5th.
    expect(res.body.topProducts.map((p) => [p.title, p.grossMinor, p.units])).toEqual([
      ["Alpha", 4000, 4],
      ["Beta", 2000, 4],
    ]);
    // A period starting on the 6th reads March's days only, without the order of the 5th.
    const days = await kpis(
      shop.owner.accessToken,
      `shopId=${shop.id}&from=2026-03-06&to=2026-04-03`,
    );
    expect(days.body.topProducts.map((p) => [p.title, p.grossMinor])).toEqual([
      ["Alpha", 3000],
      ["Beta", 2000],
    ]);
  });

  it("splits a period into the whole calendar months inside it", () => {
    expect(wholeMonths("2026-02-20", "2026-04-03")).toEqual({
      start: "2026-03-01",
      end: "2026-04-01",
    });
    expect(wholeMonths("2026-03-01", "2026-03-31")).toEqual({
      start: "2026-03-01",
      end: "2026-04-01",
    });
    expect(wholeMonths("2025-12-01", "2026-11-30")).toEqual({
      start: "2025-12-01",
      end: "2026-12-01",
    });
    // No whole month: the period is read day by day.
    const none = wholeMonths("2026-03-06", "2026-03-30");
    expect(none.start).toBe(none.end);
  });

  it("reports inventory health, sell-through and days of cover from the stock mirror", async () => {
    const res = await kpis(
      shop.owner.accessToken,
      `shopId=${shop.id}&from=2026-03-08&to=2026-03-14`,
    );
    expect(res.body.inventory).toEqual({
      skus: 3,
      units: 12,
      availableUnits: 12,
      stockValueMinor: 5 * 1000 + 7 * 500,
      lowStock: 1,
      outOfStock: 1,
      // 12 available ÷ (6 units kept ÷ 7 days)
      daysOfCover: 14,
    });
    expect(res.body.sellThrough).toBe(0.3333);
  });

  it("compares with the period asked for", async () => {
    const res = await kpis(
      shop.owner.accessToken,
      `shopId=${shop.id}&from=2026-03-10&to=2026-03-10&compareFrom=2026-03-11&compareTo=2026-03-12`,
    );
    expect(res.body.current).toMatchObject({ grossMinor: 2500, orders: 1, units: 3 });
    expect(res.body.previous).toMatchObject({ grossMinor: 2500, orders: 2, refundsMinor: 1000 });
  });

  it("names `to` when it is before `from`", async () => {
    const res = await kpis(
      shop.owner.accessToken,
      `shopId=${shop.id}&from=2026-03-10&to=2026-03-01`,
    );
    expect(res.status).toBe(422);
    expect(res.body.errors?.map((e) => e.field)).toEqual(["to"]);
  });

  it("is 403 for staff and 404 for someone outside the shop", async () => {
    const outsider = await registerUser("seller");
    const q = `shopId=${shop.id}&from=2026-03-08&to=2026-03-14`;
    expect((await kpis(shop.staff.accessToken, q)).status).toBe(403);
    expect((await kpis(outsider.accessToken, q)).status).toBe(404);
  });
});

describe("GET /v1/seller/analytics/series", () => {
  it("gives gross revenue per day, zeros included", async () => {
    const res = await series(
      shop.owner.accessToken,
      `shopId=${shop.id}&metric=revenue&interval=day&from=2026-03-09&to=2026-03-12&refresh=true`,
    );
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.points).toEqual([
      { period: "2026-03-09", value: 0 },
      { period: "2026-03-10", value: 2500 },
      { period: "2026-03-11", value: 1000 },
      { period: "2026-03-12", value: 1500 },
    ]);
  });

  it("buckets by ISO week (Monday) and by month", async () => {
    const weeks = await series(
      shop.owner.accessToken,
      `shopId=${shop.id}&metric=orders&interval=week&from=2026-03-01&to=2026-03-14`,
    );
    expect(weeks.body.points).toEqual([
      { period: "2026-02-23", value: 0 },
      { period: "2026-03-02", value: 1 },
      { period: "2026-03-09", value: 3 },
    ]);
    const months = await series(
      shop.owner.accessToken,
      `shopId=${shop.id}&metric=net_revenue&interval=month&from=2026-03-01&to=2026-03-31`,
    );
    expect(months.body.points).toEqual([{ period: "2026-03-01", value: 3930 + 980 }]);
  });

  it("gives one product's units", async () => {
    const res = await series(
      shop.owner.accessToken,
      `shopId=${shop.id}&metric=units&from=2026-03-10&to=2026-03-11&productId=${a.id}`,
    );
    expect(res.body.points.map((p) => p.value)).toEqual([2, 1]);
  });

  it("refuses a product of another shop, naming productId", async () => {
    const other = await stockShop();
    const theirs = await product(other);
    const res = await series(
      shop.owner.accessToken,
      `shopId=${shop.id}&metric=units&from=2026-03-10&to=2026-03-11&productId=${theirs.id}`,
    );
    expect(res.status).toBe(422);
    expect(res.body.errors?.map((e) => e.field)).toEqual(["productId"]);
  });

  it("is 403 for staff", async () => {
    const res = await series(
      shop.staff.accessToken,
      `shopId=${shop.id}&metric=units&from=2026-03-10&to=2026-03-11`,
    );
    expect(res.status).toBe(403);
  });
});
