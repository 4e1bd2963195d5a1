/**
 * Polls until `probe` returns a value (anything but undefined), or fails after `ms` naming
 * `what`: queues, alarms, flushes and webhooks are real and asynchronous in these tests.
 */
export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  ms = 15_000,
  what = "condition",
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(100);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
