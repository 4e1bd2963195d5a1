import { derive } from "../services/context.ts";
import { applyStripeEvent } from "../services/payments/apply-event.ts";
import { stripeEventMessage } from "../services/payments/webhook.ts";
import type { JobContext } from "./context.ts";

/**
 * The `stripe-events` consumer: the message the webhook route verified and queued, applied once
 * per event id. A malformed message or any failure throws, so the queue retries with backoff
 * and, after the last try, dead-letters it for an admin.
 */
export async function handleStripeEvent(ctx: JobContext, body: unknown): Promise<void> {
  const event = stripeEventMessage.parse(body);
  await applyStripeEvent(derive(ctx, { logger: ctx.logger.child({ eventId: event.id }) }), event);
}
