import { and, asc, eq, inArray, lt } from "drizzle-orm";
import type Stripe from "stripe";
import type { Actor } from "../../db/audit.ts";
import { checkouts } from "../../db/schema/orders.ts";
import { errorMessage } from "../../lib/errors.ts";
import type { ServiceContext } from "../context.ts";
import { checkoutNotFlagged, loadCheckoutBundle } from "./checkouts.ts";
import { recoverIntentId, settleIntent } from "./payment-intents.ts";
import { cronRun } from "./run.ts";
import { chargeIdOf, checkoutsOwingTransfers, ensureTransfers } from "./transfers.ts";

export interface ReconcileSummary {
  checked: number;
  /** Payments Stripe took that Souk had not applied: the danger zone. */
  applied: number;
  /** Payments whose intent disagrees with the checkout: flagged for an admin, nothing applied. */
  flagged: number;
  transfersCreated: number;
  failed: number;
}

/**
 * `stripe-reconciliation` cron. Asks Stripe about every open checkout older than `graceMs`
 * (webhooks normally arrive in seconds): a PaymentIntent Stripe reports `succeeded` that Souk
 * never applied (a lost or dead-lettered webhook) is applied now through the same path as the
 * webhook, and logged loudly; one whose intent disagrees with the checkout is flagged for an
 * admin, counted as `flagged`, and left out of later runs (as the deadline sweeps leave it).
 * Then paid orders still owed a transfer (the shop had no payouts yet, or Stripe was down) get
 * it. Running it again applies nothing twice.
 */
export async function reconcilePayments(
  ctx: ServiceContext,
  actor: Actor,
  opts: {
    now?: Date;
    graceMs?: number;
    limit?: number;
    /** Only these checkouts (a test keeping to its own data, an admin checking one). */
    checkoutIds?: readonly string[];
  } = {},
): Promise<ReconcileSummary> {
  const now = opts.now ?? new Date();
  const olderThan = new Date(now.getTime() - (opts.graceMs ?? 60_000));
  const open = await ctx.db
    .select({
      id: checkouts.id,
      paymentIntentId: checkouts.paymentIntentId,
      createdAt: checkouts.createdAt,
    })
    .from(checkouts)
    .where(
      and(
        eq(checkouts.status, "open"),
        lt(checkouts.createdAt, olderThan),
        checkoutNotFlagged(checkouts.id),
        opts.checkoutIds ? inArray(checkouts.id, [...opts.checkoutIds]) : undefined,
      ),
    )
    .orderBy(asc(checkouts.createdAt))
    .limit(opts.limit ?? 100);
  const summary: ReconcileSummary = {
    checked: 0,
    applied: 0,
    flagged: 0,
    transfersCreated: 0,
    failed: 0,
  };
  const errors: unknown[] = [];
  for (const c of open) {
    summary.checked += 1;
    try {
      // A checkout that never stored its intent's id is the likeliest to have lost its webhook.
      const piId = c.paymentIntentId ?? (await recoverIntentId(ctx, c));
      if (!piId) continue;
      const pi: Stripe.PaymentIntent = await ctx.stripe.paymentIntents.retrieve(piId);
      if (pi.status !== "succeeded") continue;
      const bundle = await loadCheckoutBundle(ctx.db, c.id);
      if (!bundle) continue;
      const outcome = await settleIntent(ctx, bundle, pi, cronRun(actor));
      // A mismatch is flagged, not applied: counting it as applied told operators money had
      // been taken into the books when nothing was.
      if (outcome.startsWith("flagged")) summary.flagged += 1;
      else if (!outcome.startsWith("noop")) {
        summary.applied += 1;
        ctx.logger.warn("reconciliation applied a payment the webhook never did", {
          checkoutId: c.id,
          paymentIntentId: pi.id,
          outcome,
        });
      }
    } catch (err) {
      summary.failed += 1;
      errors.push(err);
      ctx.logger.error("reconciliation failed for a checkout", {
        checkoutId: c.id,
        error: errorMessage(err),
      });
    }
  }
  for (const owed of await checkoutsOwingTransfers(ctx, opts.limit ?? 100, opts.checkoutIds)) {
    try {
      const pi = await ctx.stripe.paymentIntents.retrieve(owed.paymentIntentId);
      const result = await ensureTransfers(ctx, {
        checkoutId: owed.checkoutId,
        chargeId: chargeIdOf(pi),
        paymentIntentId: pi.id,
        run: cronRun(actor),
      });
      summary.transfersCreated += result.created;
    } catch (err) {
      summary.failed += 1;
      errors.push(err);
      ctx.logger.error("reconciliation could not transfer", {
        checkoutId: owed.checkoutId,
        error: errorMessage(err),
      });
    }
  }
  if (errors.length > 0) {
    throw new AggregateError(errors, `reconciliation: ${errors.length} failure(s)`);
  }
  return summary;
}
