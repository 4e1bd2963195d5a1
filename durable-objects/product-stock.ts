import { DurableObject } from "cloudflare:workers";
import type { Env } from "../src/env.ts";
import { createLogger } from "../src/lib/logger.ts";
import * as ops from "./product-stock/operations.ts";
import { flushOutbox } from "./product-stock/outbox.ts";
import { migrate, StockStore } from "./product-stock/store.ts";
import {
  type AbortPreparedResult,
  type AdjustInput,
  type AdjustResult,
  adjustInput,
  type CommitPreparedResult,
  type CommitResult,
  type FlushResult,
  type Movement,
  type MovementsInput,
  movementsInput,
  type PreparedTxInput,
  type PrepareInput,
  type PrepareResult,
  parseInput,
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
  type StockSnapshot,
  setThresholdInput,
  settleInput,
  type UndoInput,
  type UndoResult,
  undoInput,
} from "./product-stock/types.ts";
import { serially } from "./shared/mirror-retry.ts";

export type * from "./product-stock/types.ts";

/** The one handle on a product's stock: `stockOf(env.PRODUCT_STOCK, productId)`. */
export function stockOf(
  stock: DurableObjectNamespace<ProductStock>,
  productId: string,
): DurableObjectStub<ProductStock> {
  return stock.get(stock.idFromName(productId));
}

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
  /** Flushes one at a time: a flush requested during another runs after it. */
  private readonly serial = serially();
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
    const parsed = parseInput(adjustInput, input);
    return await this.mutate((now) => ops.adjust(this.store, parsed, now));
  }

  /**
   * Holds `quantity` units for `ttlMs`. The same key returns the same reservation (whatever its
   * state now) and never holds twice; a shortfall changes nothing.
   */
  async reserve(input: ReserveInput): Promise<ReserveResult> {
    const parsed = parseInput(reserveInput, input);
    return await this.mutate((now) => ops.reserve(this.store, parsed, now));
  }

  /**
   * Sells a held reservation: on hand and reserved both drop by its quantity. A reservation
   * whose expiry has passed is expired first and refused (RESERVATION_EXPIRED), even if the
   * alarm has not run yet: the expiry time is the contract, not the alarm's punctuality.
   */
  async commit(input: SettleInput): Promise<CommitResult> {
    const parsed = parseInput(settleInput, input);
    return await this.mutate((now) => ops.commit(this.store, parsed, now));
  }

  /** Drops a hold. Releasing a released or expired reservation is a no-op success. */
  async release(input: SettleInput): Promise<ReleaseResult> {
    const parsed = parseInput(settleInput, input);
    return await this.mutate((now) => ops.release(this.store, parsed, now));
  }

  /**
   * Compensates an `adjust`, `set` or `bulk` movement with the opposite delta (a `set` is undone
   * as its recorded delta, not back to a count). Reservation lifecycle movements, holds,
   * thresholds and undos themselves are not undoable (NOT_UNDOABLE): undo a commit by a new
   * adjust with a reason, and redo an undo the same way. Refused with ALREADY_UNDONE the second
   * time, and with INSUFFICIENT_STOCK when available would go negative.
   */
  async undo(input: UndoInput): Promise<UndoResult> {
    const parsed = parseInput(undoInput, input);
    return await this.mutate((now) => ops.undo(this.store, parsed, now));
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
    const parsed = parseInput(prepareInput, input);
    return await this.mutate((now) => ops.prepare(this.store, parsed, now));
  }

  /**
   * Phase two: applies every prepared op as a `bulk` movement and drops its hold. Cannot run
   * short (the units were held). Refused once the prepare has expired or was aborted.
   */
  async commitPrepared(input: PreparedTxInput): Promise<CommitPreparedResult> {
    const parsed = parseInput(preparedTxInput, input);
    return await this.mutate((now) => ops.commitPrepared(this.store, parsed, now));
  }

  /**
   * Drops a prepare's holds. Idempotent; aborting an unknown `txId` records the abort so a
   * prepare arriving late cannot hold anything. Refused (PREPARE_COMMITTED) after a commit.
   */
  async abortPrepared(input: PreparedTxInput): Promise<AbortPreparedResult> {
    const parsed = parseInput(preparedTxInput, input);
    return await this.mutate((now) => ops.abortPrepared(this.store, parsed, now));
  }

  /**
   * Sets (or with `null` removes) a location's low-stock threshold. A location is low while
   * available ≤ threshold; the movement that makes it low (or, threshold or not, takes
   * available to 0) carries `alert: "raised"`, the one that lifts it back above both carries
   * `alert: "cleared"`. Setting the current value again is a
   * no-op, which makes this idempotent without a key.
   */
  async setThreshold(input: SetThresholdInput): Promise<SetThresholdResult> {
    const parsed = parseInput(setThresholdInput, input);
    return await this.mutate((now) => ops.setThreshold(this.store, parsed, now));
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
    const m = parseInput(movementsInput, input);
    return this.store.movements(m.afterSequence, m.limit);
  }

  /** Flushes the outbox now and reports the outcome (the alarm does the same on its own). */
  async flushOutbox(): Promise<FlushResult> {
    const result = await this.flush();
    await this.scheduleAlarm(false);
    return result;
  }

  /** Releases expired holds, flushes the outbox, then schedules the next wake-up. */
  override async alarm(): Promise<void> {
    const now = Date.now();
    this.ctx.storage.transactionSync(() => ops.expireDue(this.store, now));
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
      ops.expireDue(this.store, now);
      return change(now);
    });
    await this.scheduleAlarm(false);
    return result;
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

  private flush(): Promise<FlushResult> {
    return this.serial(() =>
      flushOutbox({
        store: this.store,
        env: this.env,
        log: this.log,
        transact: (fn) => this.ctx.storage.transactionSync(fn),
      }),
    );
  }
}
