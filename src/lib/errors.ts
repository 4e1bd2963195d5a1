/**
 * Domain errors. Services throw these; they know nothing of HTTP. One handler in
 * src/http/problem.ts maps each code to its status and problem+json body.
 */
export { errorMessage } from "./error-message.ts";

export type ErrorCode =
  | "VALIDATION_FAILED"
  | "UNAUTHENTICATED"
  | "FORBIDDEN"
  | "ACCOUNT_BLOCKED"
  | "NOT_FOUND"
  | "INSUFFICIENT_STOCK"
  | "CONFLICT"
  | "IDEMPOTENCY_KEY_REQUIRED"
  | "IDEMPOTENCY_KEY_REUSED"
  | "RATE_LIMITED"
  | "PAYMENT_FAILED"
  | "BID_TOO_LOW"
  | "AUCTION_CLOSED"
  | "SERVICE_UNAVAILABLE"
  | "DATABASE_UNAVAILABLE"
  | "SIGNATURE_INVALID"
  | "PAYLOAD_TOO_LARGE";

export interface FieldError {
  /** Dotted path of the failing field inside its part of the request, e.g. `email`, `items.0.qty`. */
  field: string;
  /** Which part of the request: `body`, `query`, `path` or `header`. */
  in: "body" | "query" | "path" | "header";
  message: string;
}

export class DomainError extends Error {
  override name = "DomainError";
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export class ValidationFailed extends DomainError {
  constructor(
    readonly errors: FieldError[],
    message = "The request is not valid.",
  ) {
    super("VALIDATION_FAILED", message, { errors });
  }
}

export class Unauthenticated extends DomainError {
  constructor(message = "Authentication is required.") {
    super("UNAUTHENTICATED", message);
  }
}

export class Forbidden extends DomainError {
  constructor(message = "You are not allowed to do this.") {
    super("FORBIDDEN", message);
  }
}

/**
 * The signed-in account is blocked by an admin and this is not among what a blocked account may
 * still do (README, "Accounts and auth").
 */
export class AccountBlocked extends DomainError {
  constructor(
    message = "This account is blocked: it may sign in, read, pay what it owes and answer its " +
      "conversations, nothing else.",
  ) {
    super("ACCOUNT_BLOCKED", message);
  }
}

export class NotFound extends DomainError {
  constructor(entity: string, id?: string) {
    super("NOT_FOUND", id ? `${entity} ${id} was not found.` : `${entity} was not found.`);
  }
}

export class Conflict extends DomainError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super("CONFLICT", message, details);
  }
}

export class InsufficientStock extends DomainError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super("INSUFFICIENT_STOCK", message, details);
  }
}

export class RateLimited extends DomainError {
  /**
   * `limit` names the rule that was hit (`message`, `complaint.subject`, …) and `rule` says it in
   * words ("20 per 1 m"), so a client can tell which of several limits it ran into.
   */
  constructor(
    readonly retryAfterSeconds: number,
    limit?: { name: string; rule: string },
  ) {
    super(
      "RATE_LIMITED",
      limit
        ? `Too many requests: the ${limit.name} limit is ${limit.rule}; try again later.`
        : "Too many requests; try again later.",
      limit ? { retryAfterSeconds, limit: limit.name } : { retryAfterSeconds },
    );
  }
}

/** A signed request (a Stripe webhook) whose signature or timestamp does not verify. */
export class SignatureInvalid extends DomainError {
  constructor(message: string) {
    super("SIGNATURE_INVALID", message);
  }
}

export class ServiceUnavailable extends DomainError {
  constructor(message: string) {
    super("SERVICE_UNAVAILABLE", message);
  }
}

/** The Idempotency-Key was used before with another request body. */
export class IdempotencyKeyReused extends DomainError {
  constructor() {
    super(
      "IDEMPOTENCY_KEY_REUSED",
      "This Idempotency-Key was already used with a different request body; use a new key for " +
        "a new request.",
    );
  }
}

/** Stripe refused or could not be reached when a PaymentIntent was made: 402. */
export class PaymentFailed extends DomainError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super("PAYMENT_FAILED", message, details);
  }
}
