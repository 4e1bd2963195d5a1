/**
 * The body of each AuctionRoom change: synchronous functions over the store, run inside one
 * `transactionSync` by the class. Each reads, decides and writes with no await in between, so
 * bids, buy-nows and the close are strictly serialized: whichever arrives first wins.
 *
 * Each returns the RPC answer and the watcher frames the change produced; the class sends the
 * frames only after the transaction committed, in the order they were numbered.
 */
import type { z } from "zod";
import { uuidv7 } from "../../src/lib/ids.ts";
import {
  type AuctionTerms,
  type BidState,
  minimumNextBid,
  placeBid as proxyPlaceBid,
  reserveMet,
} from "./proxy-bidding.ts";
import { aliasOf, type Room, type RoomStore } from "./store.ts";
import type {
  AuctionResult,
  BidAcceptedResult,
  BuyNowResult,
  buyNowInput,
  CancelResult,
  ClosedRefusal,
  CloseIfDueResult,
  ConfigureResult,
  ConflictRefusal,
  cancelInput,
  configureInput,
  FinalStatus,
  Frame,
  NotFoundRefusal,
  PlaceBidResult,
  PublicState,
  placeBidInput,
  RoomStatus,
} from "./types.ts";

export interface Effect<R> {
  result: R;
  frames: Frame[];
  /** The public state moved: the summary cache should learn it. */
  changed: boolean;
}

/** Payload of a `bid` outbox row: the mirror row and the auction's live columns after it. */
export interface BidRecord {
  auctionId: string;
  sequence: number;
  bidderId: string;
  alias: string;
  maxMinor: number;
  priceAfterMinor: number;
  outcome: "leading" | "outbid";
  acceptedAt: number;
  state: {
    priceMinor: number;
    bidCount: number;
    leaderAlias: string;
    currentEndsAt: number;
    reserveMet: boolean;
  };
}

export interface StartedRecord {
  auctionId: string;
  at: number;
}

const iso = (ms: number) => new Date(ms).toISOString();

export function termsOf(room: Room): AuctionTerms {
  return { startPriceMinor: room.startPrice, reservePriceMinor: room.reservePrice };
}

export function bidStateOf(room: Room): BidState {
  return {
    leaderId: room.leaderId,
    leaderMaxMinor: room.leaderMax,
    secondMaxMinor: room.secondMax,
    priceMinor: room.price,
    bidCount: room.bidCount,
  };
}

export function statusAt(room: Room, now: number): RoomStatus {
  if (room.status !== "open") return room.status;
  if (now < room.startsAt) return "scheduled";
  if (now >= room.currentEndsAt) return "closing";
  return "active";
}

/**
 * eBay: buy-now disappears at the first bid, or — when there is a reserve — once the reserve is
 * met. Only while the auction is running.
 */
export function buyNowAvailable(room: Room, now: number): boolean {
  if (room.buyNowPrice === null || statusAt(room, now) !== "active") return false;
  if (room.bidCount === 0) return true;
  return room.reservePrice !== null && !reserveMet(bidStateOf(room), termsOf(room));
}

function leaderAlias(store: RoomStore, room: Room): string | null {
  if (room.leaderId === null) return null;
  const n = store.aliasNo(room.leaderId);
  return n === null ? null : aliasOf(n);
}

export function publicState(
  store: RoomStore,
  room: Room,
  now: number,
  watchers: number,
): PublicState {
  const state = bidStateOf(room);
  const terms = termsOf(room);
  return {
    auctionId: room.auctionId,
    status: statusAt(room, now),
    currency: room.currency,
    startPriceMinor: room.startPrice,
    priceMinor: room.result?.priceMinor ?? room.price,
    bidCount: room.bidCount,
    leaderAlias: leaderAlias(store, room),
    hasReserve: room.reservePrice !== null,
    reserveMet: reserveMet(state, terms),
    buyNowPriceMinor: room.buyNowPrice,
    buyNowAvailable: buyNowAvailable(room, now),
    minimumNextBidMinor: minimumNextBid(state, terms),
    startsAt: iso(room.startsAt),
    endsAt: iso(room.currentEndsAt),
    scheduledEndsAt: iso(room.endsAt),
    softCloseSeconds: room.softCloseMs / 1000,
    maxExtensionSeconds: room.maxExtensionMs / 1000,
    sequence: room.bidCount,
    seq: room.eventSeq,
    result: room.result
      ? {
          status: room.result.status,
          winnerAlias: room.result.winnerAlias,
          priceMinor: room.result.priceMinor,
          closedAt: room.result.closedAt,
        }
      : null,
    watchers,
    serverTime: iso(now),
  };
}

function assertSameAuction(room: Room, auctionId: string): void {
  if (room.auctionId !== auctionId) {
    throw new Error(
      `AUCTION_MISMATCH: this object holds auction ${room.auctionId}, not ${auctionId}`,
    );
  }
}

const notConfigured = (): NotFoundRefusal => ({
  ok: false,
  code: "NOT_FOUND",
  message: "This auction does not exist.",
});

function closed(room: Room, now: number): ClosedRefusal | null {
  const base = { ok: false as const, code: "AUCTION_CLOSED" as const };
  const times = { startsAt: iso(room.startsAt), endsAt: iso(room.currentEndsAt) };
  if (room.status !== "open") {
    return { ...base, ...times, reason: room.status, message: `The auction is ${room.status}.` };
  }
  if (now < room.startsAt) {
    return { ...base, ...times, reason: "not_started", message: "The auction has not started." };
  }
  if (now >= room.currentEndsAt) {
    return { ...base, ...times, reason: "ended", message: "The auction has ended." };
  }
  return null;
}

const conflict = (reason: ConflictRefusal["reason"], message: string): ConflictRefusal => ({
  ok: false,
  code: "CONFLICT",
  reason,
  message,
});

/** Flips a scheduled auction to active once its start has come (alarm, or lazily on a call). */
export function startIfDue(store: RoomStore, now: number): Frame[] {
  const room = store.room();
  if (!room || room.started || room.status !== "open" || now < room.startsAt) return [];
  store.markStarted();
  store.enqueue("started", { auctionId: room.auctionId, at: now } satisfies StartedRecord);
  return [{ type: "started", seq: store.nextSeq(), at: iso(now), endsAt: iso(room.currentEndsAt) }];
}

/** The body of `AuctionRoom.configure` (see its JSDoc). */
export function configure(
  store: RoomStore,
  c: z.output<typeof configureInput>,
  now: number,
  watchers: number,
): Effect<ConfigureResult> {
  const terms = JSON.stringify(c);
  const existing = store.room();
  if (existing) {
    assertSameAuction(existing, c.auctionId);
    if (existing.terms !== terms) {
      return {
        result: conflict("configure_mismatch", "This auction was configured with other terms."),
        frames: [],
        changed: false,
      };
    }
    const frames = startIfDue(store, now);
    const room = store.room() ?? existing;
    return {
      result: { ok: true, state: publicState(store, room, now, watchers), replayed: true },
      frames,
      changed: frames.length > 0,
    };
  }
  const startsAt = Date.parse(c.startsAt);
  const endsAt = Date.parse(c.endsAt);
  store.insertRoom({
    auctionId: c.auctionId,
    shopId: c.shopId,
    productId: c.productId,
    currency: c.currency,
    terms,
    startPrice: c.startPriceMinor,
    reservePrice: c.reservePriceMinor,
    buyNowPrice: c.buyNowPriceMinor,
    startsAt,
    endsAt,
    currentEndsAt: endsAt,
    softCloseMs: c.softCloseSeconds * 1000,
    maxExtensionMs: c.maxExtensionSeconds * 1000,
    started: false,
    leaderId: null,
    leaderMax: 0,
    secondMax: 0,
    price: c.startPriceMinor,
    bidCount: 0,
    eventSeq: 0,
    status: "open",
    result: null,
    closedAt: null,
  });
  const frames = startIfDue(store, now);
  const room = store.room();
  if (!room) throw new Error("INVARIANT: the room was not stored");
  return {
    result: { ok: true, state: publicState(store, room, now, watchers), replayed: false },
    frames,
    changed: true,
  };
}

/** The body of `AuctionRoom.placeBid` (see its JSDoc). */
export function placeBid(
  store: RoomStore,
  b: z.output<typeof placeBidInput>,
  now: number,
): Effect<PlaceBidResult> {
  const before = store.room();
  if (!before) return { result: notConfigured(), frames: [], changed: false };
  assertSameAuction(before, b.auctionId);
  const request = `${b.bidderId}:${b.maxMinor}`;
  if (b.key !== undefined) {
    const prior = store.bidByKey(b.key);
    if (prior) {
      if (prior.request !== request) {
        return {
          result: conflict("idempotency_key_reused", "This key was used for another bid."),
          frames: [],
          changed: false,
        };
      }
      return {
        result: replayedBid(store, before, prior.sequence, now),
        frames: [],
        changed: false,
      };
    }
  }
  const refusal = closed(before, now);
  if (refusal) return { result: refusal, frames: [], changed: false };

  const frames = startIfDue(store, now);
  const room = store.room() ?? before;
  const terms = termsOf(room);
  const outcome = proxyPlaceBid(bidStateOf(room), terms, b.bidderId, b.maxMinor);
  if (!outcome.ok) {
    const result =
      outcome.code === "BID_TOO_LOW"
        ? {
            ok: false as const,
            code: "BID_TOO_LOW" as const,
            reason: "below_minimum" as const,
            minimumMinor: outcome.minimumMinor,
            message: outcome.message,
          }
        : {
            ok: false as const,
            code: "BID_TOO_LOW" as const,
            reason: "not_higher_than_own_max" as const,
            minimumMinor: outcome.currentMaxMinor + 1,
            message: `${outcome.message} Raise your maximum above ${outcome.currentMaxMinor}.`,
          };
    return { result, frames, changed: frames.length > 0 };
  }

  const next = outcome.state;
  const sequence = next.bidCount;
  const leaderId = next.leaderId;
  if (leaderId === null) throw new Error("INVARIANT: an accepted bid leaves a leader");
  // Soft close: a bid inside the last window moves the end to (bid time + window), never past
  // the scheduled end plus the extension cap.
  let endsAt = room.currentEndsAt;
  if (room.softCloseMs > 0 && now >= room.currentEndsAt - room.softCloseMs) {
    endsAt = Math.max(
      room.currentEndsAt,
      Math.min(now + room.softCloseMs, room.endsAt + room.maxExtensionMs),
    );
  }
  const extended = endsAt > room.currentEndsAt;

  const aliasNo = store.recordBidder(b.bidderId, b.maxMinor, sequence);
  const leaderNo = leaderId === b.bidderId ? aliasNo : store.aliasNo(leaderId);
  if (leaderNo === null) throw new Error("INVARIANT: the leader has no alias");
  store.insertBid({
    sequence,
    bidderId: b.bidderId,
    maxMinor: b.maxMinor,
    priceAfter: next.priceMinor,
    leaderAfter: leaderId,
    outcome: outcome.outcome,
    acceptedAt: now,
    endsAtAfter: endsAt,
    extended,
    key: b.key ?? null,
    request,
  });
  store.saveBidState({
    leaderId,
    leaderMax: next.leaderMaxMinor,
    secondMax: next.secondMaxMinor,
    price: next.priceMinor,
    bidCount: next.bidCount,
    currentEndsAt: endsAt,
  });
  const after = store.room();
  if (!after) throw new Error("INVARIANT: the room vanished");
  const met = reserveMet(next, terms);
  const buyNow = buyNowAvailable(after, now);
  const minimum = minimumNextBid(next, terms);
  const alias = aliasOf(aliasNo);
  const leader = aliasOf(leaderNo);
  store.enqueue("bid", {
    auctionId: room.auctionId,
    sequence,
    bidderId: b.bidderId,
    alias,
    maxMinor: b.maxMinor,
    priceAfterMinor: next.priceMinor,
    outcome: outcome.outcome,
    acceptedAt: now,
    state: {
      priceMinor: next.priceMinor,
      bidCount: next.bidCount,
      leaderAlias: leader,
      currentEndsAt: endsAt,
      reserveMet: met,
    },
  } satisfies BidRecord);
  frames.push({
    type: "bid",
    seq: store.nextSeq(),
    bidSequence: sequence,
    bidder: alias,
    leader,
    priceMinor: next.priceMinor,
    bidCount: next.bidCount,
    reserveMet: met,
    buyNowAvailable: buyNow,
    minimumNextBidMinor: minimum,
    endsAt: iso(endsAt),
    at: iso(now),
  });
  if (extended) {
    frames.push({
      type: "extended",
      seq: store.nextSeq(),
      bidSequence: sequence,
      endsAt: iso(endsAt),
      previousEndsAt: iso(room.currentEndsAt),
    });
  }
  const result: BidAcceptedResult = {
    ok: true,
    outcome: outcome.outcome,
    sequence,
    priceMinor: next.priceMinor,
    minimumNextBidMinor: minimum,
    endsAt: iso(endsAt),
    extended,
    bidCount: next.bidCount,
    leaderAlias: leader,
    alias,
    reserveMet: met,
    buyNowAvailable: buyNow,
    replayed: false,
  };
  return { result, frames, changed: true };
}

/** A keyed bid seen before: its own outcome and sequence, with the auction as it is now. */
function replayedBid(
  store: RoomStore,
  room: Room,
  sequence: number,
  now: number,
): BidAcceptedResult {
  const bid = store.bids(sequence - 1, 1)[0];
  if (!bid) throw new Error(`INVARIANT: bid ${sequence} is missing`);
  const state = bidStateOf(room);
  const terms = termsOf(room);
  return {
    ok: true,
    outcome: bid.outcome,
    sequence: bid.sequence,
    priceMinor: bid.priceAfterMinor,
    minimumNextBidMinor: minimumNextBid(state, terms),
    endsAt: bid.endsAtAfter,
    extended: bid.extended,
    bidCount: room.bidCount,
    leaderAlias: leaderAlias(store, room) ?? bid.alias,
    alias: bid.alias,
    reserveMet: reserveMet(state, terms),
    buyNowAvailable: buyNowAvailable(room, now),
    replayed: true,
  };
}

function finish(
  store: RoomStore,
  room: Room,
  now: number,
  r: Pick<AuctionResult, "status" | "winnerId" | "priceMinor" | "closedBy" | "reason" | "actorId">,
): { result: AuctionResult; frame: Frame } {
  const state = bidStateOf(room);
  const winnerNo = r.winnerId === null ? null : store.aliasNo(r.winnerId);
  const result: AuctionResult = {
    auctionId: room.auctionId,
    status: r.status,
    winnerId: r.winnerId,
    winnerAlias: winnerNo === null ? null : aliasOf(winnerNo),
    priceMinor: r.priceMinor,
    currency: room.currency,
    // Minted once, here: however often the outbox retries, Postgres makes this one order.
    orderId: r.winnerId === null ? null : uuidv7(now),
    reserveMet: reserveMet(state, termsOf(room)),
    bidCount: room.bidCount,
    bidderIds: store.bidderIds(),
    closedBy: r.closedBy,
    closedAt: iso(now),
    shopId: room.shopId,
    productId: room.productId,
    reason: r.reason,
    actorId: r.actorId,
  };
  store.saveResult(result, now);
  store.enqueue("result", result);
  const frame: Frame = {
    type: "closed",
    seq: store.nextSeq(),
    status: result.status,
    winner: result.winnerAlias,
    priceMinor: result.priceMinor,
    reserveMet: result.reserveMet,
    bidCount: result.bidCount,
    closedAt: result.closedAt,
  };
  return { result, frame };
}

/**
 * The body of the close (alarm, sweep): at or after the current end, the open auction gets its
 * one result. Before the end, or once closed, nothing changes.
 */
export function closeIfDue(
  store: RoomStore,
  now: number,
  closedBy: "alarm" | "sweep",
): Effect<Omit<CloseIfDueResult, "pending">> {
  const room = store.room();
  if (!room) {
    return {
      result: { outcome: "not_configured", result: null, endsAt: null },
      frames: [],
      changed: false,
    };
  }
  const endsAt = iso(room.currentEndsAt);
  if (room.status !== "open") {
    return {
      result: { outcome: "already", result: room.result, endsAt },
      frames: [],
      changed: false,
    };
  }
  if (now < room.currentEndsAt) {
    return { result: { outcome: "not_due", result: null, endsAt }, frames: [], changed: false };
  }
  const met = reserveMet(bidStateOf(room), termsOf(room));
  const status: FinalStatus = met ? "ended_sold" : "ended_unsold";
  const { result, frame } = finish(store, room, now, {
    status,
    winnerId: met ? room.leaderId : null,
    priceMinor: room.price,
    closedBy,
    reason: null,
    actorId: null,
  });
  return { result: { outcome: "closed", result, endsAt }, frames: [frame], changed: true };
}

/** The body of `AuctionRoom.buyNow` (see its JSDoc). */
export function buyNow(
  store: RoomStore,
  i: z.output<typeof buyNowInput>,
  now: number,
): Effect<BuyNowResult> {
  const before = store.room();
  if (!before) return { result: notConfigured(), frames: [], changed: false };
  assertSameAuction(before, i.auctionId);
  if (before.status === "bought_now" && before.result?.winnerId === i.buyerId) {
    return {
      result: { ok: true, result: before.result, replayed: true, mirrored: false },
      frames: [],
      changed: false,
    };
  }
  const refusal = closed(before, now);
  if (refusal) return { result: refusal, frames: [], changed: false };
  const frames = startIfDue(store, now);
  const room = store.room() ?? before;
  if (room.buyNowPrice === null || !buyNowAvailable(room, now)) {
    const why =
      room.buyNowPrice === null
        ? "This auction has no buy-now price."
        : "Buy-now is gone: it ends at the first bid, or once the reserve is met.";
    return {
      result: conflict("buy_now_unavailable", why),
      frames,
      changed: frames.length > 0,
    };
  }
  const { result, frame } = finish(store, room, now, {
    status: "bought_now",
    winnerId: i.buyerId,
    priceMinor: room.buyNowPrice,
    closedBy: "buy_now",
    reason: null,
    actorId: i.buyerId,
  });
  frames.push(frame);
  return { result: { ok: true, result, replayed: false, mirrored: false }, frames, changed: true };
}

/** The body of `AuctionRoom.cancel` (see its JSDoc). */
export function cancel(
  store: RoomStore,
  c: z.output<typeof cancelInput>,
  now: number,
): Effect<CancelResult> {
  const room = store.room();
  if (!room) return { result: notConfigured(), frames: [], changed: false };
  assertSameAuction(room, c.auctionId);
  if (room.status === "cancelled" && room.result) {
    return {
      result: { ok: true, result: room.result, replayed: true },
      frames: [],
      changed: false,
    };
  }
  if (room.status !== "open" || now >= room.currentEndsAt) {
    return {
      result: conflict("already_closed", "The auction has ended; it cannot be cancelled."),
      frames: [],
      changed: false,
    };
  }
  if (room.bidCount > 0) {
    return {
      result: conflict("has_bids", "The auction has bids; it cannot be cancelled."),
      frames: [],
      changed: false,
    };
  }
  const { result, frame } = finish(store, room, now, {
    status: "cancelled",
    winnerId: null,
    priceMinor: room.price,
    closedBy: "cancel",
    reason: c.reason,
    actorId: c.actorId ?? null,
  });
  return { result: { ok: true, result, replayed: false }, frames: [frame], changed: true };
}
