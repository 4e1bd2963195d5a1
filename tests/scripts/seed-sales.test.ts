import { describe, expect, it } from "vitest";
import { planDemoSales, type SalesPlanOptions } from "../../scripts/seed/sales.ts";

const options: SalesPlanOptions = {
  seed: 7,
  days: 182,
  today: new Date(Date.UTC(2026, 11, 3)),
  products: Array.from({ length: 9 }, (_, i) => ({
    id: `product-${i}`,
    shopId: `shop-${i % 3}`,
    priceMinor: 1000 + 250 * i,
  })),
};

describe("the demo sales plan of npm run seed", () => {
  it("is the same plan, ids included, for the same options, and another for another seed", () => {
    const a = planDemoSales(options);
    const b = planDemoSales(options);
    const other = planDemoSales({ ...options, seed: 8 });
    expect(b).toEqual(a);
    expect(a.orders.length).toBeGreaterThan(500);
    expect(other.orders.map((o) => o.id)).not.toEqual(a.orders.map((o) => o.id));
  });

  it("sells more at weekends than on weekdays, and nothing from the plan's day on", () => {
    const { orders, offline } = planDemoSales(options);
    const units = Array(7).fill(0) as number[];
    for (const s of [
      ...orders.map((o) => ({ at: o.paidAt, q: o.quantity })),
      ...offline.map((s) => ({ at: s.soldAt, q: s.quantity })),
    ]) {
      units[s.at.getUTCDay()] = (units[s.at.getUTCDay()] ?? 0) + s.q;
    }
    const weekend = ((units[0] ?? 0) + (units[6] ?? 0)) / 2;
    const weekday = units.slice(1, 6).reduce((a, b) => a + b, 0) / 5;
    expect(weekend).toBeGreaterThan(weekday * 1.3);
    const last = Math.max(...orders.map((o) => o.paidAt.getTime()));
    expect(last).toBeLessThan(options.today.getTime());
  });

  it("gives customers their habits: a weekly regular buys far more often than an occasional one, a lapsed one stops", () => {
    const { customers, orders } = planDemoSales({ ...options, days: 365 });
    const count = new Map<string, number>();
    const lastAt = new Map<string, number>();
    for (const o of orders) {
      count.set(o.customer, (count.get(o.customer) ?? 0) + 1);
      lastAt.set(o.customer, Math.max(lastAt.get(o.customer) ?? 0, o.paidAt.getTime()));
    }
    const mean = (habit: string) => {
      const of = customers.filter((c) => c.habit === habit);
      return of.reduce((s, c) => s + (count.get(c.email) ?? 0), 0) / of.length;
    };
    expect(mean("weekly")).toBeGreaterThan(4 * mean("occasional"));
    const sixtyDaysAgo = options.today.getTime() - 60 * 86_400_000;
    for (const c of customers.filter((x) => x.habit === "lapsed")) {
      expect(lastAt.get(c.email) ?? 0).toBeLessThan(sixtyDaysAgo);
    }
  });
});
