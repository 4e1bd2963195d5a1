import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { auditLog, shops } from "../../../src/db/schema/index.ts";
import { withDb } from "../../helpers/db.ts";
import { eventually } from "../../helpers/eventually.ts";
import { api, type Problem } from "../../helpers/http.ts";
import { seedMember, seedShop } from "../../helpers/shops.ts";
import { emulator, postWebhook, processed, stripeClient } from "../../helpers/stripe.ts";
import { registerUser } from "../../helpers/users.ts";

const stripe = stripeClient();

interface Link {
  accountId: string;
  onboardingUrl: string;
  expiresAt: string;
  payoutsEnabled: boolean;
}

async function shopRow(id: string) {
  return withDb(async (db) => (await db.select().from(shops).where(eq(shops.id, id)))[0]);
}

/** A shop that has never onboarded: no connected account, payouts off. */
async function newShop() {
  return seedShop({ payoutsEnabled: false });
}

/** Forwards the newest account.updated the emulator delivered for an account (Connect endpoint). */
async function forwardAccountUpdated(accountId: string, after: Set<string>) {
  const { captured } = await import("../../helpers/stripe-emulator.ts");
  const got = await eventually(
    async () => {
      const list = await captured("connect", { type: "account.updated", objectId: accountId });
      return list.find((c) => c.status < 300 && c.event_id && !after.has(c.event_id));
    },
    undefined,
    `account.updated for ${accountId}`,
  );
  if (!got.event_id || !got.stripe_signature) throw new Error("capture");
  after.add(got.event_id);
  const res = await postWebhook(got.body, { endpoint: "connect", signature: got.stripe_signature });
  expect(res.status).toBe(200);
  return { eventId: got.event_id, body: got.body, signature: got.stripe_signature };
}

describe("POST /v1/shops/{id}/payouts/onboard", () => {
  it("creates the shop's Express account once and answers a fresh onboarding link each time", async () => {
    const shop = await newShop();
    const first = await api<Link>("POST", `/v1/shops/${shop.id}/payouts/onboard`, {
      token: shop.owner.accessToken,
    });
    expect(first.status).toBe(200);
    expect(first.body.accountId).toMatch(/^acct_/);
    expect(first.body.payoutsEnabled).toBe(false);
    expect(Date.parse(first.body.expiresAt)).toBeGreaterThan(Date.now());
    expect(new URL(first.body.onboardingUrl).pathname).toBe(
      `/connect/onboard/${first.body.accountId}`,
    );

    const stored = await shopRow(shop.id);
    expect(stored?.stripeAccountId).toBe(first.body.accountId);
    const account = await stripe.accounts.retrieve(first.body.accountId);
    expect(account).toMatchObject({
      type: "express",
      country: "PT",
      email: stored?.contactEmail,
      metadata: { shop_id: shop.id },
      payouts_enabled: false,
    });
    expect(Object.keys(account.capabilities ?? {}).sort()).toEqual(["card_payments", "transfers"]);

    // Again, and twice at once: the same account, new links, one audit row for the account.
    const again = await Promise.all([
      api<Link>("POST", `/v1/shops/${shop.id}/payouts/onboard`, { token: shop.owner.accessToken }),
      api<Link>("POST", `/v1/shops/${shop.id}/payouts/onboard`, { token: shop.owner.accessToken }),
    ]);
    for (const r of again) {
      expect(r.status).toBe(200);
      expect(r.body.accountId).toBe(first.body.accountId);
      expect(r.body.onboardingUrl).not.toBe(first.body.onboardingUrl);
    }
    const audits = await withDb((db) =>
      db
        .select()
        .from(auditLog)
        .where(
          and(eq(auditLog.entityId, shop.id), eq(auditLog.action, "shop.payouts_account_created")),
        ),
    );
    expect(audits).toHaveLength(1);
  });

  it("replaces an account Stripe does not know (demo data, other keys): payouts off until onboarded", async () => {
    // seedShop's default: payouts on, with an account id that exists nowhere.
    const shop = await seedShop();
    const before = await shopRow(shop.id);
    expect(before).toMatchObject({ payoutsEnabled: true });
    const res = await api<Link>("POST", `/v1/shops/${shop.id}/payouts/onboard`, {
      token: shop.owner.accessToken,
    });
    expect(res.status).toBe(200);
    expect(res.body.accountId).not.toBe(before?.stripeAccountId);
    expect(res.body.payoutsEnabled).toBe(false);
    expect(await shopRow(shop.id)).toMatchObject({
      stripeAccountId: res.body.accountId,
      payoutsEnabled: false,
    });
    expect((await stripe.accounts.retrieve(res.body.accountId)).metadata).toEqual({
      shop_id: shop.id,
    });
    const audits = await withDb((db) =>
      db
        .select()
        .from(auditLog)
        .where(
          and(eq(auditLog.entityId, shop.id), eq(auditLog.action, "shop.payouts_account_replaced")),
        ),
    );
    expect(audits).toHaveLength(1);
    // Once replaced, it stays: the next call finds it.
    const again = await api<Link>("POST", `/v1/shops/${shop.id}/payouts/onboard`, {
      token: shop.owner.accessToken,
    });
    expect(again.body.accountId).toBe(res.body.accountId);
  });

  it("is the owner's alone: managers 403, strangers 404, anonymous 401", async () => {
    const shop = await newShop();
    const manager = await registerUser("seller");
    await seedMember(shop.id, manager, "manager");
    const stranger = await registerUser("seller");
    const asManager = await api<Problem>("POST", `/v1/shops/${shop.id}/payouts/onboard`, {
      token: manager.accessToken,
    });
    expect(asManager.status).toBe(403);
    const asStranger = await api<Problem>("POST", `/v1/shops/${shop.id}/payouts/onboard`, {
      token: stranger.accessToken,
    });
    expect(asStranger.status).toBe(404);
    expect((await api("POST", `/v1/shops/${shop.id}/payouts/onboard`)).status).toBe(401);
    expect((await shopRow(shop.id))?.stripeAccountId).toBeNull();
  });

  it("completing onboarding on Stripe sends account.updated, which turns payouts on; disabling turns them off; a stale event changes nothing", async () => {
    const shop = await newShop();
    const link = await api<Link>("POST", `/v1/shops/${shop.id}/payouts/onboard`, {
      token: shop.owner.accessToken,
    });
    // The seller's browser opens the link and finishes Stripe's form; Stripe redirects back.
    const visit = await fetch(link.body.onboardingUrl, { redirect: "manual" });
    expect(visit.status).toBe(302);
    expect(visit.headers.get("location")).toBe(
      `http://localhost:8787/v1/shops/${shop.id}/payouts/onboarding/return`,
    );
    const back = await api<{ message: string }>(
      "GET",
      `/v1/shops/${shop.id}/payouts/onboarding/return`,
    );
    expect(back.status).toBe(200);

    const seen = new Set<string>();
    const enabled = await forwardAccountUpdated(link.body.accountId, seen);
    expect((await processed(enabled.eventId)).outcome).toBe("payouts_enabled");
    expect((await shopRow(shop.id))?.payoutsEnabled).toBe(true);

    await emulator("POST", `/_emulator/accounts/${link.body.accountId}/disable`, {
      reason: "requirements.past_due",
    });
    const disabled = await forwardAccountUpdated(link.body.accountId, seen);
    expect((await processed(disabled.eventId)).outcome).toBe("payouts_disabled");
    expect((await shopRow(shop.id))?.payoutsEnabled).toBe(false);

    // The enabling event arrives again, late, as a new event id (the account re-read says off).
    const stale = await emulator<{ id: string }>("POST", "/_emulator/events", {
      type: "account.updated",
      account: link.body.accountId,
      object: JSON.parse(enabled.body).data.object,
    });
    const { captured } = await import("../../helpers/stripe-emulator.ts");
    const staleDelivery = await eventually(
      async () => (await captured("connect", { eventId: stale.id })).find((c) => c.status < 300),
      undefined,
      "the stale event",
    );
    await postWebhook(staleDelivery.body, {
      endpoint: "connect",
      signature: staleDelivery.stripe_signature,
    });
    expect((await processed(stale.id)).outcome).toBe("noop:payouts_disabled");
    expect((await shopRow(shop.id))?.payoutsEnabled).toBe(false);

    const audits = await withDb((db) =>
      db
        .select({ action: auditLog.action })
        .from(auditLog)
        .where(eq(auditLog.entityId, shop.id))
        .orderBy(auditLog.id),
    );
    expect(audits.map((a) => a.action).filter((a) => a.startsWith("shop.payouts"))).toEqual([
      "shop.payouts_account_created",
      "shop.payouts_enabled",
      "shop.payouts_disabled",
    ]);
  });
});
