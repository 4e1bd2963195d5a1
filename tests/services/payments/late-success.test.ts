import { env } from "cloudflare:workers";
import { eq, inArray } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { orders, paymentIssues, refunds } from "../../../src/db/schema/index.ts";
import { releaseReservations } from "../../../src/services/orders/reservations.ts";
import { auditActions } from "../../helpers/audit.ts";
import { withDb } from "../../helpers/db.ts";
import { backdateReservation, level } from "../../helpers/stock.ts";
import {
  checkoutRow,
  forwardDelivery,
  ordersOf,
  pay,
  postWebhook,
  processed,
  type SeededCheckout,
  seedCheckout,
  stripeClient,
} from "../../helpers/stripe.ts";

const stripe = stripeClient();

/** The orders ended unpaid by some other path (the buyer cancelled, a voided confirm), holds released. */
async function endUnpaid(checkout: SeededCheckout, status: "expired" | "cancelled") {
  const items = checkout.orders.flatMap((o) =>
    o.items.map((i) => ({ productId: i.productId, reservationId: i.reservationId })),
  );
  await releaseReservations(env.PRODUCT_STOCK, items, {
    type: "system",
    id: null,
    requestId: "test",
  });
  await withDb((db) =>
    db
      .update(orders)
      .set({ status })
      .where(
        inArray(
          orders.id,
          checkout.orders.map((o) => o.id),
        ),
      ),
  );
}

describe("a payment that arrives after its orders ended unpaid", () => {
  it("is recorded, refunded in full, and the order becomes refunded; a second delivery refunds nothing more", async () => {
    const checkout = await seedCheckout({
      orders: [{ lines: [{ priceMinor: 2_000, quantity: 2 }] }],
    });
    const [o] = checkout.orders;
    const item = o?.items[0];
    if (!o || !item) throw new Error("seed");
    await endUnpaid(checkout, "expired");

    await pay(checkout.paymentIntentId);
    const delivery = await forwardDelivery("payment_intent.succeeded", checkout.paymentIntentId);
    expect((await processed(delivery.eventId)).outcome).toBe("succeeded paid:0 late_refunded:1");

    const [after] = await ordersOf(checkout);
    expect(after).toMatchObject({ status: "refunded", refundedMinor: 4_000, paidAt: null });
    expect((await checkoutRow(checkout.id))?.status).toBe("succeeded");
    // Never sold: the released stock stays on the shelf.
    expect(await level(item.stub, item.locationId)).toMatchObject({
      onHand: item.onHandBefore,
      reserved: 0,
    });

    const onStripe = await stripe.refunds.list({ payment_intent: checkout.paymentIntentId });
    expect(onStripe.data).toHaveLength(1);
    expect(onStripe.data[0]).toMatchObject({ amount: 4_000, status: "succeeded" });
    const recorded = await withDb((db) =>
      db.select().from(refunds).where(eq(refunds.orderId, o.id)),
    );
    expect(recorded).toMatchObject([
      {
        stripeRefundId: onStripe.data[0]?.id,
        amountMinor: 4_000,
        reasonKey: "late_success",
        status: "succeeded",
      },
    ]);
    const issues = await withDb((db) =>
      db.select().from(paymentIssues).where(eq(paymentIssues.checkoutId, checkout.id)),
    );
    expect(issues).toMatchObject([
      {
        kind: "late_success",
        orderId: o.id,
        paymentIntentId: checkout.paymentIntentId,
        stripeEventId: delivery.eventId,
      },
    ]);
    expect(await auditActions(o.id, { entityType: "order" })).toEqual([
      "order.refund_recorded",
      "order.refunded",
    ]);

    // Stripe's own charge.refunded for that refund, and the success again: nothing more.
    const charge = String(
      (await stripe.paymentIntents.retrieve(checkout.paymentIntentId)).latest_charge,
    );
    const refunded = await forwardDelivery("charge.refunded", charge);
    expect((await processed(refunded.eventId)).outcome).toBe("noop:refunds_already_recorded");
    const replay = await postWebhook(delivery.body, { signature: delivery.signature });
    expect(replay.status).toBe(200);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(
      (await stripe.refunds.list({ payment_intent: checkout.paymentIntentId })).data,
    ).toHaveLength(1);
    expect((await ordersOf(checkout))[0]?.refundedMinor).toBe(4_000);
    expect(await auditActions(o.id, { entityType: "order" })).toEqual([
      "order.refund_recorded",
      "order.refunded",
    ]);
  });

  it("refunds only the late order of a multi-shop payment, pays the other and transfers its share", async () => {
    const checkout = await seedCheckout({
      orders: [
        { lines: [{ priceMinor: 1_500, quantity: 1 }] },
        { lines: [{ priceMinor: 2_500, quantity: 1 }] },
      ],
    });
    const [late, live] = checkout.orders;
    if (!late || !live) throw new Error("seed");
    // Only the first shop's order was cancelled (its hold released) before the money came.
    await releaseReservations(
      env.PRODUCT_STOCK,
      late.items.map((i) => ({ productId: i.productId, reservationId: i.reservationId })),
      { type: "system", id: null, requestId: "test" },
    );
    await withDb((db) =>
      db.update(orders).set({ status: "cancelled" }).where(eq(orders.id, late.id)),
    );

    await pay(checkout.paymentIntentId);
    const delivery = await forwardDelivery("payment_intent.succeeded", checkout.paymentIntentId);
    expect((await processed(delivery.eventId)).outcome).toBe(
      "succeeded paid:1 late_refunded:1 transfers:1",
    );
    const [a, b] = await ordersOf(checkout);
    expect(a).toMatchObject({ status: "refunded", refundedMinor: 1_500 });
    expect(b?.status).toBe("paid");
    const onStripe = await stripe.refunds.list({ payment_intent: checkout.paymentIntentId });
    expect(onStripe.data.map((r) => [r.amount, r.metadata?.order_id])).toEqual([[1_500, late.id]]);
    const transfers = await stripe.transfers.list({ transfer_group: checkout.transferGroup });
    expect(transfers.data.map((t) => [t.destination, t.amount])).toEqual([
      [live.shop.accountId, live.totalMinor - live.platformFeeMinor],
    ]);
  });

  it("refunds an order whose stock hold lapsed before the payment, and puts back what it had committed", async () => {
    const checkout = await seedCheckout({
      orders: [
        {
          lines: [
            { priceMinor: 1_000, quantity: 1 },
            { priceMinor: 1_000, quantity: 3 },
          ],
        },
      ],
    });
    const [o] = checkout.orders;
    const [kept, lapsed] = o?.items ?? [];
    if (!o || !kept || !lapsed) throw new Error("seed");
    // One line's hold ran out (its TTL passed); the order itself is still awaiting payment.
    await backdateReservation(lapsed.stub, lapsed.reservationId);

    await pay(checkout.paymentIntentId);
    const delivery = await forwardDelivery("payment_intent.succeeded", checkout.paymentIntentId);
    expect((await processed(delivery.eventId)).outcome).toBe("succeeded paid:0 late_refunded:1");
    expect((await ordersOf(checkout))[0]).toMatchObject({
      status: "refunded",
      refundedMinor: 4_000,
    });
    expect(await auditActions(o.id, { entityType: "order" })).toEqual([
      "order.expired",
      "order.refund_recorded",
      "order.refunded",
    ]);
    // Nothing sold: the committed line was put back, the lapsed one was never taken.
    for (const item of [kept, lapsed]) {
      expect(await level(item.stub, item.locationId)).toMatchObject({
        onHand: item.onHandBefore,
        reserved: 0,
      });
    }
    expect(
      (await stripe.refunds.list({ payment_intent: checkout.paymentIntentId })).data.map(
        (r) => r.amount,
      ),
    ).toEqual([4_000]);
  });
});
