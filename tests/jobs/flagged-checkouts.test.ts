import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { paymentIssues } from "../../src/db/schema/index.ts";
import {
  expireLapsedReservations,
  expireOverduePayments,
} from "../../src/services/payments/deadlines.ts";
import { reconcilePayments } from "../../src/services/payments/reconciliation.ts";
import { withDb } from "../helpers/db.ts";
import { asCron, cronActor } from "../helpers/jobs.ts";
import { backdateReservation } from "../helpers/stock.ts";
import { checkoutRow, ordersOf, pay, seedCheckout } from "../helpers/stripe.ts";

const HOUR = 3_600_000;

/**
 * A checkout whose PaymentIntent was paid for another amount than the checkout's, flagged by
 * reconciliation (as a lost webhook would leave it): orders still `pending_payment`, flagged.
 */
async function flaggedCheckout(deadline: Date) {
  const checkout = await seedCheckout({
    orders: [{ lines: [{ priceMinor: 3_000, quantity: 1 }] }],
    piAmount: 3_100,
    deadline,
  });
  await pay(checkout.paymentIntentId);
  await asCron((ctx) =>
    reconcilePayments(ctx, cronActor, { checkoutIds: [checkout.id], graceMs: 0 }),
  );
  expect((await ordersOf(checkout))[0]).toMatchObject({
    status: "pending_payment",
    flagged: true,
  });
  return checkout;
}

describe("a payment whose amount disagrees with its checkout", () => {
  it("is counted by reconciliation as flagged, not applied, and left out of its later runs", async () => {
    const checkout = await seedCheckout({
      orders: [{ lines: [{ priceMinor: 3_000, quantity: 1 }] }],
      piAmount: 3_100,
    });
    await pay(checkout.paymentIntentId);
    const scope = { checkoutIds: [checkout.id], graceMs: 0 };
    const first = await asCron((ctx) => reconcilePayments(ctx, cronActor, scope));
    expect(first).toMatchObject({ checked: 1, applied: 0, flagged: 1, failed: 0 });
    const second = await asCron((ctx) => reconcilePayments(ctx, cronActor, scope));
    expect(second).toMatchObject({ checked: 0, applied: 0, flagged: 0 });

    expect((await ordersOf(checkout))[0]).toMatchObject({
      status: "pending_payment",
      paidAt: null,
    });
    const issues = await withDb((db) =>
      db.select().from(paymentIssues).where(eq(paymentIssues.checkoutId, checkout.id)),
    );
    expect(issues.map((i) => i.kind)).toEqual(["amount_mismatch"]);
  });

  it("leaves the deadline sweep, so flagged checkouts never stop newer ones from expiring", async () => {
    const flagged = await flaggedCheckout(new Date(Date.now() + HOUR - 60_000));
    const normal = await seedCheckout({
      orders: [{ lines: [{ priceMinor: 1_000, quantity: 1 }] }],
      deadline: new Date(Date.now() + HOUR),
    });
    // Both overdue by this clock; the flagged one is the oldest, and the batch holds one.
    const scope = {
      now: new Date(Date.now() + 2 * HOUR),
      checkoutIds: [flagged.id, normal.id],
      limit: 1,
    };
    const run = await asCron((ctx) => expireOverduePayments(ctx, cronActor, scope));
    expect(run).toEqual({ checkouts: 1, outcomes: { expired: 1 }, failed: 0 });
    expect((await ordersOf(normal))[0]?.status).toBe("expired");

    const again = await asCron((ctx) => expireOverduePayments(ctx, cronActor, scope));
    expect(again).toEqual({ checkouts: 0, outcomes: {}, failed: 0 });
    expect((await ordersOf(flagged))[0]).toMatchObject({
      status: "pending_payment",
      flagged: true,
    });
    expect((await checkoutRow(flagged.id))?.status).toBe("open");
  });

  it("leaves the reservation-expiry sweep too", async () => {
    const flagged = await flaggedCheckout(new Date(Date.now() + HOUR));
    const item = flagged.orders[0]?.items[0];
    if (!item) throw new Error("seed");
    await backdateReservation(item.stub, item.reservationId);
    const run = await asCron((ctx) =>
      expireLapsedReservations(ctx, cronActor, { checkoutIds: [flagged.id] }),
    );
    expect(run).toEqual({ checkouts: 0, outcomes: {}, failed: 0 });
    expect((await ordersOf(flagged))[0]?.status).toBe("pending_payment");
  });
});
