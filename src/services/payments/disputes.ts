import type Stripe from "stripe";
import { withAudit } from "../../db/audit.ts";
import type { ServiceContext } from "../context.ts";
import { findCheckoutForIntent, lockCheckout } from "./checkouts.ts";
import { raiseIssue } from "./issues.ts";
import { adminIssueNotices, money, sendNotices } from "./notices.ts";
import type { PaymentRun } from "./run.ts";

/**
 * `charge.dispute.created`: the buyer's bank is pulling the money back. The dispute is read from
 * Stripe, recorded as one `dispute` issue, the checkout's orders are flagged (an admin decides
 * whether the seller keeps fulfilling) and admins are told. No money moves here.
 */
export async function applyDisputeCreated(
  ctx: ServiceContext,
  disputeId: string,
  run: PaymentRun,
): Promise<string> {
  const dispute: Stripe.Dispute = await ctx.stripe.disputes.retrieve(disputeId);
  const piId =
    typeof dispute.payment_intent === "string"
      ? dispute.payment_intent
      : dispute.payment_intent?.id;
  if (!piId) return "ignored:dispute_without_payment_intent";
  const bundle = await findCheckoutForIntent(ctx.db, { id: piId });
  if (!bundle) return "ignored:not_a_souk_payment";
  const outcome = "flagged:dispute";
  const issue = await withAudit(ctx.db, run.actor, async (tx) => {
    await lockCheckout(tx, bundle.checkout.id);
    const raised = await raiseIssue(tx, run.actor, {
      kind: "dispute",
      checkoutId: bundle.checkout.id,
      paymentIntentId: piId,
      stripeEventId: run.eventId,
      detail: {
        disputeId: dispute.id,
        chargeId: typeof dispute.charge === "string" ? dispute.charge : dispute.charge.id,
        amountMinor: dispute.amount,
        currency: dispute.currency,
        reason: dispute.reason,
        status: dispute.status,
      },
      flag: { orderIds: bundle.orders.map((o) => o.id), reason: `dispute (${dispute.reason})` },
    });
    await run.finish(tx, outcome);
    return raised;
  });
  if (issue.created) {
    ctx.logger.warn("payment disputed", { disputeId: dispute.id, paymentIntentId: piId });
    await sendNotices(
      ctx,
      await adminIssueNotices(ctx.db, {
        id: issue.id,
        kind: "dispute",
        summary: `The buyer disputed ${money(dispute.amount, dispute.currency)} on checkout ${bundle.checkout.id} (${dispute.reason}). Its orders are flagged; respond on Stripe before the evidence deadline.`,
        data: { checkoutId: bundle.checkout.id, disputeId: dispute.id, paymentIntentId: piId },
      }),
    );
  }
  return outcome;
}
