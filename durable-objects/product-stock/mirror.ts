/**
 * The Postgres side of ProductStock's outbox: mirrors movements into `stock_movements` and
 * writes one audit row per movement, both in one statement (invariants 2 and the outbox's
 * "nothing lost, nothing doubled").
 */
import { type AuditEntry, auditInsertSql } from "../../src/db/audit.ts";
import type { HttpDatabase } from "../../src/db/http.ts";
import type { Movement, MovementKind } from "./types.ts";

export const AUDIT_ACTIONS: Record<MovementKind, string> = {
  adjust: "stock.adjusted",
  set: "stock.set",
  reserve: "stock.reserved",
  commit: "stock.committed",
  release: "stock.released",
  expire: "stock.expired",
  undo: "stock.undone",
  hold: "stock.held",
  bulk: "stock.bulk_applied",
  hold_release: "stock.hold_released",
  hold_expire: "stock.hold_expired",
  threshold: "stock.threshold_set",
};

/** A mirror row already holds this (product, sequence) with another movement: never overwrite. */
export class MirrorDivergence extends Error {
  override name = "MirrorDivergence";
}

/** souk_assert's code (migrations/0012) for a (product, sequence) Postgres holds as another movement. */
const DIVERGED = "MIRROR_DIVERGED";

/**
 * Inserts the movements (all of one product) that Postgres does not hold yet, and audits
 * exactly those, in ONE statement over Neon's HTTP transport: one round trip and no connection
 * to open, where the WebSocket Pool's interactive transaction took five (connect, begin, insert,
 * audit, commit). Safe to call again with the same rows: the unique (product_id, sequence) makes
 * a repeat insert nothing and audit nothing. A row Postgres holds under the same (product,
 * sequence) with another id (an object whose storage was reset and reuses sequences) would be
 * silently lost, so the statement fails instead and writes nothing (MirrorDivergence). Returns
 * how many rows were new.
 */
export async function mirrorMovements(db: HttpDatabase, movements: Movement[]): Promise<number> {
  if (movements.length === 0) return 0;
  const col = <T>(f: (m: Movement) => T) => movements.map(f);
  const audit = auditInsertSql(
    movements.map((m) => ({ actor: m.actor, entry: auditEntry(m) })),
    22,
    "where v.entity_id in (select id::text from ins)",
  );
  const text = `
    with v as (
      select * from unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::bigint[],
        $6::text[], $7::int[], $8::int[], $9::int[], $10::int[], $11::int[], $12::bool[],
        $13::text[], $14::text[], $15::text[], $16::uuid[], $17::text[], $18::uuid[], $19::text[],
        $20::bigint[], $21::timestamptz[])
      as v(id, product_id, shop_id, location_id, sequence, kind, delta_on_hand, delta_reserved,
        on_hand_after, reserved_after, low_stock_threshold, low_stock, alert, reason, actor_type,
        actor_id, request_id, reservation_id, tx_id, undoes_sequence, created_at)),
    diverged as (
      select souk_assert(count(*) = 0, '${DIVERGED}', min(v.sequence)::text) as ok
      from v join stock_movements m on m.product_id = v.product_id and m.sequence = v.sequence
        and m.id <> v.id),
    ins as (
      insert into stock_movements (id, product_id, shop_id, location_id, sequence, kind,
        delta_on_hand, delta_reserved, on_hand_after, reserved_after, low_stock_threshold,
        low_stock, alert, reason, actor_type, actor_id, request_id, reservation_id, tx_id,
        undoes_sequence, created_at)
      select id, product_id, shop_id, location_id, sequence, kind::stock_movement_kind,
        delta_on_hand, delta_reserved, on_hand_after, reserved_after, low_stock_threshold,
        low_stock, alert::stock_alert, reason, actor_type, actor_id, request_id, reservation_id,
        tx_id, undoes_sequence, created_at
      from v where (select ok from diverged)
      on conflict (product_id, sequence) do nothing
      returning id),
    audited as (${audit.text})
    select count(*)::int as fresh from ins`;
  const params = [
    col((m) => m.id),
    col((m) => m.productId),
    col((m) => m.shopId),
    col((m) => m.locationId),
    col((m) => m.sequence),
    col((m) => m.kind),
    col((m) => m.deltaOnHand),
    col((m) => m.deltaReserved),
    col((m) => m.onHandAfter),
    col((m) => m.reservedAfter),
    col((m) => m.threshold),
    col((m) => m.low),
    col((m) => m.alert),
    col((m) => m.reason),
    col((m) => m.actor.type),
    col((m) => m.actor.id ?? null),
    col((m) => m.actor.requestId ?? null),
    col((m) => m.reservationId),
    col((m) => m.txId),
    col((m) => m.undoesSequence),
    col((m) => new Date(m.createdAt).toISOString()),
    ...audit.params,
  ];
  try {
    const rows = (await db.$client.query(text, params)) as Array<{ fresh: number }>;
    return rows[0]?.fresh ?? 0;
  } catch (err) {
    const e = err as { code?: unknown; message?: unknown; detail?: unknown };
    if (e.code === "P0001" && e.message === DIVERGED) {
      throw new MirrorDivergence(
        `stock_movements already holds product ${movements[0]?.productId} sequence ${String(e.detail)} with another movement`,
      );
    }
    throw err;
  }
}

/** The audit row of one mirrored movement (`stock_movement` entity, id = the movement's). */
function auditEntry(m: Movement): AuditEntry {
  return {
    action: AUDIT_ACTIONS[m.kind],
    entityType: "stock_movement",
    entityId: m.id,
    oldValue: {
      onHand: m.onHandAfter - m.deltaOnHand,
      reserved: m.reservedAfter - m.deltaReserved,
    },
    newValue: {
      productId: m.productId,
      shopId: m.shopId,
      locationId: m.locationId,
      sequence: m.sequence,
      kind: m.kind,
      deltaOnHand: m.deltaOnHand,
      deltaReserved: m.deltaReserved,
      onHand: m.onHandAfter,
      reserved: m.reservedAfter,
      threshold: m.threshold,
      alert: m.alert,
      reason: m.reason,
      reservationId: m.reservationId,
      txId: m.txId,
      undoesSequence: m.undoesSequence,
    },
  };
}
