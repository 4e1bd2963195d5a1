import Stripe from "stripe";
import { describe, expect, it } from "vitest";
import { apiBase, emulator, stripeBinding, stripeClient } from "../helpers/stripe-emulator.ts";

const stripe = stripeClient();
const noRedirects = { enabled: true, allow_redirects: "never" } as const;

describe("Stripe emulator: PaymentIntents through the real SDK", () => {
  it("creates an intent with Stripe's shape, metadata and transfer group", async () => {
    const pi = await stripe.paymentIntents.create({
      amount: 4_250,
      currency: "EUR",
      metadata: { order_ids: "ord_1,ord_2", "0": "numeric-looking key" },
      transfer_group: "checkout_abc",
      automatic_payment_methods: noRedirects,
    });
    expect(pi).toMatchObject({
      object: "payment_intent",
      amount: 4_250,
      currency: "eur",
      status: "requires_payment_method",
      livemode: false,
      latest_charge: null,
      transfer_group: "checkout_abc",
      metadata: { order_ids: "ord_1,ord_2", "0": "numeric-looking key" },
      automatic_payment_methods: { enabled: true, allow_redirects: "never" },
    });
    expect(pi.id).toMatch(/^pi_\w{24}$/);
    expect(pi.client_secret).toMatch(new RegExp(`^${pi.id}_secret_\\w+$`));
    expect(pi.created).toBeGreaterThan(Date.now() / 1000 - 60);
    expect(pi.created).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000));

    const same = await stripe.paymentIntents.retrieve(pi.id);
    expect(same).toEqual(pi);
  });

  it("confirms with pm_card_visa: succeeded, with a retrievable charge", async () => {
    const pi = await stripe.paymentIntents.create({
      amount: 2_000,
      currency: "usd",
      transfer_group: "tg_visa",
      metadata: { order_ids: "o1" },
      automatic_payment_methods: noRedirects,
    });
    const confirmed = await stripe.paymentIntents.confirm(pi.id, {
      payment_method: "pm_card_visa",
    });
    expect(confirmed.status).toBe("succeeded");
    expect(confirmed.amount_received).toBe(2_000);
    // As in Stripe, the test token becomes a real PaymentMethod id.
    expect(confirmed.payment_method).toMatch(/^pm_/);
    expect(confirmed.payment_method).not.toBe("pm_card_visa");
    expect(confirmed.latest_charge).toMatch(/^ch_/);

    const charge = await stripe.charges.retrieve(String(confirmed.latest_charge));
    expect(charge).toMatchObject({
      object: "charge",
      amount: 2_000,
      amount_refunded: 0,
      refunded: false,
      paid: true,
      status: "succeeded",
      currency: "usd",
      payment_intent: pi.id,
      transfer_group: "tg_visa",
      metadata: { order_ids: "o1" },
    });
    expect(charge.payment_method_details?.card?.last4).toBe("4242");
  });

  it("expands latest_charge and lists charges of an intent", async () => {
    const pi = await stripe.paymentIntents.create({
      amount: 1_500,
      currency: "usd",
      payment_method: "pm_card_mastercard",
      confirm: true,
      automatic_payment_methods: noRedirects,
      expand: ["latest_charge"],
    });
    const charge = pi.latest_charge as Stripe.Charge;
    expect(charge.object).toBe("charge");
    expect(charge.payment_method_details?.card?.brand).toBe("mastercard");
    await expect(
      stripe.paymentIntents.retrieve(pi.id, { expand: ["metadata"] }),
    ).rejects.toMatchObject({ statusCode: 400, param: "expand" });
    const list = await stripe.charges.list({ payment_intent: pi.id });
    expect(list).toMatchObject({ object: "list", has_more: false, url: "/v1/charges" });
    expect(list.data.map((c) => c.id)).toEqual([charge.id]);
  });

  it("declines pm_card_chargeDeclined with a StripeCardError and payment_failed state", async () => {
    const pi = await stripe.paymentIntents.create({
      amount: 2_000,
      currency: "usd",
      automatic_payment_methods: noRedirects,
    });
    const error = await stripe.paymentIntents
      .confirm(pi.id, { payment_method: "pm_card_chargeDeclined" })
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(Stripe.errors.StripeCardError);
    const cardError = error as Stripe.errors.StripeCardError;
    expect(cardError.statusCode).toBe(402);
    expect(cardError.type).toBe("StripeCardError");
    expect(cardError.code).toBe("card_declined");
    expect(cardError.decline_code).toBe("generic_decline");
    expect(cardError.message).toBe("Your card was declined.");
    expect(cardError.payment_intent?.id).toBe(pi.id);
    expect(cardError.payment_intent?.status).toBe("requires_payment_method");

    const after = await stripe.paymentIntents.retrieve(pi.id);
    expect(after.status).toBe("requires_payment_method");
    expect(after.payment_method).toBeNull();
    expect(after.last_payment_error).toMatchObject({
      type: "card_error",
      code: "card_declined",
      decline_code: "generic_decline",
    });
    const failedCharge = await stripe.charges.retrieve(String(after.latest_charge));
    expect(failedCharge).toMatchObject({
      status: "failed",
      paid: false,
      failure_code: "card_declined",
    });

    // The customer then pays with another card.
    const retried = await stripe.paymentIntents.confirm(pi.id, { payment_method: "pm_card_visa" });
    expect(retried.status).toBe("succeeded");
  });

  it("declines pm_card_visa_chargeDeclined and names insufficient funds for that test card", async () => {
    const make = () =>
      stripe.paymentIntents.create({
        amount: 900,
        currency: "usd",
        allowed_payment_method_types: ["card"],
      });
    const a = await make();
    await expect(
      stripe.paymentIntents.confirm(a.id, { payment_method: "pm_card_visa_chargeDeclined" }),
    ).rejects.toMatchObject({ code: "card_declined", decline_code: "generic_decline" });
    const b = await make();
    await expect(
      stripe.paymentIntents.confirm(b.id, {
        payment_method: "pm_card_chargeDeclinedInsufficientFunds",
      }),
    ).rejects.toMatchObject({ code: "card_declined", decline_code: "insufficient_funds" });
  });

  it("asks for 3-D Secure, then succeeds once the customer completes it", async () => {
    const pi = await stripe.paymentIntents.create({
      amount: 3_000,
      currency: "usd",
      automatic_payment_methods: noRedirects,
    });
    const pending = await stripe.paymentIntents.confirm(pi.id, {
      payment_method: "pm_card_authenticationRequired",
    });
    expect(pending.status).toBe("requires_action");
    expect(pending.next_action?.type).toBe("use_stripe_sdk");
    expect(pending.latest_charge).toBeNull();

    const done = await emulator<Stripe.PaymentIntent>(
      "POST",
      `/_emulator/payment_intents/${pi.id}/complete_action`,
    );
    expect(done.status).toBe("succeeded");
    const after = await stripe.paymentIntents.retrieve(pi.id);
    expect(after.status).toBe("succeeded");
    expect(after.latest_charge).toMatch(/^ch_/);
  });

  it("returns to requires_payment_method when 3-D Secure fails", async () => {
    const pi = await stripe.paymentIntents.create({
      amount: 3_000,
      currency: "usd",
      payment_method: "pm_card_threeDSecure2Required",
      confirm: true,
      return_url: "https://shop.example/return",
    });
    expect(pi.status).toBe("requires_action");
    expect(pi.next_action?.type).toBe("redirect_to_url");
    const authUrl = pi.next_action?.redirect_to_url?.url ?? "";
    expect(authUrl.startsWith(apiBase())).toBe(true);

    // The customer's browser, on the page next_action points at, fails the challenge.
    const res = await fetch(`${authUrl}?result=fail`, { redirect: "manual" });
    expect(res.status).toBe(302);
    const back = new URL(res.headers.get("location") ?? "");
    expect(back.origin + back.pathname).toBe("https://shop.example/return");
    expect(back.searchParams.get("payment_intent")).toBe(pi.id);
    expect(back.searchParams.get("redirect_status")).toBe("failed");

    const after = await stripe.paymentIntents.retrieve(pi.id);
    expect(after.status).toBe("requires_payment_method");
    expect(after.last_payment_error?.code).toBe("payment_intent_authentication_failure");
  });

  it("fails an off-session confirm that would need authentication", async () => {
    const pi = await stripe.paymentIntents.create({
      amount: 3_000,
      currency: "usd",
      automatic_payment_methods: noRedirects,
    });
    await expect(
      stripe.paymentIntents.confirm(pi.id, {
        payment_method: "pm_card_authenticationRequired",
        off_session: true,
      }),
    ).rejects.toMatchObject({ statusCode: 402, code: "authentication_required" });
  });

  it("cancels an unpaid intent with a reason and refuses to cancel a paid one", async () => {
    const pi = await stripe.paymentIntents.create({
      amount: 1_000,
      currency: "usd",
      automatic_payment_methods: noRedirects,
    });
    const canceled = await stripe.paymentIntents.cancel(pi.id, {
      cancellation_reason: "abandoned",
    });
    expect(canceled.status).toBe("canceled");
    expect(canceled.cancellation_reason).toBe("abandoned");
    expect(canceled.canceled_at).toBeTypeOf("number");
    await expect(
      stripe.paymentIntents.confirm(pi.id, { payment_method: "pm_card_visa" }),
    ).rejects.toMatchObject({ statusCode: 400, code: "payment_intent_unexpected_state" });

    const paid = await stripe.paymentIntents.create({
      amount: 1_000,
      currency: "usd",
      payment_method: "pm_card_visa",
      confirm: true,
      automatic_payment_methods: noRedirects,
    });
    const refused = await stripe.paymentIntents.cancel(paid.id).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(refused).toMatchObject({ code: "payment_intent_unexpected_state" });
  });

  it("updates metadata (an empty value removes a key) but not the amount once paid", async () => {
    const pi = await stripe.paymentIntents.create({
      amount: 1_000,
      currency: "usd",
      metadata: { a: "1", b: "2" },
      payment_method: "pm_card_visa",
      confirm: true,
      automatic_payment_methods: noRedirects,
    });
    const updated = await stripe.paymentIntents.update(pi.id, { metadata: { a: "", c: "3" } });
    expect(updated.metadata).toEqual({ b: "2", c: "3" });
    await expect(stripe.paymentIntents.update(pi.id, { amount: 2_000 })).rejects.toMatchObject({
      code: "payment_intent_unexpected_state",
      param: "amount",
    });
  });

  it("requires a return_url to confirm when redirect-based methods are allowed, as Stripe does", async () => {
    const pi = await stripe.paymentIntents.create({ amount: 1_000, currency: "usd" });
    expect(pi.automatic_payment_methods).toEqual({ enabled: true, allow_redirects: "always" });
    await expect(
      stripe.paymentIntents.confirm(pi.id, { payment_method: "pm_card_visa" }),
    ).rejects.toMatchObject({ statusCode: 400, param: "return_url" });
    const ok = await stripe.paymentIntents.confirm(pi.id, {
      payment_method: "pm_card_visa",
      return_url: "https://shop.example/return",
    });
    expect(ok.status).toBe("succeeded");
  });

  it("pays as a customer would through the /pay helper", async () => {
    const pi = await stripe.paymentIntents.create({ amount: 1_234, currency: "usd" });
    const paid = await emulator<Stripe.PaymentIntent>(
      "POST",
      `/_emulator/payment_intents/${pi.id}/pay`,
      { payment_method: "pm_card_visa" },
    );
    expect(paid.status).toBe("succeeded");
  });

  it("answers Stripe's validation errors: minimum amount, unknown parameter, missing id", async () => {
    await expect(
      stripe.paymentIntents.create({ amount: 10, currency: "usd" }),
    ).rejects.toMatchObject({ statusCode: 400, code: "amount_too_small", param: "amount" });
    await expect(
      stripe.paymentIntents.create({
        amount: 1_000,
        currency: "usd",
        // A typo a real integration could make: Stripe refuses unknown parameters.
        metdata: { a: "b" },
      } as Stripe.PaymentIntentCreateParams),
    ).rejects.toMatchObject({ code: "parameter_unknown", param: "metdata" });
    const missing = await stripe.paymentIntents
      .retrieve("pi_doesnotexist")
      .catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(missing).toMatchObject({
      statusCode: 404,
      code: "resource_missing",
      message: "No such payment_intent: 'pi_doesnotexist'",
    });
  });

  it("refuses a missing or live key with 401 in Stripe's error shape", async () => {
    const noKey = await fetch(`${apiBase()}/v1/payment_intents`);
    expect(noKey.status).toBe(401);
    const body = (await noKey.json()) as { error: { type: string; message: string } };
    expect(body.error.type).toBe("invalid_request_error");
    expect(body.error.message).toMatch(/You did not provide an API key/);

    const base = new URL(apiBase());
    const live = new Stripe("sk_live_0123456789abcdef", {
      httpClient: Stripe.createFetchHttpClient(),
      host: base.hostname,
      port: Number(base.port),
      protocol: "http",
      maxNetworkRetries: 0,
    });
    await expect(live.paymentIntents.list()).rejects.toBeInstanceOf(
      Stripe.errors.StripeAuthenticationError,
    );
  });

  it("parses bracketed form bodies as Stripe does (curl-style expand[] too)", async () => {
    const body = [
      "amount=1500",
      "currency=usd",
      "automatic_payment_methods[enabled]=true",
      "automatic_payment_methods[allow_redirects]=never",
      `metadata[order_ids]=${encodeURIComponent("ord_1,ord_2")}`,
      `metadata[note]=${encodeURIComponent("a & b = c")}`,
      "payment_method=pm_card_visa",
      "confirm=true",
      "expand[]=latest_charge",
    ].join("&");
    const res = await fetch(`${apiBase()}/v1/payment_intents`, {
      method: "POST",
      headers: {
        Authorization: `Bearer ${stripeBinding("STRIPE_SECRET_KEY")}`,
        "Content-Type": "application/x-www-form-urlencoded",
      },
      body,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("request-id")).toMatch(/^req_/);
    const pi = (await res.json()) as {
      metadata: Record<string, string>;
      latest_charge: { object: string; amount: number };
    };
    expect(pi.metadata).toEqual({ order_ids: "ord_1,ord_2", note: "a & b = c" });
    expect(pi.latest_charge).toMatchObject({ object: "charge", amount: 1_500 });
  });

  it("lists intents newest first with cursor pagination", async () => {
    const group = `list_${crypto.randomUUID()}`;
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const pi = await stripe.paymentIntents.create({
        amount: 1_000 + i,
        currency: "usd",
        transfer_group: group,
        allowed_payment_method_types: ["card"],
      });
      ids.push(pi.id);
    }
    const first = await stripe.paymentIntents.list({ limit: 2 });
    expect(first.object).toBe("list");
    expect(first.data).toHaveLength(2);
    expect(first.has_more).toBe(true);
    const next = await stripe.paymentIntents.list({
      limit: 100,
      starting_after: first.data[1]?.id ?? "",
    });
    const seen = [...first.data, ...next.data].map((p) => p.id);
    // Other tests create intents concurrently; ours appear newest first among them.
    const ours = seen.filter((id) => ids.includes(id));
    expect(ours).toEqual([...ids].reverse());
  });
});
