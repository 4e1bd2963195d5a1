import { EBAY_INCREMENTS, type IncrementStep, incrementAt } from "./increments.ts";

/**
 * Proxy (maximum) bidding, eBay's rules. Pure: the AuctionRoom object folds accepted bids
 * through `placeBid` in arrival order, so replaying its stored bids gives the same state.
 *
 * - A bid is a maximum. The price is min(highest max, second-highest max + one increment at the
 *   second-highest max), never below the start price.
 * - Equal maxima: the earlier bid leads (and the price is that maximum).
 * - Raising your own maximum never raises your price (except to meet the reserve).
 * - A leading maximum at or above the reserve lifts the price to the reserve.
 */
export interface AuctionTerms {
  startPriceMinor: number;
  /** Hidden; only "reserve met / not met" is public. */
  reservePriceMinor: number | null;
  increments?: readonly IncrementStep[];
}

export interface BidState {
  leaderId: string | null;
  leaderMaxMinor: number;
  /** Highest maximum among bidders other than the leader (0 when none). */
  secondMaxMinor: number;
  priceMinor: number;
  bidCount: number;
}

export type BidRefusal =
  | { ok: false; code: "BID_TOO_LOW"; minimumMinor: number; message: string }
  | { ok: false; code: "NOT_HIGHER_THAN_OWN_MAX"; currentMaxMinor: number; message: string };

export interface BidAccepted {
  ok: true;
  state: BidState;
  /** The bidder's standing after this bid. */
  outcome: "leading" | "outbid";
  /** The price moved (watchers are told either way: an accepted bid is news). */
  priceChanged: boolean;
}

export function initialState(terms: AuctionTerms): BidState {
  return {
    leaderId: null,
    leaderMaxMinor: 0,
    secondMaxMinor: 0,
    priceMinor: terms.startPriceMinor,
    bidCount: 0,
  };
}

/** The smallest maximum a bidder other than the leader may place now. */
export function minimumNextBid(state: BidState, terms: AuctionTerms): number {
  if (!state.leaderId) return terms.startPriceMinor;
  return state.priceMinor + incrementAt(state.priceMinor, terms.increments ?? EBAY_INCREMENTS);
}

export function reserveMet(state: BidState, terms: AuctionTerms): boolean {
  return (
    state.leaderId !== null &&
    (terms.reservePriceMinor === null || state.leaderMaxMinor >= terms.reservePriceMinor)
  );
}

function liftToReserve(price: number, leaderMax: number, terms: AuctionTerms): number {
  const reserve = terms.reservePriceMinor;
  if (reserve !== null && leaderMax >= reserve && price < reserve) return reserve;
  return price;
}

/** Applies one bid (a maximum) by `bidderId`; refusals change nothing. */
export function placeBid(
  state: BidState,
  terms: AuctionTerms,
  bidderId: string,
  maxMinor: number,
): BidAccepted | BidRefusal {
  const table = terms.increments ?? EBAY_INCREMENTS;
  const bidCount = state.bidCount + 1;

  if (state.leaderId === bidderId) {
    if (maxMinor <= state.leaderMaxMinor) {
      return {
        ok: false,
        code: "NOT_HIGHER_THAN_OWN_MAX",
        currentMaxMinor: state.leaderMaxMinor,
        message: "You already lead with a higher or equal maximum.",
      };
    }
    // The leader raising their own maximum: the price stays, unless the reserve is now met.
    const priceMinor = liftToReserve(state.priceMinor, maxMinor, terms);
    return {
      ok: true,
      state: { ...state, leaderMaxMinor: maxMinor, priceMinor, bidCount },
      outcome: "leading",
      priceChanged: priceMinor !== state.priceMinor,
    };
  }

  const minimum = minimumNextBid(state, terms);
  if (maxMinor < minimum) {
    return {
      ok: false,
      code: "BID_TOO_LOW",
      minimumMinor: minimum,
      message: `The bid must be at least ${minimum} (minor units).`,
    };
  }

  if (!state.leaderId) {
    const priceMinor = liftToReserve(terms.startPriceMinor, maxMinor, terms);
    return {
      ok: true,
      state: {
        leaderId: bidderId,
        leaderMaxMinor: maxMinor,
        secondMaxMinor: 0,
        priceMinor,
        bidCount,
      },
      outcome: "leading",
      priceChanged: priceMinor !== state.priceMinor,
    };
  }

  if (maxMinor > state.leaderMaxMinor) {
    // A new leader: the old leader's maximum is now the second-highest.
    const second = state.leaderMaxMinor;
    const raw = Math.min(maxMinor, second + incrementAt(second, table));
    const priceMinor = liftToReserve(Math.max(raw, terms.startPriceMinor), maxMinor, terms);
    return {
      ok: true,
      state: {
        leaderId: bidderId,
        leaderMaxMinor: maxMinor,
        secondMaxMinor: second,
        priceMinor,
        bidCount,
      },
      outcome: "leading",
      priceChanged: priceMinor !== state.priceMinor,
    };
  }

  // The leader's proxy defends: up to one increment over the challenger, capped at its maximum.
  // Equal maxima land here too (the earlier bid keeps the lead, at that maximum).
  const second = Math.max(state.secondMaxMinor, maxMinor);
  const raw = Math.min(state.leaderMaxMinor, second + incrementAt(second, table));
  const priceMinor = liftToReserve(Math.max(raw, state.priceMinor), state.leaderMaxMinor, terms);
  return {
    ok: true,
    state: { ...state, secondMaxMinor: second, priceMinor, bidCount },
    outcome: "outbid",
    priceChanged: priceMinor !== state.priceMinor,
  };
}
