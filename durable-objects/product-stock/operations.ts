/**
 * The body of each ProductStock RPC: synchronous functions over the object's store, run inside
 * one `transactionSync` by the class. They read, check and write with no await in between, so
 * a check can never be overtaken by a concurrent call.
 */
import type { z } from "zod";
import { uuidv7 } from "../../src/lib/ids.ts";
import { InvariantViolation, type Reservation, type StockStore, SYSTEM_ACTOR } from "./store.ts";
import {
  type AbortPreparedResult,
  type ActorView,
  type AdjustResult,
  type actorSchema,
  type adjustInput,
  type CommitPreparedResult,
  type CommitResult,
  type ConflictReason,
  type ConflictRefusal,
  type InsufficientStockRefusal,
  type KeyReusedRefusal,
  MAX_QUANTITY,
  type Movement,
  type NotFoundRefusal,
  type PreparedOp,
  type PrepareResult,
  type preparedTxInput,
  type prepareInput,
  type ReleaseResult,
  type ReserveResult,
  type reserveInput,
  type SetThresholdResult,
  type Shortage,
  type setThresholdInput,
  type settleInput,
  UNDOABLE_KINDS,
  type UndoResult,
  type undoInput,
} from "./types.ts";

/** Expired holds released per transaction; the alarm comes straight back for the rest. */
const EXPIRY_BATCH = 200;

/** The body of `ProductStock.adjust` (see its JSDoc for the contract). */
export function adjust(
  store: StockStore,
  a: z.output<typeof adjustInput>,
  now: number,
): AdjustResult {
  const request = `adjust:${JSON.stringify([a.locationId, a.mode, a.quantity])}`;
  bind(store, a.productId, a.shopId);
  const prior = store.movementByKey(a.key);
  if (prior) {
    return prior.request === request
      ? { ok: true, movement: prior.movement, replayed: true }
      : keyReused(a.key);
  }
  const level = store.level(a.locationId);
  const delta = a.mode === "delta" ? a.quantity : a.quantity - level.onHand;
  if (level.onHand + delta < level.reserved) return insufficient([{ ...level, requested: -delta }]);
  assertWithinMax(level.onHand + delta);
  const movement = store.record({
    locationId: a.locationId,
    kind: a.mode === "delta" ? "adjust" : "set",
    deltaOnHand: delta,
    deltaReserved: 0,
    reason: a.reason,
    actor: toActor(a.actor),
    idempotencyKey: a.key,
    request,
    now,
  });
  return { ok: true, movement, replayed: false };
}

/** The body of `ProductStock.reserve` (see its JSDoc for the contract). */
export function reserve(
  store: StockStore,
  r: z.output<typeof reserveInput>,
  now: number,
): ReserveResult {
  bind(store, r.productId, r.shopId);
  let prior = store.reservationByKey(r.key);
  if (prior && r.renew && (prior.state === "released" || prior.state === "expired")) {
    store.supersedeReservationKey(prior.reservationId);
    prior = null;
  }
  if (prior) {
    if (prior.locationId !== r.locationId || prior.quantity !== r.quantity) {
      return keyReused(r.key);
    }
    return { ok: true, ...reservationResult(prior), replayed: true };
  }
  const level = store.level(r.locationId);
  if (level.available < r.quantity) return insufficient([{ ...level, requested: r.quantity }]);
  const reservationId = uuidv7(now);
  const actor = toActor(r.actor);
  store.insertReservation({
    id: reservationId,
    key: r.key,
    locationId: r.locationId,
    quantity: r.quantity,
    expiresAt: now + r.ttlMs,
    actor,
    now,
  });
  store.record({
    locationId: r.locationId,
    kind: "reserve",
    deltaOnHand: 0,
    deltaReserved: r.quantity,
    reason: null,
    actor,
    reservationId,
    now,
  });
  return {
    ok: true,
    reservationId,
    locationId: r.locationId,
    quantity: r.quantity,
    state: "active",
    expiresAt: new Date(now + r.ttlMs).toISOString(),
    replayed: false,
  };
}

/** The body of `ProductStock.commit` (see its JSDoc for the contract). */
export function commit(
  store: StockStore,
  c: z.output<typeof settleInput>,
  now: number,
): CommitResult {
  const r = store.reservation(c.reservationId);
  if (!r) return notFound(`reservation ${c.reservationId}`);
  if (r.state === "committed") {
    return { ...settled(r, "committed"), movement: settledMovement(store, r), replayed: true };
  }
  if (r.state !== "active") {
    return conflict(
      r.state === "expired" ? "RESERVATION_EXPIRED" : "RESERVATION_RELEASED",
      `reservation ${r.reservationId} is ${r.state}`,
    );
  }
  const movement = store.record({
    locationId: r.locationId,
    kind: "commit",
    deltaOnHand: -r.quantity,
    deltaReserved: -r.quantity,
    reason: null,
    actor: c.actor ? toActor(c.actor) : r.actor,
    reservationId: r.reservationId,
    now,
  });
  store.settleReservation(r.reservationId, "committed", movement.sequence);
  return { ...settled(r, "committed"), movement, replayed: false };
}

/** The body of `ProductStock.release` (see its JSDoc for the contract). */
export function release(
  store: StockStore,
  c: z.output<typeof settleInput>,
  now: number,
): ReleaseResult {
  const r = store.reservation(c.reservationId);
  if (!r) return notFound(`reservation ${c.reservationId}`);
  if (r.state === "committed") {
    return conflict("RESERVATION_COMMITTED", `reservation ${r.reservationId} is committed`);
  }
  if (r.state === "released" || r.state === "expired") {
    return { ...settled(r, r.state), movement: settledMovement(store, r), replayed: true };
  }
  const movement = store.record({
    locationId: r.locationId,
    kind: "release",
    deltaOnHand: 0,
    deltaReserved: -r.quantity,
    reason: null,
    actor: c.actor ? toActor(c.actor) : r.actor,
    reservationId: r.reservationId,
    now,
  });
  store.settleReservation(r.reservationId, "released", movement.sequence);
  return { ...settled(r, "released"), movement, replayed: false };
}

/** The body of `ProductStock.undo` (see its JSDoc for the contract). */
export function undo(store: StockStore, u: z.output<typeof undoInput>, now: number): UndoResult {
  bind(store, u.productId, u.shopId);
  const target =
    u.sequence !== undefined ? store.movement(u.sequence) : store.movementById(u.movementId ?? "");
  const request = `undo:${target?.sequence ?? "missing"}`;
  const prior = store.movementByKey(u.key);
  if (prior) {
    return prior.request === request
      ? { ok: true, movement: prior.movement, replayed: true }
      : keyReused(u.key);
  }
  if (!target) return notFound(`movement ${u.sequence ?? u.movementId}`);
  if (!UNDOABLE_KINDS.has(target.kind)) {
    return conflict("NOT_UNDOABLE", `a ${target.kind} movement cannot be undone`);
  }
  if (target.undoneBySequence !== null) {
    return {
      ...conflict("ALREADY_UNDONE", `movement ${target.sequence} was already undone`),
      undoneBySequence: target.undoneBySequence,
    };
  }
  const level = store.level(target.locationId);
  const delta = -target.deltaOnHand;
  if (level.onHand + delta < level.reserved) return insufficient([{ ...level, requested: -delta }]);
  assertWithinMax(level.onHand + delta);
  const movement = store.record({
    locationId: target.locationId,
    kind: "undo",
    deltaOnHand: delta,
    deltaReserved: 0,
    reason: u.reason ?? `undo of movement ${target.sequence}`,
    actor: toActor(u.actor),
    undoesSequence: target.sequence,
    idempotencyKey: u.key,
    request,
    now,
  });
  store.markUndone(target.sequence, movement.sequence);
  return { ok: true, movement, replayed: false };
}

/** The body of `ProductStock.prepare` (see its JSDoc for the contract). */
export function prepare(
  store: StockStore,
  p: z.output<typeof prepareInput>,
  now: number,
): PrepareResult {
  const request = JSON.stringify(p.ops.map((o) => [o.locationId, o.mode, o.quantity]));
  bind(store, p.productId, p.shopId);
  const prior = store.prepared(p.txId);
  if (prior) {
    if (prior.state === "aborted") return conflict("PREPARE_ABORTED", `${p.txId} was aborted`);
    if (prior.request !== request) return keyReused(p.txId);
    if (prior.state === "expired") return conflict("PREPARE_EXPIRED", `${p.txId} expired`);
    return {
      ok: true,
      txId: p.txId,
      state: prior.state,
      expiresAt: new Date(prior.expiresAt).toISOString(),
      ops: prior.ops,
      replayed: true,
    };
  }
  const ops: PreparedOp[] = [];
  const shortages: Shortage[] = [];
  for (const op of p.ops) {
    const level = store.level(op.locationId);
    const delta = op.mode === "delta" ? op.quantity : op.quantity - level.onHand;
    const held = Math.max(0, -delta);
    if (held > level.available) shortages.push({ ...level, requested: held });
    assertWithinMax(level.onHand + delta);
    ops.push({ locationId: op.locationId, mode: op.mode, quantity: op.quantity, delta, held });
  }
  if (shortages.length > 0) return insufficient(shortages);
  const actor = toActor(p.actor);
  const reason = p.reason ?? null;
  for (const op of ops) {
    if (op.held === 0) continue;
    store.record({
      locationId: op.locationId,
      kind: "hold",
      deltaOnHand: 0,
      deltaReserved: op.held,
      reason,
      actor,
      txId: p.txId,
      now,
    });
  }
  const expiresAt = now + p.ttlMs;
  store.insertPrepared({
    txId: p.txId,
    state: "prepared",
    request,
    ops,
    expiresAt,
    reason,
    actor,
    now,
  });
  return {
    ok: true,
    txId: p.txId,
    state: "prepared",
    expiresAt: new Date(expiresAt).toISOString(),
    ops,
    replayed: false,
  };
}

/** The body of `ProductStock.commitPrepared` (see its JSDoc for the contract). */
export function commitPrepared(
  store: StockStore,
  c: z.output<typeof preparedTxInput>,
  now: number,
): CommitPreparedResult {
  const prior = store.prepared(c.txId);
  if (!prior) return notFound(`prepared transaction ${c.txId}`);
  if (prior.state === "committed") {
    const movements = store.movementsByTx(c.txId, "bulk");
    return { ok: true, txId: c.txId, state: "committed", movements, replayed: true };
  }
  if (prior.state === "aborted") return conflict("PREPARE_ABORTED", `${c.txId} was aborted`);
  if (prior.state === "expired") return conflict("PREPARE_EXPIRED", `${c.txId} expired`);
  const actor = c.actor ? toActor(c.actor) : prior.actor;
  const movements = prior.ops.map((op) =>
    store.record({
      locationId: op.locationId,
      kind: "bulk",
      deltaOnHand: op.delta,
      deltaReserved: -op.held,
      reason: prior.reason,
      actor,
      txId: c.txId,
      now,
    }),
  );
  store.setPreparedState(c.txId, "committed");
  return { ok: true, txId: c.txId, state: "committed", movements, replayed: false };
}

/** The body of `ProductStock.abortPrepared` (see its JSDoc for the contract). */
export function abortPrepared(
  store: StockStore,
  c: z.output<typeof preparedTxInput>,
  now: number,
): AbortPreparedResult {
  const prior = store.prepared(c.txId);
  const actor = c.actor ? toActor(c.actor) : (prior?.actor ?? SYSTEM_ACTOR);
  if (!prior) {
    store.insertPrepared({
      txId: c.txId,
      state: "aborted",
      request: null,
      ops: [],
      expiresAt: now,
      reason: null,
      actor,
      now,
    });
    return { ok: true, txId: c.txId, state: "aborted", replayed: false };
  }
  if (prior.state === "committed") {
    return conflict("PREPARE_COMMITTED", `${c.txId} was already committed`);
  }
  if (prior.state !== "prepared") {
    return { ok: true, txId: c.txId, state: prior.state, replayed: true };
  }
  for (const op of prior.ops) {
    if (op.held === 0) continue;
    store.record({
      locationId: op.locationId,
      kind: "hold_release",
      deltaOnHand: 0,
      deltaReserved: -op.held,
      reason: prior.reason,
      actor,
      txId: c.txId,
      now,
    });
  }
  store.setPreparedState(c.txId, "aborted");
  return { ok: true, txId: c.txId, state: "aborted", replayed: false };
}

/** The body of `ProductStock.setThreshold` (see its JSDoc for the contract). */
export function setThreshold(
  store: StockStore,
  t: z.output<typeof setThresholdInput>,
  now: number,
): SetThresholdResult {
  bind(store, t.productId, t.shopId);
  const level = store.level(t.locationId);
  if (level.threshold === t.threshold) {
    const base = { ok: true, locationId: t.locationId, threshold: t.threshold } as const;
    return { ...base, low: level.low, movement: null, replayed: true };
  }
  const movement = store.record({
    locationId: t.locationId,
    kind: "threshold",
    deltaOnHand: 0,
    deltaReserved: 0,
    threshold: t.threshold,
    reason: t.threshold === null ? "threshold removed" : `threshold set to ${t.threshold}`,
    actor: toActor(t.actor),
    now,
  });
  return {
    ok: true,
    locationId: t.locationId,
    threshold: t.threshold,
    low: movement.low,
    movement,
    replayed: false,
  };
}

/** The first mutating call names the product (and shop); a different one is a routing bug. */
export function bind(store: StockStore, productId: string, shopId: string | undefined): void {
  const bound = store.getMeta("product_id");
  if (bound === null) store.setMeta("product_id", productId);
  else if (bound !== productId) {
    throw new Error(`PRODUCT_MISMATCH: this object holds product ${bound}, not ${productId}`);
  }
  if (shopId === undefined) return;
  const boundShop = store.getMeta("shop_id");
  if (boundShop === null) store.setMeta("shop_id", shopId);
  else if (boundShop !== shopId) {
    throw new Error(`SHOP_MISMATCH: this product belongs to shop ${boundShop}, not ${shopId}`);
  }
}

/** Releases reservations and prepared holds whose expiry has passed. */
export function expireDue(store: StockStore, now: number): void {
  for (const r of store.dueReservations(now, EXPIRY_BATCH)) {
    const movement = store.record({
      locationId: r.locationId,
      kind: "expire",
      deltaOnHand: 0,
      deltaReserved: -r.quantity,
      reason: "reservation expired",
      actor: SYSTEM_ACTOR,
      reservationId: r.reservationId,
      now,
    });
    store.settleReservation(r.reservationId, "expired", movement.sequence);
  }
  for (const p of store.duePrepared(now, EXPIRY_BATCH)) {
    for (const op of p.ops) {
      if (op.held === 0) continue;
      store.record({
        locationId: op.locationId,
        kind: "hold_expire",
        deltaOnHand: 0,
        deltaReserved: -op.held,
        reason: "prepared hold expired",
        actor: SYSTEM_ACTOR,
        txId: p.txId,
        now,
      });
    }
    store.setPreparedState(p.txId, "expired");
  }
}

function settledMovement(store: StockStore, r: Reservation): Movement {
  const movement = r.settledSequence === null ? null : store.movement(r.settledSequence);
  if (!movement) throw new InvariantViolation(`reservation ${r.reservationId} has no settlement`);
  return movement;
}

function assertWithinMax(onHand: number): void {
  if (onHand > MAX_QUANTITY) {
    throw new Error(`VALIDATION_FAILED: quantity: on hand would exceed ${MAX_QUANTITY}`);
  }
}

/** An RPC actor with its optional fields made explicit; no actor means the system. */
export function toActor(actor: z.output<typeof actorSchema> | undefined): ActorView {
  if (!actor) return SYSTEM_ACTOR;
  return { type: actor.type, id: actor.id ?? null, requestId: actor.requestId ?? null };
}

function insufficient(shortages: Shortage[]): InsufficientStockRefusal {
  const list = shortages.map(({ locationId, onHand, reserved, available, requested }) => ({
    locationId,
    onHand,
    reserved,
    available,
    requested,
  }));
  const first = list[0] ?? { locationId: "", onHand: 0, reserved: 0, available: 0, requested: 0 };
  return {
    ok: false,
    code: "INSUFFICIENT_STOCK",
    message: `only ${first.available} available at location ${first.locationId}, ${first.requested} needed`,
    locationId: first.locationId,
    available: first.available,
    requested: first.requested,
    shortages: list,
  };
}

function notFound(what: string): NotFoundRefusal {
  return { ok: false, code: "NOT_FOUND", message: `${what} was not found` };
}

function conflict(reason: ConflictReason, message: string): ConflictRefusal {
  return { ok: false, code: "CONFLICT", reason, message };
}

function keyReused(key: string): KeyReusedRefusal {
  return {
    ok: false,
    code: "IDEMPOTENCY_KEY_REUSED",
    message: `key ${key} was already used for a different request`,
  };
}

function reservationResult(r: Reservation) {
  return {
    reservationId: r.reservationId,
    locationId: r.locationId,
    quantity: r.quantity,
    state: r.state,
    expiresAt: r.expiresAt,
  };
}

function settled<S extends "committed" | "released" | "expired">(r: Reservation, state: S) {
  return { ok: true as const, reservationId: r.reservationId, state };
}
