/**
 * A small, bounded HTTP load generator: N buyers (one keep-alive connection each) work through a
 * list of prepared requests, bounded by count and by time.
 *
 * Arrivals: with `ratePerSec`, purchase i is due at t0 + i/rate (a fixed arrival rate shared by
 * all buyers); a purchase due while every buyer is busy waits for one, and its latency counts
 * from when it was due, so a server that falls behind shows its queue instead of hiding it
 * (no coordinated omission). Without a rate, each buyer sends its next purchase as soon as its
 * previous one answered (closed loop: the capacity at N concurrent buyers).
 *
 * Nothing new starts after `durationMs`; what is in flight then is always waited for (up to
 * `timeoutMs` each), because the benchmark's accounting needs every answer.
 */
import http from "node:http";

export interface PreparedRequest {
  headers: Record<string, string>;
  body: string;
}

export interface LoadPlan {
  url: string;
  requests: PreparedRequest[];
  connections: number;
  durationMs: number;
  ratePerSec: number | null;
  timeoutMs: number;
}

export interface Percentiles {
  count: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
}

export interface LoadResult {
  started: number;
  /** By answer: `201`, `409:INSUFFICIENT_STOCK`, `500:…`, or `error:ECONNRESET`. */
  outcomes: Record<string, number>;
  /** Latency of successful purchases (2xx), ms. */
  okLatency: Percentiles;
  /** From the first send to the last answer, ms. */
  elapsedMs: number;
  /** With a rate: how late the last purchase started against its schedule, ms. */
  maxLagMs: number;
  /** A few failed answers, for the log. */
  samples: string[];
}

/** Nearest-rank percentiles of a list of ms. */
export function percentiles(values: number[]): Percentiles {
  const sorted = Float64Array.from(values).sort();
  const at = (q: number) =>
    sorted.length === 0
      ? Number.NaN
      : (sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN);
  return {
    count: sorted.length,
    p50: at(0.5),
    p99: at(0.99),
    p999: at(0.999),
    max: sorted.length === 0 ? Number.NaN : (sorted[sorted.length - 1] ?? Number.NaN),
  };
}

interface Answer {
  status: number;
  body: string;
}

function post(
  agent: http.Agent,
  url: string,
  req: PreparedRequest,
  timeoutMs: number,
  wantBody: (status: number) => boolean,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const r = http.request(
      url,
      {
        method: "POST",
        agent,
        headers: {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(req.body),
          ...req.headers,
        },
      },
      (res) => {
        const status = res.statusCode ?? 0;
        const keep = wantBody(status);
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => {
          if (keep) chunks.push(c);
        });
        res.on("end", () => resolve({ status, body: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      },
    );
    r.setTimeout(timeoutMs, () => r.destroy(new Error("ETIMEDOUT")));
    r.on("error", reject);
    r.end(req.body);
  });
}

/** The stable `code` of a problem+json body, if it has one. */
function codeOf(body: string): string {
  try {
    const parsed = JSON.parse(body) as { code?: unknown };
    return typeof parsed.code === "string" ? parsed.code : "?";
  } catch {
    return "?";
  }
}

export async function runLoad(plan: LoadPlan): Promise<LoadResult> {
  const url = plan.url;
  const agent = new http.Agent({
    keepAlive: true,
    maxSockets: plan.connections,
    maxTotalSockets: plan.connections,
  });
  const outcomes: Record<string, number> = {};
  const okMs: number[] = [];
  const samples: string[] = [];
  let next = 0;
  let started = 0;
  let lastAnswer = 0;
  let maxLagMs = 0;
  const t0 = performance.now();
  const deadline = t0 + plan.durationMs;
  const dueAt = (i: number) =>
    plan.ratePerSec === null ? null : t0 + (i * 1000) / plan.ratePerSec;
  const count = (key: string) => {
    outcomes[key] = (outcomes[key] ?? 0) + 1;
  };

  const buyer = async (): Promise<void> => {
    for (;;) {
      const i = next;
      const request = plan.requests[i];
      if (!request || performance.now() >= deadline) return;
      const due = dueAt(i);
      if (due !== null && due >= deadline) return;
      next += 1;
      if (due !== null) {
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
      const sentAt = performance.now();
      if (due !== null) maxLagMs = Math.max(maxLagMs, sentAt - due);
      const from = due ?? sentAt;
      started += 1;
      try {
        const answer = await post(agent, url, request, plan.timeoutMs, (s) => s < 200 || s > 299);
        const doneAt = performance.now();
        lastAnswer = Math.max(lastAnswer, doneAt);
        if (answer.status >= 200 && answer.status < 300) {
          count(String(answer.status));
          okMs.push(doneAt - from);
        } else {
          count(`${answer.status}:${codeOf(answer.body)}`);
          if (answer.status !== 409 && samples.length < 5) {
            samples.push(`${answer.status} ${answer.body.slice(0, 300)}`);
          }
        }
      } catch (err) {
        lastAnswer = Math.max(lastAnswer, performance.now());
        const code = (err as { code?: unknown }).code;
        const name = typeof code === "string" ? code : err instanceof Error ? err.message : "?";
        count(`error:${name}`);
        if (samples.length < 5) samples.push(`error ${name}`);
      }
    }
  };

  await Promise.all(Array.from({ length: plan.connections }, () => buyer()));
  agent.destroy();
  return {
    started,
    outcomes,
    okLatency: percentiles(okMs),
    elapsedMs: Math.max(0, lastAnswer - t0),
    maxLagMs,
    samples,
  };
}
