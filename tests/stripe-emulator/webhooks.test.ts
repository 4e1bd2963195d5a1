import Stripe from "stripe";
import { afterAll, describe, expect, it } from "vitest";
import { eventually } from "../helpers/eventually.ts";
import {
  apiBase,
  captured,
  type DeliveryAttempt,
  delivered,
  emulator,
  paidIntent,
  stripeBinding,
  stripeClient,
  subtleCrypto,
} from "../helpers/stripe-emulator.ts";

const stripe = stripeClient();
const platformSecret = () => stripeBinding("STRIPE_WEBHOOK_SECRET");

function verify(body: string, signature: string | null, secret = platformSecret()) {
  return stripe.webhooks.constructEventAsync(
    body,
    signature ?? "",
    secret,
    undefined,
    subtleCrypto,
  );
}

describe("Stripe emulator: webhook delivery", () => {
  const extraEndpoints: string[] = [];
  afterAll(async () => {
    for (const id of extraEndpoints) await emulator("DELETE", `/_emulator/webhook_endpoints/${id}`);
  });

  it("delivers payment events signed so constructEventAsync (SubtleCrypto) accepts them", async () => {
    const pi = await paidIntent(stripe, 6_100, { metadata: { order_ids: "ord_x" } });
    const got = await delivered("platform", "payment_intent.succeeded", pi.id);
    expect(got.content_type).toMatch(/^application\/json/);
    expect(got.stripe_signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);

    const event = (await verify(
      got.body,
      got.stripe_signature,
    )) as Stripe.PaymentIntentSucceededEvent;
    expect(event).toMatchObject({
      object: "event",
      type: "payment_intent.succeeded",
      livemode: false,
      data: { object: { id: pi.id, status: "succeeded", amount: 6_100 } },
    });
    expect(event.id).toMatch(/^evt_/);
    expect(event.account).toBeUndefined();
    expect(event.data.object.metadata).toEqual({ order_ids: "ord_x" });
    expect(event.request?.id).toMatch(/^req_/);

    // The body is the event object as stored: the API returns the same event.
    const fromApi = await stripe.events.retrieve(event.id);
    expect(fromApi.data.object).toEqual(event.data.object);

    // One byte changed, or the wrong secret: refused.
    await expect(
      verify(got.body.replace("6100", "6101"), got.stripe_signature),
    ).rejects.toBeInstanceOf(Stripe.errors.StripeSignatureVerificationError);
    await expect(
      verify(got.body, got.stripe_signature, "whsec_not_the_secret"),
    ).rejects.toBeInstanceOf(Stripe.errors.StripeSignatureVerificationError);
  });

  it("emits created, charge and payment events for each outcome", async () => {
    const ok = await paidIntent(stripe, 1_100);
    for (const type of ["payment_intent.created", "payment_intent.succeeded"]) {
      await delivered("platform", type, ok.id);
    }
    await delivered("platform", "charge.succeeded", String(ok.latest_charge));

    const declined = await stripe.paymentIntents.create({
      amount: 1_100,
      currency: "usd",
      allowed_payment_method_types: ["card"],
    });
    await stripe.paymentIntents
      .confirm(declined.id, { payment_method: "pm_card_chargeDeclined" })
      .catch(() => undefined);
    const failed = await delivered("platform", "payment_intent.payment_failed", declined.id);
    expect(JSON.parse(failed.body).data.object.last_payment_error.decline_code).toBe(
      "generic_decline",
    );

    const action = await stripe.paymentIntents.create({
      amount: 1_100,
      currency: "usd",
      allowed_payment_method_types: ["card"],
      payment_method: "pm_card_authenticationRequired",
      confirm: true,
    });
    await delivered("platform", "payment_intent.requires_action", action.id);
    await stripe.paymentIntents.cancel(action.id);
    await delivered("platform", "payment_intent.canceled", action.id);
  });

  it("retries an endpoint that fails, until it answers 2xx", async () => {
    const sink = `retry-${crypto.randomUUID()}`;
    await emulator("POST", `/_emulator/capture/${sink}/config`, {
      fail_first_attempts: 2,
      fail_status: 503,
    });
    const endpoint = await stripe.webhookEndpoints.create({
      url: `${apiBase()}/_emulator/capture/${sink}`,
      enabled_events: ["payment_intent.succeeded"],
    });
    extraEndpoints.push(endpoint.id);
    expect(endpoint.secret).toMatch(/^whsec_/);

    const pi = await paidIntent(stripe, 2_200);
    const ok = await delivered(sink, "payment_intent.succeeded", pi.id);
    const all = await captured(sink, { objectId: pi.id });
    expect(all.map((c) => c.status)).toEqual([503, 503, 200]);
    // Each try is signed afresh with the endpoint's own secret.
    await verify(ok.body, ok.stripe_signature, endpoint.secret);

    const eventId = ok.event_id ?? "";
    const log = await emulator<{ data: DeliveryAttempt[] }>(
      "GET",
      `/_emulator/deliveries?event_id=${eventId}&endpoint_id=${endpoint.id}`,
    );
    expect(log.data.map((a) => [a.attempt, a.status, a.outcome])).toEqual([
      [1, 503, "retrying"],
      [2, 503, "retrying"],
      [3, 200, "delivered"],
    ]);
    // Only the event type it asked for reached it.
    expect((await captured(sink)).every((c) => c.event_type === "payment_intent.succeeded")).toBe(
      true,
    );
  });

  it("retries after a network error (nothing listening) and gives up after the last try", async () => {
    // A port nothing listens on: 1 is privileged and unused on loopback.
    const endpoint = await emulator<{ id: string }>("POST", "/_emulator/webhook_endpoints", {
      url: "http://127.0.0.1:1/webhook",
      enabled_events: ["charge.dispute.created"],
    });
    extraEndpoints.push(endpoint.id);
    const pi = await paidIntent(stripe, 2_300);
    const dispute = await emulator<{ id: string }>(
      "POST",
      `/_emulator/charges/${String(pi.latest_charge)}/dispute`,
    );
    const gaveUp = await eventually(
      async () => {
        const log = await emulator<{ data: DeliveryAttempt[] }>(
          "GET",
          `/_emulator/deliveries?endpoint_id=${endpoint.id}`,
        );
        return log.data.find((a) => a.outcome === "gave_up");
      },
      20_000,
      "the last delivery try",
    );
    expect(gaveUp.status).toBeNull();
    expect(gaveUp.attempt).toBe(6);
    // The platform endpoint got the same event.
    await delivered("platform", "charge.dispute.created", dispute.id);
  });

  it("holds deliveries while paused and sends them on resume; resend delivers again", async () => {
    await emulator("POST", "/_emulator/webhooks/pause");
    let pi: Stripe.PaymentIntent;
    try {
      pi = await paidIntent(stripe, 2_400);
      await new Promise((r) => setTimeout(r, 200));
      expect(await captured("platform", { objectId: pi.id })).toEqual([]);
    } finally {
      await emulator("POST", "/_emulator/webhooks/resume");
    }
    const got = await delivered("platform", "payment_intent.succeeded", pi.id);

    const eventId = got.event_id ?? "";
    await emulator("POST", `/_emulator/events/${eventId}/resend`);
    await eventually(
      async () => {
        const copies = await captured("platform", { eventId });
        return copies.length >= 2 ? copies : undefined;
      },
      undefined,
      "the resent event",
    );
    const copies = await captured("platform", { eventId });
    // The same event (same id) again: receivers must dedupe by event id.
    expect(new Set(copies.map((c) => JSON.parse(c.body).id))).toEqual(new Set([eventId]));
  });

  it("emits any event type on demand, e.g. one a receiver does not handle", async () => {
    const event = await emulator<{ id: string; type: string }>("POST", "/_emulator/events", {
      type: "customer.created",
      object: { id: "cus_test123", object: "customer" },
    });
    const got = await delivered("platform", "customer.created", "cus_test123");
    expect(got.event_id).toBe(event.id);
    const verified = await verify(got.body, got.stripe_signature);
    expect(verified.type).toBe("customer.created");
  });

  it("triggers each supported flow like `stripe trigger`, returning the events it caused", async () => {
    const flows: Record<string, string[]> = {
      "payment_intent.succeeded": ["payment_intent.created", "charge.succeeded"],
      "payment_intent.payment_failed": ["charge.failed"],
      "payment_intent.requires_action": ["payment_intent.created"],
      "payment_intent.canceled": ["payment_intent.created"],
      "charge.refunded": ["payment_intent.succeeded", "refund.created"],
      "charge.dispute.created": ["charge.succeeded"],
      "transfer.created": ["account.updated"],
      "account.updated": [],
    };
    for (const [type, alongside] of Object.entries(flows)) {
      const triggered = await emulator<{ data: Array<{ type: string; id: string }> }>(
        "POST",
        `/_emulator/trigger/${type}`,
      );
      expect(triggered.data.map((e) => e.type)).toEqual(
        expect.arrayContaining([type, ...alongside]),
      );
    }
    await expect(emulator("POST", "/_emulator/trigger/invoice.paid")).rejects.toThrow(/400/);
  });

  it("lists events by type, newest first", async () => {
    const pi = await paidIntent(stripe, 2_500);
    await delivered("platform", "payment_intent.succeeded", pi.id);
    const list = await stripe.events.list({ type: "payment_intent.*", limit: 100 });
    expect(list.data.every((e) => e.type.startsWith("payment_intent."))).toBe(true);
    const ours = list.data.filter((e) => (e.data.object as { id?: string }).id === pi.id);
    expect(ours.map((e) => e.type)).toEqual(["payment_intent.succeeded", "payment_intent.created"]);
  });
});
