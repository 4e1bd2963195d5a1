/**
 * Months of demo sales for `npm run seed -- --sales-months N`, planned without a database: the
 * products' daily demand comes from the forecast bench's generator
 * (src/services/intelligence/forecast/synthetic.ts: weekly and yearly seasonality, trend, one-week
 * promotions, slow movers with intermittent demand), scaled to a small shop; each day's units
 * become orders of one to three units paid by customers with habits (weekly regulars, monthly,
 * occasional, lapsed ones who stopped a few months ago, newcomers of the last weeks), some as
 * offline sales at the shop's till, a few refunded or cancelled. Pure and seeded: the same
 * options always give the same plan, ids included.
 */
import {
  poisson,
  rng,
  syntheticProducts,
} from "../../src/services/intelligence/forecast/synthetic.ts";

const DAY_MS = 86_400_000;

export interface DemoProduct {
  id: string;
  shopId: string;
  priceMinor: number;
}

export type Habit = "weekly" | "monthly" | "occasional" | "lapsed" | "new";

export interface DemoCustomer {
  email: string;
  name: string;
  /** The shop they buy from. */
  shopId: string;
  habit: Habit;
  /** How often they buy on a day they are active (orders per day, roughly). */
  weight: number;
  /** The first and last day index (inclusive) they buy. */
  firstDay: number;
  lastDay: number;
}

export interface PlannedOrder {
  id: string;
  shopId: string;
  productId: string;
  customer: string;
  quantity: number;
  unitPriceMinor: number;
  paidAt: Date;
  status: "paid" | "delivered" | "partially_refunded" | "cancelled";
  refundedMinor: number;
}

export interface PlannedOfflineSale {
  id: string;
  shopId: string;
  productId: string;
  quantity: number;
  unitPriceMinor: number;
  soldAt: Date;
  /** Half the till's customers give an email; the others stay anonymous. */
  customer: string | null;
}

export interface SalesPlanOptions {
  seed: number;
  /** Days of history, ending the day before `today`. */
  days: number;
  /** Midnight UTC of the day the plan ends before (nothing is sold on it or later). */
  today: Date;
  products: DemoProduct[];
  /** Multiplies the generator's demand (made for a busy catalogue) down to a small shop's. */
  scale?: number;
  /** Share of units sold at the till rather than online. */
  offlineShare?: number;
}

export interface SalesPlan {
  customers: DemoCustomer[];
  orders: PlannedOrder[];
  offline: PlannedOfflineSale[];
}

/** Each habit's share of a shop's customers and how often one buys on a day they are active. */
const HABITS: Array<{ habit: Habit; share: number; perDay: number }> = [
  { habit: "weekly", share: 0.1, perDay: 1 / 7 },
  { habit: "monthly", share: 0.25, perDay: 1 / 30 },
  { habit: "occasional", share: 0.35, perDay: 1 / 90 },
  { habit: "lapsed", share: 0.15, perDay: 1 / 10 },
  { habit: "new", share: 0.15, perDay: 1 / 14 },
];
const MEAN_PER_DAY = HABITS.reduce((s, h) => s + h.share * h.perDay, 0);
/** Units in one order, on average (one 70 %, two 23 %, three 7 %). */
const UNITS_PER_ORDER = 1.37;

const FIRST = ["Ana", "Ben", "Chloé", "Dara", "Emil", "Farah", "Goran", "Hana", "Ivo", "Jade"];
const LAST = ["Silva", "Okafor", "Müller", "Rossi", "Nakamura", "Dubois", "Khan", "Novak"];

/** A UUIDv7 of `ms` whose random bits come from the plan's generator: sortable, repeatable. */
function idAt(ms: number, rand: () => number): string {
  const hex = (n: number, width: number) => Math.floor(n).toString(16).padStart(width, "0");
  const t = hex(ms, 12);
  const r = () => hex(rand() * 0x10000, 4);
  const variant = hex(0x8000 | (rand() * 0x4000), 4);
  return `${t.slice(0, 8)}-${t.slice(8)}-7${r().slice(1)}-${variant}-${r()}${r()}${r()}`;
}

/** `count` customers of one shop, numbered from `first`, habits drawn by share. */
function planCustomers(
  rand: () => number,
  shopId: string,
  first: number,
  count: number,
  days: number,
): DemoCustomer[] {
  return Array.from({ length: count }, (_, i) => {
    const u = rand();
    let below = 0;
    const kind = HABITS.find((h) => {
      below += h.share;
      return u < below;
    });
    const habit = kind?.habit ?? "occasional";
    // Lapsed customers stop 60 to 150 days before the end; newcomers start in the last 45.
    const lastDay = habit === "lapsed" ? days - 60 - Math.floor(rand() * 90) : days - 1;
    const firstDay = habit === "new" ? days - 1 - Math.floor(rand() * 45) : 0;
    const given = FIRST[Math.floor(rand() * FIRST.length)] ?? "Sam";
    const family = LAST[Math.floor(rand() * LAST.length)] ?? "Lee";
    return {
      email: `shopper-${String(first + i + 1).padStart(4, "0")}@souk.example`,
      name: `${given} ${family}`,
      shopId,
      habit,
      weight: (kind?.perDay ?? MEAN_PER_DAY) * (0.5 + rand()),
      firstDay: Math.max(0, firstDay),
      lastDay: Math.max(0, lastDay),
    };
  });
}

/** Draws one of the shop's customers active on `day`, by how often each buys. */
function drawCustomer(rand: () => number, customers: DemoCustomer[], day: number): string {
  const active = customers.filter((c) => c.firstDay <= day && day <= c.lastDay);
  const pool = active.length > 0 ? active : customers;
  const total = pool.reduce((s, c) => s + c.weight, 0);
  let u = rand() * total;
  for (const c of pool) {
    u -= c.weight;
    if (u < 0) return c.email;
  }
  return pool.at(-1)?.email ?? "shopper-0001@souk.example";
}

/** The whole plan: see the module comment. */
export function planDemoSales(opts: SalesPlanOptions): SalesPlan {
  const rand = rng(opts.seed);
  const scale = opts.scale ?? 0.1;
  const offlineShare = opts.offlineShare ?? 0.12;
  const start = opts.today.getTime() - opts.days * DAY_MS;
  // The generator's weekday 0 is Monday; JavaScript's getUTCDay() calls Sunday 0.
  const startWeekday = (new Date(start).getUTCDay() + 6) % 7;
  const demand = syntheticProducts({
    seed: opts.seed,
    products: opts.products.length,
    days: opts.days,
    startWeekday,
  });
  // Enough customers per shop that each one's habit shows: orders a day ÷ a customer's rate.
  const shopIds = [...new Set(opts.products.map((p) => p.shopId))];
  const customersOf = new Map<string, DemoCustomer[]>();
  for (const shopId of shopIds) {
    const unitsPerDay = opts.products.reduce((sum, p, i) => {
      if (p.shopId !== shopId) return sum;
      const rate = demand[i]?.rate ?? [];
      return sum + (rate.reduce((a, b) => a + b, 0) / Math.max(1, rate.length)) * scale;
    }, 0);
    const ordersPerDay = (unitsPerDay * (1 - offlineShare)) / UNITS_PER_ORDER;
    const count = Math.max(12, Math.round(ordersPerDay / MEAN_PER_DAY));
    const numbered = [...customersOf.values()].reduce((n, list) => n + list.length, 0);
    customersOf.set(shopId, planCustomers(rand, shopId, numbered, count, opts.days));
  }
  const customers = [...customersOf.values()].flat();
  const orders: PlannedOrder[] = [];
  const offline: PlannedOfflineSale[] = [];
  for (let day = 0; day < opts.days; day++) {
    const dayStart = start + day * DAY_MS;
    const recent = opts.days - day <= 3;
    for (const [i, product] of opts.products.entries()) {
      const regulars = customersOf.get(product.shopId) ?? customers;
      let units = poisson(rand, (demand[i]?.rate[day] ?? 0) * scale);
      while (units > 0) {
        const u = rand();
        const quantity = Math.min(units, u < 0.7 ? 1 : u < 0.93 ? 2 : 3);
        units -= quantity;
        // Shops open 08:00 to 21:00 UTC; orders land at any minute of it.
        const at = new Date(dayStart + (8 * 60 + Math.floor(rand() * 13 * 60)) * 60_000);
        const base = { shopId: product.shopId, productId: product.id, quantity };
        const unitPriceMinor = product.priceMinor;
        if (rand() < offlineShare) {
          const known = rand() < 0.5 ? drawCustomer(rand, regulars, day) : null;
          offline.push({
            id: idAt(at.getTime(), rand),
            ...base,
            unitPriceMinor,
            soldAt: at,
            customer: known,
          });
          continue;
        }
        const fate = rand();
        const status =
          fate < 0.01
            ? "cancelled"
            : fate < 0.04
              ? "partially_refunded"
              : recent
                ? "paid"
                : "delivered";
        orders.push({
          id: idAt(at.getTime(), rand),
          ...base,
          customer: drawCustomer(rand, regulars, day),
          unitPriceMinor,
          paidAt: at,
          status,
          refundedMinor:
            status === "cancelled"
              ? unitPriceMinor * quantity
              : status === "partially_refunded"
                ? Math.floor((unitPriceMinor * quantity) / 4)
                : 0,
        });
      }
    }
  }
  return { customers, orders, offline };
}
