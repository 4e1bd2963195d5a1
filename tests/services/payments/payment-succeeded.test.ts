import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { and, eq, inArray } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { notifications, paymentIssues, transfers } from "../../../src/db/schema/index.ts";
import worker from "../../../src/index.ts";
import { auditCounts } from "../../helpers/audit.ts";
import { withDb } from "../../helpers/db.ts";
import { createAdmin } from "../../helpers/shops.ts";
import { level } from "../../helpers/stock.ts";
import {
  capturedDelivery,
  checkoutRow,
  deliveryOf,
  emulator,
  eventually,
  forwardDelivery,
  ordersOf,
  pay,
  payDeclined,
  postWebhook,
  processed,
  type SeededCheckout,
  seedCheckout,
  stripeClient,
} from "../../helpers/stripe.ts";

const stripe = stripeClient();

/** The emulator's transfers for the checkout's transfer group. */
async function stripeTransfers(checkout: SeededCheckout) {
  return (await stripe.transfers.list({ transfer_group: checkout.transferGroup, limit: 100 })).data;
}

/** The queue message a webhook delivery turns into, for running the consumer by hand. */
function messageOf(body: string) {
  const event = JSON.parse(body) as {
    id: string;
    type: string;
    created: number;
    livemode: boolean;
    data: { object: Record<string, unknown> };
  };
  return {
    id: event.id,
    type: event.type,
    account: null,
    created: event.created,
    livemode: event.livemode,
    source: "platform" as const,
    data: { object: event.data.object },
  };
}

/** Runs the stripe-events consumer on one batch, as Cloudflare would deliver it. */
async function consume(messages: Array<{ id: string; body: unknown; attempts?: number }>) {
  const batch = createMessageBatch<unknown>(
    "stripe-events",
    messages.map((m) => ({
      id: m.id,
      timestamp: new Date(),
      attempts: m.attempts ?? 1,
      body: m.body,
    })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch, env);
  return getQueueResult(batch, ctx);
}

async function twoShopCheckout() {
  return seedCheckout({
    orders: [
      {
        lines: [
          { priceMinor: 2_500, quantity: 2 },
          { priceMinor: 1_200, quantity: 1 },
        ],
        deliveryFeeMinor: 499,
      },
      { lines: [{ priceMinor: 4_000, quantity: 1 }] },
    ],
  });
}

describe("payment_intent.succeeded, from the emulator through the webhook and the queue", () => {
  it("pays every order, commits the held stock, transfers each shop its share less the fee, notifies and audits", async () => {
    const checkout = await twoShopCheckout();
    const [a, b] = checkout.orders;
    if (!a || !b) throw new Error("seed");
    expect(a.totalMinor).toBe(2_500 * 2 + 1_200 + 499);
    expect(a.platformFeeMinor).toBe(124);
    for (const item of [...a.items, ...b.items]) {
      expect(await level(item.stub, item.locationId)).toMatchObject({
        onHand: item.onHandBefore,
        reserved: item.quantity,
      });
    }

    expect((await pay(checkout.paymentIntentId)).status).toBe("succeeded");
    const delivery = await forwardDelivery("payment_intent.succeeded", checkout.paymentIntentId);
    expect(delivery.status).toBe(200);
    const event = await processed(delivery.eventId);
    expect(event.outcome).toBe("succeeded paid:2 transfers:2");

    const [paidA, paidB] = await ordersOf(checkout);
    for (const o of [paidA, paidB]) {
      expect(o?.status).toBe("paid");
      expect(o?.paidAt).toBeInstanceOf(Date);
    }
    expect((await checkoutRow(checkout.id))?.status).toBe("succeeded");

    // Sold: on hand and reserved both down by the quantity; nothing else held.
    for (const item of [...a.items, ...b.items]) {
      expect(await level(item.stub, item.locationId)).toMatchObject({
        onHand: item.onHandBefore - item.quantity,
        reserved: 0,
        available: item.onHandBefore - item.quantity,
      });
    }

    // On Stripe: one transfer per shop, its share = order total − platform fee, from this charge.
    const pi = await stripe.paymentIntents.retrieve(checkout.paymentIntentId);
    const onStripe = await stripeTransfers(checkout);
    expect(onStripe).toHaveLength(2);
    for (const o of [a, b]) {
      const t = onStripe.find((x) => x.destination === o.shop.accountId);
      expect(t).toMatchObject({
        amount: o.totalMinor - o.platformFeeMinor,
        currency: "eur",
        transfer_group: checkout.transferGroup,
        source_transaction: pi.latest_charge,
        metadata: { order_id: o.id, shop_id: o.shop.id, checkout_id: checkout.id },
      });
    }
    const kept = checkout.amountMinor - onStripe.reduce((s, t) => s + t.amount, 0);
    expect(kept).toBe(a.platformFeeMinor + b.platformFeeMinor);
    const rows = await withDb((db) =>
      db
        .select()
        .from(transfers)
        .where(inArray(transfers.orderId, [a.id, b.id])),
    );
    expect(rows.map((r) => [r.orderId, r.amountMinor, r.destinationAccount]).sort()).toEqual(
      [
        [a.id, a.totalMinor - a.platformFeeMinor, a.shop.accountId],
        [b.id, b.totalMinor - b.platformFeeMinor, b.shop.accountId],
      ].sort(),
    );

    // One audit row per state change and per transfer.
    expect(await auditCounts([a.id, b.id], "order.paid")).toEqual({ [a.id]: 1, [b.id]: 1 });
    expect(await auditCounts([a.id, b.id], "transfer.created")).toEqual({ [a.id]: 1, [b.id]: 1 });

    // The buyer gets a receipt per order, each shop's owner a "new paid order".
    const notes = await eventually(
      async () => {
        const got = await withDb((db) =>
          db
            .select({ userId: notifications.userId, kind: notifications.kind })
            .from(notifications)
            .where(
              inArray(notifications.dedupeKey, [
                `order-paid:${a.id}:buyer`,
                `order-paid:${b.id}:buyer`,
                `order-paid:${a.id}:shop`,
                `order-paid:${b.id}:shop`,
              ]),
            ),
        );
        return got.length === 4 ? got : undefined;
      },
      undefined,
      "the four notifications",
    );
    expect(
      notes.filter((n) => n.userId === checkout.buyer.id && n.kind === "order.paid"),
    ).toHaveLength(2);
    expect(notes.find((n) => n.userId === a.shop.owner.id)?.kind).toBe("order.new");
    expect(notes.find((n) => n.userId === b.shop.owner.id)?.kind).toBe("order.new");
  });

  it("applies the same event delivered five times, at once and again later, exactly once", async () => {
    const checkout = await twoShopCheckout();
    const [a, b] = checkout.orders;
    if (!a || !b) throw new Error("seed");
    await pay(checkout.paymentIntentId);
    const delivery = await capturedDelivery("payment_intent.succeeded", checkout.paymentIntentId);

    const answers = await Promise.all(
      Array.from({ length: 5 }, () =>
        postWebhook(delivery.body, { signature: delivery.signature }),
      ),
    );
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    await processed(delivery.eventId);

    // Five more copies straight into the consumer, in concurrent batches, all acknowledged.
    const message = messageOf(delivery.body);
    const results = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        consume([{ id: `dup-${i}-${delivery.eventId}`, body: message }]),
      ),
    );
    for (const r of results) expect(r.retryMessages).toEqual([]);
    // Let the HTTP copies the real queue still holds drain too.
    await new Promise((r) => setTimeout(r, 2_500));

    expect((await ordersOf(checkout)).map((o) => o.status)).toEqual(["paid", "paid"]);
    expect(await stripeTransfers(checkout)).toHaveLength(2);
    expect(await auditCounts([a.id, b.id], "order.paid")).toEqual({ [a.id]: 1, [b.id]: 1 });
    expect(await auditCounts([a.id, b.id], "transfer.created")).toEqual({ [a.id]: 1, [b.id]: 1 });
    for (const item of [...a.items, ...b.items]) {
      expect((await level(item.stub, item.locationId)).onHand).toBe(
        item.onHandBefore - item.quantity,
      );
    }
  });

  it("applies five distinct events about one payment, consumed at the same moment, exactly once", async () => {
    const checkout = await twoShopCheckout();
    const [a, b] = checkout.orders;
    if (!a || !b) throw new Error("seed");
    await pay(checkout.paymentIntentId);
    const delivery = await capturedDelivery("payment_intent.succeeded", checkout.paymentIntentId);
    // Different event ids (a dashboard replay, `stripe events resend`…): the event-id record
    // cannot dedupe these; the checkout lock, the stock keys and the transfer keys must.
    const base = messageOf(delivery.body);
    const results = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        consume([{ id: `m${i}-${base.id}`, body: { ...base, id: `${base.id}_copy${i}` } }]),
      ),
    );
    for (const r of results) expect(r.retryMessages).toEqual([]);

    expect((await ordersOf(checkout)).map((o) => o.status)).toEqual(["paid", "paid"]);
    expect(await stripeTransfers(checkout)).toHaveLength(2);
    expect(await auditCounts([a.id, b.id], "order.paid")).toEqual({ [a.id]: 1, [b.id]: 1 });
    expect(await auditCounts([a.id, b.id], "transfer.created")).toEqual({ [a.id]: 1, [b.id]: 1 });
    for (const item of [...a.items, ...b.items]) {
      expect(await level(item.stub, item.locationId)).toMatchObject({
        onHand: item.onHandBefore - item.quantity,
        reserved: 0,
      });
    }
    // Nor did any copy try a second transfer (Stripe would refuse it: the charge is spent).
    const issues = await withDb((db) =>
      db.select().from(paymentIssues).where(eq(paymentIssues.checkoutId, checkout.id)),
    );
    expect(issues).toEqual([]);
  });

  it("decides by Stripe's current state: a failure reported after the success, or a success reported twice, changes nothing", async () => {
    const checkout = await seedCheckout({
      orders: [{ lines: [{ priceMinor: 3_000, quantity: 1 }] }],
    });
    const [o] = checkout.orders;
    const item = o?.items[0];
    if (!o || !item) throw new Error("seed");

    // The buyer's card is declined first, then the second card works.
    await payDeclined(checkout.paymentIntentId);
    const failed = await capturedDelivery(
      "payment_intent.payment_failed",
      checkout.paymentIntentId,
    );
    await pay(checkout.paymentIntentId);
    const succeeded = await capturedDelivery("payment_intent.succeeded", checkout.paymentIntentId);

    // Stripe delivers them out of order: the success first, the failure late.
    expect((await postWebhook(succeeded.body, { signature: succeeded.signature })).status).toBe(
      200,
    );
    await processed(succeeded.eventId);
    expect((await postWebhook(failed.body, { signature: failed.signature })).status).toBe(200);
    expect((await processed(failed.eventId)).outcome).toBe("noop:already_applied");

    // A second, distinct succeeded event about the same payment (a replay from the dashboard).
    const pi = await stripe.paymentIntents.retrieve(checkout.paymentIntentId);
    const again = await emulator<{ id: string }>("POST", "/_emulator/events", {
      type: "payment_intent.succeeded",
      object: pi,
    });
    const copies = await eventually(() => deliveryOf(again.id), undefined, "the replayed event");
    expect((await postWebhook(copies.body, { signature: copies.signature })).status).toBe(200);
    expect((await processed(again.id)).outcome).toBe("noop:already_applied");

    const [after] = await ordersOf(checkout);
    expect(after?.status).toBe("paid");
    expect(await auditCounts([o.id], "order.paid")).toEqual({ [o.id]: 1 });
    expect(await auditCounts([o.id], "order.payment_failed")).toEqual({ [o.id]: 0 });
    expect(await stripeTransfers(checkout)).toHaveLength(1);
    expect((await level(item.stub, item.locationId)).onHand).toBe(item.onHandBefore - 1);
  });

  it("a decline marks the orders payment_failed and keeps the stock held so the buyer can retry; the retry pays", async () => {
    const checkout = await seedCheckout({
      orders: [{ lines: [{ priceMinor: 3_000, quantity: 2 }] }],
    });
    const [o] = checkout.orders;
    const item = o?.items[0];
    if (!o || !item) throw new Error("seed");
    await payDeclined(checkout.paymentIntentId);
    const failed = await forwardDelivery("payment_intent.payment_failed", checkout.paymentIntentId);
    expect((await processed(failed.eventId)).outcome).toBe("payment_failed:1");
    expect((await ordersOf(checkout))[0]?.status).toBe("payment_failed");
    expect((await checkoutRow(checkout.id))?.status).toBe("open");
    expect(await level(item.stub, item.locationId)).toMatchObject({ reserved: 2 });

    await pay(checkout.paymentIntentId);
    const ok = await forwardDelivery("payment_intent.succeeded", checkout.paymentIntentId);
    expect((await processed(ok.eventId)).outcome).toBe("succeeded paid:1 transfers:1");
    expect((await ordersOf(checkout))[0]?.status).toBe("paid");
    expect(await level(item.stub, item.locationId)).toMatchObject({
      onHand: item.onHandBefore - 2,
      reserved: 0,
    });
  });

  it("flags a payment whose amount disagrees with the checkout and applies nothing", async () => {
    const admin = await createAdmin();
    const checkout = await seedCheckout({
      orders: [{ lines: [{ priceMinor: 3_000, quantity: 1 }] }],
      piAmount: 3_100,
    });
    const [o] = checkout.orders;
    const item = o?.items[0];
    if (!o || !item) throw new Error("seed");
    await pay(checkout.paymentIntentId);
    const delivery = await forwardDelivery("payment_intent.succeeded", checkout.paymentIntentId);
    expect((await processed(delivery.eventId)).outcome).toBe("flagged:amount_mismatch");

    const [after] = await ordersOf(checkout);
    expect(after).toMatchObject({ status: "pending_payment", flagged: true, paidAt: null });
    expect(after?.flagReason).toMatch(/amount: Stripe 3100, checkout 3000/);
    expect((await checkoutRow(checkout.id))?.status).toBe("open");
    expect(await level(item.stub, item.locationId)).toMatchObject({
      onHand: item.onHandBefore,
      reserved: 1,
    });
    expect(await stripeTransfers(checkout)).toHaveLength(0);
    const issues = await withDb((db) =>
      db.select().from(paymentIssues).where(eq(paymentIssues.checkoutId, checkout.id)),
    );
    expect(issues.map((i) => i.kind)).toEqual(["amount_mismatch"]);
    expect(await auditCounts([o.id], "order.flagged")).toEqual({ [o.id]: 1 });
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
      "the admin's notice",
    );
  });
});
