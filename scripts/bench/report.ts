/** The benchmark's one table, as Markdown (readable in a terminal as it is). */

export type Design = "souk" | "classic";

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

const LABEL: Record<Design, string> = {
  souk: "Souk (DO + confirm route)",
  classic: "classic (row lock)",
};

/** One Markdown table, rows by RTT, then N, then design (the two designs side by side). */
export function table(rows: StepRow[]): string {
  const sorted = [...rows].sort(
    (a, b) => a.rttMs - b.rttMs || a.n - b.n || a.design.localeCompare(b.design) * -1,
  );
  const head = [
    "design",
    "RTT ms",
    "N",
    "reservations/s",
    "p50 ms",
    "p99 ms",
    "p99.9 ms",
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
    String(r.sold),
    String(r.soldOut),
    String(r.errors),
    r.gate ? String(r.oversold) : `${r.oversold} FAILED`,
    r.mirrorSeconds === null ? "—" : r.mirrorSeconds.toFixed(1),
    r.load1.toFixed(1),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]?.length ?? 0)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i < 2 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join(" | ")} |`;
  const rule = `|${widths.map((w, i) => (i < 2 ? ` ${"-".repeat(w)} ` : ` ${"-".repeat(w - 1)}: `)).join("|")}|`;
  return [line(head), rule, ...body.map(line)].join("\n");
}
