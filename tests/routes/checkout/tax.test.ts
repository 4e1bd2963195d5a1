import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { shops } from "../../../src/db/schema/index.ts";
import {
  addressOf,
  addToCart,
  type BuyShop,
  buyer,
  buyShop,
  setStock,
  stockedProduct,
} from "../../helpers/cart.ts";
import { createProduct, seedCategory } from "../../helpers/catalog.ts";
import { confirm, preview, purchasesOf } from "../../helpers/checkout.ts";
import { withDb } from "../../helpers/db.ts";
import { api } from "../../helpers/http.ts";
import { forwardDelivery, pay, processed } from "../../helpers/stripe.ts";

/** The owner sets the shop's tax mode and default rate, and one category's own rate. */
async function taxShop(
  shop: BuyShop,
  settings: { pricesIncludeTax: boolean; taxRateBps: number },
  categoryRate?: { categoryId: string; rateBps: number },
) {
  const patched = await api("PATCH", `/v1/shops/${shop.id}`, {
    token: shop.owner.accessToken,
    body: settings,
  });
  expect(patched.status, JSON.stringify(patched.body)).toBe(200);
  if (categoryRate) {
    const put = await api(
      "PUT",
      `/v1/seller/shops/${shop.id}/tax-rates/${categoryRate.categoryId}`,
      { token: shop.owner.accessToken, body: { rateBps: categoryRate.rateBps } },
    );
    expect(put.status, JSON.stringify(put.body)).toBe(200);
  }
}

/** An exclusive-tax shop (17% default, 8% for a second category) and a cart of one of each. */
async function exclusiveCart() {
  const shop = await buyShop();
  const food = await seedCategory();
  await taxShop(
    shop,
    { pricesIncludeTax: false, taxRateBps: 1700 },
    { categoryId: food.id, rateBps: 800 },
  );
  const general = await stockedProduct(shop, { priceMinor: 1003, warehouse: 5 });
  const bread = await createProduct(shop.owner.accessToken, {
    shopId: shop.id,
    categoryId: food.id,
    priceMinor: 2500,
  });
  await setStock(shop, bread.id, shop.warehouseId, 5);
  const u = await buyer();
  const addressId = await addressOf(u);
  await addToCart(u, general.id, 1);
  await addToCart(u, bread.id, 1);
  const body = { fulfilment: [{ shopId: shop.id, method: "delivery" as const, addressId }] };
  return { shop, general, bread, u, body };
}

// 1 003 × 17 % = 170.51 → 171; 2 500 × 8 % = 200; delivery 499 × 17 % = 84.83 → 85.
const EXCLUSIVE_TAX_LINES = [
  { rateBps: 800, baseMinor: 2500, taxMinor: 200 },
  { rateBps: 1700, baseMinor: 1003 + 499, taxMinor: 171 + 85 },
];

describe("taxes at checkout", () => {
  it("adds exclusive tax per line and on delivery, shown per rate, to preview and confirm", async () => {
    const { shop, general, bread, u, body } = await exclusiveCart();

    const p = await preview(u, body);
    expect(p.status, JSON.stringify(p.body)).toBe(200);
    expect(p.body).toMatchObject({
      subtotalMinor: 3503,
      deliveryFeeMinor: 499,
      taxMinor: 456,
      totalMinor: 3503 + 499 + 456,
    });
    expect(p.body.shops[0]).toMatchObject({
      pricesIncludeTax: false,
      taxMinor: 456,
      taxLines: EXCLUSIVE_TAX_LINES,
    });
    expect(p.body.shops[0]?.lines).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ productId: general.id, taxRateBps: 1700, taxMinor: 171 }),
        expect.objectContaining({ productId: bread.id, taxRateBps: 800, taxMinor: 200 }),
      ]),
    );

    const c = await confirm(u, { ...body, expectedTotalMinor: 4458 });
    expect(c.status, JSON.stringify(c.body)).toBe(201);
    expect(c.body.amountMinor).toBe(4458);
    expect(c.body.orders[0]).toMatchObject({
      shopId: shop.id,
      pricesIncludeTax: false,
      taxMinor: 456,
      taxLines: EXCLUSIVE_TAX_LINES,
      totalMinor: 4458,
    });

    const { orders, items } = await purchasesOf(u.id);
    expect(orders[0]).toMatchObject({
      taxMinor: 456,
      pricesIncludeTax: false,
      deliveryTaxRateBps: 1700,
      deliveryTaxMinor: 85,
      totalMinor: 4458,
    });
    expect(items.map((i) => [i.productId, i.taxRateBps, i.taxMinor]).sort()).toEqual(
      [
        [general.id, 1700, 171],
        [bread.id, 800, 200],
      ].sort(),
    );

    const read = await api<Record<string, unknown>>("GET", `/v1/orders/${orders[0]?.id}`, {
      token: u.accessToken,
    });
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ taxMinor: 456, taxLines: EXCLUSIVE_TAX_LINES });
  });

  it("leaves the buyer's total at the listed prices when prices include tax", async () => {
    const shop = await buyShop();
    await taxShop(shop, { pricesIncludeTax: true, taxRateBps: 1700 });
    const [p, u] = await Promise.all([
      stockedProduct(shop, { priceMinor: 1170, branch: 5 }),
      buyer(),
    ]);
    await addToCart(u, p.id, 2);
    const body = { fulfilment: [{ shopId: shop.id, method: "pickup", locationId: shop.branchId }] };

    const c = await confirm(u, body);
    expect(c.status, JSON.stringify(c.body)).toBe(201);
    // 2 340 × 1 700 / 11 700 = 340 extracted; the buyer pays 2 340.
    expect(c.body.amountMinor).toBe(2340);
    expect(c.body.orders[0]).toMatchObject({
      pricesIncludeTax: true,
      taxMinor: 340,
      taxLines: [{ rateBps: 1700, baseMinor: 2000, taxMinor: 340 }],
      totalMinor: 2340,
    });
  });

  it("charges the tax Postgres holds when the rate changed after the preview", async () => {
    const shop = await buyShop();
    await taxShop(shop, { pricesIncludeTax: false, taxRateBps: 1000 });
    const [p, u] = await Promise.all([
      stockedProduct(shop, { priceMinor: 1000, branch: 5 }),
      buyer(),
    ]);
    await addToCart(u, p.id, 1);
    const body = { fulfilment: [{ shopId: shop.id, method: "pickup", locationId: shop.branchId }] };
    expect((await preview(u, body)).body.totalMinor).toBe(1100);
    // Behind the service's back: the cached listing still says 10 %.
    await withDb((db) => db.update(shops).set({ taxRateBps: 2000 }).where(eq(shops.id, shop.id)));

    const c = await confirm(u, body);
    expect(c.status, JSON.stringify(c.body)).toBe(201);
    expect(c.body.orders[0]).toMatchObject({ taxMinor: 200, totalMinor: 1200 });
  });

  it("refunds a share of the tax per line and reports tax by rate less refunds", async () => {
    const { shop, u, body } = await exclusiveCart();
    const c = await confirm(u, body);
    expect(c.status, JSON.stringify(c.body)).toBe(201);
    // The intent's id reaches the checkout through its `created` event (as in production).
    await processed(
      (await forwardDelivery("payment_intent.created", c.body.paymentIntentId)).eventId,
    );
    await pay(c.body.paymentIntentId);
    await processed(
      (await forwardDelivery("payment_intent.succeeded", c.body.paymentIntentId)).eventId,
    );
    const orderId = c.body.orders[0]?.id ?? "";

    // Half of what was paid: each line gives back half its tax, rounded per line:
    // 200 → 100 (8 %); 171 → 85.5 → 86 and 85 → 42.5 → 43 (17 %).
    const refunded = await api<{ refunds: Array<Record<string, unknown>> }>(
      "POST",
      `/v1/seller/orders/${orderId}/refunds`,
      { token: shop.owner.accessToken, body: { amountMinor: 2229, reason: "goodwill" } },
    );
    expect(refunded.status, JSON.stringify(refunded.body)).toBe(200);
    expect(refunded.body.refunds[0]).toMatchObject({
      amountMinor: 2229,
      taxMinor: 100 + 86 + 43,
      taxLines: [
        { rateBps: 800, baseMinor: 1250, taxMinor: 100 },
        { rateBps: 1700, baseMinor: 502 + 250, taxMinor: 86 + 43 },
      ],
    });

    const today = new Date().toISOString().slice(0, 10);
    const report = await api<Record<string, unknown>>(
      "GET",
      `/v1/seller/analytics/tax?shopId=${shop.id}&from=${today}&to=${today}`,
      { token: shop.owner.accessToken },
    );
    expect(report.status, JSON.stringify(report.body)).toBe(200);
    expect(report.body).toMatchObject({
      rates: [
        {
          rateBps: 800,
          sales: { baseMinor: 2500, taxMinor: 200 },
          refunds: { baseMinor: 1250, taxMinor: 100 },
          net: { baseMinor: 1250, taxMinor: 100 },
        },
        {
          rateBps: 1700,
          sales: { baseMinor: 1502, taxMinor: 256 },
          refunds: { baseMinor: 752, taxMinor: 129 },
          net: { baseMinor: 750, taxMinor: 127 },
        },
      ],
      totals: { net: { taxMinor: 227 } },
    });
  });
});
