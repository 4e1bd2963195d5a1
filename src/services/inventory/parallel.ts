import { errorMessage } from "../../lib/errors.ts";
/** Stock objects called at once: enough to overlap round trips without a thundering herd. */
export const PARALLEL_CALLS = 16;

export type Settled<T> = { ok: true; value: T } | { ok: false; error: string };

/**
 * Calls `fn` for every item, at most `limit` at once, results in item order. A throw becomes
 * a value, so one unreachable object never hides what the others answered.
 */
export async function inParallel<I, T>(
  items: I[],
  fn: (item: I) => Promise<T>,
  limit = PARALLEL_CALLS,
): Promise<Settled<T>[]> {
  const results: Settled<T>[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) {
      const item = items[i] as I;
      try {
        results[i] = { ok: true, value: await fn(item) };
      } catch (err) {
        results[i] = { ok: false, error: errorMessage(err) };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
