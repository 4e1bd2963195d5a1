import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { carts, shops, users } from "../../../src/db/schema/index.ts";
import {
  addItem,
  addToCart,
  buyer,
  buyShop,
  cartOf,
  lineOf,
  setStock,
  stockedProduct,
} from "../../helpers/cart.ts";
import { withDb } from "../../helpers/db.ts";
import { api, type Problem } from "../../helpers/http.ts";

describe("/v1/cart", () => {
  it("starts empty, adds, increments, changes and removes lines with current prices", async () => {
    const shop = await buyShop();
    const [a, b, u] = await Promise.all([
      stockedProduct(shop, { priceMinor: 1250, warehouse: 10 }),
      stockedProduct(shop, { priceMinor: 399, warehouse: 2, branch: 3 }),
      buyer(),
    ]);
    expect(await cartOf(u)).toMatchObject({ id: null, lines: [], itemCount: 0, subtotals: [] });

    await addToCart(u, a.id, 2);
    const incremented = await addToCart(u, a.id, 1);
    expect(lineOf(incremented, a.id)).toMatchObject({
      quantity: 3,
      unitPriceMinor: 1250,
      lineTotalMinor: 3750,
      currency: "EUR",
      purchasable: true,
      flags: [],
      shop: { id: shop.id },
      availability: { status: "in_stock", quantity: 10 },
    });

    // Availability sums every location: 2 at the warehouse + 3 at the branch.
    const withB = await addToCart(u, b.id, 5);
    expect(lineOf(withB, b.id)).toMatchObject({
      quantity: 5,
      availability: { quantity: 5 },
      lineTotalMinor: 1995,
    });
    expect(withB.itemCount).toBe(8);
    expect(withB.subtotals).toEqual([{ currency: "EUR", subtotalMinor: 3750 + 1995 }]);
    expect(withB.checkoutReady).toBe(true);

    const patched = await api<{ lines: Array<{ productId: string; quantity: number }> }>(
      "PATCH",
      `/v1/cart/items/${a.id}`,
      { token: u.accessToken, body: { quantity: 1 } },
    );
    expect(patched.status).toBe(200);
    expect(patched.body.lines.find((l) => l.productId === a.id)?.quantity).toBe(1);

    expect((await api("DELETE", `/v1/cart/items/${b.id}`, { token: u.accessToken })).status).toBe(
      204,
    );
    const after = await cartOf(u);
    expect(after.lines.map((l) => [l.productId, l.quantity])).toEqual([[a.id, 1]]);
    expect(after.subtotals).toEqual([{ currency: "EUR", subtotalMinor: 1250 }]);
    expect((await api("DELETE", `/v1/cart/items/${b.id}`, { token: u.accessToken })).status).toBe(
      404,
    );
  });

  it("shows the catalog's current price after the seller changes it", async () => {
    const shop = await buyShop();
    const [p, u] = await Promise.all([
      stockedProduct(shop, { priceMinor: 1000, warehouse: 5 }),
      buyer(),
    ]);
    await addToCart(u, p.id, 2);
    const res = await api("PATCH", `/v1/seller/products/${p.id}`, {
      token: shop.owner.accessToken,
      body: { priceMinor: 1500 },
    });
    expect(res.status).toBe(200);
    expect(lineOf(await cartOf(u), p.id)).toMatchObject({
      unitPriceMinor: 1500,
      lineTotalMinor: 3000,
    });
  });

  it("refuses a quantity above what is available, naming the available amount, and changes nothing", async () => {
    const shop = await buyShop();
    const [p, u] = await Promise.all([stockedProduct(shop, { warehouse: 3 }), buyer()]);
    await addToCart(u, p.id, 2);
    const over = await addItem(u, p.id, 2);
    expect(over.status).toBe(409);
    expect(over.body).toMatchObject({
      code: "INSUFFICIENT_STOCK",
      productId: p.id,
      requested: 4,
      available: 3,
    });
    const patch = await api<Problem & { available: number }>("PATCH", `/v1/cart/items/${p.id}`, {
      token: u.accessToken,
      body: { quantity: 4 },
    });
    expect(patch.status).toBe(409);
    expect(patch.body.available).toBe(3);
    expect(lineOf(await cartOf(u), p.id).quantity).toBe(2);

    const none = await stockedProduct(shop);
    const empty = await addItem(u, none.id, 1);
    expect(empty.status).toBe(409);
    expect(empty.body).toMatchObject({ code: "INSUFFICIENT_STOCK", available: 0 });
  });

  it("refuses auction listings, drafts and products of hidden shops", async () => {
    const shop = await buyShop();
    const hidden = await buyShop();
    const [auction, draft, hiddenProduct, u] = await Promise.all([
      stockedProduct(shop, { listingType: "auction", warehouse: 1 }),
      stockedProduct(shop, { warehouse: 1 }),
      stockedProduct(hidden, { warehouse: 1 }),
      buyer(),
    ]);
    await api("PATCH", `/v1/seller/products/${draft.id}`, {
      token: shop.owner.accessToken,
      body: { status: "draft" },
    });
    await withDb((db) =>
      db.update(shops).set({ status: "suspended" }).where(eq(shops.id, hidden.id)),
    );

    const a = await addItem(u, auction.id, 1);
    expect(a.status).toBe(409);
    expect(a.body.code).toBe("CONFLICT");
    expect(a.body.detail).toMatch(/auction/);
    expect(a.body.reason).toBe("not_fixed_price");

    expect((await addItem(u, draft.id, 1)).body.code).toBe("NOT_FOUND");
    expect((await addItem(u, hiddenProduct.id, 1)).status).toBe(404);
    expect((await addItem(u, crypto.randomUUID(), 1)).status).toBe(404);
    expect((await cartOf(u)).lines).toEqual([]);
  });

  it("flags lines whose shop was hidden or product unpublished instead of dropping them", async () => {
    const shopA = await buyShop();
    const shopB = await buyShop();
    const [keep, unpublish, suspended, u] = await Promise.all([
      stockedProduct(shopA, { priceMinor: 700, warehouse: 5 }),
      stockedProduct(shopA, { priceMinor: 800, warehouse: 5 }),
      stockedProduct(shopB, { priceMinor: 900, warehouse: 5 }),
      buyer(),
    ]);
    await addToCart(u, keep.id, 1);
    await addToCart(u, unpublish.id, 1);
    await addToCart(u, suspended.id, 2);
    await api("PATCH", `/v1/seller/products/${unpublish.id}`, {
      token: shopA.owner.accessToken,
      body: { status: "draft" },
    });
    await withDb((db) =>
      db.update(shops).set({ status: "suspended" }).where(eq(shops.id, shopB.id)),
    );

    const cart = await cartOf(u);
    expect(cart.lines).toHaveLength(3);
    expect(lineOf(cart, keep.id)).toMatchObject({ purchasable: true, flags: [] });
    expect(lineOf(cart, unpublish.id)).toMatchObject({
      purchasable: false,
      flags: ["product_unavailable"],
    });
    // A hidden shop shows nothing of itself: only the product id, quantity and the flag.
    expect(lineOf(cart, suspended.id)).toMatchObject({
      quantity: 2,
      purchasable: false,
      flags: ["shop_unavailable"],
      title: null,
      unitPriceMinor: null,
      shop: null,
      availability: null,
    });
    expect(cart.subtotals).toEqual([{ currency: "EUR", subtotalMinor: 700 }]);
    expect(cart.checkoutReady).toBe(false);

    // Flagged lines cannot grow, but can be removed.
    const grow = await api("PATCH", `/v1/cart/items/${suspended.id}`, {
      token: u.accessToken,
      body: { quantity: 3 },
    });
    expect(grow.status).toBe(404);
    expect(
      (await api("DELETE", `/v1/cart/items/${suspended.id}`, { token: u.accessToken })).status,
    ).toBe(204);
  });

  it("keeps each buyer's cart their own", async () => {
    const shop = await buyShop();
    const [p, alice, bob] = await Promise.all([
      stockedProduct(shop, { warehouse: 5 }),
      buyer(),
      buyer(),
    ]);
    await addToCart(alice, p.id, 2);
    expect((await cartOf(bob)).lines).toEqual([]);
    for (const [method, body] of [["PATCH", { quantity: 1 }], ["DELETE"]] as const) {
      const res = await api<Problem>(method, `/v1/cart/items/${p.id}`, {
        token: bob.accessToken,
        body,
      });
      expect(res.status, method).toBe(404);
    }
    await addToCart(bob, p.id, 1);
    const [a, b] = await Promise.all([cartOf(alice), cartOf(bob)]);
    expect(a.id).not.toBe(b.id);
    expect(lineOf(a, p.id).quantity).toBe(2);
    expect(lineOf(b, p.id).quantity).toBe(1);
  });

  it("creates one cart when first adds race", async () => {
    const shop = await buyShop();
    const u = await buyer();
    const products = await Promise.all(
      Array.from({ length: 5 }, () => stockedProduct(shop, { warehouse: 3 })),
    );
    const results = await Promise.all(products.map((p) => addItem(u, p.id, 1)));
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    const rows = await withDb((db) => db.select().from(carts).where(eq(carts.buyerId, u.id)));
    expect(rows).toHaveLength(1);
    expect((await cartOf(u)).lines).toHaveLength(5);
  });

  it("takes no orders for a shop whose payouts are paused, and flags its lines", async () => {
    const shop = await buyShop();
    const [p, q, u] = await Promise.all([
      stockedProduct(shop, { warehouse: 3 }),
      stockedProduct(shop, { warehouse: 3 }),
      buyer(),
    ]);
    await addToCart(u, p.id, 1);
    await withDb((db) =>
      db.update(shops).set({ payoutsEnabled: false }).where(eq(shops.id, shop.id)),
    );
    const refused = await addItem(u, q.id, 1);
    expect(refused.status).toBe(409);
    expect(refused.body.reason).toBe("shop_paused");
    expect(lineOf(await cartOf(u), p.id)).toMatchObject({
      purchasable: false,
      flags: ["shop_paused"],
      shop: { id: shop.id },
    });
  });

  it("lets no blocked account add to a cart", async () => {
    const shop = await buyShop();
    const [p, u] = await Promise.all([stockedProduct(shop, { warehouse: 3 }), buyer()]);
    await withDb((db) => db.update(users).set({ blockedAt: new Date() }).where(eq(users.id, u.id)));
    const res = await addItem(u, p.id, 1);
    expect(res.status).toBe(403);
    expect(res.body.code).toBe("FORBIDDEN");
  });

  it("answers 422 naming each bad field", async () => {
    const u = await buyer();
    const res = await api<Problem>("POST", "/v1/cart/items", {
      token: u.accessToken,
      body: { productId: "nope", quantity: 0 },
    });
    expect(res.status).toBe(422);
    expect(res.body.errors?.map((e) => e.field).sort()).toEqual(["productId", "quantity"]);
    const big = await api<Problem>("PATCH", `/v1/cart/items/${crypto.randomUUID()}`, {
      token: u.accessToken,
      body: { quantity: 1000 },
    });
    expect(big.status).toBe(422);
    expect(big.body.errors?.[0]?.field).toBe("quantity");
  });

  it("stocks up later: a product out of stock can be added once the seller counts it", async () => {
    const shop = await buyShop();
    const [p, u] = await Promise.all([stockedProduct(shop), buyer()]);
    expect((await addItem(u, p.id, 1)).status).toBe(409);
    await setStock(shop, p.id, shop.branchId, 1);
    expect((await addItem(u, p.id, 1)).status).toBe(200);
  });
});
