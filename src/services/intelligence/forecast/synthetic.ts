/**
 * Synthetic daily demand for tests and `npm run bench:forecast`: weekly and yearly seasonality,
 * a trend, promotions, and slow movers with intermittent demand, all from a seed so a run can
 * be repeated exactly. Pure: no clock, no I/O.
 */

/** mulberry32: a small seedable PRNG, uniform on [0, 1). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A Poisson draw: Knuth's product method for small rates, a rounded normal for large ones. */
export function poisson(rand: () => number, lambda: number): number {
  if (lambda <= 0) return 0;
  if (lambda > 30) {
    const u = Math.max(rand(), 1e-12);
    const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
    return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * z));
  }
  const limit = Math.exp(-lambda);
  let k = 0;
  let p = rand();
  while (p > limit) {
    k += 1;
    p *= rand();
  }
  return k;
}

export type ProductKind = "fast" | "steady" | "slow";

export interface SyntheticProduct {
  id: string;
  kind: ProductKind;
  /** Daily units, oldest first. */
  series: number[];
  /** The expected demand behind each day (before the Poisson draw). */
  rate: number[];
}

export interface SyntheticOptions {
  seed: number;
  products: number;
  days: number;
  /** Share of slow movers (intermittent demand); the rest are split between fast and steady. */
  slowShare?: number;
  /** Weekday of day 0 (0 = Monday). */
  startWeekday?: number;
}

/**
 * One product's expected daily demand: base level × weekly profile × (1 + yearly wave) ×
 * (1 + trend·t) × promotion lift, where promotions are one-week bursts a few times a year.
 */
function rates(rand: () => number, kind: ProductKind, days: number, startWeekday: number) {
  const level =
    kind === "fast" ? 15 + rand() * 35 : kind === "steady" ? 3 + rand() * 9 : 0.05 + rand() * 0.4;
  const weekendLift = kind === "slow" ? 0.3 : 0.3 + rand() * 0.7;
  const weekly = Array.from({ length: 7 }, (_, d) =>
    d >= 5 ? 1 + weekendLift : 1 - weekendLift / 5 + (rand() - 0.5) * 0.2,
  );
  const yearlyAmp = kind === "slow" ? 0.2 : 0.1 + rand() * 0.3;
  const phase = rand() * 2 * Math.PI;
  const trend = (rand() - 0.4) * (kind === "slow" ? 0.001 : 0.002);
  const promoDays = new Set<number>();
  const promos = kind === "slow" ? 0 : Math.floor(days / 120);
  for (let p = 0; p < promos; p++) {
    const start = Math.floor(rand() * Math.max(1, days - 7));
    for (let d = start; d < start + 7; d++) promoDays.add(d);
  }
  const promoLift = 1.5 + rand();
  return Array.from({ length: days }, (_, t) => {
    const dow = (startWeekday + t) % 7;
    const season = 1 + yearlyAmp * Math.sin((2 * Math.PI * t) / 365 + phase);
    const growth = Math.max(0.2, 1 + trend * t);
    const promo = promoDays.has(t) ? promoLift : 1;
    return level * (weekly[dow] ?? 1) * season * growth * promo;
  });
}

/** A catalogue of synthetic products; the same options always give the same series. */
export function syntheticProducts(opts: SyntheticOptions): SyntheticProduct[] {
  const rand = rng(opts.seed);
  const slowShare = opts.slowShare ?? 0.3;
  return Array.from({ length: opts.products }, (_, i) => {
    const u = rand();
    const kind: ProductKind =
      u < slowShare ? "slow" : u < slowShare + (1 - slowShare) / 2 ? "fast" : "steady";
    const rate = rates(rand, kind, opts.days, opts.startWeekday ?? 0);
    const series = rate.map((r) => poisson(rand, r));
    return { id: `synthetic-${opts.seed}-${i}`, kind, series, rate };
  });
}
