import { probit } from "simple-statistics";
import { fitMethod, type MethodName, SEASON } from "./methods.ts";

/** Days forecast ahead. */
export const HORIZON = 28;
/** Fewer days of history than this: no forecast, the `not_enough_history` state. */
export const MIN_HISTORY_DAYS = 30;
/** At most this much history is fitted (the most recent days): bounds the CPU per product. */
export const MAX_HISTORY_DAYS = 365;
/** Croston/SBA is a candidate only when at least this share of the days sold nothing. */
export const INTERMITTENT_ZERO_SHARE = 0.3;
/** Rolling-origin backtest: up to this many origins, a week apart, the last one horizon-days back. */
export const BACKTEST_ORIGINS = 8;
/** The shortest training window a backtest origin may leave. */
const MIN_TRAIN_DAYS = 21;

export interface ForecastPoint {
  /** Steps ahead: 1 is the day after the last observed one. */
  step: number;
  mean: number;
  lo80: number;
  hi80: number;
  lo95: number;
  hi95: number;
}

export interface MethodScore {
  /** Mean absolute error over every backtest window. */
  mae: number;
  /**
   * MAE divided by seasonal-naive's MAE on the same windows ("MASE against seasonal-naive"):
   * below 1 beats it; seasonal-naive itself scores 1. Null when seasonal-naive made no error.
   */
  mase: number | null;
  /** The textbook MASE: scaled by the in-sample one-step seasonal-naive MAE of each window. */
  maseInSample: number | null;
}

export interface Backtest {
  origins: number;
  horizon: number;
  scores: Partial<Record<MethodName, MethodScore>>;
}

export type DemandForecast =
  | { state: "not_enough_history"; historyDays: number; minHistoryDays: number }
  | {
      state: "ok";
      historyDays: number;
      method: MethodName;
      params: Record<string, number>;
      /** One-step error sd of the chosen method: reorder points draw safety stock from it. */
      sigma: number;
      points: ForecastPoint[];
      backtest: Backtest;
    };

const Z80 = probit(0.9);
const Z95 = probit(0.975);

/** The methods worth trying on this series: Croston/SBA only where demand is intermittent. */
export function candidates(y: readonly number[]): MethodName[] {
  const zeros = y.filter((v) => v === 0).length;
  const intermittent = y.length > 0 && zeros / y.length >= INTERMITTENT_ZERO_SHARE;
  return intermittent ? ["seasonal_naive", "croston", "ets"] : ["seasonal_naive", "ets"];
}

function inSampleScale(train: readonly number[]): number {
  let s = 0;
  for (let t = SEASON; t < train.length; t++) {
    s += Math.abs((train[t] ?? 0) - (train[t - SEASON] ?? 0));
  }
  return train.length > SEASON ? s / (train.length - SEASON) : 0;
}

/**
 * Rolling-origin backtest: at each origin (the last one `horizon` days before the end, the
 * others a week apart before it) every candidate is fitted on the days before the origin and
 * forecasts the next `horizon` days; errors are pooled over origins. A short series gets a
 * shorter horizon (a quarter of its length, at least a week) so it still has a test.
 */
export function backtest(
  y: readonly number[],
  methods: readonly MethodName[],
  horizon = HORIZON,
): Backtest {
  const h = Math.max(SEASON, Math.min(horizon, Math.floor(y.length / 4)));
  const origins: number[] = [];
  for (let i = 0; i < BACKTEST_ORIGINS; i++) {
    const origin = y.length - h - i * SEASON;
    if (origin >= MIN_TRAIN_DAYS) origins.push(origin);
  }
  const abs: Record<string, number> = {};
  const scaled: Record<string, number> = {};
  let scaledCount = 0;
  let points = 0;
  for (const origin of origins) {
    const train = y.slice(0, origin);
    const test = y.slice(origin, origin + h);
    const scale = inSampleScale(train);
    if (scale > 0) scaledCount += 1;
    for (const method of methods) {
      const fit = fitMethod(method, train, test.length);
      let e = 0;
      for (let i = 0; i < test.length; i++) e += Math.abs((test[i] ?? 0) - (fit.mean[i] ?? 0));
      abs[method] = (abs[method] ?? 0) + e;
      if (scale > 0) scaled[method] = (scaled[method] ?? 0) + e / test.length / scale;
    }
    points += test.length;
  }
  const base = abs.seasonal_naive ?? 0;
  const scores: Partial<Record<MethodName, MethodScore>> = {};
  for (const method of methods) {
    const total = abs[method] ?? 0;
    scores[method] = {
      mae: points > 0 ? total / points : 0,
      mase: base > 0 ? total / base : null,
      maseInSample: scaledCount > 0 ? (scaled[method] ?? 0) / scaledCount : null,
    };
  }
  return { origins: origins.length, horizon: h, scores };
}

/** The candidate with the least backtest MAE; ties go to the earlier (simpler) one. */
export function choose(result: Backtest, methods: readonly MethodName[]): MethodName {
  let best: MethodName = methods[0] ?? "seasonal_naive";
  let bestMae = Number.POSITIVE_INFINITY;
  for (const m of methods) {
    const mae = result.scores[m]?.mae ?? Number.POSITIVE_INFINITY;
    if (mae < bestMae - 1e-12) {
      best = m;
      bestMae = mae;
    }
  }
  return best;
}

const round = (v: number) => Math.round(v * 1000) / 1000;

/**
 * The 28-day forecast of a daily demand series (oldest first, ending with the last complete
 * day): the method chosen per series by backtest, its mean per day and 80%/95% intervals
 * (normal, clipped at zero). Fewer than 30 days: `not_enough_history`, never a made-up number.
 */
export function forecastDemand(series: readonly number[], horizon = HORIZON): DemandForecast {
  if (series.length < MIN_HISTORY_DAYS) {
    return {
      state: "not_enough_history",
      historyDays: series.length,
      minHistoryDays: MIN_HISTORY_DAYS,
    };
  }
  const y = series.slice(-MAX_HISTORY_DAYS);
  const methods = candidates(y);
  const tested = backtest(y, methods, horizon);
  const method = choose(tested, methods);
  const fit = fitMethod(method, y, horizon);
  const points = fit.mean.map((mean, i) => {
    const sd = fit.sd[i] ?? 0;
    return {
      step: i + 1,
      mean: round(mean),
      lo80: round(Math.max(0, mean - Z80 * sd)),
      hi80: round(mean + Z80 * sd),
      lo95: round(Math.max(0, mean - Z95 * sd)),
      hi95: round(mean + Z95 * sd),
    };
  });
  return {
    state: "ok",
    historyDays: series.length,
    method,
    params: fit.params,
    sigma: round(fit.sigma),
    points,
    backtest: tested,
  };
}

/**
 * How the last 7 days sold against what `method`, fitted on the days before them, expected:
 * the expected sum and its 80% upper bound (errors taken as independent across days). Null
 * when the series is too short to leave 30 days of training.
 */
export function recentCheck(
  series: readonly number[],
  method: MethodName,
): { actual7: number; expected7: number; upper80: number } | null {
  if (series.length < MIN_HISTORY_DAYS + 7) return null;
  const y = series.slice(-MAX_HISTORY_DAYS);
  const fit = fitMethod(method, y.slice(0, -7), 7);
  const expected = fit.mean.reduce((a, b) => a + b, 0);
  const sd = Math.sqrt(fit.sd.reduce((a, b) => a + b * b, 0));
  return {
    actual7: y.slice(-7).reduce((a, b) => a + b, 0),
    expected7: round(expected),
    upper80: round(expected + Z80 * sd),
  };
}
