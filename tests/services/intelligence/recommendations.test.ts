import { describe, expect, it } from "vitest";
import type { CustomerInsight } from "../../../src/services/intelligence/customers.ts";
import {
  generateRecommendations,
  type ProductSignals,
} from "../../../src/services/intelligence/recommendations.ts";
import { reorderPlan } from "../../../src/services/intelligence/reorder.ts";

const today = "2026-12-01";

function signals(
  p: Partial<ProductSignals> & { available: number; daily: number },
): ProductSignals {
  const plan = reorderPlan({
    available: p.available,
    mean: new Array(28).fill(p.daily),
    sigma: 1,
    leadTimeDays: 7,
    serviceLevel: 0.95,
    startDay: today,
  });
  return {
    productId: "0192f0c1-7a4e-7c39-9a51-0c3c1f1e2a7b",
    sku: "SKU-1",
    title: "Widget",
    forecastState: "ok",
    method: "ets",
    leadTimeDays: 7,
    serviceLevel: 0.95,
    settings: { leadTimeDays: "default", serviceLevel: "default" },
    locations: [
      {
        locationId: "wh",
        code: "WH",
        name: "Warehouse",
        available: p.available,
        share: 1,
        ...plan,
      },
    ],
    recent: null,
    unitsLast28: Math.round(p.daily * 28),
    lastSaleDay: "2026-11-30",
    historyDays: 120,
    ...p,
  };
}

function customer(p: Partial<CustomerInsight>): CustomerInsight {
  return {
    buyerId: "b",
    orders: 6,
    spendMinor: 10_000,
    currency: "EUR",
    firstPurchaseAt: new Date("2026-01-01"),
    lastPurchaseAt: new Date("2026-08-01"),
    typicalGapDays: 10,
    daysSinceLast: 120,
    recencyScore: 1,
    frequencyScore: 5,
    monetaryScore: 5,
    segment: "at_risk",
    churnRisk: "high",
    ...p,
  };
}

const kinds = (recs: ReturnType<typeof generateRecommendations>) => recs.map((r) => r.kind);

describe("generateRecommendations", () => {
  it("asks for a high-urgency reorder when stock runs out before an order could arrive", () => {
    const [rec] = generateRecommendations({
      today,
      customers: [],
      products: [signals({ available: 10, daily: 5 })],
    });
    expect(rec).toMatchObject({ kind: "reorder", urgency: "high" });
    expect(rec?.figures).toMatchObject({ stockoutDay: "2026-12-02", arrivalDay: "2026-12-08" });
  });

  it("flags a product selling above the 80% bound of its forecast", () => {
    const recs = generateRecommendations({
      today,
      customers: [],
      products: [
        signals({ available: 500, daily: 5, recent: { actual7: 60, expected7: 35, upper80: 42 } }),
      ],
    });
    expect(recs.find((r) => r.kind === "restock_above_forecast")?.figures).toMatchObject({
      actual7: 60,
      upper80: 42,
    });
  });

  it("does not call a week within its forecast band above forecast", () => {
    const recs = generateRecommendations({
      today,
      customers: [],
      products: [
        signals({ available: 500, daily: 5, recent: { actual7: 40, expected7: 35, upper80: 42 } }),
      ],
    });
    expect(kinds(recs)).not.toContain("restock_above_forecast");
  });

  it("suggests moving stock with months of cover", () => {
    const recs = generateRecommendations({
      today,
      customers: [],
      products: [signals({ available: 300, daily: 1 })],
    });
    expect(recs.find((r) => r.kind === "move_slow_stock")?.figures).toMatchObject({
      daysOfCover: 300,
    });
  });

  it("raises one win-back for the shop, high when at-risk customers hold a fifth of spend", () => {
    const recs = generateRecommendations({
      today,
      products: [],
      customers: [
        customer({ buyerId: "a" }),
        customer({ buyerId: "c", segment: "loyal", churnRisk: "low", spendMinor: 20_000 }),
      ],
    });
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      kind: "win_back",
      urgency: "high",
      figures: { customers: 1, spendAtStakeMinor: 10_000 },
    });
  });
});
