import Stripe from "stripe";
import { describe, expect, it } from "vitest";
import { delivered, emulator, paidIntent, stripeClient } from "../helpers/stripe-emulator.ts";

const stripe = stripeClient();

describe("Stripe emulator: refunds", () => {
  it("refunds in parts, accumulating amount_refunded on the charge until fully refunded", async () => {
    const pi = await paidIntent(stripe, 10_000);
    const chargeId = String(pi.latest_charge);

    const first = await stripe.refunds.create({
      payment_intent: pi.id,
      amount: 2_500,
      reason: "requested_by_customer",
      metadata: { order_id: "ord_1" },
    });
    expect(first).toMatchObject({
      object: "refund",
      amount: 2_500,
      charge: chargeId,
      payment_intent: pi.id,
      currency: "usd",
      status: "succeeded",
      reason: "requested_by_customer",
      metadata: { order_id: "ord_1" },
    });
    expect(first.id).toMatch(/^re_/);
    let charge = await stripe.charges.retrieve(chargeId);
    expect(charge.amount_refunded).toBe(2_500);
    expect(charge.refunded).toBe(false);

    const second = await stripe.refunds.create({ charge: chargeId, amount: 5_000 });
    expect(second.payment_intent).toBe(pi.id);
    charge = await stripe.charges.retrieve(chargeId);
    expect(charge.amount_refunded).toBe(7_500);

    // Without an amount, the rest is refunded.
    const rest = await stripe.refunds.create({ payment_intent: pi.id });
    expect(rest.amount).toBe(2_500);
    charge = await stripe.charges.retrieve(chargeId);
    expect(charge).toMatchObject({ amount_refunded: 10_000, refunded: true });

    const listed = await stripe.refunds.list({ payment_intent: pi.id });
    expect(listed.data.map((r) => r.id)).toEqual([rest.id, second.id, first.id]);
    expect((await stripe.refunds.retrieve(first.id)).amount).toBe(2_500);
  });

  it("refuses to refund more than remains, then refuses a fully refunded charge", async () => {
    const pi = await paidIntent(stripe, 3_000);
    await stripe.refunds.create({ payment_intent: pi.id, amount: 2_000 });
    const over = await stripe.refunds
      .create({ payment_intent: pi.id, amount: 1_001 })
      .catch((e: unknown) => e);
    expect(over).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(over).toMatchObject({
      statusCode: 400,
      code: "amount_too_large",
      param: "amount",
      message: "Refund amount ($10.01) is greater than unrefunded amount on charge ($10.00)",
    });
    await stripe.refunds.create({ payment_intent: pi.id });
    await expect(stripe.refunds.create({ payment_intent: pi.id })).rejects.toMatchObject({
      code: "charge_already_refunded",
    });
  });

  it("refuses to refund an intent that never succeeded", async () => {
    const pi = await stripe.paymentIntents.create({
      amount: 3_000,
      currency: "usd",
      allowed_payment_method_types: ["card"],
    });
    await expect(stripe.refunds.create({ payment_intent: pi.id })).rejects.toMatchObject({
      statusCode: 400,
      param: "payment_intent",
    });
  });

  it("emits charge.refunded (with previous amount_refunded) and refund.created", async () => {
    const pi = await paidIntent(stripe, 4_000);
    const refund = await stripe.refunds.create({ payment_intent: pi.id, amount: 1_000 });
    const chargeEvent = await delivered("platform", "charge.refunded", String(pi.latest_charge));
    const event = JSON.parse(chargeEvent.body) as Stripe.ChargeRefundedEvent;
    expect(event.data.object.amount_refunded).toBe(1_000);
    expect(event.data.previous_attributes).toMatchObject({ amount_refunded: 0 });
    const refundEvent = await delivered("platform", "refund.created", refund.id);
    expect(JSON.parse(refundEvent.body)).toMatchObject({ data: { object: { amount: 1_000 } } });
  });

  it("refuses to refund a disputed charge", async () => {
    const pi = await paidIntent(stripe, 4_000);
    await emulator("POST", `/_emulator/charges/${String(pi.latest_charge)}/dispute`, {
      reason: "fraudulent",
    });
    await expect(stripe.refunds.create({ payment_intent: pi.id })).rejects.toMatchObject({
      code: "charge_disputed",
    });
  });
});
