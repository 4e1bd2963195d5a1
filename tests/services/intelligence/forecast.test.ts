import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { holdoutEvaluation } from "../../../src/services/intelligence/forecast/evaluate.ts";
import {
  backtest,
  candidates,
  forecastDemand,
  HORIZON,
  MIN_HISTORY_DAYS,
} from "../../../src/services/intelligence/forecast/forecast.ts";
import {
  crostonSba,
  etsAdditiveSeasonal,
  seasonalNaive,
} from "../../../src/services/intelligence/forecast/methods.ts";
import { syntheticProducts } from "../../../src/services/intelligence/forecast/synthetic.ts";

const weekly = [10, 12, 11, 13, 15, 30, 25];
const repeatWeeks = (weeks: number) =>
  Array.from({ length: weeks * 7 }, (_, t) => weekly[t % 7] ?? 0);
const series = fc.array(fc.integer({ min: 0, max: 200 }), { minLength: 30, maxLength: 120 });

describe("forecast methods", () => {
  it("seasonal-naive repeats the last observed week", () => {
    const y = [...repeatWeeks(3), 1, 2, 3, 4, 5, 6, 7];
    expect(seasonalNaive(y, 10).mean).toEqual([1, 2, 3, 4, 5, 6, 7, 1, 2, 3]);
  });

  it("ETS(A,N,A) reproduces a noiseless weekly pattern with no error", () => {
    const fit = etsAdditiveSeasonal(repeatWeeks(8), 14);
    for (const [i, v] of fit.mean.entries()) expect(v).toBeCloseTo(weekly[(8 * 7 + i) % 7] ?? 0, 6);
    expect(fit.sigma).toBeCloseTo(0, 6);
  });

  it("ETS(A,N,A) interval widths never shrink with the horizon", () => {
    fc.assert(
      fc.property(series, (y) => {
        const { sd } = etsAdditiveSeasonal(y, HORIZON);
        return sd.every((v, i) => i === 0 || v >= (sd[i - 1] ?? 0) - 1e-9);
      }),
    );
  });

  it("Croston/SBA forecasts a flat rate below the mean demand size over the mean interval", () => {
    // One unit every fourth day: Croston's rate is 1/4; SBA deflates it by (1 − α/2).
    const y = Array.from({ length: 80 }, (_, t) => (t % 4 === 3 ? 1 : 0));
    const fit = crostonSba(y, 5);
    const rate = fit.mean[0] ?? 0;
    expect(new Set(fit.mean).size).toBe(1);
    expect(rate).toBeLessThan(0.25);
    expect(rate).toBeCloseTo(0.25 * (1 - (fit.params.alpha ?? 0) / 2), 6);
  });

  it("Croston/SBA forecasts zero for a product that never sold", () => {
    expect(crostonSba(new Array(40).fill(0), 3).mean).toEqual([0, 0, 0]);
  });
});

describe("forecastDemand", () => {
  it("answers not_enough_history under 30 days, with no numbers", () => {
    const result = forecastDemand(repeatWeeks(5).slice(0, MIN_HISTORY_DAYS - 1));
    expect(result).toEqual({ state: "not_enough_history", historyDays: 29, minHistoryDays: 30 });
  });

  it("forecasts 28 days with 0 ≤ lo95 ≤ lo80 ≤ mean ≤ hi80 ≤ hi95 on any series", () => {
    fc.assert(
      fc.property(series, (y) => {
        const result = forecastDemand(y);
        if (result.state !== "ok") return false;
        return (
          result.points.length === HORIZON &&
          result.points.every(
            (p) =>
              p.lo95 >= 0 &&
              p.lo95 <= p.lo80 &&
              p.lo80 <= p.mean &&
              p.mean <= p.hi80 &&
              p.hi80 <= p.hi95,
          )
        );
      }),
      { numRuns: 60 },
    );
  });

  it("chooses the candidate with the least backtest error", () => {
    fc.assert(
      fc.property(series, (y) => {
        const result = forecastDemand(y);
        if (result.state !== "ok") return false;
        const chosen = result.backtest.scores[result.method]?.mae ?? Number.NaN;
        return Object.values(result.backtest.scores).every((s) => chosen <= (s?.mae ?? 0) + 1e-9);
      }),
      { numRuns: 40 },
    );
  });

  it("scores seasonal-naive at MASE 1 against itself", () => {
    const y = syntheticProducts({ seed: 7, products: 1, days: 120 })[0]?.series ?? [];
    expect(backtest(y, ["seasonal_naive", "ets"]).scores.seasonal_naive?.mase).toBe(1);
  });

  it("offers Croston/SBA only for intermittent demand", () => {
    expect(candidates(repeatWeeks(6))).not.toContain("croston");
    expect(candidates(Array.from({ length: 42 }, (_, t) => (t % 3 === 0 ? 2 : 0)))).toContain(
      "croston",
    );
  });
});

describe("synthetic data", () => {
  it("is the same for the same seed", () => {
    const a = syntheticProducts({ seed: 11, products: 5, days: 60 });
    const b = syntheticProducts({ seed: 11, products: 5, days: 60 });
    expect(a).toEqual(b);
  });

  it("has slow movers with mostly zero days", () => {
    const slow = syntheticProducts({ seed: 3, products: 40, days: 200 }).filter(
      (p) => p.kind === "slow",
    );
    expect(slow.length).toBeGreaterThan(0);
    for (const p of slow)
      expect(p.series.filter((v) => v === 0).length / p.series.length).toBeGreaterThan(0.4);
  });

  it("the chosen method beats seasonal-naive (MASE < 1) on a held-out month for most products", () => {
    const products = syntheticProducts({ seed: 20261203, products: 120, days: 400 });
    const results = products.map((p) => holdoutEvaluation(p.series)).filter((r) => r !== null);
    const beats = results.filter((r) => r.mase.chosen !== null && r.mase.chosen < 1).length;
    expect(results.length).toBe(products.length);
    expect(beats / results.length).toBeGreaterThan(0.5);
    // And on the fast and steady sellers, where there is a pattern to find, far more often.
    const regular = products
      .map((p, i) => ({ kind: p.kind, r: results[i] }))
      .filter((x) => x.kind !== "slow");
    const regularBeats = regular.filter((x) => (x.r?.mase.chosen ?? 2) < 1).length;
    expect(regularBeats / regular.length).toBeGreaterThan(0.7);
  });
});
