/**
 * The RPC contract of the AuctionRoom Durable Object: input schemas (zod), result and frame
 * types, and the mapping of refusals to domain errors. Shared by the object and the services
 * that call it.
 *
 * Error policy (as ProductStock's): expected refusals (closed, too low, buy-now gone …) come
 * back as `{ ok: false, code, … }` values, because a thrown error loses its class and fields
 * across RPC. Input that fails its schema, or an object addressed with another auction's id,
 * throws a plain `Error` whose message starts with `VALIDATION_FAILED:` / `AUCTION_MISMATCH:`.
 * The services map refusals to their domain errors (src/services/auctions/refusals.ts): the
 * object stands below the services and imports none of them.
 */
import { z } from "zod";

/** Prices fit a Postgres `integer` (the mirror and orders store them there). */
export const MAX_PRICE_MINOR = 2_147_483_647;
export const MAX_SOFT_CLOSE_SECONDS = 60 * 60;
export const MAX_EXTENSION_SECONDS = 7 * 24 * 60 * 60;

const id = z.uuid();
const price = z.int().min(1).max(MAX_PRICE_MINOR);
const instant = z.iso.datetime({ offset: true });

/** ceil(start × 1.3) in integers: the smallest buy-now price eBay's 30 % rule allows. */
export function minimumBuyNowMinor(startPriceMinor: number): number {
  return Math.ceil((startPriceMinor * 13) / 10);
}

export const configureInput = z
  .object({
    auctionId: id,
    shopId: id,
    productId: id,
    currency: z.string().regex(/^[A-Z]{3}$/, "must be an ISO 4217 code"),
    startPriceMinor: price,
    reservePriceMinor: price.nullable().default(null),
    buyNowPriceMinor: price.nullable().default(null),
    startsAt: instant,
    endsAt: instant,
    softCloseSeconds: z.int().min(0).max(MAX_SOFT_CLOSE_SECONDS),
    maxExtensionSeconds: z.int().min(0).max(MAX_EXTENSION_SECONDS),
  })
  .superRefine((v, ctx) => {
    if (Date.parse(v.endsAt) <= Date.parse(v.startsAt)) {
      ctx.addIssue({ code: "custom", path: ["endsAt"], message: "must be after startsAt" });
    }
    if (v.reservePriceMinor !== null && v.reservePriceMinor < v.startPriceMinor) {
      ctx.addIssue({
        code: "custom",
        path: ["reservePriceMinor"],
        message: "must be at least the start price",
      });
    }
    if (v.buyNowPriceMinor !== null) {
      const min = minimumBuyNowMinor(v.startPriceMinor);
      if (v.buyNowPriceMinor < min) {
        ctx.addIssue({
          code: "custom",
          path: ["buyNowPriceMinor"],
          message: `must be at least 30% above the start price (${min})`,
        });
      }
      if (v.reservePriceMinor !== null && v.buyNowPriceMinor < v.reservePriceMinor) {
        ctx.addIssue({
          code: "custom",
          path: ["buyNowPriceMinor"],
          message: "must be at least the reserve price",
        });
      }
    }
  });

export const placeBidInput = z.object({
  auctionId: id,
  bidderId: id,
  maxMinor: price,
  /** Optional idempotency key: the same key returns the first answer and bids nothing twice. */
  key: z.string().min(1).max(255).optional(),
});

export const buyNowInput = z.object({ auctionId: id, buyerId: id });

/** A user's id, for AuctionRoom.reverify. */
export const reverifyInput = z.object({ userId: id });

/**
 * A bid sent on the live WebSocket: `{ "type": "bid", "maxMinor": 5000 }`, with an optional
 * `key` (the same key bids once, like the POST route's Idempotency-Key) and `ref`, echoed in the
 * answer so a client can match answers to bids.
 */
export const socketBidMessage = z.strictObject({
  type: z.literal("bid"),
  maxMinor: price,
  key: z.string().min(1).max(200).optional(),
  ref: z.string().min(1).max(100).optional(),
});
export type SocketBidMessage = z.infer<typeof socketBidMessage>;

export const cancelInput = z.object({
  auctionId: id,
  reason: z.string().trim().min(1).max(500),
  /** Who cancelled (the seller): the audit row's actor. */
  actorId: id.optional(),
});

export const rankedBiddersInput = z
  .object({ exclude: z.array(id).max(1_000).default([]) })
  .default({ exclude: [] });

export type ConfigureInput = z.input<typeof configureInput>;
export type PlaceBidInput = z.input<typeof placeBidInput>;
export type BuyNowInput = z.input<typeof buyNowInput>;
export type CancelInput = z.input<typeof cancelInput>;
export type RankedBiddersInput = z.input<typeof rankedBiddersInput>;

/** What the object says its state is. `closing`: past its end, the close not yet run. */
export type RoomStatus =
  | "scheduled"
  | "active"
  | "closing"
  | "ended_sold"
  | "ended_unsold"
  | "bought_now"
  | "cancelled";

export type FinalStatus = "ended_sold" | "ended_unsold" | "bought_now" | "cancelled";

/** The result, stored once in the object; its outbox record carries it to Postgres. */
export interface AuctionResult {
  auctionId: string;
  status: FinalStatus;
  /** The buyer who must pay (winner or buy-now buyer); null when unsold or cancelled. */
  winnerId: string | null;
  winnerAlias: string | null;
  /** The final price (the buy-now price for `bought_now`). */
  priceMinor: number;
  currency: string;
  /** The order Postgres makes for the winner: minted here so a retried mirror makes one. */
  orderId: string | null;
  reserveMet: boolean;
  bidCount: number;
  /** Every bidder, for the "you lost" notices. */
  bidderIds: string[];
  /** What closed it: the alarm, the cron sweep, a buy-now, the seller's cancel. */
  closedBy: "alarm" | "sweep" | "buy_now" | "cancel";
  closedAt: string;
  shopId: string;
  productId: string;
  /** The cancel's reason. */
  reason: string | null;
  /** The person whose action closed it (buy-now buyer, cancelling seller); null for the clock. */
  actorId: string | null;
}

/** The public state: never a bidder's id or maximum, never the reserve amount. */
export interface PublicState {
  auctionId: string;
  status: RoomStatus;
  currency: string;
  startPriceMinor: number;
  priceMinor: number;
  bidCount: number;
  leaderAlias: string | null;
  hasReserve: boolean;
  reserveMet: boolean;
  buyNowPriceMinor: number | null;
  buyNowAvailable: boolean;
  /** The smallest maximum a new bidder may place now. */
  minimumNextBidMinor: number;
  startsAt: string;
  /** The current end, after any soft-close extensions. */
  endsAt: string;
  scheduledEndsAt: string;
  softCloseSeconds: number;
  maxExtensionSeconds: number;
  /** The last accepted bid's sequence (0 before any). */
  sequence: number;
  /** The last watcher frame's sequence: a snapshot at `seq` n is followed by frame n + 1. */
  seq: number;
  result: {
    status: FinalStatus;
    winnerAlias: string | null;
    priceMinor: number;
    closedAt: string;
  } | null;
  watchers: number;
  /** The object's clock when this was read. */
  serverTime: string;
}

export type BidOutcome = "leading" | "outbid";

export interface BidAcceptedResult {
  ok: true;
  outcome: BidOutcome;
  sequence: number;
  priceMinor: number;
  minimumNextBidMinor: number;
  endsAt: string;
  /** The bid moved the end (soft close). */
  extended: boolean;
  bidCount: number;
  leaderAlias: string;
  /** The bidder's own pseudonym in this auction. */
  alias: string;
  reserveMet: boolean;
  buyNowAvailable: boolean;
  replayed: boolean;
}

export interface ClosedRefusal {
  ok: false;
  code: "AUCTION_CLOSED";
  reason: "not_started" | "ended" | FinalStatus;
  message: string;
  startsAt: string;
  endsAt: string;
}

export interface TooLowRefusal {
  ok: false;
  code: "BID_TOO_LOW";
  reason: "below_minimum" | "not_higher_than_own_max";
  /** The smallest maximum this bidder may place now. */
  minimumMinor: number;
  message: string;
}

export interface NotFoundRefusal {
  ok: false;
  code: "NOT_FOUND";
  message: string;
}

export interface ConflictRefusal {
  ok: false;
  code: "CONFLICT";
  reason:
    | "buy_now_unavailable"
    | "configure_mismatch"
    | "has_bids"
    | "idempotency_key_reused"
    | "already_closed";
  message: string;
}

/** The bidder may not bid here: the shop's own team, or a blocked account. */
export interface ForbiddenRefusal {
  ok: false;
  code: "FORBIDDEN";
  reason: "own_shop" | "blocked";
  message: string;
}

/** Too many bids from one bidder in this room: wait `retryAfterSeconds`. */
export interface RateLimitedRefusal {
  ok: false;
  code: "RATE_LIMITED";
  retryAfterSeconds: number;
  message: string;
}

export type Refusal =
  | ClosedRefusal
  | TooLowRefusal
  | NotFoundRefusal
  | ConflictRefusal
  | ForbiddenRefusal
  | RateLimitedRefusal;

export type PlaceBidResult =
  | BidAcceptedResult
  | ClosedRefusal
  | TooLowRefusal
  | NotFoundRefusal
  | ConflictRefusal;

/** A user's bid (AuctionRoom.bid): the room's own checks may refuse it before the rules do. */
export type UserBidResult = PlaceBidResult | ForbiddenRefusal | RateLimitedRefusal;

/** The HTTP status each refusal means; the POST route and the socket answer the same. */
export function refusalStatus(refusal: Refusal): number {
  switch (refusal.code) {
    case "NOT_FOUND":
      return 404;
    case "FORBIDDEN":
      return 403;
    case "RATE_LIMITED":
      return 429;
    case "CONFLICT":
      return refusal.reason === "idempotency_key_reused" ? 422 : 409;
    default:
      return 409;
  }
}

export type ConfigureResult =
  | { ok: true; state: PublicState; replayed: boolean }
  | NotFoundRefusal
  | ConflictRefusal;

export type BuyNowResult =
  | { ok: true; result: AuctionResult; replayed: boolean; mirrored: boolean }
  | ClosedRefusal
  | TooLowRefusal
  | NotFoundRefusal
  | ConflictRefusal;

export type CancelResult =
  | { ok: true; result: AuctionResult; replayed: boolean }
  | NotFoundRefusal
  | ConflictRefusal;

export interface CloseIfDueResult {
  /** `closed`: this call closed it; `already`: it was closed before; `not_due`/`not_configured`. */
  outcome: "closed" | "already" | "not_due" | "not_configured";
  result: AuctionResult | null;
  endsAt: string | null;
  /** Outbox rows still waiting for Postgres after this call's flush. */
  pending: number;
}

/** One accepted bid as the object stores it (hidden fields included: for services and tests). */
export interface LedgerBid {
  sequence: number;
  bidderId: string;
  alias: string;
  maxMinor: number;
  priceAfterMinor: number;
  leaderAfterId: string;
  outcome: BidOutcome;
  acceptedAt: string;
  endsAtAfter: string;
  extended: boolean;
}

/** The proxy engine's state and terms as the object holds them (hidden fields included). */
export interface Ledger {
  terms: { startPriceMinor: number; reservePriceMinor: number | null };
  state: {
    leaderId: string | null;
    leaderMaxMinor: number;
    secondMaxMinor: number;
    priceMinor: number;
    bidCount: number;
  };
  bids: LedgerBid[];
}

/** A bidder's best maximum, for second-chance offers: highest first, earlier first on ties. */
export interface RankedBidder {
  bidderId: string;
  alias: string;
  maxMinor: number;
  /** The sequence of the bid that set this maximum. */
  maxSequence: number;
}

/** A bid as anyone may see it (bid history): no id, no maximum. */
export interface PublicBid {
  sequence: number;
  bidder: string;
  priceAfterMinor: number;
  acceptedAt: string;
}

export interface MirrorStatus {
  failures: number;
  retryAt: string | null;
  lastError: string | null;
}

export interface FlushResult {
  /** Outbox rows Postgres acknowledged in this flush. */
  mirrored: number;
  pending: number;
  error: string | null;
}

/** What a watcher is, kept in the socket's attachment so it survives hibernation. */
export interface WatcherIdentity {
  watcherId: string;
  /** The signed-in user watching, if any (never sent to other watchers). */
  userId: string | null;
  connectedAt: string;
  /**
   * When the access token the socket connected with expires (epoch ms): its bids are refused
   * after that (401), as the POST route would refuse the token. Absent for anonymous watchers.
   */
  bidsUntil?: number | null;
}

/** Frames sent to watchers. Every frame but `hello` carries `seq`, gapless per auction. */
export type Frame =
  | {
      type: "snapshot";
      seq: number;
      auction: PublicState;
      watcher: { id: string; you: string | null };
    }
  | {
      type: "bid";
      seq: number;
      bidSequence: number;
      bidder: string;
      leader: string;
      priceMinor: number;
      bidCount: number;
      reserveMet: boolean;
      buyNowAvailable: boolean;
      minimumNextBidMinor: number;
      endsAt: string;
      at: string;
    }
  | { type: "extended"; seq: number; bidSequence: number; endsAt: string; previousEndsAt: string }
  | { type: "started"; seq: number; at: string; endsAt: string }
  | {
      type: "closed";
      seq: number;
      status: FinalStatus;
      winner: string | null;
      priceMinor: number;
      reserveMet: boolean;
      bidCount: number;
      closedAt: string;
    };

/** Parses an RPC input; a failure throws `VALIDATION_FAILED: field: message; …`. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "input"}: ${i.message}`);
  throw new Error(`VALIDATION_FAILED: ${issues.join("; ")}`);
}
