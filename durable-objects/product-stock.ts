import { DurableObject } from "cloudflare:workers";
import type { z } from "zod";
import { createDb, type DbHandle } from "../src/db/client.ts";
import { type Env, loadConfig } from "../src/env.ts";
import { uuidv7 } from "../src/lib/ids.ts";
import { createLogger } from "../src/lib/logger.ts";
import { mirrorMovements } from "./product-stock/mirror.ts";
import {
  InvariantViolation,
  migrate,
  type Reservation,
  StockStore,
  SYSTEM_ACTOR,
} from "./product-stock/store.ts";
import {
  type AbortPreparedResult,
  type ActorView,
  type AdjustInput,
  type AdjustResult,
  type actorSchema,
  adjustInput,
  type CommitPreparedResult,
  type CommitResult,
  type ConflictReason,
  type ConflictRefusal,
  type FlushInput,
  type FlushResult,
  flushInput,
  type InsufficientStockRefusal,
  type KeyReusedRefusal,
  MAX_QUANTITY,
  type Movement,
  type MovementsInput,
  movementsInput,
  type NotFoundRefusal,
  type PreparedOp,
  type PreparedTxInput,
  type PrepareInput,
  type PrepareResult,
  preparedTxInput,
  prepareInput,
  type ReleaseResult,
  type ReservationView,
  type ReserveInput,
  type ReserveResult,
  reserveInput,
  type SetThresholdInput,
  type SetThresholdResult,
  type SettleInput,
  type Shortage,
  type StockSnapshot,
  setThresholdInput,
  settleInput,
  UNDOABLE_KINDS,
  type UndoInput,
  type UndoResult,
  undoInput,
} from "./product-stock/types.ts";

export type * from "./product-stock/types.ts";

/** Expired holds released per transaction; the alarm comes straight back for the rest. */
const EXPIRY_BATCH = 200;
const FLUSH_BATCH = 100;
/** Batches per flush, so one alarm does not hold the object's mirror for minutes. */
const FLUSH_MAX_BATCHES = 20;
const FLUSH_TIMEOUT_MS = 15_000;
const BACKOFF_BASE_MS = 1_000;
const BACKOFF_CAP_MS = 5 * 60_000;

/**
 * The single writer for one product's stock (one object per product: `idFromName(productId)`).
 * Per location it keeps on hand, reserved and available (= on hand − reserved) and never lets
 * available go negative, whatever the concurrency: each method validates its input, then does
 * all its reads and writes in one synchronous storage transaction, so calls are serialized and
 * no await splits a check from its write.
 *
 * Every change is a movement with a gapless sequence; the movement and its outbox row commit
 * with the change. The alarm flushes the outbox to Postgres (`stock_movements` + `audit_log`)
 * with exponential backoff, and releases expired reservations and prepared holds. Nothing on
 * the caller's path waits for Postgres.
 *
 * Every mutating method is idempotent: `adjust`/`undo` by `key`, `reserve` by `key`,
 * `commit`/`release` by reservation id, `prepare`/`commitPrepared`/`abortPrepared` by `txId`.
 * Expected refusals are returned as `{ ok: false, code, … }` values (see
 * ./product-stock/types.ts for the error policy); invalid input throws `VALIDATION_FAILED: …`.
 */
export class ProductStock extends DurableObject<Env> {
  private readonly store: StockStore;
  private flushChain: Promise<unknown> = Promise.resolve();
  private readonly log = createLogger("info", { component: "ProductStock" });

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new StockStore(ctx.storage.sql);
    ctx.blockConcurrencyWhile(async () => {
      ctx.storage.transactionSync(() => migrate(ctx.storage.sql));
      // Covers a crash between a write and its setAlarm: pending work always has an alarm.
      await this.scheduleAlarm(false);
    });
  }

  /**
   * Changes on hand at one location: `delta` adds a signed quantity, `set` records a count.
   * Refused with INSUFFICIENT_STOCK when on hand would drop below what is reserved.
   */
  async adjust(input: AdjustInput): Promise<AdjustResult> {
    const a = parse(adjustInput, input);
    const request = `adjust:${JSON.stringify([a.locationId, a.mode, a.quantity])}`;
    return await this.mutate((now) => {
      this.bind(a.productId, a.shopId);
      const prior = this.store.movementByKey(a.key);
      if (prior) {
        return prior.request === request
          ? { ok: true, movement: prior.movement, replayed: true }
          : keyReused(a.key);
      }
      const level = this.store.level(a.locationId);
      const delta = a.mode === "delta" ? a.quantity : a.quantity - level.onHand;
      if (level.onHand + delta < level.reserved)
        return insufficient([{ ...level, requested: -delta }]);
      assertWithinMax(level.onHand + delta);
      const movement = this.store.record({
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
    });
  }

  /**
   * Holds `quantity` units for `ttlMs`. The same key returns the same reservation (whatever its
   * state now) and never holds twice; a shortfall changes nothing.
   */
  async reserve(input: ReserveInput): Promise<ReserveResult> {
    const r = parse(reserveInput, input);
    return await this.mutate((now) => {
      this.bind(r.productId, r.shopId);
      const prior = this.store.reservationByKey(r.key);
      if (prior) {
        if (prior.locationId !== r.locationId || prior.quantity !== r.quantity) {
          return keyReused(r.key);
        }
        return { ok: true, ...reservationResult(prior), replayed: true };
      }
      const level = this.store.level(r.locationId);
      if (level.available < r.quantity) return insufficient([{ ...level, requested: r.quantity }]);
      const reservationId = uuidv7(now);
      const actor = toActor(r.actor);
      this.store.insertReservation({
        id: reservationId,
        key: r.key,
        locationId: r.locationId,
        quantity: r.quantity,
        expiresAt: now + r.ttlMs,
        actor,
        now,
      });
      this.store.record({
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
    });
  }

  /**
   * Sells a held reservation: on hand and reserved both drop by its quantity. A reservation
   * whose expiry has passed is expired first and refused (RESERVATION_EXPIRED), even if the
   * alarm has not run yet: the expiry time is the contract, not the alarm's punctuality.
   */
  async commit(input: SettleInput): Promise<CommitResult> {
    const c = parse(settleInput, input);
    return await this.mutate((now) => {
      const r = this.store.reservation(c.reservationId);
      if (!r) return notFound(`reservation ${c.reservationId}`);
      if (r.state === "committed") {
        return { ...settled(r, "committed"), movement: this.settledMovement(r), replayed: true };
      }
      if (r.state !== "active") {
        return conflict(
          r.state === "expired" ? "RESERVATION_EXPIRED" : "RESERVATION_RELEASED",
          `reservation ${r.reservationId} is ${r.state}`,
        );
      }
      const movement = this.store.record({
        locationId: r.locationId,
        kind: "commit",
        deltaOnHand: -r.quantity,
        deltaReserved: -r.quantity,
        reason: null,
        actor: c.actor ? toActor(c.actor) : r.actor,
        reservationId: r.reservationId,
        now,
      });
      this.store.settleReservation(r.reservationId, "committed", movement.sequence);
      return { ...settled(r, "committed"), movement, replayed: false };
    });
  }

  /** Drops a hold. Releasing a released or expired reservation is a no-op success. */
  async release(input: SettleInput): Promise<ReleaseResult> {
    const c = parse(settleInput, input);
    return await this.mutate((now) => {
      const r = this.store.reservation(c.reservationId);
      if (!r) return notFound(`reservation ${c.reservationId}`);
      if (r.state === "committed") {
        return conflict("RESERVATION_COMMITTED", `reservation ${r.reservationId} is committed`);
      }
      if (r.state === "released" || r.state === "expired") {
        return { ...settled(r, r.state), movement: this.settledMovement(r), replayed: true };
      }
      const movement = this.store.record({
        locationId: r.locationId,
        kind: "release",
        deltaOnHand: 0,
        deltaReserved: -r.quantity,
        reason: null,
        actor: c.actor ? toActor(c.actor) : r.actor,
        reservationId: r.reservationId,
        now,
      });
      this.store.settleReservation(r.reservationId, "released", movement.sequence);
      return { ...settled(r, "released"), movement, replayed: false };
    });
  }

  /**
   * Compensates an `adjust`, `set` or `bulk` movement with the opposite delta (a `set` is undone
   * as its recorded delta, not back to a count). Reservation lifecycle movements, holds,
   * thresholds and undos themselves are not undoable (NOT_UNDOABLE): undo a commit by a new
   * adjust with a reason, and redo an undo the same way. Refused with ALREADY_UNDONE the second
   * time, and with INSUFFICIENT_STOCK when available would go negative.
   */
  async undo(input: UndoInput): Promise<UndoResult> {
    const u = parse(undoInput, input);
    return await this.mutate((now) => {
      this.bind(u.productId, u.shopId);
      const target =
        u.sequence !== undefined
          ? this.store.movement(u.sequence)
          : this.store.movementById(u.movementId ?? "");
      const request = `undo:${target?.sequence ?? "missing"}`;
      const prior = this.store.movementByKey(u.key);
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
      const level = this.store.level(target.locationId);
      const delta = -target.deltaOnHand;
      if (level.onHand + delta < level.reserved)
        return insufficient([{ ...level, requested: -delta }]);
      assertWithinMax(level.onHand + delta);
      const movement = this.store.record({
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
      this.store.markUndone(target.sequence, movement.sequence);
      return { ok: true, movement, replayed: false };
    });
  }

  /**
   * Phase one of an all-or-nothing multi-product change. Checks every op; if all can be met,
   * holds the units each decrease will take (a `hold` movement) so nothing else can take them,
   * and records the ops, fixing each `set` as its delta against on hand now. Any shortfall
   * refuses the whole prepare and changes nothing. An uncommitted prepare expires after `ttlMs`
   * and its holds are dropped, so a coordinator that dies between the phases leaves no trace.
   * Idempotent by `txId`; a `txId` already aborted (even one aborted before its prepare arrived)
   * is refused with PREPARE_ABORTED.
   */
  async prepare(input: PrepareInput): Promise<PrepareResult> {
    const p = parse(prepareInput, input);
    const request = JSON.stringify(p.ops.map((o) => [o.locationId, o.mode, o.quantity]));
    return await this.mutate((now) => {
      this.bind(p.productId, p.shopId);
      const prior = this.store.prepared(p.txId);
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
        const level = this.store.level(op.locationId);
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
        this.store.record({
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
      this.store.insertPrepared({
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
    });
  }

  /**
   * Phase two: applies every prepared op as a `bulk` movement and drops its hold. Cannot run
   * short (the units were held). Refused once the prepare has expired or was aborted.
   */
  async commitPrepared(input: PreparedTxInput): Promise<CommitPreparedResult> {
    const c = parse(preparedTxInput, input);
    return await this.mutate((now) => {
      const prior = this.store.prepared(c.txId);
      if (!prior) return notFound(`prepared transaction ${c.txId}`);
      if (prior.state === "committed") {
        const movements = this.store.movementsByTx(c.txId, "bulk");
        return { ok: true, txId: c.txId, state: "committed", movements, replayed: true };
      }
      if (prior.state === "aborted") return conflict("PREPARE_ABORTED", `${c.txId} was aborted`);
      if (prior.state === "expired") return conflict("PREPARE_EXPIRED", `${c.txId} expired`);
      const actor = c.actor ? toActor(c.actor) : prior.actor;
      const movements = prior.ops.map((op) =>
        this.store.record({
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
      this.store.setPreparedState(c.txId, "committed");
      return { ok: true, txId: c.txId, state: "committed", movements, replayed: false };
    });
  }

  /**
   * Drops a prepare's holds. Idempotent; aborting an unknown `txId` records the abort so a
   * prepare arriving late cannot hold anything. Refused (PREPARE_COMMITTED) after a commit.
   */
  async abortPrepared(input: PreparedTxInput): Promise<AbortPreparedResult> {
    const c = parse(preparedTxInput, input);
    return await this.mutate((now) => {
      const prior = this.store.prepared(c.txId);
      const actor = c.actor ? toActor(c.actor) : (prior?.actor ?? SYSTEM_ACTOR);
      if (!prior) {
        this.store.insertPrepared({
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
        this.store.record({
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
      this.store.setPreparedState(c.txId, "aborted");
      return { ok: true, txId: c.txId, state: "aborted", replayed: false };
    });
  }

  /**
   * Sets (or with `null` removes) a location's low-stock threshold. A location is low while
   * available ≤ threshold; the movement that makes it low carries `alert: "raised"`, the one
   * that lifts it back above carries `alert: "cleared"`. Setting the current value again is a
   * no-op, which makes this idempotent without a key.
   */
  async setThreshold(input: SetThresholdInput): Promise<SetThresholdResult> {
    const t = parse(setThresholdInput, input);
    return await this.mutate((now) => {
      this.bind(t.productId, t.shopId);
      const level = this.store.level(t.locationId);
      if (level.threshold === t.threshold) {
        const base = { ok: true, locationId: t.locationId, threshold: t.threshold } as const;
        return { ...base, low: level.low, movement: null, replayed: true };
      }
      const movement = this.store.record({
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
    });
  }

  /** Reads every location's levels, threshold and low flag, and how far the mirror lags. */
  async snapshot(): Promise<StockSnapshot> {
    const s = this.store;
    const retryAt = s.getMeta("mirror_retry_at");
    return {
      productId: s.getMeta("product_id"),
      shopId: s.getMeta("shop_id"),
      locations: s.levels(),
      sequence: s.lastSequence(),
      pendingOutbox: s.pendingOutbox(),
      mirror: {
        failures: Number(s.getMeta("mirror_failures") ?? 0),
        retryAt: retryAt === null ? null : new Date(Number(retryAt)).toISOString(),
        lastError: s.getMeta("mirror_last_error"),
      },
    };
  }

  /** One reservation, or null. */
  async reservation(reservationId: string): Promise<ReservationView | null> {
    const r = this.store.reservation(reservationId);
    if (!r) return null;
    const { expiresAtMs: _ms, actor: _actor, ...view } = r;
    return view;
  }

  /** The object's own movement history, oldest first (the API lists from the Postgres mirror). */
  async movements(input?: MovementsInput): Promise<Movement[]> {
    const m = parse(movementsInput, input);
    return this.store.movements(m.afterSequence, m.limit);
  }

  /**
   * Flushes the outbox now and reports the outcome. The alarm calls it with no options; a test
   * may pass `databaseUrl` to aim one flush at an unreachable server.
   */
  async flushOutbox(input?: FlushInput): Promise<FlushResult> {
    const f = parse(flushInput, input);
    const result = await this.flush(f.databaseUrl);
    await this.scheduleAlarm(false);
    return result;
  }

  /**
   * Test and development only: aims every flush (the alarm's too) at another database URL, to
   * simulate Postgres being down; `null` restores DATABASE_URL and retries at the next alarm.
   */
  async setMirrorTarget(input: { databaseUrl: string | null }): Promise<void> {
    if (this.env.ENVIRONMENT !== "test" && this.env.ENVIRONMENT !== "development") {
      throw new Error("FORBIDDEN: setMirrorTarget is only available in test and development");
    }
    this.ctx.storage.transactionSync(() => {
      this.store.setMeta("mirror_target", input.databaseUrl);
      this.store.setMeta("mirror_retry_at", null);
    });
    await this.scheduleAlarm(false);
  }

  /** Releases expired holds, flushes the outbox, then schedules the next wake-up. */
  override async alarm(): Promise<void> {
    const now = Date.now();
    this.ctx.storage.transactionSync(() => this.expireDue(now));
    await this.flush();
    await this.scheduleAlarm(true);
  }

  /**
   * Runs `change` and any due expiries in one storage transaction, then makes sure the alarm
   * will flush what it wrote. A throw rolls everything back.
   */
  private async mutate<R>(change: (now: number) => R): Promise<R> {
    const now = Date.now();
    const result = this.ctx.storage.transactionSync(() => {
      this.expireDue(now);
      return change(now);
    });
    await this.scheduleAlarm(false);
    return result;
  }

  /** The first mutating call names the product (and shop); a different one is a routing bug. */
  private bind(productId: string, shopId: string | undefined): void {
    const bound = this.store.getMeta("product_id");
    if (bound === null) this.store.setMeta("product_id", productId);
    else if (bound !== productId) {
      throw new Error(`PRODUCT_MISMATCH: this object holds product ${bound}, not ${productId}`);
    }
    if (shopId === undefined) return;
    const boundShop = this.store.getMeta("shop_id");
    if (boundShop === null) this.store.setMeta("shop_id", shopId);
    else if (boundShop !== shopId) {
      throw new Error(`SHOP_MISMATCH: this product belongs to shop ${boundShop}, not ${shopId}`);
    }
  }

  /** Releases reservations and prepared holds whose expiry has passed. */
  private expireDue(now: number): void {
    for (const r of this.store.dueReservations(now, EXPIRY_BATCH)) {
      const movement = this.store.record({
        locationId: r.locationId,
        kind: "expire",
        deltaOnHand: 0,
        deltaReserved: -r.quantity,
        reason: "reservation expired",
        actor: SYSTEM_ACTOR,
        reservationId: r.reservationId,
        now,
      });
      this.store.settleReservation(r.reservationId, "expired", movement.sequence);
    }
    for (const p of this.store.duePrepared(now, EXPIRY_BATCH)) {
      for (const op of p.ops) {
        if (op.held === 0) continue;
        this.store.record({
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
      this.store.setPreparedState(p.txId, "expired");
    }
  }

  private settledMovement(r: Reservation): Movement {
    const movement = r.settledSequence === null ? null : this.store.movement(r.settledSequence);
    if (!movement) throw new InvariantViolation(`reservation ${r.reservationId} has no settlement`);
    return movement;
  }

  /**
   * Sets the alarm to the next thing due: an expiry, or a flush (now, or when the backoff
   * allows). `force` (from the alarm itself) rewrites it even if a later one looks set.
   */
  private async scheduleAlarm(force: boolean): Promise<void> {
    const s = this.store;
    const expiry = s.nextExpiry();
    const flushAt = s.hasPendingOutbox()
      ? Math.max(Date.now(), Number(s.getMeta("mirror_retry_at") ?? 0))
      : null;
    const next = expiry === null ? flushAt : flushAt === null ? expiry : Math.min(expiry, flushAt);
    if (next === null) return;
    const current = force ? null : await this.ctx.storage.getAlarm();
    if (current === null || next < current) await this.ctx.storage.setAlarm(next);
  }

  /** Flushes one at a time: a flush requested during another runs after it. */
  private flush(databaseUrl?: string): Promise<FlushResult> {
    const run = this.flushChain.then(() => this.flushNow(databaseUrl));
    this.flushChain = run.catch(() => undefined);
    return run;
  }

  private async flushNow(databaseUrlOverride?: string): Promise<FlushResult> {
    let batch = this.store.outboxBatch(FLUSH_BATCH);
    if (batch.length === 0) return { mirrored: 0, pending: 0, error: null };
    let mirrored = 0;
    let handle: DbHandle | null = null;
    try {
      const config = loadConfig(this.env);
      handle = createDb({
        databaseUrl:
          databaseUrlOverride ?? this.store.getMeta("mirror_target") ?? config.DATABASE_URL,
        localWsProxy: config.NEON_LOCAL_WS_PROXY,
      });
      for (let i = 0; i < FLUSH_MAX_BATCHES; i++) {
        const last = batch.at(-1);
        if (!last) break;
        const db = handle.db;
        mirrored += await withTimeout(
          mirrorMovements(
            db,
            batch.map((row) => row.payload),
          ),
          FLUSH_TIMEOUT_MS,
        );
        this.ctx.storage.transactionSync(() => {
          this.store.ackOutbox(last.sequence);
          this.store.setMeta("mirror_failures", null);
          this.store.setMeta("mirror_retry_at", null);
          this.store.setMeta("mirror_last_error", null);
        });
        batch = this.store.outboxBatch(FLUSH_BATCH);
      }
      return { mirrored, pending: this.store.pendingOutbox(), error: null };
    } catch (err) {
      const message = errorMessage(err);
      const failed = batch.at(-1)?.sequence ?? 0;
      const failures = Number(this.store.getMeta("mirror_failures") ?? 0) + 1;
      const retryAt = Date.now() + backoffMs(failures);
      this.ctx.storage.transactionSync(() => {
        this.store.outboxFailed(failed, message);
        this.store.setMeta("mirror_failures", String(failures));
        this.store.setMeta("mirror_retry_at", String(retryAt));
        this.store.setMeta("mirror_last_error", message);
      });
      this.log.warn("stock mirror flush failed", {
        productId: this.store.getMeta("product_id"),
        failures,
        retryAt: new Date(retryAt).toISOString(),
        error: message,
      });
      return { mirrored, pending: this.store.pendingOutbox(), error: message };
    } finally {
      // A pool stuck on a dead connection must not hold the alarm; the next flush opens anew.
      if (handle) await Promise.race([handle.close().catch(() => undefined), sleep(1_000)]);
    }
  }
}

function parse<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "input"}: ${i.message}`);
  throw new Error(`VALIDATION_FAILED: ${issues.join("; ")}`);
}

function assertWithinMax(onHand: number): void {
  if (onHand > MAX_QUANTITY) {
    throw new Error(`VALIDATION_FAILED: quantity: on hand would exceed ${MAX_QUANTITY}`);
  }
}

function toActor(actor: z.output<typeof actorSchema> | undefined): ActorView {
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

function backoffMs(failures: number): number {
  const base = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.min(failures - 1, 20));
  // Jitter spreads the retries of many objects after a shared outage.
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

function errorMessage(err: unknown): string {
  const e = err as { message?: unknown; cause?: { message?: unknown } } | null;
  const cause = typeof e?.cause?.message === "string" ? `: ${e.cause.message}` : "";
  return `${typeof e?.message === "string" ? e.message : String(err)}${cause}`.slice(0, 1_000);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`mirror flush timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
