import { and, eq, inArray } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { auditLog, checkouts, paymentIssues, shops, transfers } from "../../src/db/schema/index.ts";
import {
  expireLapsedReservations,
  expireOverduePayments,
} from "../../src/services/payments/deadlines.ts";
import { reconcilePayments } from "../../src/services/payments/reconciliation.ts";
import { withDb } from "../helpers/db.ts";
import { asCron, cronActor } from "../helpers/jobs.ts";
import { backdateReservation, level } from "../helpers/stock.ts";
import {
  checkoutRow,
  forwardDelivery,
  onboardedAccount,
  ordersOf,
  pay,
  processed,
  type SeededCheckout,
  seedCheckout,
  seedPaymentShop,
  stripeClient,
} from "../helpers/stripe.ts";

const stripe = stripeClient();
const HOUR = 3_600_000;

async function countAudits(orderIds: string[], action: string): Promise<number> {
  const rows = await withDb((db) =>
    db
      .select({ id: auditLog.id })
      .from(auditLog)
      .where(and(inArray(auditLog.entityId, orderIds), eq(auditLog.action, action))),
  );
  return rows.length;
}

/**
 * The deadline lies an hour ahead in real time and the sweep is run with its clock two hours on:
 * a real cron running meanwhile (another test file's) never sees this checkout as overdue, and
 * `checkoutIds` keeps this sweep off other files' data.
 */
function overdue(checkout: SeededCheckout) {
  return { now: new Date(Date.now() + 2 * HOUR), checkoutIds: [checkout.id] };
}
const inAnHour = () => new Date(Date.now() + HOUR);

describe("payment-deadlines cron", () => {
  it("cancels the PaymentIntent, releases the holds and expires the orders; a second run does nothing", async () => {
    const checkout = await seedCheckout({
      orders: [
        { lines: [{ priceMinor: 1_000, quantity: 2 }] },
        { lines: [{ priceMinor: 3_000, quantity: 1 }] },
      ],
      deadline: inAnHour(),
    });
    const ids = checkout.orders.map((o) => o.id);
    const first = await asCron((ctx) => expireOverduePayments(ctx, cronActor, overdue(checkout)));
    expect(first).toEqual({ checkouts: 1, outcomes: { expired: 1 }, failed: 0 });
    const second = await asCron((ctx) => expireOverduePayments(ctx, cronActor, overdue(checkout)));
    expect(second).toEqual({ checkouts: 0, outcomes: {}, failed: 0 });

    expect((await ordersOf(checkout)).map((o) => o.status)).toEqual(["expired", "expired"]);
    expect((await checkoutRow(checkout.id))?.status).toBe("expired");
    expect(await countAudits(ids, "order.expired")).toBe(2);
    const pi = await stripe.paymentIntents.retrieve(checkout.paymentIntentId);
    expect(pi).toMatchObject({ status: "canceled", cancellation_reason: "abandoned" });
    for (const item of checkout.orders.flatMap((o) => o.items)) {
      expect(await level(item.stub, item.locationId)).toMatchObject({
        onHand: item.onHandBefore,
        reserved: 0,
      });
    }
    // Stripe's payment_intent.canceled for the cancel it made arrives afterwards: nothing to do.
    const canceled = await forwardDelivery("payment_intent.canceled", checkout.paymentIntentId);
    expect((await processed(canceled.eventId)).outcome).toBe("noop:already_expired");
    expect(await countAudits(ids, "order.expired")).toBe(2);
  });

  it("applies a payment that succeeded at the last second instead of expiring it, once", async () => {
    const checkout = await seedCheckout({
      orders: [{ lines: [{ priceMinor: 2_000, quantity: 1 }] }],
      deadline: inAnHour(),
    });
    const [o] = checkout.orders;
    const item = o?.items[0];
    if (!o || !item) throw new Error("seed");
    // Paid on Stripe, but the webhook has not been applied yet when the deadline sweep runs.
    await pay(checkout.paymentIntentId);
    const first = await asCron((ctx) => expireOverduePayments(ctx, cronActor, overdue(checkout)));
    expect(first.outcomes).toEqual({ deadline_found_payment: 1 });
    const second = await asCron((ctx) => expireOverduePayments(ctx, cronActor, overdue(checkout)));
    expect(second.checkouts).toBe(0);

    expect((await ordersOf(checkout))[0]?.status).toBe("paid");
    expect(await level(item.stub, item.locationId)).toMatchObject({
      onHand: item.onHandBefore - 1,
      reserved: 0,
    });
    expect(
      (await stripe.transfers.list({ transfer_group: checkout.transferGroup })).data,
    ).toHaveLength(1);
    // The webhook, late: already applied.
    const late = await forwardDelivery("payment_intent.succeeded", checkout.paymentIntentId);
    expect((await processed(late.eventId)).outcome).toBe("noop:already_applied");
    expect(await countAudits([o.id], "order.paid")).toBe(1);
  });
});

describe("a checkout that never stored its PaymentIntent id (confirm created it, then failed)", () => {
  async function unlinked(deadline?: Date) {
    const checkout = await seedCheckout({
      orders: [{ lines: [{ priceMinor: 2_700, quantity: 1 }] }],
      ...(deadline ? { deadline } : {}),
    });
    await withDb((db) =>
      db.update(checkouts).set({ paymentIntentId: null }).where(eq(checkouts.id, checkout.id)),
    );
    return checkout;
  }

  it("is not expired unpaid at its deadline when the buyer paid: the intent is found by its metadata and applied", async () => {
    const checkout = await unlinked(inAnHour());
    await pay(checkout.paymentIntentId);
    const first = await asCron((ctx) => expireOverduePayments(ctx, cronActor, overdue(checkout)));
    expect(first.outcomes).toEqual({ deadline_found_payment: 1 });
    expect((await ordersOf(checkout))[0]?.status).toBe("paid");
    expect((await checkoutRow(checkout.id))?.paymentIntentId).toBe(checkout.paymentIntentId);
  });

  it("is still expired, its intent cancelled, when nobody paid", async () => {
    const checkout = await unlinked(inAnHour());
    const first = await asCron((ctx) => expireOverduePayments(ctx, cronActor, overdue(checkout)));
    expect(first.outcomes).toEqual({ expired: 1 });
    expect((await stripe.paymentIntents.retrieve(checkout.paymentIntentId)).status).toBe(
      "canceled",
    );
  });

  it("is reconciled when its webhook was lost", async () => {
    const checkout = await unlinked();
    await pay(checkout.paymentIntentId);
    const scope = { checkoutIds: [checkout.id], graceMs: 0 };
    const first = await asCron((ctx) => reconcilePayments(ctx, cronActor, scope));
    expect(first).toMatchObject({ checked: 1, applied: 1 });
    expect((await ordersOf(checkout))[0]?.status).toBe("paid");
  });
});

describe("reservation-expiry cron", () => {
  it("ends an unpaid checkout whose stock hold already lapsed, before its payment deadline; once", async () => {
    const checkout = await seedCheckout({
      orders: [{ lines: [{ priceMinor: 1_500, quantity: 1 }] }],
      deadline: inAnHour(),
    });
    const [o] = checkout.orders;
    const item = o?.items[0];
    if (!o || !item) throw new Error("seed");
    const scope = { checkoutIds: [checkout.id] };
    // Holds still alive: nothing to do.
    expect(await asCron((ctx) => expireLapsedReservations(ctx, cronActor, scope))).toEqual({
      checkouts: 0,
      outcomes: {},
      failed: 0,
    });
    await backdateReservation(item.stub, item.reservationId);
    const first = await asCron((ctx) => expireLapsedReservations(ctx, cronActor, scope));
    expect(first).toEqual({ checkouts: 1, outcomes: { expired: 1 }, failed: 0 });
    const second = await asCron((ctx) => expireLapsedReservations(ctx, cronActor, scope));
    expect(second.checkouts).toBe(0);
    expect((await ordersOf(checkout))[0]?.status).toBe("expired");
    expect((await stripe.paymentIntents.retrieve(checkout.paymentIntentId)).status).toBe(
      "canceled",
    );
    expect(await countAudits([o.id], "order.expired")).toBe(1);
    expect(await level(item.stub, item.locationId)).toMatchObject({
      onHand: item.onHandBefore,
      reserved: 0,
    });
  });
});

describe("stripe-reconciliation cron", () => {
  it("applies a payment Stripe took but no webhook delivered, once, however often it runs", async () => {
    const checkout = await seedCheckout({
      orders: [
        { lines: [{ priceMinor: 2_200, quantity: 1 }] },
        { lines: [{ priceMinor: 1_100, quantity: 3 }] },
      ],
    });
    const ids = checkout.orders.map((o) => o.id);
    await pay(checkout.paymentIntentId);
    const scope = { checkoutIds: [checkout.id], graceMs: 0 };
    const runs = [];
    for (let i = 0; i < 3; i++)
      runs.push(await asCron((ctx) => reconcilePayments(ctx, cronActor, scope)));
    expect(runs.map((r) => r.applied)).toEqual([1, 0, 0]);
    expect(runs.map((r) => r.checked)).toEqual([1, 0, 0]);

    expect((await ordersOf(checkout)).map((o) => o.status)).toEqual(["paid", "paid"]);
    expect(await countAudits(ids, "order.paid")).toBe(2);
    expect(await countAudits(ids, "transfer.created")).toBe(2);
    expect(
      (await stripe.transfers.list({ transfer_group: checkout.transferGroup })).data,
    ).toHaveLength(2);
    for (const item of checkout.orders.flatMap((o) => o.items)) {
      expect((await level(item.stub, item.locationId)).onHand).toBe(
        item.onHandBefore - item.quantity,
      );
    }
  });

  it("leaves an unpaid checkout alone", async () => {
    const checkout = await seedCheckout({
      orders: [{ lines: [{ priceMinor: 900, quantity: 1 }] }],
    });
    const summary = await asCron((ctx) =>
      reconcilePayments(ctx, cronActor, { checkoutIds: [checkout.id], graceMs: 0 }),
    );
    expect(summary).toMatchObject({ checked: 1, applied: 0 });
    expect((await ordersOf(checkout))[0]?.status).toBe("pending_payment");
  });

  it("transfers a paid order's share once its shop can receive payouts", async () => {
    const shop = await seedPaymentShop({ payouts: false });
    const checkout = await seedCheckout({
      orders: [{ shop, lines: [{ priceMinor: 5_000, quantity: 1 }] }],
    });
    const [o] = checkout.orders;
    if (!o) throw new Error("seed");
    await pay(checkout.paymentIntentId);
    const delivery = await forwardDelivery("payment_intent.succeeded", checkout.paymentIntentId);
    expect((await processed(delivery.eventId)).outcome).toBe(
      "succeeded paid:1 transfers_waiting:1",
    );
    const issues = await withDb((db) =>
      db.select().from(paymentIssues).where(eq(paymentIssues.orderId, o.id)),
    );
    expect(issues.map((i) => i.kind)).toEqual(["transfer_pending"]);

    // The shop onboards; the next reconciliation pays it its share, and only once.
    const accountId = await onboardedAccount();
    await withDb((db) =>
      db
        .update(shops)
        .set({ stripeAccountId: accountId, payoutsEnabled: true })
        .where(eq(shops.id, shop.id)),
    );
    const scope = { checkoutIds: [checkout.id], graceMs: 0 };
    const first = await asCron((ctx) => reconcilePayments(ctx, cronActor, scope));
    const second = await asCron((ctx) => reconcilePayments(ctx, cronActor, scope));
    expect([first.transfersCreated, second.transfersCreated]).toEqual([1, 0]);
    const rows = await withDb((db) =>
      db.select().from(transfers).where(eq(transfers.orderId, o.id)),
    );
    expect(rows).toMatchObject([{ destinationAccount: accountId, amountMinor: 4_900 }]);
  });
});
