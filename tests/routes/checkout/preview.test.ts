import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { users } from "../../../src/db/schema/index.ts";
import {
  addressOf,
  addToCart,
  buyer,
  buyShop,
  setStock,
  stockedProduct,
} from "../../helpers/cart.ts";
import { type Preview, preview } from "../../helpers/checkout.ts";
import { withDb } from "../../helpers/db.ts";
import { api } from "../../helpers/http.ts";

/** The money in a preview adds up: lines → subtotals → totals, per shop and overall. */
function expectSums(p: Preview) {
  for (const s of p.shops) {
    for (const l of s.lines) expect(l.lineTotalMinor).toBe(l.unitPriceMinor * l.quantity);
    expect(s.subtotalMinor).toBe(s.lines.reduce((a, l) => a + l.lineTotalMinor, 0));
    expect(s.totalMinor).toBe(s.subtotalMinor + s.deliveryFeeMinor);
    for (const v of [s.subtotalMinor, s.deliveryFeeMinor, s.platformFeeMinor, s.totalMinor]) {
      expect(Number.isInteger(v)).toBe(true);
    }
  }
  const sum = (f: (s: Preview["shops"][number]) => number) => p.shops.reduce((a, s) => a + f(s), 0);
  expect(p.subtotalMinor).toBe(sum((s) => s.subtotalMinor));
  expect(p.deliveryFeeMinor).toBe(sum((s) => s.deliveryFeeMinor));
  expect(p.platformFeeMinor).toBe(sum((s) => s.platformFeeMinor));
  expect(p.totalMinor).toBe(sum((s) => s.totalMinor));
  expect(p.totalMinor).toBe(p.subtotalMinor + p.deliveryFeeMinor);
}

describe("POST /v1/checkout/preview", () => {
  it("charges the platform delivery fee under the free-delivery minimum and none at or above it", async () => {
    const shop = await buyShop();
    const [p, u] = await Promise.all([
      stockedProduct(shop, { priceMinor: 2500, warehouse: 5 }),
      buyer(),
    ]);
    const addressId = await addressOf(u);
    await addToCart(u, p.id, 1);
    const body = { fulfilment: [{ shopId: shop.id, method: "delivery", addressId }] };

    const under = await preview(u, body);
    expect(under.status, JSON.stringify(under.body)).toBe(200);
    expectSums(under.body);
    expect(under.body).toMatchObject({
      currency: "EUR",
      subtotalMinor: 2500,
      deliveryFeeMinor: 499,
      platformFeeMinor: 50,
      totalMinor: 2999,
      warnings: [],
      ready: true,
    });
    expect(under.body.shops[0]).toMatchObject({
      shopId: shop.id,
      fulfilment: { method: "delivery", addressId, address: { city: "Lisboa" } },
      stockLocationId: shop.warehouseId,
      lines: [{ productId: p.id, unitPriceMinor: 2500, quantity: 1, available: 5 }],
    });

    await api("PATCH", `/v1/cart/items/${p.id}`, { token: u.accessToken, body: { quantity: 2 } });
    const atMinimum = await preview(u, body);
    expectSums(atMinimum.body);
    expect(atMinimum.body).toMatchObject({
      subtotalMinor: 5000,
      deliveryFeeMinor: 0,
      platformFeeMinor: 100,
      totalMinor: 5000,
    });
  });

  it("rounds the platform fee half up per shop and adds shops up", async () => {
    const [a, b] = await Promise.all([buyShop(), buyShop()]);
    // 1 025 × 2 % = 20.5 → 21; 1 024 × 2 % = 20.48 → 20.
    const [pa, pb, u] = await Promise.all([
      stockedProduct(a, { priceMinor: 1025, branch: 1 }),
      stockedProduct(b, { priceMinor: 1024, branch: 1 }),
      buyer(),
    ]);
    await addToCart(u, pa.id, 1);
    await addToCart(u, pb.id, 1);
    const res = await preview(u, {
      fulfilment: [
        { shopId: a.id, method: "pickup", locationId: a.branchId },
        { shopId: b.id, method: "pickup", locationId: b.branchId },
      ],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expectSums(res.body);
    const byShop = new Map(res.body.shops.map((s) => [s.shopId, s]));
    expect(byShop.get(a.id)).toMatchObject({ platformFeeMinor: 21, deliveryFeeMinor: 0 });
    expect(byShop.get(b.id)).toMatchObject({ platformFeeMinor: 20, deliveryFeeMinor: 0 });
    expect(res.body).toMatchObject({ platformFeeMinor: 41, totalMinor: 2049 });
  });

  it("applies a shop's own delivery fee and minimum, and no fee for pickup", async () => {
    const shop = await buyShop({ deliveryFeeMinor: 250, freeDeliveryMinMinor: 2000 });
    const [p, u] = await Promise.all([
      stockedProduct(shop, { priceMinor: 1500, warehouse: 5, branch: 5 }),
      buyer(),
    ]);
    const addressId = await addressOf(u);
    await addToCart(u, p.id, 1);
    const delivery = await preview(u, {
      fulfilment: [{ shopId: shop.id, method: "delivery", addressId }],
    });
    expectSums(delivery.body);
    expect(delivery.body).toMatchObject({ deliveryFeeMinor: 250, totalMinor: 1750 });

    const pickup = await preview(u, {
      fulfilment: [{ shopId: shop.id, method: "pickup", locationId: shop.branchId }],
    });
    expectSums(pickup.body);
    expect(pickup.body).toMatchObject({ deliveryFeeMinor: 0, totalMinor: 1500 });
    expect(pickup.body.shops[0]?.stockLocationId).toBe(shop.branchId);

    await api("PATCH", `/v1/cart/items/${p.id}`, { token: u.accessToken, body: { quantity: 2 } });
    const free = await preview(u, {
      fulfilment: [{ shopId: shop.id, method: "delivery", addressId }],
    });
    expect(free.body).toMatchObject({ subtotalMinor: 3000, deliveryFeeMinor: 0 });
  });

  it("re-reads prices from the catalog: a seller's change shows at once", async () => {
    const shop = await buyShop();
    const [p, u] = await Promise.all([
      stockedProduct(shop, { priceMinor: 1000, branch: 3 }),
      buyer(),
    ]);
    await addToCart(u, p.id, 3);
    const body = { fulfilment: [{ shopId: shop.id, method: "pickup", locationId: shop.branchId }] };
    expect((await preview(u, body)).body.subtotalMinor).toBe(3000);
    await api("PATCH", `/v1/seller/products/${p.id}`, {
      token: shop.owner.accessToken,
      body: { priceMinor: 1200 },
    });
    const after = await preview(u, body);
    expectSums(after.body);
    expect(after.body.shops[0]?.lines[0]?.unitPriceMinor).toBe(1200);
    expect(after.body).toMatchObject({ subtotalMinor: 3600, platformFeeMinor: 72 });
  });

  it("warns, without failing, when the chosen location has too few units", async () => {
    const shop = await buyShop();
    const [p, u] = await Promise.all([stockedProduct(shop, { warehouse: 3 }), buyer()]);
    const addressId = await addressOf(u);
    await addToCart(u, p.id, 3);
    await setStock(shop, p.id, shop.warehouseId, 1);

    const delivery = await preview(u, {
      fulfilment: [{ shopId: shop.id, method: "delivery", addressId }],
    });
    expect(delivery.status).toBe(200);
    expect(delivery.body.ready).toBe(false);
    expect(delivery.body.warnings).toEqual([
      expect.objectContaining({
        code: "insufficient_stock",
        productId: p.id,
        requested: 3,
        available: 1,
      }),
    ]);
    // The branch has none at all: pickup there warns with 0.
    const pickup = await preview(u, {
      fulfilment: [{ shopId: shop.id, method: "pickup", locationId: shop.branchId }],
    });
    expect(pickup.body.warnings[0]).toMatchObject({ code: "insufficient_stock", available: 0 });
  });

  it("leaves unavailable lines out of the amounts and says so", async () => {
    const shop = await buyShop();
    const [keep, gone, u] = await Promise.all([
      stockedProduct(shop, { priceMinor: 800, branch: 2 }),
      stockedProduct(shop, { priceMinor: 900, branch: 2 }),
      buyer(),
    ]);
    await addToCart(u, keep.id, 1);
    await addToCart(u, gone.id, 1);
    await api("PATCH", `/v1/seller/products/${gone.id}`, {
      token: shop.owner.accessToken,
      body: { status: "draft" },
    });
    const res = await preview(u, {
      fulfilment: [{ shopId: shop.id, method: "pickup", locationId: shop.branchId }],
    });
    expect(res.status).toBe(200);
    expectSums(res.body);
    expect(res.body.subtotalMinor).toBe(800);
    expect(res.body.warnings).toEqual([
      expect.objectContaining({
        code: "unavailable",
        productId: gone.id,
        reason: "product_unavailable",
      }),
    ]);
    expect(res.body.ready).toBe(false);
  });

  it("names each bad fulfilment field (422)", async () => {
    const [shop, otherShop] = await Promise.all([buyShop(), buyShop()]);
    const [p, u, stranger] = await Promise.all([
      stockedProduct(shop, { warehouse: 2, branch: 2 }),
      buyer(),
      buyer(),
    ]);
    const [strangersAddress] = await Promise.all([addressOf(stranger)]);
    await addToCart(u, p.id, 1);
    const fields = async (body: unknown) => {
      const res = await preview(u, body as Record<string, unknown>);
      expect(res.status, JSON.stringify(res.body)).toBe(422);
      expect(res.body.code).toBe("VALIDATION_FAILED");
      return res.body.errors?.map((e) => e.field);
    };

    expect(await fields({})).toEqual(["fulfilment"]);
    expect(await fields({ fulfilment: [{ shopId: shop.id, method: "delivery" }] })).toEqual([
      "fulfilment.0.addressId",
    ]);
    expect(await fields({ fulfilment: [{ shopId: shop.id, method: "teleport" }] })).toEqual([
      "fulfilment.0.method",
    ]);
    expect(
      await fields({
        fulfilment: [{ shopId: shop.id, method: "delivery", addressId: strangersAddress }],
      }),
    ).toEqual(["fulfilment.0.addressId"]);
    // A warehouse is not a pickup point, nor is another shop's branch.
    for (const locationId of [shop.warehouseId, otherShop.branchId]) {
      expect(
        await fields({ fulfilment: [{ shopId: shop.id, method: "pickup", locationId }] }),
      ).toEqual(["fulfilment.0.locationId"]);
    }
    expect(
      await fields({
        fulfilment: [
          { shopId: shop.id, method: "pickup", locationId: shop.branchId },
          { shopId: otherShop.id, method: "pickup", locationId: otherShop.branchId },
        ],
      }),
    ).toEqual(["fulfilment.1.shopId"]);
    expect(
      await fields({
        fulfilment: [
          { shopId: shop.id, method: "pickup", locationId: shop.branchId },
          { shopId: shop.id, method: "pickup", locationId: shop.branchId },
        ],
      }),
    ).toEqual(["fulfilment.1.shopId"]);
  });

  it("asks for a fulfilment entry for every shop in the cart", async () => {
    const [a, b] = await Promise.all([buyShop(), buyShop()]);
    const [pa, pb, u] = await Promise.all([
      stockedProduct(a, { branch: 1 }),
      stockedProduct(b, { branch: 1 }),
      buyer(),
    ]);
    await addToCart(u, pa.id, 1);
    await addToCart(u, pb.id, 1);
    const res = await preview(u, {
      fulfilment: [{ shopId: a.id, method: "pickup", locationId: a.branchId }],
    });
    expect(res.status).toBe(422);
    expect(res.body.errors).toEqual([
      expect.objectContaining({ field: "fulfilment", message: expect.stringContaining(b.id) }),
    ]);
  });

  it("refuses an empty cart and a cart of two currencies (409)", async () => {
    const [eur, gbp] = await Promise.all([buyShop(), buyShop({ currency: "GBP" })]);
    const [pe, pg, u] = await Promise.all([
      stockedProduct(eur, { branch: 1 }),
      stockedProduct(gbp, { branch: 1 }),
      buyer(),
    ]);
    const body = {
      fulfilment: [
        { shopId: eur.id, method: "pickup", locationId: eur.branchId },
        { shopId: gbp.id, method: "pickup", locationId: gbp.branchId },
      ],
    };
    const empty = await preview(u, body);
    expect(empty.status).toBe(409);
    expect(empty.body.reason).toBe("cart_empty");

    await addToCart(u, pe.id, 1);
    await addToCart(u, pg.id, 1);
    const mixed = await preview(u, body);
    expect(mixed.status).toBe(409);
    expect(mixed.body).toMatchObject({ code: "CONFLICT", reason: "mixed_currencies" });
    expect(mixed.body.currencies).toEqual(expect.arrayContaining(["EUR", "GBP"]));
    expect(mixed.body.detail).toMatch(/one/);
  });

  it("lets no blocked account check out", async () => {
    const shop = await buyShop();
    const [p, u] = await Promise.all([stockedProduct(shop, { branch: 1 }), buyer()]);
    await addToCart(u, p.id, 1);
    await withDb((db) => db.update(users).set({ blockedAt: new Date() }).where(eq(users.id, u.id)));
    const res = await preview(u, {
      fulfilment: [{ shopId: shop.id, method: "pickup", locationId: shop.branchId }],
    });
    expect(res.status).toBe(403);
  });
});
