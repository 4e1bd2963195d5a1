import { and, eq, isNull } from "drizzle-orm";
import type Stripe from "stripe";
import { recordAudit } from "../../db/audit.ts";
import { shops } from "../../db/schema/shops.ts";
import type { ServiceContext } from "../context.ts";
import { Conflict, ServiceUnavailable } from "../errors.ts";
import { requireShopPermission } from "../shops/access.ts";
import { isPermanentStripeError, type PaymentsContext, stripeErrorCode } from "./context.ts";
import { sendNotices, userNotice } from "./notices.ts";
import type { PaymentRun } from "./run.ts";

export interface OnboardingLink {
  accountId: string;
  onboardingUrl: string;
  expiresAt: string;
  payoutsEnabled: boolean;
}

function stripeFailure(what: string, err: unknown): Error {
  if (isPermanentStripeError(err)) return new Conflict(`Stripe refused to ${what}: ${err.message}`);
  return new ServiceUnavailable(`Stripe is unavailable; could not ${what}. Try again shortly.`);
}

/** Where Stripe sends the seller back to (and where an expired link leads). */
export function onboardingUrls(publicUrl: string, shopId: string) {
  const base = `${publicUrl.replace(/\/+$/, "")}/v1/shops/${shopId}/payouts/onboarding`;
  return { returnUrl: `${base}/return`, refreshUrl: `${base}/refresh` };
}

/**
 * Starts (or resumes) a shop's Stripe Connect onboarding, for its owner. The Express account is
 * created once: Stripe's idempotency key `shop:<id>:account` makes a retried or concurrent
 * request get the same account, and its id is stored on the shop (audited) the first time. Each
 * call makes a fresh single-use account link; `account.updated` later turns payouts on.
 */
export async function startPayoutOnboarding(
  ctx: ServiceContext,
  stripe: Stripe,
  userId: string,
  shopId: string,
): Promise<OnboardingLink> {
  const { shop } = await requireShopPermission(ctx.db, shopId, userId, "payouts.manage");
  let accountId = shop.stripeAccountId;
  if (!accountId) {
    let account: Stripe.Account;
    try {
      account = await stripe.accounts.create(
        {
          type: "express",
          country: shop.country,
          email: shop.contactEmail,
          business_profile: { name: shop.name },
          capabilities: { card_payments: { requested: true }, transfers: { requested: true } },
          metadata: { shop_id: shop.id },
        },
        { idempotencyKey: `shop:${shop.id}:account` },
      );
    } catch (err) {
      throw stripeFailure("create the payout account", err);
    }
    accountId = await ctx.db.transaction(async (tx) => {
      const [stored] = await tx
        .update(shops)
        .set({ stripeAccountId: account.id, updatedAt: new Date() })
        .where(and(eq(shops.id, shop.id), isNull(shops.stripeAccountId)))
        .returning({ id: shops.stripeAccountId });
      if (stored) {
        await recordAudit(tx, ctx.actor, {
          action: "shop.payouts_account_created",
          entityType: "shop",
          entityId: shop.id,
          oldValue: { stripeAccountId: null },
          newValue: { stripeAccountId: account.id },
        });
        return account.id;
      }
      // A concurrent request stored it first (the same account, by the idempotency key).
      const [current] = await tx
        .select({ id: shops.stripeAccountId })
        .from(shops)
        .where(eq(shops.id, shop.id));
      return current?.id ?? account.id;
    });
  }
  const urls = onboardingUrls(ctx.config.PUBLIC_URL, shop.id);
  let link: Stripe.AccountLink;
  try {
    link = await stripe.accountLinks.create({
      account: accountId,
      type: "account_onboarding",
      refresh_url: urls.refreshUrl,
      return_url: urls.returnUrl,
    });
  } catch (err) {
    throw stripeFailure("create the onboarding link", err);
  }
  return {
    accountId,
    onboardingUrl: link.url,
    expiresAt: new Date(link.expires_at * 1000).toISOString(),
    payoutsEnabled: shop.payoutsEnabled,
  };
}

/**
 * A shop can be paid when Stripe says its account takes charges, pays out, and (if reported)
 * has the `transfers` capability active, which is what our transfers to it need.
 */
export function canReceivePayouts(account: Stripe.Account): boolean {
  const transfers = account.capabilities?.transfers;
  return (
    account.payouts_enabled === true &&
    account.charges_enabled === true &&
    (transfers === undefined || transfers === "active")
  );
}

/**
 * `account.updated` (Connect endpoint): re-reads the account from Stripe (an old event arriving
 * late must not undo a newer state) and sets the shop's `payouts_enabled` to match, with an
 * audit row, telling the owner when it changes.
 */
export async function applyAccountUpdated(
  ctx: PaymentsContext,
  accountId: string,
  run: PaymentRun,
): Promise<string> {
  let account: Stripe.Account;
  try {
    account = await ctx.stripe.accounts.retrieve(accountId);
  } catch (err) {
    if (stripeErrorCode(err) === "resource_missing") return "ignored:account_not_found";
    throw err;
  }
  const enabled = canReceivePayouts(account);
  const changed = await ctx.db.transaction(async (tx) => {
    const [shop] = await tx
      .select()
      .from(shops)
      .where(and(eq(shops.stripeAccountId, accountId), isNull(shops.deletedAt)))
      .for("update");
    if (!shop) {
      await run.finish(tx, "ignored:unknown_account");
      return null;
    }
    if (shop.payoutsEnabled === enabled) {
      await run.finish(tx, enabled ? "noop:payouts_enabled" : "noop:payouts_disabled");
      return null;
    }
    await tx
      .update(shops)
      .set({ payoutsEnabled: enabled, updatedAt: new Date() })
      .where(eq(shops.id, shop.id));
    await recordAudit(tx, run.actor, {
      action: enabled ? "shop.payouts_enabled" : "shop.payouts_disabled",
      entityType: "shop",
      entityId: shop.id,
      oldValue: { payoutsEnabled: shop.payoutsEnabled },
      newValue: {
        payoutsEnabled: enabled,
        stripeAccountId: accountId,
        chargesEnabled: account.charges_enabled,
        stripePayoutsEnabled: account.payouts_enabled,
        disabledReason: account.requirements?.disabled_reason ?? null,
      },
    });
    await run.finish(tx, enabled ? "payouts_enabled" : "payouts_disabled");
    return shop;
  });
  if (!changed) return enabled ? "noop:payouts_enabled" : "noop:payouts_disabled";
  await sendNotices(ctx, [
    await userNotice(ctx.db, {
      userId: changed.ownerId,
      kind: enabled ? "shop.payouts_enabled" : "shop.payouts_disabled",
      title: enabled ? "Payouts are on" : "Payouts are paused",
      body: enabled
        ? `Stripe confirmed ${changed.name}'s account: paid orders now transfer to it.`
        : `Stripe paused payouts for ${changed.name} (${account.requirements?.disabled_reason ?? "more information needed"}). Finish onboarding to resume.`,
      dedupeKey: `payouts:${changed.id}:${enabled ? "on" : "off"}:${run.eventId ?? accountId}`,
      data: { shopId: changed.id, stripeAccountId: accountId },
    }),
  ]);
  return enabled ? "payouts_enabled" : "payouts_disabled";
}
