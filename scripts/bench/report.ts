/** The benchmark's tables, as Markdown (readable in a terminal as they are). */

/** Souk's confirm route; the row lock doing the same work; the minimal row lock. */
export type Design = "souk" | "same-work" | "classic";

export interface StepRow {
  design: Design;
  rttMs: number;
  n: number;
  /** Successful purchases per second, first send to last answer. */
  perSecond: number;
  p50: number;
  p99: number;
  p999: number;
  sold: number;
  soldOut: number;
  errors: number;
  oversold: number;
  /** Round trips to Postgres counted at the delaying proxy over the step ÷ answers. */
  roundTrips: number;
  /** Round trips per answer on each hop the design uses: `ws 1.0 + http 1.0`, `pg 14.0`. */
  hops: string;
  /** New connections through the proxy over the step ÷ answers. */
  connections: number;
  /** CPU ms of the server (workerd for Souk, the Node service for the row locks) ÷ answers. */
  cpuMs: number;
  /** Souk: seconds from the step's last answer until the stock mirror caught up. */
  mirrorSeconds: number | null;
  /** 1-minute load average when the step ended. */
  load1: number;
  /** False when the zero-oversell gate failed for this step. */
  gate: boolean;
}

function ms(v: number): string {
  if (!Number.isFinite(v)) return "—";
  return v >= 100 ? v.toFixed(0) : v.toFixed(1);
}

function fixed(v: number, digits: number): string {
  return Number.isFinite(v) ? v.toFixed(digits) : "—";
}

export const LABEL: Record<Design, string> = {
  souk: "Souk (DO + confirm route)",
  "same-work": "row lock, same work",
  classic: "row lock, minimal",
};

const ORDER: Record<Design, number> = { souk: 0, "same-work": 1, classic: 2 };

function markdown(head: string[], body: string[][], left: number): string {
  // At least 3 wide: a Markdown rule needs three dashes (or two and a colon).
  const widths = head.map((h, i) =>
    Math.max(3, h.length, ...body.map((row) => row[i]?.length ?? 0)),
  );
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i < left ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join(" | ")} |`;
  const rule = `|${widths.map((w, i) => (i < left ? ` ${"-".repeat(w)} ` : ` ${"-".repeat(w - 1)}: `)).join("|")}|`;
  return [line(head), rule, ...body.map(line)].join("\n");
}

/** One Markdown table, rows by RTT, then N, then design (the designs side by side). */
export function table(rows: StepRow[]): string {
  const sorted = [...rows].sort(
    (a, b) => a.rttMs - b.rttMs || a.n - b.n || ORDER[a.design] - ORDER[b.design],
  );
  const head = [
    "design",
    "RTT ms",
    "N",
    "reservations/s",
    "p50 ms",
    "p99 ms",
    "p99.9 ms",
    "round trips",
    "by hop",
    "conns",
    "CPU ms",
    "sold",
    "sold out",
    "errors",
    "oversold",
    "mirror s",
    "load",
  ];
  const body = sorted.map((r) => [
    LABEL[r.design],
    String(r.rttMs),
    String(r.n),
    r.perSecond.toFixed(1),
    ms(r.p50),
    ms(r.p99),
    ms(r.p999),
    fixed(r.roundTrips, 1),
    r.hops,
    fixed(r.connections, 2),
    fixed(r.cpuMs, 1),
    String(r.sold),
    String(r.soldOut),
    String(r.errors),
    r.gate ? String(r.oversold) : `${r.oversold} FAILED`,
    r.mirrorSeconds === null ? "—" : r.mirrorSeconds.toFixed(1),
    r.load1.toFixed(1),
  ]);
  return markdown(head, body, 2);
}

export interface Slope {
  design: Design;
  /** Intercept, ms: p50 at RTT 0 on the fitted line. */
  a: number;
  /** ms of p50 per ms of RTT: the round trips a buyer waits for. */
  k: number;
  /** Coefficient of determination of the fit. */
  r2: number;
  points: Array<{ rtt: number; p50: number }>;
}

/**
 * For N = 1: least squares of p50 against the measured RTT of each step, per design (at least
 * two distinct RTTs). A buyer alone waits about k round trips: p50 ≈ a + k·RTT.
 */
export function slopes(rows: StepRow[], measuredRtt: Map<number, number>): Slope[] {
  const out: Slope[] = [];
  for (const design of Object.keys(ORDER) as Design[]) {
    const points = rows
      .filter((r) => r.design === design && r.n === 1 && Number.isFinite(r.p50))
      .map((r) => ({ rtt: measuredRtt.get(r.rttMs) ?? r.rttMs, p50: r.p50 }));
    if (new Set(points.map((p) => p.rtt)).size < 2) continue;
    const n = points.length;
    const mx = points.reduce((s, p) => s + p.rtt, 0) / n;
    const my = points.reduce((s, p) => s + p.p50, 0) / n;
    const sxx = points.reduce((s, p) => s + (p.rtt - mx) ** 2, 0);
    const sxy = points.reduce((s, p) => s + (p.rtt - mx) * (p.p50 - my), 0);
    const syy = points.reduce((s, p) => s + (p.p50 - my) ** 2, 0);
    const k = sxy / sxx;
    const a = my - k * mx;
    out.push({ design, a, k, r2: syy === 0 ? 1 : (sxy * sxy) / (sxx * syy), points });
  }
  return out;
}

/** `k = …` lines, one per design. */
export function slopeLines(list: Slope[]): string[] {
  return list.map(
    (s) =>
      `${LABEL[s.design]}, N = 1: k = ${s.k.toFixed(2)} (p50 ≈ ${s.a.toFixed(1)} ms + ` +
      `${s.k.toFixed(2)} × RTT; R² ${s.r2.toFixed(3)}; ` +
      `${s.points.map((p) => `${p.rtt.toFixed(1)} ms → ${ms(p.p50)}`).join(", ")})`,
  );
}
