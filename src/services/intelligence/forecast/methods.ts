/**
 * The three forecasting methods, as pure functions of a daily demand series (oldest first, one
 * value per UTC day, zeros included): no I/O, no clock. Each fits on the series and answers a
 * `Fit`: the mean demand for each of the next `horizon` days and the standard deviation of the
 * error at each step, from which the caller draws its intervals.
 *
 * Hand-written: no npm package does ETS with its variance formulas or Croston/SBA properly
 * (the Holt-Winters ones found have no intervals, no fitting, or are years unmaintained); the
 * normal quantiles come from simple-statistics (`intervals.ts`).
 */

/** Weekly seasonality: the period of every seasonal method here. */
export const SEASON = 7;

export interface Fit {
  /** Mean daily demand for steps 1…horizon (never negative). */
  mean: number[];
  /** Standard deviation of the forecast error at each step. */
  sd: number[];
  /** Standard deviation of the one-step in-sample errors. */
  sigma: number;
  /** The smoothing parameters chosen (empty for seasonal-naive). */
  params: Record<string, number>;
}

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

/**
 * Seasonal-naive: each day of the week repeats its value of the last observed week. Error
 * variance from the in-sample seasonal differences, growing with the number of whole seasons
 * ahead (sd·√(k+1)).
 */
export function seasonalNaive(y: readonly number[], horizon: number, m = SEASON): Fit {
  const n = y.length;
  if (n < m) throw new RangeError(`seasonal-naive needs at least ${m} observations`);
  const mean = Array.from({ length: horizon }, (_, h) => y[n - m + (h % m)] ?? 0);
  let sq = 0;
  for (let t = m; t < n; t++) sq += ((y[t] ?? 0) - (y[t - m] ?? 0)) ** 2;
  const sigma = n > m ? Math.sqrt(sq / (n - m)) : 0;
  const sd = Array.from({ length: horizon }, (_, h) => sigma * Math.sqrt(Math.floor(h / m) + 1));
  return { mean, sd, sigma, params: {} };
}

/** The smoothing parameters ETS(A,N,A) tries; the pair with the least one-step SSE wins. */
export const ETS_ALPHAS = [0.02, 0.05, 0.1, 0.2, 0.3, 0.5] as const;
export const ETS_GAMMAS = [0.01, 0.05, 0.1, 0.2] as const;

interface EtsState {
  level: number;
  season: number[];
  sse: number;
  count: number;
}

/** Runs ETS(A,N,A) over the series with fixed parameters; the SSE skips the first season. */
function runEts(y: readonly number[], alpha: number, gamma: number, m: number): EtsState {
  // Initial state from the first two seasons (or as many whole ones as there are):
  // level = their mean, season j = mean of position j − level.
  const k = Math.max(1, Math.min(2, Math.floor(y.length / m)));
  const first = y.slice(0, k * m);
  let level = sum(first) / first.length;
  const season = Array.from({ length: m }, (_, j) => {
    let s = 0;
    for (let i = 0; i < k; i++) s += y[i * m + j] ?? 0;
    return s / k - level;
  });
  let sse = 0;
  let count = 0;
  for (let t = 0; t < y.length; t++) {
    const j = t % m;
    const s = season[j] ?? 0;
    const e = (y[t] ?? 0) - (level + s);
    if (t >= m) {
      sse += e * e;
      count += 1;
    }
    level += alpha * e;
    season[j] = s + gamma * e;
  }
  return { level, season, sse, count };
}

/**
 * ETS(A,N,A), additive Holt-Winters without trend: level + weekly season, both updated by the
 * one-step error. α and γ by grid search on the one-step SSE. Forecast variance (Hyndman et
 * al., class 1): σ²·[1 + (h−1)α² + k·γ(2α + γ)], k = ⌊(h−1)/m⌋.
 */
export function etsAdditiveSeasonal(y: readonly number[], horizon: number, m = SEASON): Fit {
  const n = y.length;
  if (n < 2 * m) throw new RangeError(`ETS(A,N,A) needs at least ${2 * m} observations`);
  let best: { alpha: number; gamma: number; state: EtsState } | null = null;
  for (const alpha of ETS_ALPHAS) {
    for (const gamma of ETS_GAMMAS) {
      const state = runEts(y, alpha, gamma, m);
      if (!best || state.sse < best.state.sse) best = { alpha, gamma, state };
    }
  }
  if (!best) throw new Error("unreachable: the grid is not empty");
  const { alpha, gamma, state } = best;
  // Parameters estimated: α, γ, the level and m − 1 free seasonal states.
  const dof = Math.max(1, state.count - (m + 2));
  const sigma = Math.sqrt(state.sse / dof);
  const mean: number[] = [];
  const sd: number[] = [];
  for (let h = 1; h <= horizon; h++) {
    const j = (n + h - 1) % m;
    mean.push(Math.max(0, state.level + (state.season[j] ?? 0)));
    const k = Math.floor((h - 1) / m);
    sd.push(sigma * Math.sqrt(1 + (h - 1) * alpha * alpha + k * gamma * (2 * alpha + gamma)));
  }
  return { mean, sd, sigma, params: { alpha, gamma } };
}

/** The smoothing constants Croston/SBA tries; the least one-step MSE wins. */
export const CROSTON_ALPHAS = [0.05, 0.1, 0.2, 0.3] as const;

interface CrostonRun {
  /** The SBA rate after the last observation (0 when nothing ever sold). */
  rate: number;
  sse: number;
  count: number;
}

function runCroston(y: readonly number[], alpha: number): CrostonRun {
  const firstSale = y.findIndex((v) => v > 0);
  if (firstSale < 0) return { rate: 0, sse: 0, count: 0 };
  // Initialised on the first demand: its size, and the days up to it as the first interval.
  let size = y[firstSale] ?? 0;
  let interval = firstSale + 1;
  let since = 0;
  let sse = 0;
  let count = 0;
  const sba = 1 - alpha / 2;
  for (let t = firstSale + 1; t < y.length; t++) {
    const v = y[t] ?? 0;
    const f = (sba * size) / interval;
    sse += (v - f) ** 2;
    count += 1;
    since += 1;
    if (v > 0) {
      size += alpha * (v - size);
      interval += alpha * (since - interval);
      since = 0;
    }
  }
  return { rate: (sba * size) / interval, sse, count };
}

/**
 * Croston's method with the Syntetos-Boylan approximation for intermittent demand: demand sizes
 * and the intervals between demands are smoothed apart and the daily rate is (1 − α/2)·z/p, a
 * flat line. Croston has no underlying model for its variance; the error sd is the one-step
 * in-sample one, the same at every step.
 */
export function crostonSba(y: readonly number[], horizon: number): Fit {
  let best: { alpha: number; run: CrostonRun } | null = null;
  for (const alpha of CROSTON_ALPHAS) {
    const run = runCroston(y, alpha);
    if (!best || (run.count > 0 && run.sse < best.run.sse)) best = { alpha, run };
  }
  if (!best) throw new Error("unreachable: the grid is not empty");
  const { alpha, run } = best;
  const sigma = run.count > 1 ? Math.sqrt(run.sse / (run.count - 1)) : 0;
  return {
    mean: Array.from({ length: horizon }, () => run.rate),
    sd: Array.from({ length: horizon }, () => sigma),
    sigma,
    params: { alpha },
  };
}

export const METHODS = ["ets", "croston", "seasonal_naive"] as const;
export type MethodName = (typeof METHODS)[number];

export function fitMethod(method: MethodName, y: readonly number[], horizon: number): Fit {
  switch (method) {
    case "ets":
      return etsAdditiveSeasonal(y, horizon);
    case "croston":
      return crostonSba(y, horizon);
    case "seasonal_naive":
      return seasonalNaive(y, horizon);
  }
}
