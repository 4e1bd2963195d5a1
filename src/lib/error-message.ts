/** An error's message with its cause's (drizzle wraps the driver's), at most 1,000 characters. */
export function errorMessage(err: unknown): string {
  const e = err as { message?: unknown; cause?: { message?: unknown } } | null;
  const cause = typeof e?.cause?.message === "string" ? `: ${e.cause.message}` : "";
  return `${typeof e?.message === "string" ? e.message : String(err)}${cause}`.slice(0, 1_000);
}
