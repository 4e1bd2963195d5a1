/**
 * ProductStock's SQLite storage: the schema and the synchronous operations the object runs
 * inside `ctx.storage.transactionSync`. Every level change goes through `record`, which writes
 * the level, its movement and its outbox row together, so none can exist without the others.
 */
import { uuidv7 } from "../../src/lib/ids.ts";
import { type SequencedRow, SqlOutboxStore } from "../shared/sql-outbox.ts";
import type {
  ActorView,
  LocationLevel,
  Movement,
  MovementKind,
  PreparedOp,
  ReservationState,
  ReservationView,
} from "./types.ts";

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`,
  // The CHECKs are the last line of invariant 1: a bug that slips past the code's own checks
  // aborts its transaction instead of writing negative or oversold stock.
  `CREATE TABLE IF NOT EXISTS stock_levels (
    location_id TEXT PRIMARY KEY,
    on_hand INTEGER NOT NULL DEFAULT 0 CHECK (on_hand >= 0 AND on_hand <= 2147483647),
    reserved INTEGER NOT NULL DEFAULT 0 CHECK (reserved >= 0),
    low_stock_threshold INTEGER CHECK (low_stock_threshold IS NULL OR low_stock_threshold >= 0),
    -- Whether the location's alert is open: available ≤ threshold, or nothing available (an
    -- unset threshold alerts at 0). The level's low is derived by toLevel.
    low INTEGER NOT NULL DEFAULT 0 CHECK (low IN (0, 1)),
    CHECK (reserved <= on_hand)
  )`,
  `CREATE TABLE IF NOT EXISTS movements (
    sequence INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    location_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    delta_on_hand INTEGER NOT NULL,
    delta_reserved INTEGER NOT NULL,
    on_hand_after INTEGER NOT NULL CHECK (on_hand_after >= 0),
    reserved_after INTEGER NOT NULL CHECK (reserved_after >= 0 AND reserved_after <= on_hand_after),
    threshold_after INTEGER,
    low_after INTEGER NOT NULL,
    alert TEXT CHECK (alert IN ('raised', 'cleared')),
    reason TEXT,
    actor_type TEXT NOT NULL,
    actor_id TEXT,
    request_id TEXT,
    reservation_id TEXT,
    tx_id TEXT,
    undoes_sequence INTEGER UNIQUE,
    undone_by INTEGER,
    idempotency_key TEXT UNIQUE,
    request TEXT,
    created_at INTEGER NOT NULL
  )`,
  `CREATE TABLE IF NOT EXISTS reservations (
    id TEXT PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    location_id TEXT NOT NULL,
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    state TEXT NOT NULL CHECK (state IN ('active', 'committed', 'released', 'expired')),
    expires_at INTEGER NOT NULL,
    actor_type TEXT NOT NULL,
    actor_id TEXT,
    request_id TEXT,
    created_at INTEGER NOT NULL,
    settled_sequence INTEGER
  )`,
  `CREATE INDEX IF NOT EXISTS reservations_active_expiry
    ON reservations (expires_at) WHERE state = 'active'`,
  `CREATE TABLE IF NOT EXISTS prepared (
    tx_id TEXT PRIMARY KEY,
    state TEXT NOT NULL CHECK (state IN ('prepared', 'committed', 'aborted', 'expired')),
    request TEXT,
    ops TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    reason TEXT,
    actor_type TEXT NOT NULL,
    actor_id TEXT,
    request_id TEXT,
    created_at INTEGER NOT NULL
  )`,
  `CREATE INDEX IF NOT EXISTS prepared_open_expiry ON prepared (expires_at) WHERE state = 'prepared'`,
  // A row leaves the outbox when Postgres has acknowledged it: "acked" is "deleted".
  `CREATE TABLE IF NOT EXISTS outbox (
    sequence INTEGER PRIMARY KEY,
    payload TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
  )`,
];

/** Creates the schema; rebuilds the seed's `stock_levels` (three columns, no meta) in place. */
export function migrate(sql: SqlStorage): void {
  const tables = new Set(
    sql
      .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'")
      .toArray()
      .map((r) => r.name),
  );
  const seedLayout = tables.has("stock_levels") && !tables.has("meta");
  if (seedLayout) sql.exec("ALTER TABLE stock_levels RENAME TO stock_levels_seed");
  for (const statement of SCHEMA) sql.exec(statement);
  if (seedLayout) {
    sql.exec(`INSERT INTO stock_levels (location_id, on_hand, reserved)
      SELECT location_id, on_hand, reserved FROM stock_levels_seed`);
    sql.exec("DROP TABLE stock_levels_seed");
  }
}

interface LevelRow extends Record<string, SqlStorageValue> {
  location_id: string;
  on_hand: number;
  reserved: number;
  low_stock_threshold: number | null;
  low: number;
}

interface MovementRow extends Record<string, SqlStorageValue> {
  sequence: number;
  id: string;
  location_id: string;
  kind: string;
  delta_on_hand: number;
  delta_reserved: number;
  on_hand_after: number;
  reserved_after: number;
  threshold_after: number | null;
  low_after: number;
  alert: string | null;
  reason: string | null;
  actor_type: string;
  actor_id: string | null;
  request_id: string | null;
  reservation_id: string | null;
  tx_id: string | null;
  undoes_sequence: number | null;
  undone_by: number | null;
  idempotency_key: string | null;
  request: string | null;
  created_at: number;
}

interface ReservationRow extends Record<string, SqlStorageValue> {
  id: string;
  key: string;
  location_id: string;
  quantity: number;
  state: string;
  expires_at: number;
  actor_type: string;
  actor_id: string | null;
  request_id: string | null;
  created_at: number;
  settled_sequence: number | null;
}

interface PreparedRow extends Record<string, SqlStorageValue> {
  tx_id: string;
  state: string;
  request: string | null;
  ops: string;
  expires_at: number;
  reason: string | null;
  actor_type: string;
  actor_id: string | null;
  request_id: string | null;
}

export type PreparedState = "prepared" | "committed" | "aborted" | "expired";

export interface Prepared {
  txId: string;
  state: PreparedState;
  request: string | null;
  ops: PreparedOp[];
  expiresAt: number;
  reason: string | null;
  actor: ActorView;
}

export interface Reservation extends ReservationView {
  expiresAtMs: number;
  actor: ActorView;
}

export interface MovementDraft {
  locationId: string;
  kind: MovementKind;
  deltaOnHand: number;
  deltaReserved: number;
  reason: string | null;
  actor: ActorView;
  now: number;
  reservationId?: string;
  txId?: string;
  undoesSequence?: number;
  idempotencyKey?: string;
  request?: string;
  /** Present only for `threshold` movements: the new threshold. */
  threshold?: number | null;
}

export type OutboxRow = SequencedRow<Movement>;

export const SYSTEM_ACTOR: ActorView = { type: "system", id: null, requestId: null };

/** Thrown when a write would break invariant 1; callers check first, so this means a bug. */
export class InvariantViolation extends Error {
  override name = "InvariantViolation";
}

function actorOf(row: {
  actor_type: string;
  actor_id: string | null;
  request_id: string | null;
}): ActorView {
  return {
    type: row.actor_type as ActorView["type"],
    id: row.actor_id,
    requestId: row.request_id,
  };
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Synchronous access to one product's stock tables. Call only inside `transactionSync`. */
export class StockStore extends SqlOutboxStore<Movement> {
  level(locationId: string): LocationLevel {
    return this.current(locationId).level;
  }

  /** A location's level and whether its alert is open, from one read of its row. */
  private current(locationId: string): { level: LocationLevel; alerting: boolean } {
    const row = this.sql
      .exec<LevelRow>("SELECT * FROM stock_levels WHERE location_id = ?", locationId)
      .toArray()[0];
    return row
      ? { level: toLevel(row), alerting: row.low === 1 }
      : {
          level: { locationId, onHand: 0, reserved: 0, available: 0, threshold: null, low: false },
          alerting: false,
        };
  }

  levels(): LocationLevel[] {
    return this.sql
      .exec<LevelRow>("SELECT * FROM stock_levels ORDER BY location_id")
      .toArray()
      .map(toLevel);
  }

  lastSequence(): number {
    return this.sql
      .exec<{ s: number }>("SELECT coalesce(max(sequence), 0) AS s FROM movements")
      .one().s;
  }

  /**
   * Applies one change to one location and writes its movement and outbox row. The movement's
   * low flag follows available ≤ threshold. The stored alert flag (the `low` column) follows
   * "low, or nothing available", so a location with no threshold still alerts when it reaches
   * 0; a change of that flag is the movement's alert. Both come from the level row `record`
   * reads anyway: no extra storage read on any path.
   */
  record(draft: MovementDraft): Movement {
    const { level: before, alerting: wasAlerting } = this.current(draft.locationId);
    const onHand = before.onHand + draft.deltaOnHand;
    const reserved = before.reserved + draft.deltaReserved;
    if (onHand < 0 || reserved < 0 || reserved > onHand) {
      throw new InvariantViolation(
        `${draft.kind} at ${draft.locationId} would leave on hand ${onHand}, reserved ${reserved}`,
      );
    }
    const threshold = draft.threshold === undefined ? before.threshold : draft.threshold;
    const low = isLow(onHand - reserved, threshold);
    const alerting = isAlerting(onHand - reserved, threshold);
    const alert = alerting === wasAlerting ? null : alerting ? "raised" : "cleared";
    this.sql.exec(
      `INSERT INTO stock_levels (location_id, on_hand, reserved, low_stock_threshold, low)
       VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (location_id) DO UPDATE SET on_hand = excluded.on_hand,
         reserved = excluded.reserved, low_stock_threshold = excluded.low_stock_threshold,
         low = excluded.low`,
      draft.locationId,
      onHand,
      reserved,
      threshold,
      alerting ? 1 : 0,
    );
    const movement: Movement = {
      id: uuidv7(draft.now),
      sequence: this.lastSequence() + 1,
      productId: this.getMeta("product_id") ?? "",
      shopId: this.getMeta("shop_id"),
      locationId: draft.locationId,
      kind: draft.kind,
      deltaOnHand: draft.deltaOnHand,
      deltaReserved: draft.deltaReserved,
      onHandAfter: onHand,
      reservedAfter: reserved,
      availableAfter: onHand - reserved,
      threshold,
      low,
      alert,
      reason: draft.reason,
      actor: draft.actor,
      reservationId: draft.reservationId ?? null,
      txId: draft.txId ?? null,
      undoesSequence: draft.undoesSequence ?? null,
      undoneBySequence: null,
      createdAt: iso(draft.now),
    };
    this.sql.exec(
      `INSERT INTO movements (sequence, id, location_id, kind, delta_on_hand, delta_reserved,
         on_hand_after, reserved_after, threshold_after, low_after, alert, reason, actor_type,
         actor_id, request_id, reservation_id, tx_id, undoes_sequence, idempotency_key, request,
         created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      movement.sequence,
      movement.id,
      movement.locationId,
      movement.kind,
      movement.deltaOnHand,
      movement.deltaReserved,
      onHand,
      reserved,
      threshold,
      low ? 1 : 0,
      alert,
      movement.reason,
      movement.actor.type,
      movement.actor.id,
      movement.actor.requestId,
      movement.reservationId,
      movement.txId,
      movement.undoesSequence,
      draft.idempotencyKey ?? null,
      draft.request ?? null,
      draft.now,
    );
    this.enqueue(movement.sequence, movement);
    return movement;
  }

  movement(sequence: number): Movement | null {
    const row = this.sql
      .exec<MovementRow>("SELECT * FROM movements WHERE sequence = ?", sequence)
      .toArray()[0];
    return row ? this.toMovement(row) : null;
  }

  movementById(id: string): Movement | null {
    const row = this.sql.exec<MovementRow>("SELECT * FROM movements WHERE id = ?", id).toArray()[0];
    return row ? this.toMovement(row) : null;
  }

  /** The movement an idempotency key produced, with the request it was produced for. */
  movementByKey(key: string): { movement: Movement; request: string | null } | null {
    const row = this.sql
      .exec<MovementRow>("SELECT * FROM movements WHERE idempotency_key = ?", key)
      .toArray()[0];
    return row ? { movement: this.toMovement(row), request: row.request } : null;
  }

  movementsByTx(txId: string, kind: MovementKind): Movement[] {
    return this.sql
      .exec<MovementRow>(
        "SELECT * FROM movements WHERE tx_id = ? AND kind = ? ORDER BY sequence",
        txId,
        kind,
      )
      .toArray()
      .map((r) => this.toMovement(r));
  }

  movements(afterSequence: number, limit: number): Movement[] {
    return this.sql
      .exec<MovementRow>(
        "SELECT * FROM movements WHERE sequence > ? ORDER BY sequence LIMIT ?",
        afterSequence,
        limit,
      )
      .toArray()
      .map((r) => this.toMovement(r));
  }

  markUndone(sequence: number, undoneBy: number): void {
    this.sql.exec("UPDATE movements SET undone_by = ? WHERE sequence = ?", undoneBy, sequence);
  }

  insertReservation(r: {
    id: string;
    key: string;
    locationId: string;
    quantity: number;
    expiresAt: number;
    actor: ActorView;
    now: number;
  }): void {
    this.sql.exec(
      `INSERT INTO reservations (id, key, location_id, quantity, state, expires_at, actor_type,
         actor_id, request_id, created_at)
       VALUES (?, ?, ?, ?, 'active', ?, ?, ?, ?, ?)`,
      r.id,
      r.key,
      r.locationId,
      r.quantity,
      r.expiresAt,
      r.actor.type,
      r.actor.id,
      r.actor.requestId,
      r.now,
    );
  }

  reservation(id: string): Reservation | null {
    const row = this.sql
      .exec<ReservationRow>("SELECT * FROM reservations WHERE id = ?", id)
      .toArray()[0];
    return row ? toReservation(row) : null;
  }

  reservationByKey(key: string): Reservation | null {
    const row = this.sql
      .exec<ReservationRow>("SELECT * FROM reservations WHERE key = ?", key)
      .toArray()[0];
    return row ? toReservation(row) : null;
  }

  /** Frees a settled hold's key for a new hold; the old row stays, under `key#id`. */
  supersedeReservationKey(id: string): void {
    this.sql.exec("UPDATE reservations SET key = key || '#' || id WHERE id = ?", id);
  }

  settleReservation(id: string, state: ReservationState, sequence: number): void {
    this.sql.exec(
      "UPDATE reservations SET state = ?, settled_sequence = ? WHERE id = ?",
      state,
      sequence,
      id,
    );
  }

  dueReservations(now: number, limit: number): Reservation[] {
    return this.sql
      .exec<ReservationRow>(
        `SELECT * FROM reservations WHERE state = 'active' AND expires_at <= ?
         ORDER BY expires_at LIMIT ?`,
        now,
        limit,
      )
      .toArray()
      .map(toReservation);
  }

  insertPrepared(p: Omit<Prepared, "state"> & { state: PreparedState; now: number }): void {
    this.sql.exec(
      `INSERT INTO prepared (tx_id, state, request, ops, expires_at, reason, actor_type, actor_id,
         request_id, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      p.txId,
      p.state,
      p.request,
      JSON.stringify(p.ops),
      p.expiresAt,
      p.reason,
      p.actor.type,
      p.actor.id,
      p.actor.requestId,
      p.now,
    );
  }

  prepared(txId: string): Prepared | null {
    const row = this.sql
      .exec<PreparedRow>("SELECT * FROM prepared WHERE tx_id = ?", txId)
      .toArray()[0];
    return row ? toPrepared(row) : null;
  }

  setPreparedState(txId: string, state: PreparedState): void {
    this.sql.exec("UPDATE prepared SET state = ? WHERE tx_id = ?", state, txId);
  }

  duePrepared(now: number, limit: number): Prepared[] {
    return this.sql
      .exec<PreparedRow>(
        `SELECT * FROM prepared WHERE state = 'prepared' AND expires_at <= ?
         ORDER BY expires_at LIMIT ?`,
        now,
        limit,
      )
      .toArray()
      .map(toPrepared);
  }

  /** The earliest moment a reservation or a prepared hold expires; null when none is open. */
  nextExpiry(): number | null {
    return this.sql
      .exec<{ at: number | null }>(
        `SELECT min(at) AS at FROM (
           SELECT min(expires_at) AS at FROM reservations WHERE state = 'active'
           UNION ALL SELECT min(expires_at) FROM prepared WHERE state = 'prepared')`,
      )
      .one().at;
  }

  private toMovement(row: MovementRow): Movement {
    return {
      id: row.id,
      sequence: row.sequence,
      productId: this.getMeta("product_id") ?? "",
      shopId: this.getMeta("shop_id"),
      locationId: row.location_id,
      kind: row.kind as MovementKind,
      deltaOnHand: row.delta_on_hand,
      deltaReserved: row.delta_reserved,
      onHandAfter: row.on_hand_after,
      reservedAfter: row.reserved_after,
      availableAfter: row.on_hand_after - row.reserved_after,
      threshold: row.threshold_after,
      low: row.low_after === 1,
      alert: row.alert as Movement["alert"],
      reason: row.reason,
      actor: actorOf(row),
      reservationId: row.reservation_id,
      txId: row.tx_id,
      undoesSequence: row.undoes_sequence,
      undoneBySequence: row.undone_by,
      createdAt: iso(row.created_at),
    };
  }
}

function toLevel(row: LevelRow): LocationLevel {
  return {
    locationId: row.location_id,
    onHand: row.on_hand,
    reserved: row.reserved,
    available: row.on_hand - row.reserved,
    threshold: row.low_stock_threshold,
    low: isLow(row.on_hand - row.reserved, row.low_stock_threshold),
  };
}

/** Low stock: at or below a set threshold. */
function isLow(available: number, threshold: number | null): boolean {
  return threshold !== null && available <= threshold;
}

/**
 * Whether a location's alert is open: low, or out of stock (an unset threshold alerts at 0, so
 * a shop that set none still hears when a location runs dry).
 */
function isAlerting(available: number, threshold: number | null): boolean {
  return available === 0 || isLow(available, threshold);
}

function toReservation(row: ReservationRow): Reservation {
  return {
    reservationId: row.id,
    key: row.key,
    locationId: row.location_id,
    quantity: row.quantity,
    state: row.state as ReservationState,
    expiresAt: iso(row.expires_at),
    expiresAtMs: row.expires_at,
    createdAt: iso(row.created_at),
    settledSequence: row.settled_sequence,
    actor: actorOf(row),
  };
}

function toPrepared(row: PreparedRow): Prepared {
  return {
    txId: row.tx_id,
    state: row.state as PreparedState,
    request: row.request,
    ops: JSON.parse(row.ops) as PreparedOp[],
    expiresAt: row.expires_at,
    reason: row.reason,
    actor: actorOf(row),
  };
}
