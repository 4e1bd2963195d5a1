import type { Refusal } from "../../../durable-objects/auction-room/types.ts";
import { Conflict, DomainError, Forbidden, NotFound, RateLimited } from "../errors.ts";

/** An auction is closed (before its start, after its end, or with a result): 409. */
export class AuctionClosed extends DomainError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super("AUCTION_CLOSED", message, details);
  }
}

/** A bid under the minimum the rules allow now: 409 with that minimum. */
export class BidTooLow extends DomainError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super("BID_TOO_LOW", message, details);
  }
}

/** Maps an AuctionRoom refusal to the domain error the HTTP layer turns into problem+json. */
export function refusalToError(refusal: Refusal): DomainError {
  switch (refusal.code) {
    case "AUCTION_CLOSED":
      return new AuctionClosed(refusal.message, {
        reason: refusal.reason,
        startsAt: refusal.startsAt,
        endsAt: refusal.endsAt,
      });
    case "BID_TOO_LOW":
      return new BidTooLow(refusal.message, {
        reason: refusal.reason,
        minimumMinor: refusal.minimumMinor,
      });
    case "NOT_FOUND":
      return new NotFound("auction");
    case "FORBIDDEN":
      return new Forbidden(refusal.message);
    case "RATE_LIMITED":
      return new RateLimited(refusal.retryAfterSeconds);
    case "CONFLICT":
      return refusal.reason === "idempotency_key_reused"
        ? new DomainError("IDEMPOTENCY_KEY_REUSED", refusal.message)
        : new Conflict(refusal.message, { reason: refusal.reason });
  }
}

/** Returns the success value or throws the refusal as a domain error. */
export function unwrap<R extends { ok: true } | Refusal>(result: R): Extract<R, { ok: true }> {
  if (result.ok) return result as Extract<R, { ok: true }>;
  throw refusalToError(result as Refusal);
}
