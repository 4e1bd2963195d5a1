import { z } from "zod";
import { type OpeningHours, WEEKDAYS, type Weekday } from "../../db/schema/shops.ts";

/**
 * A shop's clock: its IANA time zone and its locations' opening hours, which are wall-clock
 * times in that zone (a branch opens at 08:00 local time, summer or winter).
 */

/** The IANA name as the runtime spells it (`europe/berlin` → `Europe/Berlin`), or null. */
export function canonicalTimeZone(name: string): string | null {
  // Offsets and abbreviations (`+02:00`, `EST`) are not places: hours would not follow DST.
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(?:\/[A-Za-z0-9_+-]+)*$/.test(name)) return null;
  try {
    return new Intl.DateTimeFormat("en-US", { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return null;
  }
}

export const timeZoneSchema = z
  .string()
  .min(1)
  .max(64)
  .transform((name, ctx) => {
    const zone = canonicalTimeZone(name);
    if (zone) return zone;
    ctx.addIssue({ code: "custom", message: "must be an IANA time zone, e.g. Asia/Jerusalem" });
    return z.NEVER;
  })
  .meta({ description: "IANA time zone name, e.g. `Asia/Jerusalem`, `Asia/Karachi`." });

const HHMM = /^(?:[01]\d|2[0-3]):[0-5]\d$/;
const time = z.string().regex(HHMM, "must be HH:MM (24-hour), e.g. 08:30");
/** A close may be `24:00`: open until midnight. */
const closeTime = z
  .string()
  .regex(/^(?:(?:[01]\d|2[0-3]):[0-5]\d|24:00)$/, "must be HH:MM (24-hour) or 24:00");

/** Minutes since local midnight of `HH:MM` (`24:00` is 1440). */
export const minutesOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3));

const interval = z
  .object({ open: time, close: closeTime })
  .refine((i) => minutesOf(i.open) < minutesOf(i.close), {
    message: "must be after open (hours do not run past midnight: split them over two days)",
    path: ["close"],
  });

/** A day's intervals, in order and not overlapping; an empty list is a closed day. */
const day = z
  .array(interval)
  .max(4)
  .superRefine((list, ctx) => {
    for (let i = 1; i < list.length; i++) {
      const prev = list[i - 1];
      const cur = list[i];
      if (prev && cur && minutesOf(cur.open) < minutesOf(prev.close)) {
        ctx.addIssue({
          code: "custom",
          message: "must start after the previous interval closes",
          path: [i, "open"],
        });
      }
    }
  });

export const openingHoursSchema = z
  .strictObject(
    Object.fromEntries(WEEKDAYS.map((d) => [d, day.optional()])) as Record<
      Weekday,
      z.ZodOptional<typeof day>
    >,
  )
  .meta({
    description:
      "Per weekday (`mon` … `sun`), the intervals the location is open, in the shop's time " +
      "zone: `HH:MM` 24-hour times, open before close (`24:00` closes at midnight), in order, " +
      "not overlapping, at most 4 a day. A day left out or empty is closed.",
    example: { mon: [{ open: "08:00", close: "20:00" }], fri: [{ open: "08:00", close: "14:00" }] },
  });

/** Drops closed days so the stored value holds only what is open. */
export function normalizeHours(hours: z.output<typeof openingHoursSchema>): OpeningHours {
  const out: OpeningHours = {};
  for (const d of WEEKDAYS) {
    const list = hours[d];
    if (list && list.length > 0) out[d] = list.map((i) => ({ open: i.open, close: i.close }));
  }
  return out;
}

const clockFormats = new Map<string, Intl.DateTimeFormat>();

/** The weekday and minutes since midnight at `at` on the wall clocks of `timeZone`. */
export function localClock(at: Date, timeZone: string): { day: Weekday; minutes: number } {
  let format = clockFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone,
      weekday: "short",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    });
    clockFormats.set(timeZone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(at).map((p) => [p.type, p.value]));
  const day = (parts.weekday ?? "").toLowerCase().slice(0, 3) as Weekday;
  return { day, minutes: Number(parts.hour) * 60 + Number(parts.minute) };
}

/** Whether the hours are open at `at` in `timeZone`: open ≤ now < close. */
export function isOpenAt(hours: OpeningHours, timeZone: string, at: Date): boolean {
  const { day, minutes } = localClock(at, timeZone);
  return (hours[day] ?? []).some(
    (i) => minutesOf(i.open) <= minutes && minutes < minutesOf(i.close),
  );
}
