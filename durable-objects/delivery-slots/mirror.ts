/**
 * The Postgres side of DeliverySlots: mirrors its events into `delivery_slot_events`, keeps
 * `delivery_slot_schedules` at the newest schedule revision, and writes one audit row per event
 * Postgres did not hold yet, all in ONE statement over Neon's HTTP transport. Repeating a batch
 * is harmless: the unique (shop_id, sequence) makes a repeat insert, and its audit, nothing.
 * The alarm's reconciliation reads how the orders of due holds ended (`orderOutcomes`).
 */
import { type AuditEntry, auditInsertSql } from "../../src/db/audit.ts";
import type { HttpDatabase } from "../../src/db/http.ts";
import type { SlotEvent, SlotEventKind } from "./types.ts";

export const AUDIT_ACTIONS: Record<SlotEventKind, string> = {
  schedule: "delivery_slots.schedule_set",
  book: "delivery_slot.booked",
  confirm: "delivery_slot.confirmed",
  release: "delivery_slot.released",
  expire: "delivery_slot.expired",
};

export async function mirrorEvents(db: HttpDatabase, events: SlotEvent[]): Promise<number> {
  if (events.length === 0) return 0;
  const col = <T>(f: (e: SlotEvent) => T) => events.map(f);
  const audit = auditInsertSql(
    events.map((e) => ({ actor: e.actor, entry: auditEntry(e) })),
    17,
    "where (v.new_value::jsonb->>'sequence')::bigint in (select sequence from ins)",
  );
  const text = `
    with v as (
      select * from unnest($1::uuid[], $2::uuid[], $3::bigint[], $4::text[], $5::uuid[],
        $6::uuid[], $7::timestamptz[], $8::int[], $9::int[], $10::jsonb[], $11::int[], $12::text[],
        $13::text[], $14::uuid[], $15::text[], $16::timestamptz[])
      as v(id, shop_id, sequence, kind, booking_id, checkout_id, slot_start, booked_after,
        capacity, schedule, revision, reason, actor_type, actor_id, request_id, created_at)),
    ins as (
      insert into delivery_slot_events (id, shop_id, sequence, kind, booking_id, checkout_id,
        slot_start, booked_after, capacity, revision, reason, actor_type, actor_id, request_id,
        created_at)
      select id, shop_id, sequence, kind, booking_id, checkout_id, slot_start, booked_after,
        capacity, revision, reason, actor_type, actor_id, request_id, created_at
      from v
      on conflict (shop_id, sequence) do nothing
      returning id, sequence),
    latest as (
      select distinct on (shop_id) * from v
      where kind = 'schedule' and id in (select id from ins)
      order by shop_id, revision desc),
    schedules as (
      insert into delivery_slot_schedules (shop_id, revision, time_zone, capacity,
        cutoff_minutes, horizon_days, days, updated_at)
      select shop_id, revision, schedule->>'timeZone', (schedule->>'capacity')::int,
        (schedule->>'cutoffMinutes')::int, (schedule->>'horizonDays')::int, schedule->'days',
        created_at
      from latest
      on conflict (shop_id) do update set revision = excluded.revision,
        time_zone = excluded.time_zone, capacity = excluded.capacity,
        cutoff_minutes = excluded.cutoff_minutes, horizon_days = excluded.horizon_days,
        days = excluded.days, updated_at = excluded.updated_at
      where delivery_slot_schedules.revision < excluded.revision
      returning shop_id),
    audited as (${audit.text})
    select count(*)::int as fresh from ins`;
  const params = [
    col((e) => e.id),
    col((e) => e.shopId),
    col((e) => e.sequence),
    col((e) => e.kind),
    col((e) => e.bookingId),
    col((e) => e.checkoutId),
    col((e) => e.slotStart),
    col((e) => e.bookedAfter),
    col((e) => e.capacity),
    col((e) => (e.schedule ? JSON.stringify(e.schedule) : null)),
    col((e) => e.revision),
    col((e) => e.reason),
    col((e) => e.actor.type),
    col((e) => e.actor.id ?? null),
    col((e) => e.actor.requestId ?? null),
    col((e) => e.createdAt),
    ...audit.params,
  ];
  const rows = (await db.$client.query(text, params)) as Array<{ fresh: number }>;
  return rows[0]?.fresh ?? 0;
}

/** The audit row of one event: a booking's under its id, a schedule's under the shop's. */
function auditEntry(e: SlotEvent): AuditEntry {
  if (e.kind === "schedule") {
    return {
      action: AUDIT_ACTIONS.schedule,
      entityType: "shop",
      entityId: e.shopId,
      newValue: { revision: e.revision, schedule: e.schedule, sequence: e.sequence },
    };
  }
  return {
    action: AUDIT_ACTIONS[e.kind],
    entityType: "delivery_slot_booking",
    entityId: e.bookingId ?? e.shopId,
    newValue: {
      shopId: e.shopId,
      checkoutId: e.checkoutId,
      slotStart: e.slotStart,
      bookedAfter: e.bookedAfter,
      capacity: e.capacity,
      reason: e.reason,
      sequence: e.sequence,
    },
  };
}

/** What the alarm does with a hold whose time ran out, from its order's status. */
export type HoldOutcome = "confirm" | "release" | "wait";

const WAITING = new Set(["pending_payment", "payment_failed"]);
const ENDED = new Set(["expired", "cancelled", "refunded"]);

/**
 * How the orders of these checkouts (at this shop) stand: paid or beyond keeps the place, still
 * awaiting payment waits, ended unpaid (or never written) gives it back.
 */
export async function orderOutcomes(
  db: HttpDatabase,
  shopId: string,
  checkoutIds: string[],
): Promise<Map<string, HoldOutcome>> {
  const rows = (await db.$client.query(
    `select checkout_id::text as checkout_id, status::text as status from orders
     where shop_id = $1 and checkout_id = any($2::uuid[])`,
    [shopId, checkoutIds],
  )) as Array<{ checkout_id: string; status: string }>;
  const status = new Map(rows.map((r) => [r.checkout_id, r.status]));
  return new Map(
    checkoutIds.map((id) => {
      const s = status.get(id);
      const outcome: HoldOutcome =
        s === undefined || ENDED.has(s) ? "release" : WAITING.has(s) ? "wait" : "confirm";
      return [id, outcome];
    }),
  );
}
