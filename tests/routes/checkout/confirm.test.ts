import { env } from "cloudflare:workers";
import { and, eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { idempotencyKeys } from "../../../src/db/schema/index.ts";
import { loadConfig } from "../../../src/env.ts";
import { createStripe } from "../../../src/lib/stripe.ts";
import { confirmCheckout } from "../../../src/services/checkout/confirm.ts";
import { DomainError } from "../../../src/services/errors.ts";
import { auditActions } from "../../helpers/audit.ts";
import {
  addressOf,
  addToCart,
  buyer,
  buyShop,
  cartOf,
  levelAt,
  lineOf,
  stockedProduct,
  stockStub,
} from "../../helpers/cart.ts";
import { hasRedis } from "../../helpers/catalog.ts";
import { type Confirmed, confirm, preview, purchasesOf } from "../../helpers/checkout.ts";
import { testContext } from "../../helpers/context.ts";
import { withDb } from "../../helpers/db.ts";
import { api } from "../../helpers/http.ts";
import { forwardDelivery, processed } from "../../helpers/stripe.ts";
import { stripeClient } from "../../helpers/stripe-emulator.ts";

const ROUTE = "POST /v1/checkout/confirm";

/** The money adds up: each order's total is subtotal + delivery, the checkout is Σ totals. */
function expectSums(c: Confirmed) {
  for (const o of c.orders) {
    expect(o.totalMinor).toBe(o.subtotalMinor + o.deliveryFeeMinor);
    expect(Number.isInteger(o.platformFeeMinor)).toBe(true);
  }
  expect(c.amountMinor).toBe(c.orders.reduce((a, o) => a + o.totalMinor, 0));
  expect(c.platformFeeMinor).toBe(c.orders.reduce((a, o) => a + o.platformFeeMinor, 0));
}

/** A buyer with one pickup line in the cart, ready to confirm. */
async function oneLineCart(opts: { priceMinor?: number; branch?: number; quantity?: number } = {}) {
  const shop = await buyShop();
  const [p, u] = await Promise.all([
    stockedProduct(shop, { priceMinor: opts.priceMinor ?? 1000, branch: opts.branch ?? 5 }),
    buyer(),
  ]);
  await addToCart(u, p.id, opts.quantity ?? 1);
  const body = {
    fulfilment: [{ shopId: shop.id, method: "pickup" as const, locationId: shop.branchId }],
  };
  return { shop, p, u, body };
}

/** Two shops, one cart: a delivered line from A's warehouse and a pickup line at B's branch. */
async function twoShopConfirm() {
  const [a, b] = await Promise.all([buyShop(), buyShop()]);
  const [pa, pb, u] = await Promise.all([
    stockedProduct(a, { priceMinor: 2000, warehouse: 5, title: "Bowl" }),
    stockedProduct(b, { priceMinor: 1500, branch: 2, title: "Cup" }),
    buyer(),
  ]);
  const addressId = await addressOf(u);
  await addToCart(u, pa.id, 2);
  await addToCart(u, pb.id, 1);
  const fulfilment = [
    { shopId: a.id, method: "delivery", addressId },
    { shopId: b.id, method: "pickup", locationId: b.branchId },
  ];
  const seen = await preview(u, { fulfilment });
  const started = Date.now();
  const res = await confirm(u, { fulfilment, expectedTotalMinor: seen.body.totalMinor });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return { a, b, pa, pb, u, seen: seen.body, c: res.body, started };
}

describe("a confirm of a two-shop cart", () => {
  let s: Awaited<ReturnType<typeof twoShopConfirm>>;
  beforeAll(async () => {
    s = await twoShopConfirm();
  });

  it("answers one pending order per shop with the preview's totals and the intent's client secret", () => {
    const { a, b, c, seen, started } = s;
    // A: 4 000 + 499 delivery (under 5 000), fee 80; B: 1 500 pickup, fee 30.
    expect(seen).toMatchObject({ totalMinor: 5999, platformFeeMinor: 110 });
    expectSums(c);
    expect(c).toMatchObject({ amountMinor: 5999, currency: "EUR", platformFeeMinor: 110 });
    expect(c.clientSecret).toMatch(new RegExp(`^${c.paymentIntentId}_secret_`));
    const deadline = Date.parse(c.paymentDeadline);
    expect(deadline - started).toBeGreaterThan(29 * 60_000);
    expect(deadline - started).toBeLessThan(31 * 60_000);
    const orderOf = (shopId: string) => c.orders.find((o) => o.shopId === shopId);
    expect(orderOf(a.id)).toMatchObject({
      status: "pending_payment",
      subtotalMinor: 4000,
      deliveryFeeMinor: 499,
      platformFeeMinor: 80,
      totalMinor: 4499,
    });
    expect(orderOf(b.id)).toMatchObject({
      subtotalMinor: 1500,
      deliveryFeeMinor: 0,
      totalMinor: 1500,
    });
  });

  it("writes the checkout, each order with its fulfilment and each line's snapshot to Postgres", async () => {
    const { a, b, pa, pb, u, c } = s;
    const db = await purchasesOf(u.id);
    expect(db.checkouts).toHaveLength(1);
    expect(db.checkouts[0]).toMatchObject({
      id: c.checkoutId,
      status: "open",
      amountMinor: 5999,
      platformFeeMinor: 110,
      currency: "EUR",
      transferGroup: c.checkoutId,
    });
    expect(db.orders).toHaveLength(2);
    const orderA = db.orders.find((o) => o.shopId === a.id);
    expect(orderA).toMatchObject({
      status: "pending_payment",
      checkoutId: c.checkoutId,
      fulfilment: "delivery",
      pickupLocationId: null,
      shippingAddress: expect.objectContaining({ city: "Lisboa", recipientName: "Ana Lima" }),
      totalMinor: 4499,
    });
    expect(orderA?.paymentDeadline?.toISOString()).toBe(c.paymentDeadline);
    expect(db.orders.find((o) => o.shopId === b.id)).toMatchObject({
      fulfilment: "pickup",
      pickupLocationId: b.branchId,
      shippingAddress: null,
    });
    expect(db.items.find((i) => i.productId === pa.id)).toMatchObject({
      orderId: orderA?.id,
      title: "Bowl",
      sku: pa.sku,
      unitPriceMinor: 2000,
      quantity: 2,
      locationId: a.warehouseId,
    });
    expect(db.items.find((i) => i.productId === pb.id)).toMatchObject({
      title: "Cup",
      quantity: 1,
      locationId: b.branchId,
    });
  });

  it("holds the units in the stock objects until a little after the payment deadline", async () => {
    const { a, b, pa, pb, u, c } = s;
    expect(await levelAt(pa.id, a.warehouseId)).toMatchObject({
      onHand: 5,
      reserved: 2,
      available: 3,
    });
    expect(await levelAt(pb.id, b.branchId)).toMatchObject({ onHand: 2, reserved: 1 });
    const itemA = (await purchasesOf(u.id)).items.find((i) => i.productId === pa.id);
    const hold = await stockStub(pa.id).reservation(itemA?.reservationId ?? "");
    expect(hold).toMatchObject({ state: "active", quantity: 2, locationId: a.warehouseId });
    expect(Date.parse(hold?.expiresAt ?? "")).toBeGreaterThan(Date.parse(c.paymentDeadline));
  });

  it("creates one PaymentIntent on Stripe with the checkout's amount, group and orders", async () => {
    const { c } = s;
    const pi = await stripeClient().paymentIntents.retrieve(c.paymentIntentId);
    expect(pi).toMatchObject({
      amount: 5999,
      currency: "eur",
      transfer_group: c.checkoutId,
      status: "requires_payment_method",
      metadata: { checkout_id: c.checkoutId },
    });
    expect(pi.metadata.order_ids?.split(",").sort()).toEqual(c.orders.map((o) => o.id).sort());
  });

  it("stores the intent's id on the checkout when payment_intent.created arrives", async () => {
    const { u, c } = s;
    const created = await forwardDelivery("payment_intent.created", c.paymentIntentId);
    expect(created.status).toBe(200);
    expect((await processed(created.eventId)).outcome).toBe("recorded:intent");
    expect((await purchasesOf(u.id)).checkouts[0]?.paymentIntentId).toBe(c.paymentIntentId);
  });

  it("takes the bought lines out of the cart and audits the checkout and each order once", async () => {
    const { u, c } = s;
    expect((await cartOf(u)).lines).toEqual([]);
    for (const o of c.orders) {
      expect(await auditActions(o.id, { entityType: "order" })).toEqual(["order.created"]);
    }
    expect(await auditActions(c.checkoutId, { entityType: "checkout" })).toEqual([
      "checkout.created",
    ]);
  });
});

describe("POST /v1/checkout/confirm", () => {
  it("runs once for five concurrent confirms with one key, then replays; another body is 422", async () => {
    const { p, u, shop, body } = await oneLineCart({ priceMinor: 1800, branch: 4, quantity: 2 });
    const key = crypto.randomUUID();
    const since = Math.floor(Date.now() / 1000) - 1;
    const results = await Promise.all(Array.from({ length: 5 }, () => confirm(u, body, key)));
    const statuses = results.map((r) => r.status);
    expect(
      statuses.every((s) => s === 201 || s === 409),
      JSON.stringify(statuses),
    ).toBe(true);
    const created = results.filter((r) => r.status === 201);
    expect(created.length).toBeGreaterThanOrEqual(1);
    const first = created[0]?.body;
    for (const r of created) expect(r.body).toEqual(first);
    for (const r of results.filter((x) => x.status === 409)) {
      expect(r.body.reason).toBe("idempotency_in_flight");
    }

    const db = await purchasesOf(u.id);
    expect(db.checkouts).toHaveLength(1);
    expect(db.orders).toHaveLength(1);
    expect(await levelAt(p.id, shop.branchId)).toMatchObject({ reserved: 2, available: 2 });
    const intents = await stripeClient()
      .paymentIntents.list({ created: { gte: since }, limit: 100 })
      .autoPagingToArray({ limit: 10_000 });
    expect(intents.filter((pi) => pi.metadata.checkout_id === first?.checkoutId)).toHaveLength(1);

    const later = await confirm(u, body, key);
    expect(later.status).toBe(201);
    expect(later.headers.get("idempotent-replayed")).toBe("true");
    expect(later.body).toEqual(first);

    const other = await confirm(u, { ...body, expectedTotalMinor: 3600 }, key);
    expect(other.status).toBe(422);
    expect(other.body.code).toBe("IDEMPOTENCY_KEY_REUSED");
    expect((await purchasesOf(u.id)).checkouts).toHaveLength(1);
  });

  it("buys a cart once when it is confirmed twice at once under two keys (a double submit)", async () => {
    const { p, u, shop, body } = await oneLineCart({ priceMinor: 900, branch: 10, quantity: 2 });
    const [one, two] = await Promise.all([confirm(u, body), confirm(u, body)]);
    expect([one.status, two.status].sort()).toEqual([201, 409]);
    const refused = one.status === 409 ? one : two;
    expect(["cart_changed", "cart_empty"]).toContain(refused.body.reason);
    const db = await purchasesOf(u.id);
    expect(db.checkouts).toHaveLength(1);
    expect(db.orders).toHaveLength(1);
    // The loser's holds went back: only the winner's two units are reserved.
    expect(await levelAt(p.id, shop.branchId)).toMatchObject({ reserved: 2, available: 8 });
  });

  it("sells the last unit once when two buyers race for it", async () => {
    const shop = await buyShop();
    const [p, alice, bob] = await Promise.all([
      stockedProduct(shop, { priceMinor: 4200, branch: 1 }),
      buyer(),
      buyer(),
    ]);
    await addToCart(alice, p.id, 1);
    await addToCart(bob, p.id, 1);
    const body = { fulfilment: [{ shopId: shop.id, method: "pickup", locationId: shop.branchId }] };
    const [ra, rb] = await Promise.all([confirm(alice, body), confirm(bob, body)]);
    expect([ra.status, rb.status].sort()).toEqual([201, 409]);
    const loser = ra.status === 409 ? ra : rb;
    const loserUser = ra.status === 409 ? alice : bob;
    expect(loser.body).toMatchObject({
      code: "INSUFFICIENT_STOCK",
      lines: [{ productId: p.id, requested: 1, available: 0 }],
    });
    expect(loser.body.detail).toContain(p.id);
    expect(await levelAt(p.id, shop.branchId)).toMatchObject({
      onHand: 1,
      reserved: 1,
      available: 0,
    });
    // The loser keeps the line in the cart and has no order.
    expect(lineOf(await cartOf(loserUser), p.id).quantity).toBe(1);
    expect((await purchasesOf(loserUser.id)).orders).toEqual([]);
  });

  it("holds all lines or none: one short line releases the others and names only itself", async () => {
    const shop = await buyShop();
    const [plenty, scarce, u] = await Promise.all([
      stockedProduct(shop, { branch: 5 }),
      stockedProduct(shop, { branch: 2 }),
      buyer(),
    ]);
    await addToCart(u, plenty.id, 2);
    await addToCart(u, scarce.id, 2);
    // Someone else holds one of the two scarce units.
    const held = await stockStub(scarce.id).reserve({
      productId: scarce.id,
      locationId: shop.branchId,
      quantity: 1,
      ttlMs: 60_000,
      key: `other-${crypto.randomUUID()}`,
    });
    expect(held.ok).toBe(true);
    const res = await confirm(u, {
      fulfilment: [{ shopId: shop.id, method: "pickup", locationId: shop.branchId }],
    });
    expect(res.status).toBe(409);
    expect(res.body.lines).toEqual([
      { productId: scarce.id, locationId: shop.branchId, requested: 2, available: 1 },
    ]);
    expect(await levelAt(plenty.id, shop.branchId)).toMatchObject({ reserved: 0, available: 5 });
    expect(await levelAt(scarce.id, shop.branchId)).toMatchObject({ reserved: 1 });
    expect((await purchasesOf(u.id)).checkouts).toEqual([]);
    expect((await cartOf(u)).lines).toHaveLength(2);
  });

  it("refuses a stale expected total (409) and holds nothing", async () => {
    const { p, u, shop, body } = await oneLineCart({ priceMinor: 1000 });
    await api("PATCH", `/v1/seller/products/${p.id}`, {
      token: shop.owner.accessToken,
      body: { priceMinor: 1100 },
    });
    const res = await confirm(u, { ...body, expectedTotalMinor: 1000 });
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({
      reason: "total_changed",
      expectedTotalMinor: 1000,
      totalMinor: 1100,
    });
    expect(await levelAt(p.id, shop.branchId)).toMatchObject({ reserved: 0 });
    expect((await purchasesOf(u.id)).checkouts).toEqual([]);
  });

  it("refuses while the cart holds unavailable lines", async () => {
    const { p, u, shop, body } = await oneLineCart();
    const gone = await stockedProduct(shop, { branch: 1 });
    await addToCart(u, gone.id, 1);
    await api("PATCH", `/v1/seller/products/${gone.id}`, {
      token: shop.owner.accessToken,
      body: { status: "draft" },
    });
    const res = await confirm(u, body);
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({
      reason: "unavailable_lines",
      lines: [{ productId: gone.id, reason: "product_unavailable" }],
    });
    expect(await levelAt(p.id, shop.branchId)).toMatchObject({ reserved: 0 });
  });

  it("answers 402 when Stripe refuses, releasing the stock, cancelling the orders and restoring the cart", async () => {
    // Stripe's minimum charge in EUR is 50 cents: a 10-cent pickup order is refused by Stripe.
    const { p, u, shop, body } = await oneLineCart({ priceMinor: 10, branch: 3, quantity: 1 });
    const key = crypto.randomUUID();
    const res = await confirm(u, body, key);
    expect(res.status, JSON.stringify(res.body)).toBe(402);
    expect(res.body).toMatchObject({
      code: "PAYMENT_FAILED",
      stripe: { type: "StripeInvalidRequestError" },
    });
    const checkoutId = String(res.body.checkoutId);

    expect(await levelAt(p.id, shop.branchId)).toMatchObject({ reserved: 0, available: 3 });
    const db = await purchasesOf(u.id);
    expect(db.checkouts).toEqual([
      expect.objectContaining({ id: checkoutId, status: "voided", paymentIntentId: null }),
    ]);
    expect(db.orders).toHaveLength(1);
    expect(db.orders[0]?.status).toBe("cancelled");
    const hold = await stockStub(p.id).reservation(db.items[0]?.reservationId ?? "");
    expect(hold?.state).toBe("released");
    expect(await auditActions(db.orders[0]?.id ?? "", { entityType: "order" })).toEqual([
      "order.created",
      "order.cancelled",
    ]);
    expect(await auditActions(checkoutId, { entityType: "checkout" })).toEqual([
      "checkout.created",
      "checkout.voided",
    ]);
    expect(lineOf(await cartOf(u), p.id).quantity).toBe(1);

    // A 402 is not final: the record says the attempt was voided, so the same key may try
    // again (and is refused again, afresh, as a new checkout).
    const stored = await withDb((db) =>
      db
        .select()
        .from(idempotencyKeys)
        .where(
          and(
            eq(idempotencyKeys.userId, u.id),
            eq(idempotencyKeys.route, ROUTE),
            eq(idempotencyKeys.key, key),
          ),
        ),
    );
    expect(stored.map((r) => r.state)).toEqual(["voided"]);
    const again = await confirm(u, body, key);
    expect(again.status).toBe(402);
    expect(again.headers.get("idempotent-replayed")).toBeNull();
    expect(again.body.checkoutId).not.toBe(checkoutId);
  });

  it("voids the checkout when Stripe cannot be reached at all", async () => {
    const { p, u, shop, body } = await oneLineCart({ priceMinor: 2500, branch: 2 });
    const config = loadConfig(env);
    const err = await withDb((db) =>
      confirmCheckout(
        testContext({
          db,
          actor: { type: "user", id: u.id, requestId: "test-unreachable-stripe" },
          // Nothing listens on port 9: every try (and the SDK's retries) fails to connect.
          stripe: createStripe({ ...config, STRIPE_API_BASE: "http://127.0.0.1:9" }),
        }),
        u.id,
        body,
        { key: "unreachable-stripe", requestHash: "h" },
      ).then(
        () => null,
        (e: unknown) => e,
      ),
    );
    expect(err).toBeInstanceOf(DomainError);
    expect(err).toMatchObject({
      code: "PAYMENT_FAILED",
      details: { stripe: { type: "StripeConnectionError" } },
    });
    expect(await levelAt(p.id, shop.branchId)).toMatchObject({ reserved: 0, available: 2 });
    const db = await purchasesOf(u.id);
    expect(db.checkouts[0]?.status).toBe("voided");
    expect(db.orders.map((o) => o.status)).toEqual(["cancelled"]);
    expect(lineOf(await cartOf(u), p.id).quantity).toBe(1);
  });

  it("requires an Idempotency-Key (400) and names bad fields (422)", async () => {
    const { u, shop, body } = await oneLineCart();
    const missing = await confirm(u, body, null);
    expect(missing.status).toBe(400);
    expect(missing.body.code).toBe("IDEMPOTENCY_KEY_REQUIRED");

    const bad = await confirm(u, {
      fulfilment: [{ shopId: shop.id, method: "pickup" }],
      expectedTotalMinor: -1,
    });
    expect(bad.status).toBe(422);
    expect(bad.body.errors?.map((e) => e.field).sort()).toEqual([
      "expectedTotalMinor",
      "fulfilment.0.locationId",
    ]);
    expect((await api("POST", "/v1/checkout/confirm", { body })).status).toBe(401);
    expect((await purchasesOf(u.id)).checkouts).toEqual([]);
  });

  it.runIf(hasRedis)("limits confirms per user (429 with Retry-After)", async () => {
    const u = await buyer();
    const statuses: number[] = [];
    let limited: Awaited<ReturnType<typeof confirm>> | null = null;
    for (let i = 0; i < 25 && !limited; i++) {
      // No cart and no key: each still counts against the limit, which is checked first.
      const res = await confirm(u, { fulfilment: [] }, null);
      statuses.push(res.status);
      if (res.status === 429) limited = res;
    }
    expect(statuses.slice(0, 20).every((s) => s === 400)).toBe(true);
    expect(limited?.status).toBe(429);
    expect(Number(limited?.headers.get("retry-after"))).toBeGreaterThan(0);
    // Another buyer is not affected.
    expect((await confirm(await buyer(), { fulfilment: [] }, null)).status).toBe(400);
  });

  it("documents the buying routes in /openapi.json", async () => {
    const res = await api<{
      paths: Record<string, Record<string, { parameters?: Array<{ name: string; in: string }> }>>;
    }>("GET", "/openapi.json");
    expect(res.status).toBe(200);
    for (const path of [
      "/v1/cart",
      "/v1/cart/items",
      "/v1/cart/items/{productId}",
      "/v1/wishlist",
      "/v1/wishlist/{productId}",
      "/v1/checkout/preview",
      "/v1/checkout/confirm",
    ]) {
      expect(res.body.paths[path], path).toBeDefined();
    }
    expect(res.body.paths["/v1/checkout/confirm"]?.post?.parameters).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: "idempotency-key", in: "header" })]),
    );
  });
});
