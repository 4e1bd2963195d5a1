import { forecastDemand, HORIZON } from "./forecast.ts";
import { fitMethod, METHODS, type MethodName } from "./methods.ts";

export interface HoldoutResult {
  /** The method the backtest chose on the training part. */
  chosen: MethodName;
  /** Holdout MAE of each method fitted on the training part, and of the chosen one. */
  mae: Record<MethodName | "chosen", number>;
  /** Holdout MAE ÷ seasonal-naive's; null when seasonal-naive made no error. */
  mase: Record<MethodName | "chosen", number | null>;
}

/**
 * An honest check of the selection: the last `horizon` days are held out, the method is chosen
 * by backtest on the days before them only, and every method (and the chosen one) is scored on
 * the held-out days against seasonal-naive. Null when the training part is under 30 days.
 */
export function holdoutEvaluation(
  series: readonly number[],
  horizon = HORIZON,
): HoldoutResult | null {
  const train = series.slice(0, series.length - horizon);
  const test = series.slice(series.length - horizon);
  const result = forecastDemand(train, horizon);
  if (result.state !== "ok") return null;
  const maeOf = (mean: readonly number[]) =>
    test.reduce((s, v, i) => s + Math.abs(v - (mean[i] ?? 0)), 0) / test.length;
  const mae = {} as Record<MethodName | "chosen", number>;
  for (const m of METHODS) mae[m] = maeOf(fitMethod(m, train.slice(-365), horizon).mean);
  mae.chosen = maeOf(result.points.map((p) => p.mean));
  const base = mae.seasonal_naive;
  const mase = {} as Record<MethodName | "chosen", number | null>;
  for (const k of [...METHODS, "chosen"] as const) mase[k] = base > 0 ? mae[k] / base : null;
  return { chosen: result.method, mae, mase };
}
