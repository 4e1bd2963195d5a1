/**
 * The body of each DeliverySlots RPC: synchronous functions over the object's store, run inside
 * one `transactionSync` by the class. Each reads, checks and writes with no await in between, so
 * two bookings of the last place can never both pass the capacity check.
 */
import type { z } from "zod";
import { uuidv7 } from "../../src/lib/ids.ts";
import { toActor } from "../product-stock/operations.ts";
import { type Window, windowAt, windowsBetween } from "./calendar.ts";
import type { Booking, SlotStore } from "./store.ts";
import {
  type ActorView,
  type Availability,
  type availabilityInput,
  type BookResult,
  type bookInput,
  type ConfigureResult,
  type configureInput,
  MAX_RANGE_DAYS,
  type SettleResult,
  type SlotRefusal,
  type SlotView,
  type settleInput,
} from "./types.ts";

const DAY_MS = 24 * 60 * 60 * 1000;

/** The body of `DeliverySlots.configure`. */
export function configure(
  store: SlotStore,
  c: z.output<typeof configureInput>,
  now: number,
): ConfigureResult {
  bind(store, c.shopId);
  const current = store.schedule();
  if (current && JSON.stringify(current) === JSON.stringify(c.schedule)) {
    return { ok: true, revision: store.revision(), schedule: current };
  }
  const revision = store.revision() + 1;
  store.setSchedule(c.schedule, revision);
  store.record({
    kind: "schedule",
    schedule: c.schedule,
    revision,
    actor: toActor(c.actor),
    now,
  });
  return { ok: true, revision, schedule: c.schedule };
}

/** The body of `DeliverySlots.availability`: what is left per window in a range. */
export function availability(
  store: SlotStore,
  a: z.output<typeof availabilityInput>,
  now: number,
): Availability {
  const schedule = store.schedule();
  const horizonEnd = now + (schedule?.horizonDays ?? 0) * DAY_MS;
  const fromMs = Math.max(a.from ? Date.parse(a.from) : now, now);
  const toMs = Math.min(
    a.to ? Date.parse(a.to) : horizonEnd,
    horizonEnd,
    fromMs + MAX_RANGE_DAYS * DAY_MS,
  );
  const base = {
    shopId: store.getMeta("shop_id"),
    configured: schedule !== null,
    timeZone: schedule?.timeZone ?? null,
    from: new Date(fromMs).toISOString(),
    to: new Date(Math.max(toMs, fromMs)).toISOString(),
  };
  if (!schedule || toMs <= fromMs) return { ...base, slots: [] };
  const cutoffMs = schedule.cutoffMinutes * 60_000;
  const windows = windowsBetween(schedule, fromMs, toMs);
  const taken = store.takenBetween(fromMs, toMs);
  const slots = windows
    .map((w) => slotView(w, taken.get(w.startMs) ?? 0, cutoffMs, now))
    .filter((s) => !a.openOnly || s.open);
  return { ...base, slots };
}

function slotView(w: Window, booked: number, cutoffMs: number, now: number): SlotView {
  const remaining = Math.max(0, w.capacity - booked);
  const closesAt = w.startMs - cutoffMs;
  return {
    start: new Date(w.startMs).toISOString(),
    end: new Date(w.endMs).toISOString(),
    localDate: w.localDate,
    localStart: w.localStart,
    capacity: w.capacity,
    booked,
    remaining,
    closesAt: new Date(closesAt).toISOString(),
    open: now < closesAt && remaining > 0,
  };
}

/** The body of `DeliverySlots.book` (see its JSDoc for the contract). */
export function book(store: SlotStore, b: z.output<typeof bookInput>, now: number): BookResult {
  bind(store, b.shopId);
  const slotStartMs = Date.parse(b.slotStart);
  const slotStart = new Date(slotStartMs).toISOString();
  let prior = store.byKey(b.key);
  if (prior && b.renew && (prior.state === "released" || prior.state === "expired")) {
    store.supersedeKey(prior.bookingId);
    prior = null;
  }
  if (prior) {
    if (prior.slotStartMs !== slotStartMs || prior.checkoutId !== b.checkoutId) {
      return refusal(
        "IDEMPOTENCY_KEY_REUSED",
        `key ${b.key} was already used for another window`,
        slotStart,
      );
    }
    return { ok: true, ...view(prior), replayed: true };
  }
  const schedule = store.schedule();
  if (!schedule) {
    return refusal("NOT_CONFIGURED", "this shop has no delivery windows", slotStart);
  }
  const window = windowAt(schedule, slotStartMs);
  if (!window) {
    return refusal(
      "SLOT_UNKNOWN",
      `${slotStart} is not the start of one of this shop's delivery windows`,
      slotStart,
    );
  }
  const closesAt = window.startMs - schedule.cutoffMinutes * 60_000;
  if (now >= closesAt || window.startMs > now + schedule.horizonDays * DAY_MS) {
    return refusal(
      "SLOT_CLOSED",
      now >= closesAt
        ? `the window at ${slotStart} stopped taking orders at ${new Date(closesAt).toISOString()}`
        : `the window at ${slotStart} is not open for booking yet`,
      slotStart,
    );
  }
  const taken = store.taken(slotStartMs);
  if (taken >= window.capacity) {
    return {
      ...refusal("SLOT_FULL", `the window at ${slotStart} is full`, slotStart),
      remaining: 0,
    };
  }
  const booking = store.insertBooking({
    id: uuidv7(now),
    key: b.key,
    checkoutId: b.checkoutId,
    slotStartMs,
    slotEndMs: window.endMs,
    expiresAt: now + b.ttlMs,
    actor: toActor(b.actor),
    now,
  });
  store.record({ kind: "book", booking, capacity: window.capacity, actor: booking.actor, now });
  return { ok: true, ...view(booking), replayed: false };
}

/** The body of `DeliverySlots.confirm`: the order was paid; the place is kept for good. */
export function confirm(
  store: SlotStore,
  s: z.output<typeof settleInput>,
  now: number,
): SettleResult {
  const b = store.byKey(s.key);
  if (!b) return refusal("NOT_FOUND", `no booking under key ${s.key}`);
  return confirmBooking(store, b, toActorOr(s.actor, b.actor), "order paid", now);
}

/**
 * The body of `DeliverySlots.release`: the place goes back. Releasing a released or expired
 * booking is a no-op success; a confirmed one may be released (its order was cancelled or
 * refunded after payment).
 */
export function release(
  store: SlotStore,
  s: z.output<typeof settleInput>,
  reason: string,
  now: number,
): SettleResult {
  const b = store.byKey(s.key);
  if (!b) return refusal("NOT_FOUND", `no booking under key ${s.key}`);
  return endBooking(store, b, "released", toActorOr(s.actor, b.actor), reason, now);
}

export function confirmBooking(
  store: SlotStore,
  b: Booking,
  actor: ActorView,
  reason: string,
  now: number,
): SettleResult {
  if (b.state === "confirmed") return { ok: true, ...view(b), replayed: true };
  if (b.state !== "held") {
    return refusal("SLOT_CLOSED", `booking ${b.bookingId} is ${b.state}`, b.slotStart);
  }
  store.setState(b.bookingId, "confirmed", null);
  const after = { ...b, state: "confirmed" as const, expiresAt: null, expiresAtMs: null };
  store.record({ kind: "confirm", booking: after, actor, reason, now });
  return { ok: true, ...view(after), replayed: false };
}

export function endBooking(
  store: SlotStore,
  b: Booking,
  state: "released" | "expired",
  actor: ActorView,
  reason: string,
  now: number,
): SettleResult {
  if (b.state === "released" || b.state === "expired") {
    return { ok: true, ...view(b), replayed: true };
  }
  store.setState(b.bookingId, state, null);
  const after = { ...b, state, expiresAt: null, expiresAtMs: null };
  store.record({
    kind: state === "released" ? "release" : "expire",
    booking: after,
    actor,
    reason,
    now,
  });
  return { ok: true, ...view(after), replayed: false };
}

/** Keeps a hold for another `ms` (its order still awaits payment). */
export function extendHold(store: SlotStore, b: Booking, until: number): void {
  if (b.state === "held") store.setState(b.bookingId, "held", until);
}

/** The first call names the shop; a different one is a routing bug. */
function bind(store: SlotStore, shopId: string): void {
  const bound = store.getMeta("shop_id");
  if (bound === null) store.setMeta("shop_id", shopId);
  else if (bound !== shopId) {
    throw new Error(`SHOP_MISMATCH: this object holds shop ${bound}'s slots, not ${shopId}'s`);
  }
}

function toActorOr(actor: Parameters<typeof toActor>[0], fallback: ActorView): ActorView {
  return actor ? toActor(actor) : fallback;
}

export function view(b: Booking) {
  const { slotStartMs: _s, expiresAtMs: _e, actor: _a, ...rest } = b;
  return rest;
}

function refusal(code: SlotRefusal["code"], message: string, slotStart?: string): SlotRefusal {
  return { ok: false, code, message, ...(slotStart ? { slotStart } : {}) };
}
