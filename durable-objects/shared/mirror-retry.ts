/**
 * What every Durable Object's outbox flush shares: the retry schedule after a failed flush to
 * Postgres, and small guards so a dead database cannot hold an alarm up.
 */

const BACKOFF_BASE_MS = 1_000;
const BACKOFF_CAP_MS = 5 * 60_000;

/** Exponential backoff from 1 s, capped at 5 min, with ±20% jitter. */
export function backoffMs(failures: number): number {
  const base = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.min(failures - 1, 20));
  // Jitter spreads the retries of many objects after a shared outage.
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

/** An error's message with its cause's (drizzle wraps the driver's), at most 1,000 characters. */
export function errorMessage(err: unknown): string {
  const e = err as { message?: unknown; cause?: { message?: unknown } } | null;
  const cause = typeof e?.cause?.message === "string" ? `: ${e.cause.message}` : "";
  return `${typeof e?.message === "string" ? e.message : String(err)}${cause}`.slice(0, 1_000);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Rejects when `work` takes longer than `ms`; the flush then counts as failed and backs off. */
export async function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`mirror flush timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
