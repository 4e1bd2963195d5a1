import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { shops } from "../../../src/db/schema/index.ts";
import { auditActions } from "../../helpers/audit.ts";
import {
  addToCart,
  buyer,
  buyShop,
  cartOf,
  levelAt,
  lineOf,
  stockedProduct,
} from "../../helpers/cart.ts";
import { confirm, preview, purchasesOf } from "../../helpers/checkout.ts";
import { withDb } from "../../helpers/db.ts";
import { stripeClient } from "../../helpers/stripe-emulator.ts";

/** A shop with a product in the buyer's cart and another the buyer will buy now (pickup). */
async function buyNowSetup(opts: { nowPriceMinor?: number } = {}) {
  const shop = await buyShop();
  const [inCart, now, u] = await Promise.all([
    stockedProduct(shop, { priceMinor: 900, branch: 5, title: "Cup" }),
    stockedProduct(shop, { priceMinor: opts.nowPriceMinor ?? 1500, branch: 5, title: "Jug" }),
    buyer(),
  ]);
  await addToCart(u, inCart.id, 1);
  const pickup = { shopId: shop.id, method: "pickup" as const, locationId: shop.branchId };
  return { shop, inCart, now, u, pickup };
}

describe("checkout with items (buy now)", () => {
  it("buys exactly the given products and leaves the cart as it was", async () => {
    const { shop, inCart, now, u, pickup } = await buyNowSetup();
    const body = { items: [{ productId: now.id, quantity: 2 }], fulfilment: [pickup] };

    const seen = await preview(u, body);
    expect(seen.status, JSON.stringify(seen.body)).toBe(200);
    expect(seen.body).toMatchObject({ totalMinor: 3000, warnings: [], ready: true });
    expect(seen.body.shops).toHaveLength(1);
    expect(seen.body.shops[0]?.lines).toEqual([
      expect.objectContaining({ productId: now.id, quantity: 2, lineTotalMinor: 3000 }),
    ]);

    const res = await confirm(u, { ...body, expectedTotalMinor: 3000 });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({ amountMinor: 3000, currency: "EUR" });

    const db = await purchasesOf(u.id);
    expect(db.checkouts).toHaveLength(1);
    expect(db.orders).toHaveLength(1);
    expect(db.orders[0]).toMatchObject({ status: "pending_payment", shopId: shop.id });
    expect(db.items).toEqual([
      expect.objectContaining({ productId: now.id, quantity: 2, title: "Jug" }),
    ]);
    expect(await levelAt(now.id, shop.branchId)).toMatchObject({ reserved: 2, available: 3 });
    expect(await levelAt(inCart.id, shop.branchId)).toMatchObject({ reserved: 0, available: 5 });

    // The cart still holds exactly what the buyer put there; the bought product never entered it.
    const cart = await cartOf(u);
    expect(cart.lines.map((l) => [l.productId, l.quantity])).toEqual([[inCart.id, 1]]);

    const pi = await stripeClient().paymentIntents.retrieve(res.body.paymentIntentId);
    expect(pi).toMatchObject({ amount: 3000, metadata: { checkout_id: res.body.checkoutId } });
    expect(await auditActions(res.body.checkoutId, { entityType: "checkout" })).toEqual([
      "checkout.created",
    ]);
  });

  it("names each failing field (422) and holds nothing", async () => {
    const { shop, now, u, pickup } = await buyNowSetup();
    const fieldsOf = (r: Awaited<ReturnType<typeof confirm>>) =>
      (r.body.errors ?? []).map((e) => e.field).sort();

    const empty = await confirm(u, { items: [], fulfilment: [pickup] });
    expect(empty.status).toBe(422);
    expect(fieldsOf(empty)).toEqual(["items"]);

    const shape = await confirm(u, {
      items: [{ productId: "not-a-uuid", quantity: 0 }],
      fulfilment: [pickup],
    });
    expect(shape.status).toBe(422);
    expect(fieldsOf(shape)).toEqual(["items.0.productId", "items.0.quantity"]);

    const twice = await confirm(u, {
      items: [
        { productId: now.id, quantity: 1 },
        { productId: now.id, quantity: 2 },
      ],
      fulfilment: [pickup],
    });
    expect(twice.status).toBe(422);
    expect(fieldsOf(twice)).toEqual(["items.1.productId"]);

    // An id that never existed and a product of a hidden shop get the same answer: the hidden
    // shop's catalog is not revealed.
    const hidden = await buyShop();
    const hiddenProduct = await stockedProduct(hidden, { branch: 3 });
    await withDb((db) =>
      db.update(shops).set({ status: "suspended" }).where(eq(shops.id, hidden.id)),
    );
    const unknown = await confirm(u, {
      items: [
        { productId: now.id, quantity: 1 },
        { productId: crypto.randomUUID(), quantity: 1 },
        { productId: hiddenProduct.id, quantity: 1 },
      ],
      fulfilment: [pickup],
    });
    expect(unknown.status).toBe(422);
    expect(unknown.body.errors).toEqual([
      { field: "items.1.productId", in: "body", message: "is not a product on sale" },
      { field: "items.2.productId", in: "body", message: "is not a product on sale" },
    ]);
    const unknownPreview = await preview(u, {
      items: [{ productId: hiddenProduct.id, quantity: 1 }],
      fulfilment: [{ shopId: hidden.id, method: "pickup", locationId: hidden.branchId }],
    });
    expect(unknownPreview.status).toBe(422);
    expect(unknownPreview.body.errors?.map((e) => e.field)).toEqual(["items.0.productId"]);

    // Fulfilment must match the shops of the items, not the cart's.
    const other = await buyShop();
    const wrongShop = await confirm(u, {
      items: [{ productId: now.id, quantity: 1 }],
      fulfilment: [{ shopId: other.id, method: "pickup", locationId: other.branchId }],
    });
    expect(wrongShop.status).toBe(422);
    expect(fieldsOf(wrongShop)).toEqual(["fulfilment", "fulfilment.0.shopId"]);

    expect(await levelAt(now.id, shop.branchId)).toMatchObject({ reserved: 0, available: 5 });
    expect((await purchasesOf(u.id)).checkouts).toEqual([]);
  });

  it("keeps the Idempotency-Key contract: the same body replays, other items are refused", async () => {
    const { shop, now, u, pickup } = await buyNowSetup();
    const key = crypto.randomUUID();
    const body = { items: [{ productId: now.id, quantity: 1 }], fulfilment: [pickup] };

    const first = await confirm(u, body, key);
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    const again = await confirm(u, body, key);
    expect(again.status).toBe(201);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.body).toEqual(first.body);

    const more = await confirm(u, { ...body, items: [{ productId: now.id, quantity: 2 }] }, key);
    expect(more.status).toBe(422);
    expect(more.body.code).toBe("IDEMPOTENCY_KEY_REUSED");
    // The cart checkout under the same key is another body too.
    const cartBody = await confirm(u, { fulfilment: [pickup] }, key);
    expect(cartBody.status).toBe(422);
    expect(cartBody.body.code).toBe("IDEMPOTENCY_KEY_REUSED");

    expect((await purchasesOf(u.id)).checkouts).toHaveLength(1);
    expect(await levelAt(now.id, shop.branchId)).toMatchObject({ reserved: 1, available: 4 });

    // A new key is a new purchase, and it replaces the unpaid one of the same product (no
    // buyer may pile up holds on one product: issue 11.1); a client retries with the same key.
    const second = await confirm(u, body);
    expect(second.status).toBe(201);
    expect(second.body.checkoutId).not.toBe(first.body.checkoutId);
    const statuses = new Map((await purchasesOf(u.id)).checkouts.map((c) => [c.id, c.status]));
    expect(statuses.get(first.body.checkoutId)).toBe("voided");
    expect(statuses.get(second.body.checkoutId)).toBe("open");
  });

  it("refuses a product sold at auction: a warning on preview, 409 on confirm", async () => {
    const { shop, now, u, pickup } = await buyNowSetup();
    const auction = await stockedProduct(shop, { listingType: "auction", branch: 1 });
    const body = {
      items: [
        { productId: now.id, quantity: 1 },
        { productId: auction.id, quantity: 1 },
      ],
      fulfilment: [pickup],
    };
    const seen = await preview(u, body);
    expect(seen.status, JSON.stringify(seen.body)).toBe(200);
    expect(seen.body).toMatchObject({
      totalMinor: 1500,
      ready: false,
      warnings: [{ code: "unavailable", productId: auction.id, reason: "not_for_sale" }],
    });
    const res = await confirm(u, body);
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({
      reason: "unavailable_lines",
      lines: [{ productId: auction.id, reason: "not_for_sale" }],
    });
    expect(res.body.detail).not.toContain("cart");
    const alone = await confirm(u, { ...body, items: [{ productId: auction.id, quantity: 1 }] });
    expect(alone.status).toBe(409);
    expect(alone.body.reason).toBe("nothing_purchasable");
    expect((await purchasesOf(u.id)).checkouts).toEqual([]);
    expect(await levelAt(now.id, shop.branchId)).toMatchObject({ reserved: 0 });
  });

  it("answers 402 when Stripe refuses, and puts nothing into the cart", async () => {
    // Stripe's minimum charge in EUR is 50 cents: a 10-cent order is refused by Stripe.
    const { shop, inCart, now, u, pickup } = await buyNowSetup({ nowPriceMinor: 10 });
    const res = await confirm(u, {
      items: [{ productId: now.id, quantity: 1 }],
      fulfilment: [pickup],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(402);
    expect(res.body.code).toBe("PAYMENT_FAILED");
    expect(res.body.detail).not.toContain("cart");

    expect(await levelAt(now.id, shop.branchId)).toMatchObject({ reserved: 0, available: 5 });
    const db = await purchasesOf(u.id);
    expect(db.checkouts[0]?.status).toBe("voided");
    expect(db.orders.map((o) => o.status)).toEqual(["cancelled"]);
    const cart = await cartOf(u);
    expect(cart.lines).toHaveLength(1);
    expect(lineOf(cart, inCart.id).quantity).toBe(1);
  });
});
