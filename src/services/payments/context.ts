import Stripe from "stripe";
import type { ServiceContext } from "../context.ts";
import type { NotificationQueue } from "../notifications/notify.ts";
import type { StockBinding } from "../orders/reservations.ts";

/**
 * What the money path needs beyond the database: Stripe (the real SDK; the emulator locally),
 * the stock objects (commit or release the order lines' holds) and the notifications queue.
 */
export interface PaymentsContext extends ServiceContext {
  stripe: Stripe;
  stock: StockBinding;
  queue: NotificationQueue;
}

/**
 * A Stripe refusal that retrying the same request cannot fix (a 4xx: invalid request, card
 * error, permission, idempotency). Connection errors, 5xx and rate limits are worth a retry, so
 * callers let those throw and the queue or the next cron run tries again.
 */
export function isPermanentStripeError(err: unknown): err is Stripe.errors.StripeError {
  return (
    err instanceof Stripe.errors.StripeInvalidRequestError ||
    err instanceof Stripe.errors.StripeCardError ||
    err instanceof Stripe.errors.StripePermissionError ||
    err instanceof Stripe.errors.StripeIdempotencyError
  );
}

/** Stripe's error `code` (e.g. `payment_intent_unexpected_state`), if it is a Stripe error. */
export function stripeErrorCode(err: unknown): string | null {
  return err instanceof Stripe.errors.StripeError ? (err.code ?? null) : null;
}
