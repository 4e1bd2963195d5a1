import Stripe from "stripe";
import { describe, expect, it } from "vitest";
import { apiBase, stripeBinding, stripeClient } from "../helpers/stripe-emulator.ts";

const stripe = stripeClient();

function post(path: string, body: string, headers: Record<string, string> = {}) {
  return fetch(`${apiBase()}${path}`, {
    method: "POST",
    headers: {
      Authorization: `Bearer ${stripeBinding("STRIPE_SECRET_KEY")}`,
      "Content-Type": "application/x-www-form-urlencoded",
      ...headers,
    },
    body,
  });
}

describe("Stripe emulator: Idempotency-Key", () => {
  it("replays the first answer for the same key and parameters: one PaymentIntent, not two", async () => {
    const key = `checkout-${crypto.randomUUID()}`;
    const params: Stripe.PaymentIntentCreateParams = {
      amount: 7_700,
      currency: "usd",
      metadata: { order_ids: "o1,o2" },
      transfer_group: key,
      allowed_payment_method_types: ["card"],
    };
    const first = await stripe.paymentIntents.create(params, { idempotencyKey: key });
    const second = await stripe.paymentIntents.create(params, { idempotencyKey: key });
    expect(second.id).toBe(first.id);
    expect(second.client_secret).toBe(first.client_secret);
    const created = await stripe.paymentIntents.list({ limit: 100 });
    expect(created.data.filter((p) => p.transfer_group === key)).toHaveLength(1);
  });

  it("marks a replay with Idempotent-Replayed and returns the stored body byte for byte", async () => {
    const key = `raw-${crypto.randomUUID()}`;
    const body = "amount=1200&currency=usd&allowed_payment_method_types[0]=card&metadata[x]=1";
    const a = await post("/v1/payment_intents", body, { "Idempotency-Key": key });
    const b = await post("/v1/payment_intents", body, { "Idempotency-Key": key });
    expect(a.status).toBe(200);
    expect(b.status).toBe(200);
    expect(a.headers.get("idempotent-replayed")).toBeNull();
    expect(b.headers.get("idempotent-replayed")).toBe("true");
    expect(b.headers.get("original-request")).toBe(a.headers.get("request-id"));
    expect(await b.text()).toBe(await a.text());

    // Parameter order does not matter: the same parameters, reordered, still replay.
    const reordered = "metadata[x]=1&allowed_payment_method_types[0]=card&currency=usd&amount=1200";
    const c = await post("/v1/payment_intents", reordered, { "Idempotency-Key": key });
    expect(c.headers.get("idempotent-replayed")).toBe("true");
  });

  it("refuses the same key with other parameters: 400 idempotency_error", async () => {
    const key = `mismatch-${crypto.randomUUID()}`;
    await stripe.paymentIntents.create(
      { amount: 1_000, currency: "usd", allowed_payment_method_types: ["card"] },
      { idempotencyKey: key },
    );
    const error = await stripe.paymentIntents
      .create(
        { amount: 2_000, currency: "usd", allowed_payment_method_types: ["card"] },
        { idempotencyKey: key },
      )
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
    expect(error).toMatchObject({ statusCode: 400, type: "StripeIdempotencyError" });
    expect((error as Error).message).toMatch(/same parameters they were first used with/);
  });

  it("replays a card decline: the 402 is stored, the card is not tried twice", async () => {
    const pi = await stripe.paymentIntents.create({
      amount: 2_500,
      currency: "usd",
      allowed_payment_method_types: ["card"],
    });
    const key = `decline-${crypto.randomUUID()}`;
    const confirm = async (): Promise<Stripe.errors.StripeCardError> => {
      const e = await stripe.paymentIntents
        .confirm(pi.id, { payment_method: "pm_card_chargeDeclined" }, { idempotencyKey: key })
        .then(
          () => null,
          (err: unknown) => err,
        );
      if (!(e instanceof Stripe.errors.StripeCardError)) throw new Error("expected a decline");
      return e;
    };
    const first = await confirm();
    const second = await confirm();
    expect(second.charge).toBe(first.charge);
    expect(second.decline_code).toBe("generic_decline");
    const charges = await stripe.charges.list({ payment_intent: pi.id });
    expect(charges.data).toHaveLength(1);
  });

  it("does not store a request that failed validation: the key can then be used correctly", async () => {
    const key = `invalid-${crypto.randomUUID()}`;
    await expect(
      stripe.paymentIntents.create({ amount: 10, currency: "usd" }, { idempotencyKey: key }),
    ).rejects.toMatchObject({ code: "amount_too_small" });
    const ok = await stripe.paymentIntents.create(
      { amount: 1_000, currency: "usd" },
      { idempotencyKey: key },
    );
    expect(ok.status).toBe("requires_payment_method");
  });

  it("scopes keys per account: the same key on a connected account is a new request", async () => {
    const account = await stripe.accounts.create({ type: "standard", country: "US" });
    const key = `scoped-${crypto.randomUUID()}`;
    const params = { amount: 1_000, currency: "usd", allowed_payment_method_types: ["card"] };
    const platform = await stripe.paymentIntents.create(params, { idempotencyKey: key });
    const connected = await stripe.paymentIntents.create(params, {
      idempotencyKey: key,
      stripeAccount: account.id,
    });
    expect(connected.id).not.toBe(platform.id);
    // Each object lives in its own scope.
    await expect(stripe.paymentIntents.retrieve(connected.id)).rejects.toMatchObject({
      statusCode: 404,
    });
    const seen = await stripe.paymentIntents.retrieve(
      connected.id,
      {},
      { stripeAccount: account.id },
    );
    expect(seen.id).toBe(connected.id);
  });
});
