import { describe, expect, it } from "vitest";
import { orders } from "../../../src/db/schema/index.ts";
import { uuidv7 } from "../../../src/lib/ids.ts";
import { auditRows } from "../../helpers/audit.ts";
import { withDb } from "../../helpers/db.ts";
import { api } from "../../helpers/http.ts";
import {
  buyerPost,
  orderRow,
  paidOrder,
  pendingOrder,
  refundRows,
  sellerPost,
  transferRow,
} from "../../helpers/orders.ts";
import { seedShop } from "../../helpers/shops.ts";
import { level } from "../../helpers/stock.ts";
import { seedCheckout, stripeClient } from "../../helpers/stripe.ts";
import { registerUser } from "../../helpers/users.ts";

const stripe = stripeClient();

describe("buyer order reads", () => {
  it("lists only the buyer's own orders, newest first, by cursor and status, with details", async () => {
    const a = await pendingOrder();
    const b = await pendingOrder([{ priceMinor: 1_500, quantity: 2 }]);
    // A second, newer order of buyer A.
    const again = await seedCheckout({
      buyer: a.buyer,
      orders: [{ lines: [{ priceMinor: 700, quantity: 1 }] }],
    });
    const second = again.orders[0];
    if (!second) throw new Error("seed");

    const page1 = await api<{ items: Array<{ id: string }>; nextCursor: string | null }>(
      "GET",
      "/v1/orders?limit=1",
      { token: a.buyer.accessToken },
    );
    expect(page1.status).toBe(200);
    expect(page1.body.items.map((o) => o.id)).toEqual([second.id]);
    expect(page1.body.nextCursor).not.toBeNull();
    const page2 = await api<{ items: Array<{ id: string }>; nextCursor: string | null }>(
      "GET",
      `/v1/orders?limit=1&cursor=${page1.body.nextCursor}`,
      { token: a.buyer.accessToken },
    );
    expect(page2.body.items.map((o) => o.id)).toEqual([a.order.id]);
    expect(page2.body.nextCursor).toBeNull();

    const paidOnly = await api<{ items: unknown[] }>("GET", "/v1/orders?status=paid", {
      token: a.buyer.accessToken,
    });
    expect(paidOnly.body.items).toEqual([]);

    const detail = await api<Record<string, unknown>>("GET", `/v1/orders/${b.order.id}`, {
      token: b.buyer.accessToken,
    });
    expect(detail.status).toBe(200);
    expect(detail.body).toMatchObject({
      id: b.order.id,
      status: "pending_payment",
      totalMinor: 3_000,
      shop: { id: b.order.shop.id, slug: b.order.shop.slug },
      items: [{ quantity: 2, unitPriceMinor: 1_500, lineTotalMinor: 3_000, status: "pending" }],
      refunds: [],
    });
    const bad = await api("GET", "/v1/orders?cursor=garbage", { token: a.buyer.accessToken });
    expect(bad.status).toBe(422);
  });
});

describe("cancel", () => {
  it("cancels an unpaid order: holds released, the PaymentIntent cancelled, audited once", async () => {
    const f = await pendingOrder([{ priceMinor: 2_000, quantity: 2 }]);
    const item = f.order.items[0];
    if (!item) throw new Error("seed");
    expect((await level(item.stub, item.locationId)).reserved).toBe(2);

    const res = await buyerPost(f.buyer, `/${f.order.id}/cancel`, { reason: "changed my mind" });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe("cancelled");
    expect(await level(item.stub, item.locationId)).toMatchObject({
      reserved: 0,
      onHand: item.onHandBefore,
    });
    const pi = await stripe.paymentIntents.retrieve(f.checkout.paymentIntentId);
    expect(pi.status).toBe("canceled");
    const audits = await auditRows(f.order.id, { action: "order.cancelled" });
    expect(audits).toHaveLength(1);
    expect(audits[0]).toMatchObject({
      actorId: f.buyer.id,
      oldValue: { status: "pending_payment" },
      newValue: { status: "cancelled", reason: "changed my mind" },
    });
    // Twice: 409 naming the state.
    const again = await buyerPost(f.buyer, `/${f.order.id}/cancel`);
    expect(again.status).toBe(409);
    expect(again.body.detail).toContain("cancelled");
  });

  it("cancels a paid order: refunded in full on Stripe, the shop's transfer reversed, stock back", async () => {
    const f = await paidOrder([{ priceMinor: 5_000, quantity: 1 }], 500);
    const item = f.order.items[0];
    if (!item) throw new Error("seed");
    expect((await level(item.stub, item.locationId)).onHand).toBe(item.onHandBefore - 1);

    const res = await buyerPost(f.buyer, `/${f.order.id}/cancel`, {});
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: "refunded", refundedMinor: 5_500 });

    const onStripe = await stripe.refunds.list({ payment_intent: f.checkout.paymentIntentId });
    expect(onStripe.data.map((r) => r.amount)).toEqual([5_500]);
    const rows = await refundRows(f.order.id);
    expect(rows).toMatchObject([{ amountMinor: 5_500, status: "succeeded", reasonKey: "cancel" }]);
    const t = await transferRow(f.order.id);
    // The whole shop share (total − fee) comes back: the platform returns its fee in full.
    expect(t?.reversedMinor).toBe(5_500 - f.order.platformFeeMinor);
    expect(await level(item.stub, item.locationId)).toMatchObject({
      onHand: item.onHandBefore,
      reserved: 0,
    });
    expect(await auditRows(f.order.id, { action: "order.cancelled" })).toHaveLength(1);
    expect(await auditRows(f.order.id, { action: "order.refunded" })).toHaveLength(1);
  });

  it("refuses to cancel once picking has started (409 naming the state)", async () => {
    const f = await paidOrder([
      { priceMinor: 1_000, quantity: 1 },
      { priceMinor: 1_000, quantity: 1 },
    ]);
    const first = f.order.items[0];
    if (!first) throw new Error("seed");
    const picked = await sellerPost(f.owner, `/${f.order.id}/items/${first.id}/picked`);
    expect(picked.status).toBe(200);
    expect(picked.body.status).toBe("picking");

    const res = await buyerPost(f.buyer, `/${f.order.id}/cancel`);
    expect(res.status).toBe(409);
    expect(res.body.code).toBe("CONFLICT");
    expect(res.body.detail).toContain("picking");
    expect((await orderRow(f.order.id)).status).toBe("picking");
    expect(await refundRows(f.order.id)).toEqual([]);
  });
});

describe("cancel an auction win", () => {
  it("refuses to cancel an unpaid auction win (it expires with a strike instead)", async () => {
    const buyer = await registerUser();
    const shop = await seedShop();
    const orderId = uuidv7();
    await withDb((db) =>
      db.insert(orders).values({
        id: orderId,
        buyerId: buyer.id,
        shopId: shop.id,
        source: "auction",
        currency: "EUR",
        subtotalMinor: 9_000,
        platformFeeMinor: 180,
        totalMinor: 9_000,
      }),
    );
    const res = await buyerPost(buyer, `/${orderId}/cancel`);
    expect(res.status).toBe(409);
    expect(res.body.detail).toContain("auction");
    expect((await orderRow(orderId)).status).toBe("pending_payment");
  });
});

describe("received", () => {
  it("moves a shipped order to delivered, and refuses before it ships", async () => {
    const f = await paidOrder();
    const item = f.order.items[0];
    if (!item) throw new Error("seed");
    const early = await buyerPost(f.buyer, `/${f.order.id}/received`);
    expect(early.status).toBe(409);
    expect(early.body.detail).toContain("paid");

    expect((await sellerPost(f.owner, `/${f.order.id}/items/${item.id}/picked`)).body.status).toBe(
      "ready",
    );
    const shipped = await sellerPost(f.owner, `/${f.order.id}/ship`, {
      carrier: "CTT",
      trackingNumber: "RR123456789PT",
    });
    expect(shipped.status).toBe(200);
    expect(shipped.body).toMatchObject({
      status: "shipped",
      carrier: "CTT",
      trackingNumber: "RR123456789PT",
    });
    const other = await registerUser();
    expect((await buyerPost(other, `/${f.order.id}/received`)).status).toBe(404);
    const res = await buyerPost(f.buyer, `/${f.order.id}/received`);
    expect(res.status).toBe(200);
    expect(res.body.status).toBe("delivered");
    expect(await auditRows(f.order.id, { action: "order.delivered" })).toHaveLength(1);
  });
});
