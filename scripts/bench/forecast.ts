/**
 * npm run bench:forecast: pure computation, no stack. Synthetic products (weekly and yearly
 * seasonality, trend, promotions, slow movers; fixed seed), the last 28 days of each held out;
 * the method is chosen by rolling-origin backtest on the days before, then every method and the
 * chosen one are scored on the held-out days as MASE against seasonal-naive (MAE ÷ seasonal-
 * naive's MAE, so below 1 beats it). Prints a table and writes it to .bench/forecast.md.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { holdoutEvaluation } from "../../src/services/intelligence/forecast/evaluate.ts";
import { forecastDemand } from "../../src/services/intelligence/forecast/forecast.ts";
import { METHODS } from "../../src/services/intelligence/forecast/methods.ts";
import { syntheticProducts } from "../../src/services/intelligence/forecast/synthetic.ts";

const SEED = Number(process.env.BENCH_SEED ?? 20261203);
const PRODUCTS = Number(process.env.BENCH_PRODUCTS ?? 300);
const DAYS = Number(process.env.BENCH_DAYS ?? 400);

const products = syntheticProducts({ seed: SEED, products: PRODUCTS, days: DAYS });
const kinds = ["fast", "steady", "slow", "all"] as const;
type Row = {
  mase: Record<string, number[]>;
  beats: number;
  n: number;
  chosen: Record<string, number>;
};
const rows = new Map<string, Row>(kinds.map((k) => [k, { mase: {}, beats: 0, n: 0, chosen: {} }]));
const started = performance.now();
for (const p of products) {
  const r = holdoutEvaluation(p.series);
  if (!r) continue;
  for (const key of [p.kind, "all"] as const) {
    const row = rows.get(key);
    if (!row) continue;
    row.n += 1;
    row.chosen[r.chosen] = (row.chosen[r.chosen] ?? 0) + 1;
    if (r.mase.chosen !== null && r.mase.chosen < 1) row.beats += 1;
    for (const [m, v] of Object.entries(r.mase)) {
      if (v === null) continue;
      const list = row.mase[m] ?? [];
      list.push(v);
      row.mase[m] = list;
    }
  }
}
const elapsed = performance.now() - started;
// CPU of one product's production run (backtest + final fit) on a full year.
const t0 = performance.now();
for (const p of products) forecastDemand(p.series);
const perProduct = (performance.now() - t0) / products.length;

const mean = (xs: number[] = []) =>
  xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : Number.NaN;
const median = (xs: number[] = []) => {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  return ((s[Math.floor((s.length - 1) / 2)] ?? 0) + (s[Math.ceil((s.length - 1) / 2)] ?? 0)) / 2;
};
const f = (v: number) => (Number.isNaN(v) ? "–" : v.toFixed(3));

const cols = [...METHODS, "chosen"];
const lines = [
  `# Forecast backtest on synthetic demand`,
  ``,
  `seed ${SEED}, ${PRODUCTS} products, ${DAYS} days each, last 28 days held out; MASE = holdout MAE ÷ seasonal-naive's MAE (mean / median over products).`,
  ``,
  `| products | n | ${cols.map((c) => `MASE ${c}`).join(" | ")} | chosen beats seasonal-naive | chosen method (${METHODS.join(" / ")}) |`,
  `| --- | ---: | ${cols.map(() => "---:").join(" | ")} | ---: | --- |`,
  ...kinds.map((k) => {
    const r = rows.get(k) ?? { mase: {}, beats: 0, n: 0, chosen: {} };
    const share = r.n ? `${((100 * r.beats) / r.n).toFixed(1)}% (${r.beats}/${r.n})` : "–";
    const chosen = METHODS.map((m) => r.chosen[m] ?? 0).join(" / ");
    return `| ${k} | ${r.n} | ${cols.map((c) => `${f(mean(r.mase[c]))} / ${f(median(r.mase[c]))}`).join(" | ")} | ${share} | ${chosen} |`;
  }),
  ``,
  `CPU: ${perProduct.toFixed(2)} ms per product for the production run (backtest of every candidate + final fit, ${DAYS} days capped at 365); whole bench ${(elapsed / 1000).toFixed(1)} s.`,
];
const table = lines.join("\n");
console.log(table);
mkdirSync(".bench", { recursive: true });
writeFileSync(".bench/forecast.md", `${table}\n`);
