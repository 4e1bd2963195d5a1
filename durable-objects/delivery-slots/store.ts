/**
 * DeliverySlots' SQLite storage: the schedule (in meta), the bookings, and the event log with
 * its outbox. Every booking change goes through `record`, which writes the event and its outbox
 * row together. Call only inside `transactionSync`.
 */
import { uuidv7 } from "../../src/lib/ids.ts";
import { OUTBOX_TABLES, SqlOutboxStore } from "../shared/sql-outbox.ts";
import type {
  ActorView,
  BookingState,
  BookingView,
  Schedule,
  SlotEvent,
  SlotEventKind,
} from "./types.ts";

const SCHEMA = [
  ...OUTBOX_TABLES,
  `CREATE TABLE IF NOT EXISTS bookings (
    id TEXT PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    checkout_id TEXT NOT NULL,
    slot_start INTEGER NOT NULL,
    slot_end INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('held', 'confirmed', 'released', 'expired')),
    expires_at INTEGER,
    actor_type TEXT NOT NULL,
    actor_id TEXT,
    request_id TEXT,
    created_at INTEGER NOT NULL,
    CHECK (state <> 'held' OR expires_at IS NOT NULL)
  )`,
  `CREATE INDEX IF NOT EXISTS bookings_taken ON bookings (slot_start)
    WHERE state IN ('held', 'confirmed')`,
  `CREATE INDEX IF NOT EXISTS bookings_held_expiry ON bookings (expires_at) WHERE state = 'held'`,
  `CREATE TABLE IF NOT EXISTS events (
    sequence INTEGER PRIMARY KEY,
    payload TEXT NOT NULL
  )`,
];

export function migrate(sql: SqlStorage): void {
  for (const statement of SCHEMA) sql.exec(statement);
}

interface BookingRow extends Record<string, SqlStorageValue> {
  id: string;
  key: string;
  checkout_id: string;
  slot_start: number;
  slot_end: number;
  state: string;
  expires_at: number | null;
  actor_type: string;
  actor_id: string | null;
  request_id: string | null;
  created_at: number;
}

export interface Booking extends BookingView {
  slotStartMs: number;
  expiresAtMs: number | null;
  actor: ActorView;
}

export interface EventDraft {
  kind: SlotEventKind;
  booking?: Booking;
  schedule?: Schedule;
  revision?: number;
  capacity?: number | null;
  reason?: string | null;
  actor: ActorView;
  now: number;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Synchronous access to one shop's slot tables. */
export class SlotStore extends SqlOutboxStore<SlotEvent> {
  schedule(): Schedule | null {
    const raw = this.getMeta("schedule");
    return raw === null ? null : (JSON.parse(raw) as Schedule);
  }

  revision(): number {
    return Number(this.getMeta("revision") ?? 0);
  }

  setSchedule(schedule: Schedule, revision: number): void {
    this.setMeta("schedule", JSON.stringify(schedule));
    this.setMeta("revision", String(revision));
  }

  /** Bookings that hold a place in the window (held or confirmed). */
  taken(slotStartMs: number): number {
    return this.sql
      .exec<{ n: number }>(
        "SELECT count(*) AS n FROM bookings WHERE slot_start = ? AND state IN ('held', 'confirmed')",
        slotStartMs,
      )
      .one().n;
  }

  /** Places taken per window starting in [fromMs, toMs). */
  takenBetween(fromMs: number, toMs: number): Map<number, number> {
    const rows = this.sql
      .exec<{ slot_start: number; n: number }>(
        `SELECT slot_start, count(*) AS n FROM bookings
         WHERE slot_start >= ? AND slot_start < ? AND state IN ('held', 'confirmed')
         GROUP BY slot_start`,
        fromMs,
        toMs,
      )
      .toArray();
    return new Map(rows.map((r) => [r.slot_start, r.n]));
  }

  activeBookings(): number {
    return this.sql
      .exec<{ n: number }>(
        "SELECT count(*) AS n FROM bookings WHERE state IN ('held', 'confirmed')",
      )
      .one().n;
  }

  byKey(key: string): Booking | null {
    const row = this.sql.exec<BookingRow>("SELECT * FROM bookings WHERE key = ?", key).toArray()[0];
    return row ? toBooking(row) : null;
  }

  insertBooking(b: {
    id: string;
    key: string;
    checkoutId: string;
    slotStartMs: number;
    slotEndMs: number;
    expiresAt: number;
    actor: ActorView;
    now: number;
  }): Booking {
    this.sql.exec(
      `INSERT INTO bookings (id, key, checkout_id, slot_start, slot_end, state, expires_at,
         actor_type, actor_id, request_id, created_at)
       VALUES (?, ?, ?, ?, ?, 'held', ?, ?, ?, ?, ?)`,
      b.id,
      b.key,
      b.checkoutId,
      b.slotStartMs,
      b.slotEndMs,
      b.expiresAt,
      b.actor.type,
      b.actor.id,
      b.actor.requestId,
      b.now,
    );
    const booking = this.byKey(b.key);
    if (!booking) throw new Error(`booking ${b.id} vanished`);
    return booking;
  }

  /** Frees a settled booking's key for a new booking; the old row stays, under `key#id`. */
  supersedeKey(id: string): void {
    this.sql.exec("UPDATE bookings SET key = key || '#' || id WHERE id = ?", id);
  }

  setState(id: string, state: BookingState, expiresAt: number | null): void {
    this.sql.exec(
      "UPDATE bookings SET state = ?, expires_at = ? WHERE id = ?",
      state,
      expiresAt,
      id,
    );
  }

  dueHolds(now: number, limit: number): Booking[] {
    return this.sql
      .exec<BookingRow>(
        `SELECT * FROM bookings WHERE state = 'held' AND expires_at <= ?
         ORDER BY expires_at LIMIT ?`,
        now,
        limit,
      )
      .toArray()
      .map(toBooking);
  }

  nextExpiry(): number | null {
    return this.sql
      .exec<{ at: number | null }>(
        "SELECT min(expires_at) AS at FROM bookings WHERE state = 'held'",
      )
      .one().at;
  }

  lastSequence(): number {
    return this.sql.exec<{ s: number }>("SELECT coalesce(max(sequence), 0) AS s FROM events").one()
      .s;
  }

  /** Writes one event and its outbox row. */
  record(draft: EventDraft): SlotEvent {
    const b = draft.booking;
    const event: SlotEvent = {
      id: uuidv7(draft.now),
      sequence: this.lastSequence() + 1,
      shopId: this.getMeta("shop_id") ?? "",
      kind: draft.kind,
      bookingId: b?.bookingId ?? null,
      checkoutId: b?.checkoutId ?? null,
      slotStart: b?.slotStart ?? null,
      bookedAfter: b ? this.taken(b.slotStartMs) : null,
      capacity: draft.capacity ?? null,
      schedule: draft.schedule ?? null,
      revision: draft.revision ?? null,
      reason: draft.reason ?? null,
      actor: draft.actor,
      createdAt: iso(draft.now),
    };
    this.sql.exec(
      "INSERT INTO events (sequence, payload) VALUES (?, ?)",
      event.sequence,
      JSON.stringify(event),
    );
    this.enqueue(event.sequence, event);
    return event;
  }
}

function toBooking(row: BookingRow): Booking {
  return {
    bookingId: row.id,
    key: row.key,
    checkoutId: row.checkout_id,
    slotStart: iso(row.slot_start),
    slotEnd: iso(row.slot_end),
    slotStartMs: row.slot_start,
    state: row.state as BookingState,
    expiresAt: row.expires_at === null ? null : iso(row.expires_at),
    expiresAtMs: row.expires_at,
    createdAt: iso(row.created_at),
    actor: {
      type: row.actor_type as ActorView["type"],
      id: row.actor_id,
      requestId: row.request_id,
    },
  };
}
