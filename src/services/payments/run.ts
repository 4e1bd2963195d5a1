import { and, eq, isNull } from "drizzle-orm";
import type { Actor } from "../../db/audit.ts";
import type { Queryable, Tx } from "../../db/client.ts";
import { stripeEvents } from "../../db/schema/orders.ts";

/**
 * One application of a Stripe fact, from a webhook event or from a cron that asked Stripe
 * itself. `finish` marks the event processed inside the caller's last transaction, so the mark
 * commits with the change it describes: an event that failed midway is never marked and is
 * applied again (each step is idempotent) on the queue's retry.
 */
export interface PaymentRun {
  /** The Stripe event being applied; null when a cron found the fact. */
  eventId: string | null;
  actor: Actor;
  finish(tx: Tx, outcome: string): Promise<void>;
  readonly finished: boolean;
}

export async function markEventProcessed(
  db: Queryable,
  eventId: string,
  outcome: string,
): Promise<void> {
  await db
    .update(stripeEvents)
    .set({ processedAt: new Date(), outcome })
    .where(and(eq(stripeEvents.id, eventId), isNull(stripeEvents.processedAt)));
}

/** A run for a webhook event. */
export function eventRun(eventId: string): PaymentRun {
  let finished = false;
  return {
    eventId,
    actor: { type: "stripe", id: null, requestId: eventId },
    async finish(tx, outcome) {
      await markEventProcessed(tx, eventId, outcome);
      finished = true;
    },
    get finished() {
      return finished;
    },
  };
}

/** A run for a cron job: nothing to mark. */
export function cronRun(actor: Actor): PaymentRun {
  return {
    eventId: null,
    actor,
    async finish() {},
    finished: false,
  };
}
