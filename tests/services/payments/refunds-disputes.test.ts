import { and, eq, inArray } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import {
  auditLog,
  notifications,
  paymentIssues,
  refunds,
  transfers,
} from "../../../src/db/schema/index.ts";
import { withDb } from "../../helpers/db.ts";
import { createAdmin } from "../../helpers/shops.ts";
import {
  capturedDelivery,
  emulator,
  eventually,
  forwardDelivery,
  ordersOf,
  pay,
  postWebhook,
  processed,
  seedCheckout,
  stripeClient,
} from "../../helpers/stripe.ts";

const stripe = stripeClient();

/** A paid single-shop checkout (applied through the webhook), with its charge id. */
async function paidCheckout(priceMinor = 10_000) {
  const checkout = await seedCheckout({ orders: [{ lines: [{ priceMinor, quantity: 1 }] }] });
  await pay(checkout.paymentIntentId);
  const delivery = await forwardDelivery("payment_intent.succeeded", checkout.paymentIntentId);
  await processed(delivery.eventId);
  const pi = await stripe.paymentIntents.retrieve(checkout.paymentIntentId);
  const [order] = checkout.orders;
  if (!order) throw new Error("seed");
  return { checkout, order, chargeId: String(pi.latest_charge) };
}

/** The charge.refunded delivery that mentions a given refund (each refund emits one). */
async function refundedDeliveryFor(chargeId: string, count: number) {
  return eventually(
    async () => {
      const { captured } = await import("../../helpers/stripe-emulator.ts");
      const all = (
        await captured("platform", { type: "charge.refunded", objectId: chargeId })
      ).filter((c) => c.status < 300);
      const got = all[count - 1];
      return got?.event_id && got.stripe_signature
        ? { eventId: got.event_id, body: got.body, signature: got.stripe_signature }
        : undefined;
    },
    undefined,
    `charge.refunded #${count} for ${chargeId}`,
  );
}

describe("charge.refunded", () => {
  it("records a refund made on the dashboard once, moves the order, and takes the shop's share back from its transfer", async () => {
    const { checkout, order, chargeId } = await paidCheckout(10_000);
    const share = order.totalMinor - order.platformFeeMinor;
    expect(share).toBe(9_800);

    // An operator refunds 2,500 from Stripe's dashboard: Souk did not ask for it.
    const first = await stripe.refunds.create({ charge: chargeId, amount: 2_500 });
    const d1 = await refundedDeliveryFor(chargeId, 1);
    for (let i = 0; i < 3; i++) {
      expect((await postWebhook(d1.body, { signature: d1.signature })).status).toBe(200);
    }
    expect((await processed(d1.eventId)).outcome).toBe("refunds_recorded:1");
    await new Promise((r) => setTimeout(r, 1_500));

    let [o] = await ordersOf(checkout);
    expect(o).toMatchObject({ status: "partially_refunded", refundedMinor: 2_500 });
    const rows = await withDb((db) =>
      db.select().from(refunds).where(eq(refunds.orderId, order.id)),
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      stripeRefundId: first.id,
      amountMinor: 2_500,
      status: "succeeded",
      reasonKey: `stripe:${first.id}`,
    });
    // 2,500 of 10,000 refunded: a quarter of the shop's 9,800 comes back.
    const [t] = await withDb((db) =>
      db.select().from(transfers).where(eq(transfers.orderId, order.id)),
    );
    expect(t?.reversedMinor).toBe(2_450);
    expect(rows[0]?.transferReversalId).toMatch(/^trr_/);
    const onStripe = await stripe.transfers.retrieve(t?.stripeTransferId ?? "");
    expect(onStripe.amount_reversed).toBe(2_450);

    // The rest is refunded later: the second event lists both refunds; each counts once.
    const second = await stripe.refunds.create({ charge: chargeId });
    expect(second.amount).toBe(7_500);
    const d2 = await refundedDeliveryFor(chargeId, 2);
    await postWebhook(d2.body, { signature: d2.signature });
    expect((await processed(d2.eventId)).outcome).toBe("refunds_recorded:1");
    // And the first event once more, late: nothing.
    expect((await postWebhook(d1.body, { signature: d1.signature })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1_500));

    [o] = await ordersOf(checkout);
    expect(o).toMatchObject({ status: "refunded", refundedMinor: 10_000 });
    const [t2] = await withDb((db) =>
      db.select().from(transfers).where(eq(transfers.orderId, order.id)),
    );
    expect(t2?.reversedMinor).toBe(9_800);
    expect((await stripe.transfers.retrieve(t2?.stripeTransferId ?? "")).amount_reversed).toBe(
      9_800,
    );
    const audits = await withDb((db) =>
      db
        .select({ action: auditLog.action })
        .from(auditLog)
        .where(
          and(
            eq(auditLog.entityId, order.id),
            inArray(auditLog.action, [
              "order.refund_recorded",
              "order.partially_refunded",
              "order.refunded",
              "transfer.reversed",
            ]),
          ),
        )
        .orderBy(auditLog.id),
    );
    expect(audits.map((a) => a.action)).toEqual([
      "order.refund_recorded",
      "order.partially_refunded",
      "transfer.reversed",
      "order.refund_recorded",
      "order.refunded",
      "transfer.reversed",
    ]);
  });
});

describe("charge.dispute.created", () => {
  it("flags the checkout's orders once, records the dispute and tells the admins", async () => {
    const admin = await createAdmin();
    const { checkout, order, chargeId } = await paidCheckout(5_000);
    const dispute = await emulator<{ id: string }>(
      "POST",
      `/_emulator/charges/${chargeId}/dispute`,
      {
        reason: "product_not_received",
      },
    );
    const delivery = await capturedDelivery("charge.dispute.created", dispute.id);
    await postWebhook(delivery.body, { signature: delivery.signature });
    await postWebhook(delivery.body, { signature: delivery.signature });
    expect((await processed(delivery.eventId)).outcome).toBe("flagged:dispute");
    await new Promise((r) => setTimeout(r, 1_500));

    const [o] = await ordersOf(checkout);
    expect(o).toMatchObject({
      status: "paid",
      flagged: true,
      flagReason: "dispute (product_not_received)",
    });
    const issues = await withDb((db) =>
      db.select().from(paymentIssues).where(eq(paymentIssues.checkoutId, checkout.id)),
    );
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ kind: "dispute", paymentIntentId: checkout.paymentIntentId });
    expect(issues[0]?.detail).toMatchObject({
      disputeId: dispute.id,
      reason: "product_not_received",
    });
    const flaggedAudits = await withDb((db) =>
      db
        .select()
        .from(auditLog)
        .where(and(eq(auditLog.entityId, order.id), eq(auditLog.action, "order.flagged"))),
    );
    expect(flaggedAudits).toHaveLength(1);
    await eventually(
      async () => {
        const [n] = await withDb((db) =>
          db
            .select()
            .from(notifications)
            .where(
              and(
                eq(notifications.userId, admin.id),
                eq(notifications.dedupeKey, `payment-issue:${issues[0]?.id}:${admin.id}`),
              ),
            ),
        );
        return n;
      },
      undefined,
      "the admin's dispute notice",
    );
  });
});
