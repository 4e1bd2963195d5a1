import { eq } from "drizzle-orm";
import { stripeEvents } from "../../db/schema/orders.ts";
import type { ServiceContext } from "../context.ts";
import { applyAccountUpdated } from "../shops/payouts.ts";
import { recordCheckoutIntent } from "./checkouts.ts";
import { applyDisputeCreated } from "./disputes.ts";
import { applyPaymentIntentEvent } from "./payment-intents.ts";
import { applyChargeRefunded } from "./refund-events.ts";
import { eventRun, markEventProcessed, type PaymentRun } from "./run.ts";
import type { StripeEventMessage } from "./webhook.ts";

async function dispatch(
  ctx: ServiceContext,
  event: StripeEventMessage,
  run: PaymentRun,
): Promise<string> {
  const objectId = typeof event.data.object.id === "string" ? event.data.object.id : null;
  if (!objectId) return "ignored:no_object_id";
  switch (event.type) {
    case "payment_intent.created": {
      const metadata = event.data.object.metadata;
      return recordCheckoutIntent(ctx.db, {
        id: objectId,
        metadata:
          metadata && typeof metadata === "object" ? (metadata as Record<string, unknown>) : null,
      });
    }
    case "payment_intent.succeeded":
    case "payment_intent.payment_failed":
    case "payment_intent.canceled":
      return applyPaymentIntentEvent(ctx, objectId, run);
    case "charge.refunded":
      return applyChargeRefunded(ctx, objectId, run);
    case "charge.dispute.created":
      return applyDisputeCreated(ctx, objectId, run);
    case "account.updated":
      // Connect events name the connected account; the object is that account too.
      return applyAccountUpdated(ctx, event.account ?? objectId, run);
    default:
      return "ignored:unhandled_type";
  }
}

export interface ApplyResult {
  outcome: string;
  /** True when the event had already been applied: nothing was done now. */
  duplicate: boolean;
}

/**
 * The `stripe-events` consumer's one entry point. The event id is recorded once
 * (`INSERT … ON CONFLICT DO NOTHING`); an event already processed is acknowledged and ignored.
 * Otherwise it is applied (each handler re-reads Stripe and is idempotent on its own) and marked
 * processed with its outcome, inside the handler's last transaction where it has one. Anything
 * that throws leaves the event unmarked, so the queue's retry applies it again safely.
 */
export async function applyStripeEvent(
  ctx: ServiceContext,
  event: StripeEventMessage,
): Promise<ApplyResult> {
  await ctx.db
    .insert(stripeEvents)
    .values({
      id: event.id,
      type: event.type,
      account: event.account,
      createdAt: new Date(event.created * 1000),
    })
    .onConflictDoNothing({ target: stripeEvents.id });
  const [row] = await ctx.db
    .select({ processedAt: stripeEvents.processedAt, outcome: stripeEvents.outcome })
    .from(stripeEvents)
    .where(eq(stripeEvents.id, event.id));
  if (row?.processedAt) {
    ctx.logger.info("stripe event already applied", { eventId: event.id, outcome: row.outcome });
    return { outcome: row.outcome ?? "processed", duplicate: true };
  }
  const run = eventRun(event.id);
  const outcome = await dispatch(ctx, event, run);
  if (!run.finished) await markEventProcessed(ctx.db, event.id, outcome);
  ctx.logger.info("stripe event applied", {
    eventId: event.id,
    type: event.type,
    account: event.account,
    outcome,
  });
  return { outcome, duplicate: false };
}
