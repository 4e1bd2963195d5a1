import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { incrementAt } from "../../durable-objects/auction-room/increments.ts";
import {
  type AuctionTerms,
  type BidState,
  initialState,
  minimumNextBid,
  placeBid,
  reserveMet,
} from "../../durable-objects/auction-room/proxy-bidding.ts";

/** Folds bids; throws on a refusal so a table row that should be accepted says so. */
function run(terms: AuctionTerms, bids: Array<[string, number]>): BidState {
  let state = initialState(terms);
  for (const [bidder, max] of bids) {
    const r = placeBid(state, terms, bidder, max);
    if (!r.ok) throw new Error(`refused ${bidder} ${max}: ${r.code}`);
    state = r.state;
  }
  return state;
}

describe("eBay increments", () => {
  it.each([
    [1, 5],
    [99, 5],
    [100, 25],
    [499, 25],
    [500, 50],
    [2_499, 50],
    [2_500, 100],
    [9_999, 100],
    [10_000, 250],
    [24_999, 250],
    [25_000, 500],
    [50_000, 1_000],
    [100_000, 2_500],
    [250_000, 5_000],
    [499_999, 5_000],
    [500_000, 10_000],
    [10_000_000, 10_000],
  ])("at %i minor units the increment is %i", (price, inc) => {
    expect(incrementAt(price)).toBe(inc);
  });
});

describe("proxy bidding", () => {
  const terms: AuctionTerms = { startPriceMinor: 1_000, reservePriceMinor: null };

  it.each<[string, Array<[string, number]>, { leader: string; price: number }]>([
    ["a lone bid sits at the start price", [["a", 2_500]], { leader: "a", price: 1_000 }],
    [
      "eBay's example: the leader's proxy answers a lower bid with one increment more",
      [
        ["a", 2_500],
        ["b", 1_200],
      ],
      { leader: "a", price: 1_250 },
    ],
    [
      "a higher maximum takes the lead at one increment over the old maximum",
      [
        ["a", 2_500],
        ["b", 1_200],
        ["c", 3_000],
      ],
      { leader: "c", price: 2_600 },
    ],
    [
      "outbid by less than one increment: the price is capped at the new leader's maximum",
      [
        ["a", 2_500],
        ["d", 2_510],
      ],
      { leader: "d", price: 2_510 },
    ],
    [
      "equal maxima: the earlier bid keeps the lead, at that maximum",
      [
        ["a", 2_500],
        ["b", 2_500],
      ],
      { leader: "a", price: 2_500 },
    ],
    [
      "raising your own maximum never raises your price",
      [
        ["a", 2_500],
        ["b", 1_200],
        ["a", 5_000],
      ],
      { leader: "a", price: 1_250 },
    ],
    [
      "a challenger just under the leader's maximum: price stops at the leader's maximum",
      [
        ["a", 1_300],
        ["b", 1_290],
      ],
      { leader: "a", price: 1_300 },
    ],
  ])("%s", (_name, bids, expected) => {
    const s = run(terms, bids);
    expect({ leader: s.leaderId, price: s.priceMinor }).toEqual(expected);
  });

  it("refuses a bid below the next increment and changes nothing", () => {
    const s = run(terms, [
      ["a", 2_500],
      ["b", 1_200],
    ]);
    expect(minimumNextBid(s, terms)).toBe(1_300);
    const r = placeBid(s, terms, "c", 1_290);
    expect(r).toMatchObject({ ok: false, code: "BID_TOO_LOW", minimumMinor: 1_300 });
  });

  it("refuses a first bid below the start price", () => {
    expect(placeBid(initialState(terms), terms, "a", 999)).toMatchObject({ code: "BID_TOO_LOW" });
  });

  it("refuses a leader lowering or repeating their maximum", () => {
    const s = run(terms, [["a", 2_500]]);
    expect(placeBid(s, terms, "a", 2_500)).toMatchObject({ code: "NOT_HIGHER_THAN_OWN_MAX" });
  });

  describe("with a reserve", () => {
    const reserved: AuctionTerms = { startPriceMinor: 1_000, reservePriceMinor: 5_000 };

    it("a maximum below the reserve leaves the price at the start and the reserve unmet", () => {
      const s = run(reserved, [["a", 3_000]]);
      expect(s.priceMinor).toBe(1_000);
      expect(reserveMet(s, reserved)).toBe(false);
    });

    it("a first maximum at or above the reserve lifts the price to the reserve", () => {
      const s = run(reserved, [["a", 6_000]]);
      expect(s.priceMinor).toBe(5_000);
      expect(reserveMet(s, reserved)).toBe(true);
    });

    it("the leader raising past the reserve lifts the price to it", () => {
      expect(
        run(reserved, [
          ["a", 3_000],
          ["a", 6_000],
        ]).priceMinor,
      ).toBe(5_000);
    });

    it("competition above the reserve prices as usual", () => {
      expect(
        run(reserved, [
          ["a", 6_000],
          ["b", 5_500],
        ]).priceMinor,
      ).toBe(5_600);
    });
  });
});

describe("proxy bidding properties", () => {
  const bidArb = fc.record({
    bidder: fc.constantFrom("a", "b", "c", "d", "e"),
    max: fc.integer({ min: 500, max: 60_000 }),
  });
  const termsArb = fc.record({
    startPriceMinor: fc.integer({ min: 1, max: 5_000 }),
    reservePriceMinor: fc.option(fc.integer({ min: 1, max: 50_000 }), { nil: null }),
  });

  it("holds eBay's invariants for any sequence of bids", () => {
    fc.assert(
      fc.property(termsArb, fc.array(bidArb, { maxLength: 40 }), (terms, bids) => {
        let state = initialState(terms);
        // Each bidder's maximum and when they first reached it (ties go to the earliest).
        const maxima = new Map<string, { max: number; at: number }>();
        bids.forEach(({ bidder, max }, at) => {
          const before = state;
          const minimum = minimumNextBid(before, terms);
          const r = placeBid(before, terms, bidder, max);
          if (!r.ok) {
            if (r.code === "BID_TOO_LOW") expect(max).toBeLessThan(minimum);
            else expect(max).toBeLessThanOrEqual(before.leaderMaxMinor);
            return;
          }
          if (before.leaderId !== bidder) expect(max).toBeGreaterThanOrEqual(minimum);
          state = r.state;
          const prev = maxima.get(bidder);
          if (!prev || max > prev.max) maxima.set(bidder, { max, at });

          const ranked = [...maxima.entries()].sort(
            (x, y) => y[1].max - x[1].max || x[1].at - y[1].at,
          );
          const [top, second] = ranked;
          // One leader: the highest maximum, earliest among equals.
          expect(state.leaderId).toBe(top?.[0]);
          expect(state.leaderMaxMinor).toBe(top?.[1].max);
          // The price never passes the leader's maximum, never falls, never drops below the
          // start, and always covers every other bidder's maximum.
          expect(state.priceMinor).toBeLessThanOrEqual(state.leaderMaxMinor);
          expect(state.priceMinor).toBeGreaterThanOrEqual(before.priceMinor);
          expect(state.priceMinor).toBeGreaterThanOrEqual(terms.startPriceMinor);
          const secondMax = second?.[1].max ?? 0;
          expect(state.priceMinor).toBeGreaterThanOrEqual(secondMax);
          // …and it is no more than one increment over the runner-up, unless the start price,
          // the reserve, or an earlier price already put it higher.
          const ceiling = Math.max(
            terms.startPriceMinor,
            secondMax + incrementAt(secondMax),
            before.priceMinor,
            terms.reservePriceMinor !== null && state.leaderMaxMinor >= terms.reservePriceMinor
              ? terms.reservePriceMinor
              : 0,
          );
          expect(state.priceMinor).toBeLessThanOrEqual(ceiling);
          if (terms.reservePriceMinor !== null && state.leaderMaxMinor >= terms.reservePriceMinor) {
            expect(state.priceMinor).toBeGreaterThanOrEqual(terms.reservePriceMinor);
          }
        });
      }),
      { numRuns: 300 },
    );
  });
});
