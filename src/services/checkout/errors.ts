import { DomainError } from "../errors.ts";

/** Stripe refused or could not be reached when the PaymentIntent was made: 402. */
export class PaymentFailed extends DomainError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super("PAYMENT_FAILED", message, details);
  }
}
