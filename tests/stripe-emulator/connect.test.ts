import Stripe from "stripe";
import { describe, expect, it } from "vitest";
import {
  apiBase,
  captured,
  delivered,
  emulator,
  onboardedAccount,
  paidIntent,
  stripeBinding,
  stripeClient,
  subtleCrypto,
} from "../helpers/stripe-emulator.ts";

const stripe = stripeClient();

describe("Stripe emulator: Connect accounts and onboarding", () => {
  it("creates an Express account that cannot take charges or payouts yet", async () => {
    const account = await stripe.accounts.create({
      type: "express",
      country: "FR",
      email: "seller@shop.example",
      capabilities: { transfers: { requested: true }, card_payments: { requested: true } },
      metadata: { shop_id: "shop_1" },
    });
    expect(account).toMatchObject({
      object: "account",
      type: "express",
      country: "FR",
      default_currency: "eur",
      email: "seller@shop.example",
      charges_enabled: false,
      payouts_enabled: false,
      details_submitted: false,
      capabilities: { transfers: "inactive", card_payments: "inactive" },
      metadata: { shop_id: "shop_1" },
    });
    expect(account.id).toMatch(/^acct_/);
    expect(account.requirements?.currently_due?.length).toBeGreaterThan(0);
    expect((await stripe.accounts.retrieve(account.id)).id).toBe(account.id);
  });

  it("onboards through an account link: the link completes onboarding once, then sends to refresh_url", async () => {
    const account = await stripe.accounts.create({
      type: "express",
      country: "US",
      capabilities: { transfers: { requested: true } },
    });
    const link = await stripe.accountLinks.create({
      account: account.id,
      type: "account_onboarding",
      refresh_url: "https://souk.example/onboard/refresh",
      return_url: "https://souk.example/onboard/done",
    });
    expect(link.object).toBe("account_link");
    expect(link.url.startsWith(`${apiBase()}/connect/onboard/${account.id}`)).toBe(true);
    expect(link.expires_at).toBeGreaterThan(link.created);

    // The seller's browser follows the link and fills in Stripe's form.
    const visit = await fetch(link.url, { redirect: "manual" });
    expect(visit.status).toBe(302);
    expect(visit.headers.get("location")).toBe("https://souk.example/onboard/done");
    const onboarded = await stripe.accounts.retrieve(account.id);
    expect(onboarded).toMatchObject({
      details_submitted: true,
      charges_enabled: true,
      payouts_enabled: true,
      capabilities: { transfers: "active" },
    });
    expect(onboarded.requirements?.currently_due).toEqual([]);

    const again = await fetch(link.url, { redirect: "manual" });
    expect(again.headers.get("location")).toBe("https://souk.example/onboard/refresh");
  });

  it("delivers account.updated, with account set, to the Connect endpoint only, signed with its secret", async () => {
    const account = await stripe.accounts.create({
      type: "express",
      country: "US",
      capabilities: { transfers: { requested: true } },
    });
    const link = await stripe.accountLinks.create({
      account: account.id,
      type: "account_onboarding",
      refresh_url: "https://souk.example/r",
      return_url: "https://souk.example/d",
    });
    await fetch(link.url, { redirect: "manual" });

    const got = await delivered("connect", "account.updated", account.id);
    expect(got.content_type).toMatch(/^application\/json/);
    const event = (await stripe.webhooks.constructEventAsync(
      got.body,
      got.stripe_signature ?? "",
      stripeBinding("STRIPE_CONNECT_WEBHOOK_SECRET"),
      undefined,
      subtleCrypto,
    )) as Stripe.AccountUpdatedEvent;
    expect(event.type).toBe("account.updated");
    expect(event.account).toBe(account.id);
    expect(event.data.object.payouts_enabled).toBe(true);
    expect(event.data.previous_attributes).toMatchObject({
      payouts_enabled: false,
      charges_enabled: false,
      details_submitted: false,
    });
    // The platform secret does not verify a Connect delivery.
    await expect(
      stripe.webhooks.constructEventAsync(
        got.body,
        got.stripe_signature ?? "",
        stripeBinding("STRIPE_WEBHOOK_SECRET"),
        undefined,
        subtleCrypto,
      ),
    ).rejects.toBeInstanceOf(Stripe.errors.StripeSignatureVerificationError);
    expect(await captured("platform", { objectId: account.id })).toEqual([]);

    // The event is also readable from the API in the account's scope, not the platform's.
    const fromApi = await stripe.events.retrieve(event.id, {}, { stripeAccount: account.id });
    expect(fromApi.account).toBe(account.id);
    await expect(stripe.events.retrieve(event.id)).rejects.toMatchObject({ statusCode: 404 });
  });

  it("turns payouts off when Stripe disables the account, with account.updated", async () => {
    const account = await onboardedAccount(stripe);
    await emulator("POST", `/_emulator/accounts/${account.id}/disable`);
    const disabled = await stripe.accounts.retrieve(account.id);
    expect(disabled).toMatchObject({ payouts_enabled: false, charges_enabled: false });
    await expect
      .poll(async () =>
        (await captured("connect", { type: "account.updated", objectId: account.id })).some(
          (c) =>
            (JSON.parse(c.body) as Stripe.AccountUpdatedEvent).data.object.payouts_enabled ===
            false,
        ),
      )
      .toBe(true);
  });

  it("updates metadata on an account and reads it back through Stripe-Account", async () => {
    const account = await onboardedAccount(stripe);
    const updated = await stripe.accounts.update(account.id, { metadata: { shop_id: "s_9" } });
    expect(updated.metadata).toEqual({ shop_id: "s_9" });
    const self = await stripe.accounts.retrieve(null, {}, { stripeAccount: account.id });
    expect(self.id).toBe(account.id);
  });
});

describe("Stripe emulator: transfers (separate charges and transfers)", () => {
  it("refuses a transfer to an account that has not finished onboarding", async () => {
    const account = await stripe.accounts.create({
      type: "express",
      country: "US",
      capabilities: { transfers: { requested: true } },
    });
    await expect(
      stripe.transfers.create({ amount: 1_000, currency: "usd", destination: account.id }),
    ).rejects.toMatchObject({ statusCode: 400, code: "insufficient_capabilities_for_transfer" });
    await expect(
      stripe.transfers.create({ amount: 1_000, currency: "usd", destination: "acct_nope" }),
    ).rejects.toMatchObject({ statusCode: 400, param: "destination" });
  });

  it("transfers each shop's share from the charge, then reverses part of it", async () => {
    const shopA = await onboardedAccount(stripe);
    const shopB = await onboardedAccount(stripe);
    const group = `checkout_${crypto.randomUUID()}`;
    const pi = await paidIntent(stripe, 10_000, { transfer_group: group });
    const charge = String(pi.latest_charge);

    const toA = await stripe.transfers.create({
      amount: 5_880,
      currency: "usd",
      destination: shopA.id,
      transfer_group: group,
      source_transaction: charge,
      metadata: { order_id: "ord_a" },
    });
    const toB = await stripe.transfers.create({
      amount: 3_920,
      currency: "usd",
      destination: shopB.id,
      transfer_group: group,
      source_transaction: charge,
    });
    expect(toA).toMatchObject({
      object: "transfer",
      amount: 5_880,
      amount_reversed: 0,
      reversed: false,
      destination: shopA.id,
      source_transaction: charge,
      transfer_group: group,
      metadata: { order_id: "ord_a" },
    });
    expect(toA.id).toMatch(/^tr_/);
    expect(toA.destination_payment).toMatch(/^py_/);

    // More than the charge has left is refused.
    await expect(
      stripe.transfers.create({
        amount: 201,
        currency: "usd",
        destination: shopB.id,
        source_transaction: charge,
      }),
    ).rejects.toMatchObject({ code: "amount_too_large" });

    const listed = await stripe.transfers.list({ transfer_group: group });
    expect(listed.data.map((t) => t.id)).toEqual([toB.id, toA.id]);

    const reversal = await stripe.transfers.createReversal(toA.id, { amount: 1_000 });
    expect(reversal).toMatchObject({
      object: "transfer_reversal",
      amount: 1_000,
      transfer: toA.id,
    });
    expect(reversal.id).toMatch(/^trr_/);
    let after = await stripe.transfers.retrieve(toA.id);
    expect(after).toMatchObject({ amount_reversed: 1_000, reversed: false });
    expect(after.reversals.data.map((r) => r.id)).toEqual([reversal.id]);

    await stripe.transfers.createReversal(toA.id);
    after = await stripe.transfers.retrieve(toA.id);
    expect(after).toMatchObject({ amount_reversed: 5_880, reversed: true });
    await expect(stripe.transfers.createReversal(toA.id, { amount: 1 })).rejects.toMatchObject({
      statusCode: 400,
    });

    const created = await delivered("platform", "transfer.created", toB.id);
    expect(JSON.parse(created.body)).toMatchObject({ type: "transfer.created" });
    expect(JSON.parse(created.body).account).toBeUndefined();
  });

  it("reverses a destination charge's transfer proportionally with reverse_transfer", async () => {
    const shop = await onboardedAccount(stripe);
    const pi = await paidIntent(stripe, 10_000, {
      transfer_data: { destination: shop.id },
      application_fee_amount: 200,
    });
    const charge = await stripe.charges.retrieve(String(pi.latest_charge));
    const transferId = String(charge.transfer);
    expect((await stripe.transfers.retrieve(transferId)).amount).toBe(9_800);
    const refund = await stripe.refunds.create({
      payment_intent: pi.id,
      amount: 5_000,
      reverse_transfer: true,
    });
    expect(refund.transfer_reversal).toMatch(/^trr_/);
    expect((await stripe.transfers.retrieve(transferId)).amount_reversed).toBe(4_900);

    // With separate charges and transfers there is no transfer on the charge to reverse.
    const plain = await paidIntent(stripe, 2_000);
    await expect(
      stripe.refunds.create({ payment_intent: plain.id, reverse_transfer: true }),
    ).rejects.toMatchObject({ param: "reverse_transfer" });
  });
});
