import { describe, expect, it } from "vitest";
import { api, type Problem } from "../../helpers/http.ts";
import {
  eventPayload,
  eventRow,
  postWebhook,
  processed,
  signPayload,
  webhookSecret,
} from "../../helpers/stripe.ts";

const TOLERANCE = 300;
const now = () => Math.floor(Date.now() / 1000);

/** A made-up event nobody handles: the consumer records it as ignored, touching nothing else. */
const unknownEvent = () =>
  eventPayload({
    type: "customer.created",
    object: { id: `cus_${crypto.randomUUID()}`, object: "customer" },
  });

describe("POST /v1/webhooks/stripe: signature, timestamps, queue", () => {
  it("accepts a signed event of a type Souk does not handle and records it as ignored", async () => {
    const { id, payload } = unknownEvent();
    const res = await postWebhook(payload);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ received: true, id });
    const row = await processed(id);
    expect(row).toMatchObject({ type: "customer.created", outcome: "ignored:unhandled_type" });
  });

  it("refuses a missing, forged, stale or future-dated signature with 400, and enqueues none of them", async () => {
    const missing = unknownEvent();
    const forged = unknownEvent();
    const wrongSecret = unknownEvent();
    const tampered = unknownEvent();
    const stale = unknownEvent();
    const future = unknownEvent();

    const attempts = [
      { e: missing, res: await postWebhook(missing.payload, { signature: null }) },
      {
        e: forged,
        res: await postWebhook(forged.payload, { signature: `t=${now()},v1=${"0".repeat(64)}` }),
      },
      {
        e: wrongSecret,
        res: await postWebhook(wrongSecret.payload, {
          signature: await signPayload(wrongSecret.payload, "whsec_not_the_endpoint_secret"),
        }),
      },
      {
        e: tampered,
        // Signed, then one byte of the body changed in transit.
        res: await postWebhook(tampered.payload.replace('"livemode": false', '"livemode": true '), {
          signature: await signPayload(tampered.payload, webhookSecret("platform")),
        }),
      },
      { e: stale, res: await postWebhook(stale.payload, { timestamp: now() - TOLERANCE - 60 }) },
      { e: future, res: await postWebhook(future.payload, { timestamp: now() + TOLERANCE + 60 }) },
    ];
    for (const { res } of attempts) {
      expect(res.status).toBe(400);
      expect((res.body as Problem).code).toBe("SIGNATURE_INVALID");
    }
    const details = attempts.map(({ res }) => (res.body as Problem).detail);
    expect(details[0]).toMatch(/missing Stripe-Signature/);
    expect(details[4]).toMatch(/tolerance/i);
    expect(details[5]).toMatch(/future/);

    // A good event sent after the refused ones goes through the same queue and consumer: once
    // it is recorded, anything enqueued before it would have been recorded too.
    const control = unknownEvent();
    expect((await postWebhook(control.payload)).status).toBe(200);
    await processed(control.id);
    for (const { e } of attempts) expect(await eventRow(e.id)).toBeUndefined();
  });

  it("allows clock skew inside the tolerance in both directions", async () => {
    const early = unknownEvent();
    const late = unknownEvent();
    expect((await postWebhook(early.payload, { timestamp: now() + TOLERANCE - 30 })).status).toBe(
      200,
    );
    expect((await postWebhook(late.payload, { timestamp: now() - TOLERANCE + 30 })).status).toBe(
      200,
    );
    await processed(early.id);
    await processed(late.id);
  });

  it("refuses a header naming two timestamps, so a far-future one cannot slip past the guard", async () => {
    const e = unknownEvent();
    // Signed for a time far in the future; a stale `t=` put first must not be the one checked.
    const signed = await signPayload(e.payload, webhookSecret("platform"), now() + 86_400);
    const res = await postWebhook(e.payload, { signature: `t=${now()},${signed}` });
    expect(res.status).toBe(400);
    expect((res.body as Problem).detail).toMatch(/exactly one timestamp/);
    const control = unknownEvent();
    expect((await postWebhook(control.payload)).status).toBe(200);
    await processed(control.id);
    expect(await eventRow(e.id)).toBeUndefined();
  });

  it("verifies the Connect endpoint with its own secret, not the platform's", async () => {
    const viaPlatformSecret = eventPayload({
      type: "account.updated",
      account: "acct_unknown_to_souk",
      object: { id: "acct_unknown_to_souk", object: "account" },
    });
    const refused = await postWebhook(viaPlatformSecret.payload, {
      endpoint: "connect",
      signature: await signPayload(viaPlatformSecret.payload, webhookSecret("platform")),
    });
    expect(refused.status).toBe(400);

    const good = eventPayload({
      type: "account.updated",
      account: "acct_unknown_to_souk",
      object: { id: "acct_unknown_to_souk", object: "account" },
    });
    expect((await postWebhook(good.payload, { endpoint: "connect" })).status).toBe(200);
    // Stripe does not know the account: recorded, nothing changed.
    expect((await processed(good.id)).outcome).toBe("ignored:account_not_found");
    expect(await eventRow(viaPlatformSecret.id)).toBeUndefined();

    // And the platform endpoint refuses a Connect-signed body.
    const crossed = unknownEvent();
    const res = await postWebhook(crossed.payload, {
      signature: await signPayload(crossed.payload, webhookSecret("connect")),
    });
    expect(res.status).toBe(400);
  });

  it("refuses a signed body that is not a Stripe event", async () => {
    const payload = JSON.stringify({ hello: "world" });
    const res = await postWebhook(payload);
    expect(res.status).toBe(400);
  });
});

describe("the payments surface in /openapi.json", () => {
  it("documents both webhook endpoints (signed, not schema-validated) and payout onboarding", async () => {
    const res = await api<{ paths: Record<string, Record<string, { responses: object }>> }>(
      "GET",
      "/openapi.json",
    );
    expect(res.status).toBe(200);
    const { paths } = res.body;
    for (const path of ["/v1/webhooks/stripe", "/v1/webhooks/stripe/connect"]) {
      expect(Object.keys(paths[path]?.post?.responses ?? {}).sort()).toEqual(["200", "400", "503"]);
    }
    expect(paths["/v1/shops/{id}/payouts/onboard"]?.post).toBeDefined();
    expect(paths["/v1/shops/{id}/payouts/onboarding/return"]?.get).toBeDefined();
  });
});
