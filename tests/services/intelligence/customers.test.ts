import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type CustomerFacts,
  churnRiskOf,
  quintile,
  scoreCustomers,
  segmentOf,
} from "../../../src/services/intelligence/customers.ts";

const now = new Date("2026-12-01T12:00:00Z");
const daysAgo = (d: number) => new Date(now.getTime() - d * 86_400_000);

function customer(
  id: string,
  p: Partial<CustomerFacts> & { lastDaysAgo: number; firstDaysAgo: number },
): CustomerFacts {
  return {
    buyerId: id,
    orders: p.orders ?? 1,
    spendMinor: p.spendMinor ?? 1000,
    currency: "EUR",
    firstPurchaseAt: daysAgo(p.firstDaysAgo),
    lastPurchaseAt: daysAgo(p.lastDaysAgo),
    typicalGapDays: p.typicalGapDays ?? null,
  };
}

describe("RFM quintiles", () => {
  it("scores every value 1 to 5, higher values never lower", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 1, maxLength: 200 }),
        (xs) => {
          const sorted = [...xs].sort((a, b) => a - b);
          const scores = sorted.map((v) => quintile(sorted, v));
          return scores.every((s, i) => s >= 1 && s <= 5 && (i === 0 || s >= (scores[i - 1] ?? 0)));
        },
      ),
    );
  });

  it("splits ten distinct values into five pairs", () => {
    const sorted = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect(sorted.map((v) => quintile(sorted, v))).toEqual([1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
  });
});

describe("segments and churn", () => {
  it("calls a first purchase within 30 days new, whatever the scores", () => {
    expect(
      segmentOf({ recencyScore: 1, frequencyScore: 1, monetaryScore: 1, churnRisk: "high" }, 10),
    ).toBe("new");
  });

  it("names champions, loyal, at risk, lost and hibernating by their scores", () => {
    const seg = (r: number, f: number, m: number, churnRisk: "high" | "low" = "high") =>
      segmentOf({ recencyScore: r, frequencyScore: f, monetaryScore: m, churnRisk }, 400);
    expect(seg(5, 5, 5)).toBe("champions");
    expect(seg(3, 3, 1)).toBe("loyal");
    expect(seg(2, 4, 4)).toBe("at_risk");
    expect(seg(1, 1, 5)).toBe("lost");
    expect(seg(2, 1, 1)).toBe("hibernating");
  });

  it("keeps a frequent buyer still on their own rhythm loyal, whatever the recency quintile", () => {
    expect(
      segmentOf({ recencyScore: 2, frequencyScore: 4, monetaryScore: 4, churnRisk: "low" }, 400),
    ).toBe("loyal");
  });

  it("rates churn by days since the last purchase against the customer's own gap", () => {
    expect(churnRiskOf(10, 10)).toBe("low");
    expect(churnRiskOf(15, 10)).toBe("medium");
    expect(churnRiskOf(30, 10)).toBe("high");
  });

  it("gives one-purchase customers the shop's median gap", () => {
    const [, once] = scoreCustomers(
      [
        customer("a", { orders: 5, firstDaysAgo: 100, lastDaysAgo: 2, typicalGapDays: 20 }),
        customer("b", { orders: 1, firstDaysAgo: 45, lastDaysAgo: 45 }),
      ],
      now,
    );
    // 45 days against the shop's 20-day gap: over 2×, under 3×.
    expect(once?.churnRisk).toBe("medium");
  });

  it("flags a frequent buyer who stopped as at risk with high churn risk", () => {
    const facts = [
      customer("regular", {
        orders: 12,
        spendMinor: 90_000,
        firstDaysAgo: 300,
        lastDaysAgo: 90,
        typicalGapDays: 14,
      }),
      ...Array.from({ length: 9 }, (_, i) =>
        customer(`c${i}`, {
          orders: 1 + (i % 3),
          spendMinor: 1000 * (i + 1),
          firstDaysAgo: 200,
          lastDaysAgo: i * 3,
          typicalGapDays: 30,
        }),
      ),
    ];
    const regular = scoreCustomers(facts, now).find((c) => c.buyerId === "regular");
    expect(regular).toMatchObject({ segment: "at_risk", churnRisk: "high", daysSinceLast: 90 });
  });
});
