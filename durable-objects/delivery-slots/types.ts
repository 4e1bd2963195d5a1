/**
 * The RPC contract of the DeliverySlots Durable Object (one per shop): the weekly schedule's
 * schema, input schemas, result types and the mapping of expected refusals to domain errors.
 * Shared by the object and the services that call it. The error policy is ProductStock's:
 * expected refusals come back as `{ ok: false, code, … }` values; input that fails its schema
 * throws `VALIDATION_FAILED: …` (see ../product-stock/types.ts).
 */
import { z } from "zod";
import { Conflict, DomainError, NotFound } from "../../src/lib/errors.ts";
import { type ActorView, actorSchema } from "../product-stock/types.ts";

export { parseInput } from "../product-stock/types.ts";
export type { ActorView };

/** Every window lasts two hours and lies between 06:00 and 22:00, shop time. */
export const WINDOW_MINUTES = 120;
export const DAY_OPENS_MINUTE = 6 * 60;
export const DAY_CLOSES_MINUTE = 22 * 60;
export const MAX_CAPACITY = 10_000;
/** The cut-off may close a window up to a week before it starts. */
export const MAX_CUTOFF_MINUTES = 7 * 24 * 60;
/** How far ahead windows are offered and booked. */
export const MAX_HORIZON_DAYS = 60;
/** The longest span one availability read covers. */
export const MAX_RANGE_DAYS = 31;
export const HOLD_TTL_MS = { min: 1_000, max: 24 * 60 * 60 * 1_000 } as const;

export const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
export type Weekday = (typeof WEEKDAYS)[number];

const hhmm = z
  .string()
  .regex(/^([01]\d|2[0-3]):[0-5]\d$/, "must be HH:MM (24-hour)")
  .refine((v) => minuteOfDay(v) % 15 === 0, "must start on a quarter hour")
  .refine(
    (v) =>
      minuteOfDay(v) >= DAY_OPENS_MINUTE && minuteOfDay(v) + WINDOW_MINUTES <= DAY_CLOSES_MINUTE,
    "a two-hour window must lie between 06:00 and 22:00 (latest start 20:00)",
  );

/** "08:30" → 510. */
export function minuteOfDay(v: string): number {
  return Number(v.slice(0, 2)) * 60 + Number(v.slice(3, 5));
}

export const windowSchema = z.object({
  /** Local start time; the window ends two hours later. */
  start: hhmm,
  /** Orders this window takes; absent: the schedule's `capacity`. */
  capacity: z.int().min(0).max(MAX_CAPACITY).optional(),
});

export const daySchema = z
  .object({
    weekday: z.enum(WEEKDAYS),
    windows: z.array(windowSchema).max(8),
  })
  .superRefine((day, ctx) => {
    const starts = day.windows.map((w) => minuteOfDay(w.start)).sort((a, b) => a - b);
    for (let i = 1; i < starts.length; i++) {
      const prev = starts[i - 1] ?? 0;
      if ((starts[i] ?? 0) - prev < WINDOW_MINUTES) {
        ctx.addIssue({
          code: "custom",
          message: "windows of one day must not overlap (starts at least two hours apart)",
          path: ["windows"],
        });
        return;
      }
    }
  });

/** The weekly schedule a seller sets (times are the shop's, in `timeZone`). */
export const scheduleShape = {
  /** IANA time zone the times are in (the shop's). */
  timeZone: z.string().min(1).max(64),
  /** Orders per window unless a window says otherwise. */
  capacity: z.int().min(0).max(MAX_CAPACITY),
  /** A window stops taking orders this many minutes before it starts. */
  cutoffMinutes: z.int().min(0).max(MAX_CUTOFF_MINUTES),
  /** How many days ahead windows are offered. */
  horizonDays: z.int().min(1).max(MAX_HORIZON_DAYS).default(14),
  days: z
    .array(daySchema)
    .max(7)
    .refine((days) => new Set(days.map((d) => d.weekday)).size === days.length, {
      message: "one entry per weekday",
    }),
};
export const scheduleSchema = z.object(scheduleShape).refine((s) => isTimeZone(s.timeZone), {
  message: "is not a known IANA time zone",
  path: ["timeZone"],
});
export type Schedule = z.output<typeof scheduleSchema>;
export type ScheduleInput = z.input<typeof scheduleSchema>;

export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

const id = z.uuid();
const key = z.string().min(1).max(200);

export const configureInput = z.object({
  shopId: id,
  schedule: scheduleSchema,
  actor: actorSchema,
});

export const availabilityInput = z
  .object({
    /** ISO instants; default: now to the end of the horizon. */
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
    /** Leave out windows past their cut-off or full. */
    openOnly: z.boolean().default(false),
  })
  .default({ openOnly: false });

export const bookInput = z.object({
  shopId: id,
  /** Names the booking: the same key returns the same booking and never books twice. */
  key,
  /** The checkout the booking is for: the alarm asks Postgres how its order ended. */
  checkoutId: id,
  /** The window's start, an ISO instant. */
  slotStart: z.iso.datetime({ offset: true }),
  ttlMs: z.int().min(HOLD_TTL_MS.min).max(HOLD_TTL_MS.max),
  actor: actorSchema.optional(),
  /** A released or expired booking under this key is superseded instead of replayed. */
  renew: z.boolean().optional(),
});

export const settleInput = z.object({ key, actor: actorSchema.optional() });

export type ConfigureInput = z.input<typeof configureInput>;
export type AvailabilityInput = z.input<typeof availabilityInput>;
export type BookInput = z.input<typeof bookInput>;
export type SettleInput = z.input<typeof settleInput>;

/** held: waiting for payment (expires); confirmed: the order was paid; the rest gave it back. */
export type BookingState = "held" | "confirmed" | "released" | "expired";

export interface BookingView {
  bookingId: string;
  key: string;
  checkoutId: string;
  slotStart: string;
  slotEnd: string;
  state: BookingState;
  /** Null once confirmed. */
  expiresAt: string | null;
  createdAt: string;
}

export interface SlotView {
  start: string;
  end: string;
  /** The local date and time the window starts (the shop's time zone). */
  localDate: string;
  localStart: string;
  capacity: number;
  booked: number;
  remaining: number;
  /** When the window stops taking orders. */
  closesAt: string;
  /** Before its cut-off and not full. */
  open: boolean;
}

export interface Availability {
  shopId: string | null;
  /** False until a schedule is set: the shop offers no windows. */
  configured: boolean;
  timeZone: string | null;
  from: string;
  to: string;
  slots: SlotView[];
}

export type SlotEventKind = "schedule" | "book" | "confirm" | "release" | "expire";

/** One sequenced decision of the object: what the mirror stores and audits. */
export interface SlotEvent {
  id: string;
  sequence: number;
  shopId: string;
  kind: SlotEventKind;
  bookingId: string | null;
  checkoutId: string | null;
  slotStart: string | null;
  /** Bookings of the window after this event (null for `schedule`). */
  bookedAfter: number | null;
  capacity: number | null;
  /** For `schedule`: the schedule now in force, and its revision. */
  schedule: Schedule | null;
  revision: number | null;
  reason: string | null;
  actor: ActorView;
  createdAt: string;
}

export type SlotRefusalCode =
  | "SLOT_FULL"
  | "SLOT_CLOSED"
  | "SLOT_UNKNOWN"
  | "NOT_CONFIGURED"
  | "NOT_FOUND"
  | "IDEMPOTENCY_KEY_REUSED";

export interface SlotRefusal {
  ok: false;
  code: SlotRefusalCode;
  message: string;
  slotStart?: string;
  remaining?: number;
}

export type ConfigureResult = { ok: true; revision: number; schedule: Schedule };

export type BookResult = ({ ok: true; replayed: boolean } & BookingView) | SlotRefusal;

export type SettleResult = ({ ok: true; replayed: boolean } & BookingView) | SlotRefusal;

export interface SlotsSnapshot {
  shopId: string | null;
  revision: number;
  schedule: Schedule | null;
  sequence: number;
  pendingOutbox: number;
  activeBookings: number;
}

/** Maps a refusal to the domain error the HTTP layer answers (409 naming `slotStart`). */
export function slotRefusalToError(r: SlotRefusal): DomainError {
  switch (r.code) {
    case "NOT_FOUND":
      return new NotFound("delivery slot booking");
    case "IDEMPOTENCY_KEY_REUSED":
      return new DomainError("IDEMPOTENCY_KEY_REUSED", r.message);
    default:
      return new Conflict(r.message, {
        reason: r.code.toLowerCase(),
        field: "slotStart",
        ...(r.slotStart ? { slotStart: r.slotStart } : {}),
        ...(r.remaining !== undefined ? { remaining: r.remaining } : {}),
      });
  }
}
