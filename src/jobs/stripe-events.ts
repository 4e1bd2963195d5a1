import { createStripe } from "../lib/stripe.ts";
import { applyStripeEvent } from "../services/payments/apply-event.ts";
import type { PaymentsContext } from "../services/payments/context.ts";
import { stripeEventMessage } from "../services/payments/webhook.ts";
import type { JobContext } from "./context.ts";

/** A job's services plus what the money path needs: Stripe, the stock objects, notifications. */
export function paymentsContext(ctx: JobContext, logger = ctx.logger): PaymentsContext {
  return {
    get db() {
      return ctx.db;
    },
    config: ctx.config,
    logger,
    actor: ctx.actor,
    stripe: createStripe(ctx.config),
    stock: ctx.env,
    queue: ctx.env.NOTIFICATIONS,
  };
}

/**
 * The `stripe-events` consumer: the message the webhook route verified and queued, applied once
 * per event id. A malformed message or any failure throws, so the queue retries with backoff
 * and, after the last try, dead-letters it for an admin.
 */
export async function handleStripeEvent(ctx: JobContext, body: unknown): Promise<void> {
  const event = stripeEventMessage.parse(body);
  await applyStripeEvent(paymentsContext(ctx, ctx.logger.child({ eventId: event.id })), event);
}
