import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  demandOver,
  locationShares,
  reorderPlan,
} from "../../../src/services/intelligence/reorder.ts";

const flat = (v: number) => new Array(28).fill(v);

describe("reorderPlan", () => {
  it("puts the reorder point at lead-time demand plus z·σ·√L", () => {
    const plan = reorderPlan({
      available: 100,
      mean: flat(5),
      sigma: 2,
      leadTimeDays: 4,
      serviceLevel: 0.95,
      startDay: "2026-12-01",
    });
    expect(plan.demandOverLeadTime).toBe(20);
    // z(0.95) ≈ 1.645; 1.645 · 2 · 2 ≈ 6.58.
    expect(plan.safetyStock).toBeCloseTo(6.58, 1);
    expect(plan.reorderPoint).toBeCloseTo(26.58, 1);
    expect(plan.status).toBe("ok");
    expect(plan.suggestedQuantity).toBe(0);
  });

  it("suggests enough to cover lead time and review period when at or below the reorder point", () => {
    const plan = reorderPlan({
      available: 10,
      mean: flat(5),
      sigma: 0,
      leadTimeDays: 7,
      serviceLevel: 0.95,
      startDay: "2026-12-01",
    });
    expect(plan.status).toBe("reorder_now");
    // (7 + 14) days × 5 − 10 available.
    expect(plan.suggestedQuantity).toBe(95);
  });

  it("dates the stock-out on the day cumulative forecast demand reaches the stock", () => {
    const plan = reorderPlan({
      available: 12,
      mean: flat(5),
      sigma: 1,
      leadTimeDays: 7,
      serviceLevel: 0.9,
      startDay: "2026-12-01",
    });
    expect(plan.stockoutDay).toBe("2026-12-03");
    expect(plan.daysOfCover).toBe(2.4);
  });

  it("extends past the 28-day horizon with the last week's average", () => {
    expect(demandOver(flat(2), 35)).toBe(70);
    const plan = reorderPlan({
      available: 100,
      mean: flat(2),
      sigma: 0,
      leadTimeDays: 7,
      serviceLevel: 0.9,
      startDay: "2026-12-01",
    });
    expect(plan.stockoutDay).toBe("2027-01-19");
  });

  it("gives no stock-out date when nothing is expected to sell", () => {
    const plan = reorderPlan({
      available: 3,
      mean: flat(0),
      sigma: 0,
      leadTimeDays: 7,
      serviceLevel: 0.95,
      startDay: "2026-12-01",
    });
    expect(plan).toMatchObject({ stockoutDay: null, daysOfCover: null, status: "ok" });
  });

  it("raises the reorder point with the service level", () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.5, max: 0.98, noNaN: true }),
        fc.double({ min: 0.001, max: 0.019, noNaN: true }),
        fc.double({ min: 0.1, max: 10, noNaN: true }),
        (level, step, sigma) => {
          const at = (serviceLevel: number) =>
            reorderPlan({
              available: 0,
              mean: flat(3),
              sigma,
              leadTimeDays: 5,
              serviceLevel,
              startDay: "2026-12-01",
            }).reorderPoint;
          return at(level + step) >= at(level);
        },
      ),
    );
  });
});

describe("locationShares", () => {
  it("splits by units sold, else by stock, else all to the first location", () => {
    const locs = ["wh", "branch"];
    expect([
      ...locationShares(
        locs,
        new Map([
          ["wh", 3],
          ["branch", 1],
        ]),
        new Map(),
      ).values(),
    ]).toEqual([0.75, 0.25]);
    expect([...locationShares(locs, new Map(), new Map([["branch", 4]])).values()]).toEqual([0, 1]);
    expect([...locationShares(locs, new Map(), new Map()).values()]).toEqual([1, 0]);
  });
});
