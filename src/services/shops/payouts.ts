import { and, eq, isNull } from "drizzle-orm";
import type Stripe from "stripe";
import { recordAudit, withAudit } from "../../db/audit.ts";
import { type Shop, shops } from "../../db/schema/shops.ts";
import { isPermanentStripeError, stripeErrorCode } from "../../lib/stripe.ts";
import type { ServiceContext } from "../context.ts";
import { Conflict, ServiceUnavailable } from "../errors.ts";
import { sendNotices, userNotice } from "../payments/notices.ts";
import type { PaymentRun } from "../payments/run.ts";
import { requireShopPermission } from "./access.ts";

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

async function accountExists(stripe: Stripe, accountId: string): Promise<boolean> {
  try {
    await stripe.accounts.retrieve(accountId);
    return true;
  } catch (err) {
    if (stripeErrorCode(err) === "resource_missing" || stripeErrorCode(err) === "account_invalid") {
      return false;
    }
    throw stripeFailure("read the payout account", err);
  }
}

/**
 * The shop's Express account. Stripe's idempotency key `shop:<id>:account` makes a retried or
 * concurrent request get the same account; a replacement has its own key.
 */
async function createAccount(
  stripe: Stripe,
  shop: Shop,
  replacing: string | null,
): Promise<string> {
  try {
    const account = await stripe.accounts.create(
      {
        type: "express",
        country: shop.country,
        email: shop.contactEmail,
        business_profile: { name: shop.name },
        capabilities: { card_payments: { requested: true }, transfers: { requested: true } },
        metadata: { shop_id: shop.id },
      },
      {
        idempotencyKey: replacing
          ? `shop:${shop.id}:account:replaces:${replacing}`
          : `shop:${shop.id}:account`,
      },
    );
    return account.id;
  } catch (err) {
    throw stripeFailure("create the payout account", err);
  }
}

/**
 * Stores the account on the shop if it still holds `previous` (audited), and answers whatever
 * the shop holds afterwards: a concurrent request may have stored the same account first.
 */
async function storeAccount(
  ctx: ServiceContext,
  shop: Shop,
  previous: string | null,
  accountId: string,
): Promise<string> {
  return withAudit(ctx.db, ctx.actor, async (tx) => {
    const [stored] = await tx
      .update(shops)
      .set({
        stripeAccountId: accountId,
        ...(previous ? { payoutsEnabled: false } : {}),
        updatedAt: new Date(),
      })
      .where(
        and(
          eq(shops.id, shop.id),
          previous ? eq(shops.stripeAccountId, previous) : isNull(shops.stripeAccountId),
        ),
      )
      .returning({ id: shops.stripeAccountId });
    if (stored) {
      await recordAudit(tx, ctx.actor, {
        action: previous ? "shop.payouts_account_replaced" : "shop.payouts_account_created",
        entityType: "shop",
        entityId: shop.id,
        oldValue: { stripeAccountId: previous, payoutsEnabled: shop.payoutsEnabled },
        newValue: {
          stripeAccountId: accountId,
          payoutsEnabled: previous ? false : shop.payoutsEnabled,
        },
      });
      return accountId;
    }
    const [current] = await tx
      .select({ id: shops.stripeAccountId })
      .from(shops)
      .where(eq(shops.id, shop.id));
    return current?.id ?? accountId;
  });
}

/**
 * Starts (or resumes) a shop's Stripe Connect onboarding, for its owner. The Express account is
 * created once and its id stored on the shop (audited); one Stripe no longer knows is replaced.
 * Each call makes a fresh single-use account link; `account.updated` later turns payouts on.
 */
export async function startPayoutOnboarding(
  ctx: ServiceContext,
  stripe: Stripe,
  userId: string,
  shopId: string,
): Promise<OnboardingLink> {
  const { shop } = await requireShopPermission(ctx.db, shopId, userId, "payouts.manage");
  let accountId = shop.stripeAccountId;
  let payoutsEnabled = shop.payoutsEnabled;
  if (accountId && !(await accountExists(stripe, accountId))) {
    // The stored account is gone on Stripe (deleted, another Stripe account's keys, demo data):
    // nothing can be paid to it, so the shop gets a new one and starts onboarding again.
    ctx.logger.warn("shop's connected account is unknown to Stripe; replacing it", {
      shopId: shop.id,
      stripeAccountId: accountId,
    });
    accountId = await storeAccount(
      ctx,
      shop,
      accountId,
      await createAccount(stripe, shop, accountId),
    );
    payoutsEnabled = false;
  }
  if (!accountId) {
    accountId = await storeAccount(ctx, shop, null, await createAccount(stripe, shop, null));
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
    payoutsEnabled,
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
  ctx: ServiceContext,
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
  const changed = await withAudit(ctx.db, run.actor, async (tx) => {
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
