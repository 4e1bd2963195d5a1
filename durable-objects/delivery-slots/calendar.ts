/**
 * The weekly schedule laid out on the calendar: which instants a shop's windows start at, in its
 * time zone. Pure functions over `Intl` (workerd carries the IANA database), no storage.
 */
import { minuteOfDay, type Schedule, WEEKDAYS, type Weekday, WINDOW_MINUTES } from "./types.ts";

const DAY_MS = 24 * 60 * 60 * 1000;
const MINUTE_MS = 60 * 1000;

export interface LocalParts {
  /** YYYY-MM-DD */
  date: string;
  weekday: Weekday;
  /** Minutes since local midnight. */
  minute: number;
}

export interface Window {
  startMs: number;
  endMs: number;
  capacity: number;
  localDate: string;
  localStart: string;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: tz,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      weekday: "short",
    });
    formatters.set(tz, f);
  }
  return f;
}

/** The local calendar date, weekday and minute of an instant in `tz`. */
export function localParts(ms: number, tz: string): LocalParts {
  const parts: Record<string, string> = {};
  for (const p of formatter(tz).formatToParts(new Date(ms))) parts[p.type] = p.value;
  const weekday = (parts.weekday ?? "Mon").toLowerCase().slice(0, 3) as Weekday;
  return {
    date: `${parts.year}-${parts.month}-${parts.day}`,
    weekday,
    minute: Number(parts.hour) * 60 + Number(parts.minute),
  };
}

/** The instant a local date and minute of day names in `tz` (the earlier one across a DST fold). */
export function zonedToUtc(date: string, minute: number, tz: string): number {
  const [y, m, d] = date.split("-").map(Number);
  const naive = Date.UTC(y ?? 1970, (m ?? 1) - 1, d ?? 1) + minute * MINUTE_MS;
  // Two corrections settle every zone's offset, DST transitions included.
  let guess = naive;
  for (let i = 0; i < 2; i++) {
    const seen = localParts(guess, tz);
    const seenNaive = Date.UTC(
      Number(seen.date.slice(0, 4)),
      Number(seen.date.slice(5, 7)) - 1,
      Number(seen.date.slice(8, 10)),
    );
    guess += naive - (seenNaive + seen.minute * MINUTE_MS);
  }
  return guess;
}

function addDays(date: string, days: number): string {
  const [y, m, d] = date.split("-").map(Number);
  return new Date(Date.UTC(y ?? 1970, (m ?? 1) - 1, (d ?? 1) + days)).toISOString().slice(0, 10);
}

function weekdayOf(date: string): Weekday {
  const [y, m, d] = date.split("-").map(Number);
  const js = new Date(Date.UTC(y ?? 1970, (m ?? 1) - 1, d ?? 1)).getUTCDay(); // 0 = Sunday
  return WEEKDAYS[(js + 6) % 7] ?? "mon";
}

/** Every scheduled window starting in [fromMs, toMs), earliest first. */
export function windowsBetween(schedule: Schedule, fromMs: number, toMs: number): Window[] {
  const byDay = new Map(schedule.days.map((d) => [d.weekday, d.windows]));
  const out: Window[] = [];
  const last = localParts(toMs, schedule.timeZone).date;
  let date = addDays(localParts(fromMs, schedule.timeZone).date, -1);
  for (let guard = 0; date <= last && guard < 400; guard++, date = addDays(date, 1)) {
    for (const w of byDay.get(weekdayOf(date)) ?? []) {
      const startMs = zonedToUtc(date, minuteOfDay(w.start), schedule.timeZone);
      if (startMs < fromMs || startMs >= toMs) continue;
      out.push({
        startMs,
        endMs: startMs + WINDOW_MINUTES * MINUTE_MS,
        capacity: w.capacity ?? schedule.capacity,
        localDate: date,
        localStart: w.start,
      });
    }
  }
  return out.sort((a, b) => a.startMs - b.startMs);
}

/** The scheduled window starting exactly at `startMs`, or null. */
export function windowAt(schedule: Schedule, startMs: number): Window | null {
  return windowsBetween(schedule, startMs, startMs + 1)[0] ?? null;
}

export { DAY_MS };
