import { z } from "zod";
import type { JobContext } from "./context.ts";

const stripeEventEnvelope = z.object({ id: z.string().startsWith("evt_"), type: z.string() });

/** Stripe events arrive here from the webhook route. Issue 5 applies them; now they are logged. */
export async function handleStripeEvent(ctx: JobContext, body: unknown): Promise<void> {
  const event = stripeEventEnvelope.parse(body);
  ctx.logger.info("stripe event received", { eventId: event.id, type: event.type });
}
