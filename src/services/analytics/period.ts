import { z } from "zod";

/** The longest period a dashboard reads at once (three years of days). */
export const MAX_PERIOD_DAYS = 1_100;

const DAY_MS = 86_400_000;

/** A calendar day, `YYYY-MM-DD`, read as a UTC day (the rollups' days are UTC). */
export const isoDay = z.iso.date();

/** Days from `from` to `to`, both included. */
export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(to) - Date.parse(from)) / DAY_MS) + 1;
}

export function addDays(day: string, n: number): string {
  return new Date(Date.parse(day) + n * DAY_MS).toISOString().slice(0, 10);
}

/**
 * The rule every period follows, for a schema's superRefine: both ends or neither, the end not
 * before the start, at most MAX_PERIOD_DAYS. Each broken rule names its field.
 */
export function checkPeriod(
  value: Record<string, unknown>,
  ctx: z.RefinementCtx,
  [fromField, toField]: [string, string],
): void {
  const from = value[fromField] as string | undefined;
  const to = value[toField] as string | undefined;
  if (from === undefined && to === undefined) return;
  const issue = (field: string, message: string) =>
    ctx.addIssue({ code: "custom", path: [field], message });
  if (from === undefined || to === undefined) {
    issue(from === undefined ? fromField : toField, `${fromField} and ${toField} go together`);
  } else if (to < from) {
    issue(toField, `must not be before ${fromField}`);
  } else if (daysBetween(from, to) > MAX_PERIOD_DAYS) {
    issue(toField, `a period spans at most ${MAX_PERIOD_DAYS} days`);
  }
}

/** The period just before `from..to`, of the same length: the default comparison. */
export function previousPeriod(from: string, to: string): { from: string; to: string } {
  const days = daysBetween(from, to);
  return { from: addDays(from, -days), to: addDays(from, -1) };
}
