import { describe, expect, it } from "vitest";
import type { SlotView } from "../../../durable-objects/delivery-slots.ts";
import {
  addressOf,
  addToCart,
  type BuyShop,
  buyer,
  buyShop,
  levelAt,
  stockedProduct,
} from "../../helpers/cart.ts";
import { confirm, preview } from "../../helpers/checkout.ts";
import { api } from "../../helpers/http.ts";
import { orderRow } from "../../helpers/orders.ts";
import { forwardDelivery, pay, processed, stripeClient } from "../../helpers/stripe.ts";

const EVERY_DAY = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;

async function scheduled(shop: BuyShop, capacity: number) {
  const res = await api("PUT", `/v1/seller/shops/${shop.id}/delivery-slots/schedule`, {
    token: shop.owner.accessToken,
    body: {
      capacity,
      cutoffMinutes: 60,
      days: EVERY_DAY.map((weekday) => ({ weekday, windows: [{ start: "10:00" }] })),
    },
  });
  expect(res.status).toBe(200);
}

/** A buyer with one delivered line of a stocked product of a shop with delivery windows. */
async function deliveryCart(capacity: number, stock = 10) {
  const shop = await buyShop();
  await scheduled(shop, capacity);
  const [p, u] = await Promise.all([stockedProduct(shop, { warehouse: stock }), buyer()]);
  await addToCart(u, p.id, 1);
  const addressId = await addressOf(u);
  return { shop, p, u, addressId };
}

/** A one-place window of a delivery cart booked by a confirm: the first open one. */
async function bookedWindow() {
  const { shop, u, addressId } = await deliveryCart(1);
  const slots = await api<{ slots: SlotView[] }>("GET", `/v1/shops/${shop.id}/delivery-slots`);
  const slot = slots.body.slots.find((s) => s.open);
  const res = await confirm(u, {
    fulfilment: [{ shopId: shop.id, method: "delivery", addressId, slotStart: slot?.start }],
  });
  expect(res.status).toBe(201);
  return { shop, u, slot, res };
}

/** What buyers see of one of the shop's windows now. */
async function windowNow(shop: BuyShop, start: string | undefined) {
  const now = await api<{ slots: SlotView[] }>("GET", `/v1/shops/${shop.id}/delivery-slots`);
  return now.body.slots.find((s) => s.start === start);
}

type SlotPreview = { shops: Array<{ deliverySlots: { slots: SlotView[] } | null }> };

describe("checkout with a delivery window", () => {
  it("offers the shop's open windows in the preview and books the chosen one at confirm", async () => {
    const { shop, u, addressId } = await deliveryCart(3);
    const fulfilment = [{ shopId: shop.id, method: "delivery" as const, addressId }];

    const pre = await preview(u, { fulfilment });
    const offered = (pre.body as unknown as SlotPreview).shops[0]?.deliverySlots?.slots ?? [];
    const slot = offered[0];
    expect(slot).toMatchObject({ capacity: 3, remaining: 3, open: true });
    const res = await confirm(u, {
      fulfilment: [{ ...fulfilment[0], slotStart: slot?.start }],
    });

    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const order = await orderRow(res.body.orders[0]?.id ?? "");
    expect(order.deliverySlotStart?.toISOString()).toBe(slot?.start);
    expect(order.deliverySlotEnd?.toISOString()).toBe(slot?.end);
    const after = await api<{ slots: SlotView[] }>("GET", `/v1/shops/${shop.id}/delivery-slots`);
    expect(after.body.slots.find((s) => s.start === slot?.start)).toMatchObject({
      booked: 1,
      remaining: 2,
    });
  });

  it("refuses a full window with 409 naming slotStart and releases the stock it held", async () => {
    const first = await deliveryCart(1);
    const slots = await api<{ slots: SlotView[] }>(
      "GET",
      `/v1/shops/${first.shop.id}/delivery-slots`,
    );
    const slot = slots.body.slots.find((s) => s.open);
    const choice = {
      shopId: first.shop.id,
      method: "delivery" as const,
      addressId: first.addressId,
      slotStart: slot?.start,
    };
    expect((await confirm(first.u, { fulfilment: [choice] })).status).toBe(201);
    // A second buyer of the same shop wants the same (now full) window.
    const other = await buyer();
    await addToCart(other, first.p.id, 1);
    const otherAddress = await addressOf(other);
    const before = await levelAt(first.p.id, first.shop.warehouseId);

    const res = await confirm(other, { fulfilment: [{ ...choice, addressId: otherAddress }] });

    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({
      code: "CONFLICT",
      field: "fulfilment.0.slotStart",
      slotStart: slot?.start,
    });
    expect(await levelAt(first.p.id, first.shop.warehouseId)).toMatchObject({
      reserved: before.reserved,
    });
  });

  it("warns in the preview about a chosen window that cannot be booked", async () => {
    const { shop, u, addressId } = await deliveryCart(2);
    const notAWindow = `${new Date(Date.now() + 3 * 86_400_000).toISOString().slice(0, 11)}03:17:00.000Z`;

    const pre = await preview(u, {
      fulfilment: [{ shopId: shop.id, method: "delivery", addressId, slotStart: notAWindow }],
    });

    expect(pre.status).toBe(200);
    expect(pre.body.ready).toBe(false);
    expect(pre.body.warnings).toContainEqual(
      expect.objectContaining({ code: "slot_unavailable", slotStart: notAWindow }),
    );
  });

  it("confirms a delivery without a window as before", async () => {
    const { shop, u, addressId } = await deliveryCart(1);

    const res = await confirm(u, {
      fulfilment: [{ shopId: shop.id, method: "delivery", addressId }],
    });

    expect(res.status).toBe(201);
    expect((await orderRow(res.body.orders[0]?.id ?? "")).deliverySlotStart).toBeNull();
  });

  it("gives the window back when the buyer cancels the order", async () => {
    const { shop, u, slot, res } = await bookedWindow();

    const cancelled = await api("POST", `/v1/orders/${res.body.orders[0]?.id}/cancel`, {
      token: u.accessToken,
      body: {},
    });

    expect(cancelled.status).toBe(200);
    expect(await windowNow(shop, slot?.start)).toMatchObject({ booked: 0, remaining: 1 });
  });

  it("gives a paid order's window back when it is refunded in full before the window", async () => {
    const { shop, slot, res } = await bookedWindow();
    await pay(res.body.paymentIntentId);
    await processed(
      (await forwardDelivery("payment_intent.succeeded", res.body.paymentIntentId)).eventId,
    );
    const orderId = res.body.orders[0]?.id ?? "";
    const total = (await orderRow(orderId))?.totalMinor ?? 0;
    expect((await windowNow(shop, slot?.start))?.remaining).toBe(0);

    const refund = await api<{ status: string }>("POST", `/v1/seller/orders/${orderId}/refunds`, {
      token: shop.owner.accessToken,
      body: { amountMinor: total, reason: "cannot deliver after all" },
    });

    expect(refund.body.status, JSON.stringify(refund.body)).toBe("refunded");
    expect(await windowNow(shop, slot?.start)).toMatchObject({ booked: 0, remaining: 1 });
  });

  it("gives the window back once the payment is cancelled, not when the hold runs out", async () => {
    const { shop, slot, res } = await bookedWindow();

    await stripeClient().paymentIntents.cancel(res.body.paymentIntentId);
    const delivered = await forwardDelivery("payment_intent.canceled", res.body.paymentIntentId);
    await processed(delivered.eventId);

    expect(await windowNow(shop, slot?.start)).toMatchObject({ booked: 0, remaining: 1 });
  });
});
