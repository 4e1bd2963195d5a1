import { DurableObject } from "cloudflare:workers";
import { createHttpDb } from "../src/db/http.ts";
import { type Env, loadConfig } from "../src/env.ts";
import { errorMessage } from "../src/lib/errors.ts";
import { createLogger } from "../src/lib/logger.ts";
import { type HoldOutcome, mirrorEvents, orderOutcomes } from "./delivery-slots/mirror.ts";
import * as ops from "./delivery-slots/operations.ts";
import { migrate, SlotStore } from "./delivery-slots/store.ts";
import {
  type Availability,
  type AvailabilityInput,
  availabilityInput,
  type BookInput,
  type BookingView,
  type BookResult,
  bookInput,
  type ConfigureInput,
  type ConfigureResult,
  configureInput,
  parseInput,
  type SettleInput,
  type SettleResult,
  type SlotsSnapshot,
  settleInput,
} from "./delivery-slots/types.ts";
import { SYSTEM_ACTOR } from "./product-stock/store.ts";
import { backoffMs, type DrainResult, drainOutbox, serially } from "./shared/mirror-retry.ts";

export type * from "./delivery-slots/types.ts";

const FLUSH_BATCH = 100;
/** Due holds looked up per alarm; the alarm comes straight back for the rest. */
const RECONCILE_BATCH = 100;
/** A hold whose order still awaits payment is looked at again this much later. */
const RECHECK_MS = 5 * 60_000;

/**
 * The single writer for one shop's delivery windows (one object per shop:
 * `idFromName(shopId)`). It keeps the weekly schedule (capacity and cut-off per window) and
 * every booking, and never lets a window take more bookings than its capacity, whatever the
 * concurrency: each method validates its input, then checks and writes in one synchronous
 * storage transaction, so no await splits the capacity check from the booking.
 *
 * A booking starts `held` for a checkout (with a TTL, like a stock hold) and ends `confirmed`
 * (its order was paid), `released` (given back by a caller) or `expired`. When a hold's time
 * runs out, the alarm asks Postgres how the checkout's order at this shop stands: paid or
 * beyond confirms it, still awaiting payment looks again in 5 minutes, ended unpaid (or never
 * written) gives the place back. A Postgres failure never gives a place back; it retries with
 * backoff. Every decision is an event with a gapless sequence, mirrored by the outbox to
 * Postgres (`delivery_slot_events`, `delivery_slot_schedules`, `audit_log`).
 *
 * Idempotent: `book` by key (the same key answers the same booking), `confirm`/`release` by key,
 * `configure` by content. Refusals (full, closed, unknown window) come back as values.
 */
export class DeliverySlots extends DurableObject<Env> {
  private readonly store: SlotStore;
  /** Flushes one at a time: a flush requested during another runs after it. */
  private readonly serial = serially();
  private readonly log = createLogger("info", { component: "DeliverySlots" });

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new SlotStore(ctx.storage.sql);
    ctx.blockConcurrencyWhile(async () => {
      ctx.storage.transactionSync(() => migrate(ctx.storage.sql));
      await this.scheduleAlarm(false);
    });
  }

  /** Sets the weekly schedule (a new revision; the same schedule again changes nothing). */
  async configure(input: ConfigureInput): Promise<ConfigureResult> {
    const parsed = parseInput(configureInput, input);
    return await this.mutate((now) => ops.configure(this.store, parsed, now));
  }

  /** Each scheduled window in a range with its capacity, bookings and what is left. */
  async availability(input?: AvailabilityInput): Promise<Availability> {
    const parsed = parseInput(availabilityInput, input);
    return ops.availability(this.store, parsed, Date.now());
  }

  /**
   * Books one place in the window starting at `slotStart` for `ttlMs`, unless the window is
   * full (SLOT_FULL), past its cut-off or beyond the horizon (SLOT_CLOSED), or not one of the
   * schedule's (SLOT_UNKNOWN). The same key answers the same booking and never books twice.
   */
  async book(input: BookInput): Promise<BookResult> {
    const parsed = parseInput(bookInput, input);
    return await this.mutate((now) => ops.book(this.store, parsed, now));
  }

  /** Keeps a held booking for good (its order was paid). */
  async confirm(input: SettleInput): Promise<SettleResult> {
    const parsed = parseInput(settleInput, input);
    return await this.mutate((now) => ops.confirm(this.store, parsed, now));
  }

  /** Gives a booking's place back (held or confirmed); a no-op once released or expired. */
  async release(input: SettleInput & { reason?: string }): Promise<SettleResult> {
    const parsed = parseInput(settleInput, input);
    const reason = typeof input.reason === "string" ? input.reason.slice(0, 500) : "released";
    return await this.mutate((now) => ops.release(this.store, parsed, reason, now));
  }

  /** One booking by key, or null. */
  async booking(key: string): Promise<BookingView | null> {
    const b = this.store.byKey(key);
    return b ? ops.view(b) : null;
  }

  async snapshot(): Promise<SlotsSnapshot> {
    const s = this.store;
    return {
      shopId: s.getMeta("shop_id"),
      revision: s.revision(),
      schedule: s.schedule(),
      sequence: s.lastSequence(),
      pendingOutbox: s.pendingOutbox(),
      activeBookings: s.activeBookings(),
    };
  }

  /** Flushes the outbox now and reports the outcome (the alarm flushes anyway). */
  async flushOutbox(): Promise<DrainResult> {
    const result = await this.flush();
    await this.scheduleAlarm(false);
    return result;
  }

  /** Settles holds whose time ran out (from their orders' status), then flushes the outbox. */
  override async alarm(): Promise<void> {
    await this.reconcile();
    await this.flush();
    await this.scheduleAlarm(true);
  }

  private async reconcile(): Promise<void> {
    const now = Date.now();
    const retryAt = Number(this.store.getMeta("reconcile_retry_at") ?? 0);
    if (retryAt > now) return;
    const due = this.store.dueHolds(now, RECONCILE_BATCH);
    const shopId = this.store.getMeta("shop_id");
    if (due.length === 0 || shopId === null) return;
    let outcomes: Map<string, HoldOutcome>;
    try {
      const config = loadConfig(this.env);
      const db = createHttpDb({
        databaseUrl: config.DATABASE_URL,
        localHttp: config.NEON_LOCAL_HTTP,
      });
      outcomes = await orderOutcomes(db, shopId, [...new Set(due.map((b) => b.checkoutId))]);
    } catch (err) {
      const failures = Number(this.store.getMeta("reconcile_failures") ?? 0) + 1;
      const at = Date.now() + backoffMs(failures);
      this.ctx.storage.transactionSync(() => {
        this.store.setMeta("reconcile_failures", String(failures));
        this.store.setMeta("reconcile_retry_at", String(at));
      });
      this.log.warn("delivery slot holds could not be reconciled; they stay held", {
        shopId,
        failures,
        error: errorMessage(err),
      });
      return;
    }
    const at = Date.now();
    this.ctx.storage.transactionSync(() => {
      this.store.setMeta("reconcile_failures", null);
      this.store.setMeta("reconcile_retry_at", null);
      for (const b of due) {
        // Read again: a confirm or release may have landed while Postgres answered.
        const current = this.store.byKey(b.key);
        if (current?.state !== "held") continue;
        const outcome = outcomes.get(b.checkoutId) ?? "release";
        if (outcome === "confirm") {
          ops.confirmBooking(this.store, current, SYSTEM_ACTOR, "order paid", at);
        } else if (outcome === "wait") {
          ops.extendHold(this.store, current, at + RECHECK_MS);
        } else {
          ops.endBooking(
            this.store,
            current,
            "expired",
            SYSTEM_ACTOR,
            "hold ran out: the order ended unpaid or was never placed",
            at,
          );
        }
      }
    });
  }

  private async mutate<R>(change: (now: number) => R): Promise<R> {
    const now = Date.now();
    const result = this.ctx.storage.transactionSync(() => change(now));
    await this.scheduleAlarm(false);
    return result;
  }

  private async scheduleAlarm(force: boolean): Promise<void> {
    const s = this.store;
    const expiry = s.nextExpiry();
    const reconcileAt =
      expiry === null ? null : Math.max(expiry, Number(s.getMeta("reconcile_retry_at") ?? 0));
    const flushAt = s.hasPendingOutbox()
      ? Math.max(Date.now(), Number(s.getMeta("mirror_retry_at") ?? 0))
      : null;
    const next =
      reconcileAt === null
        ? flushAt
        : flushAt === null
          ? reconcileAt
          : Math.min(reconcileAt, flushAt);
    if (next === null) return;
    const current = force ? null : await this.ctx.storage.getAlarm();
    if (current === null || next < current) await this.ctx.storage.setAlarm(next);
  }

  private flush(): Promise<DrainResult> {
    return this.serial(() =>
      drainOutbox({
        store: this.store,
        env: this.env,
        transact: (fn) => this.ctx.storage.transactionSync(fn),
        batchSize: FLUSH_BATCH,
        keyOf: (row) => row.sequence,
        send: (db, batch) =>
          mirrorEvents(
            db.http(),
            batch.map((row) => row.payload),
          ),
        onFailure: ({ failures, retryAt, error }) =>
          this.log.warn("delivery slot mirror flush failed", {
            shopId: this.store.getMeta("shop_id"),
            failures,
            retryAt: new Date(retryAt).toISOString(),
            error,
          }),
      }),
    );
  }
}
