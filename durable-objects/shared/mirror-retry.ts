import { createDb, type Database, type DbHandle } from "../../src/db/client.ts";
import { createHttpDb, type HttpDatabase } from "../../src/db/http.ts";
import { type Config, type Env, loadConfig } from "../../src/env.ts";
import { errorMessage } from "../../src/lib/errors.ts";
import type { Logger } from "../../src/lib/logger.ts";

/**
 * What every Durable Object's outbox flush shares: the retry schedule after a failed flush to
 * Postgres, and small guards so a dead database cannot hold an alarm up.
 */

const BACKOFF_BASE_MS = 1_000;
const BACKOFF_CAP_MS = 5 * 60_000;

/** Exponential backoff from 1 s, capped at 5 min, with ±20% jitter. */
export function backoffMs(failures: number): number {
  const base = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.min(failures - 1, 20));
  // Jitter spreads the retries of many objects after a shared outage.
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Rejects when `work` takes longer than `ms`; the flush then counts as failed and backs off. */
export async function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
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

/** What a Durable Object's SQLite store offers its outbox. Keys are increasing row numbers. */
export interface OutboxStore<Row> {
  outboxBatch(limit: number): Row[];
  /** Deletes every outbox row up to and including `key`: Postgres has it. */
  ackOutbox(key: number): void;
  outboxFailed(key: number, error: string): void;
  pendingOutbox(): number;
  getMeta(key: string): string | null;
  setMeta(key: string, value: string | null): void;
}

/** What an object hands its outbox flush: its store, its bindings, its log, its transactions. */
export interface FlushDeps<S> {
  store: S;
  env: Env;
  log: Logger;
  /** Runs a synchronous storage transaction (`ctx.storage.transactionSync`). */
  transact: (fn: () => void) => void;
}

/**
 * Runs async work one at a time, in the order asked: an object's flush requested during another
 * runs after it. A failure does not stop the next.
 */
export function serially(): <T>(work: () => Promise<T>) => Promise<T> {
  let chain: Promise<unknown> = Promise.resolve();
  return (work) => {
    const run = chain.then(work);
    chain = run.catch(() => undefined);
    return run;
  };
}

export interface DrainOptions<Row> {
  store: OutboxStore<Row>;
  env: Env;
  /** Runs a synchronous storage transaction (`ctx.storage.transactionSync`). */
  transact: (fn: () => void) => void;
  batchSize: number;
  keyOf: (row: Row) => number;
  /** Writes one batch to Postgres idempotently; returns how many rows it counts as mirrored. */
  send: (db: MirrorDb, rows: Row[], config: Config) => Promise<number>;
  /** Told of each failed flush (for the log line naming the object). */
  onFailure: (failure: { failures: number; retryAt: number; error: string }) => void;
}

/**
 * The two ways a flush may reach Postgres, opened only when asked for: `http()` for a batch that
 * is one statement or one non-interactive transaction (one round trip, nothing to open), `pool()`
 * for one that needs an interactive transaction (a WebSocket connection: several round trips).
 */
export interface MirrorDb {
  http(): HttpDatabase;
  pool(): Database;
}

export interface DrainResult {
  mirrored: number;
  pending: number;
  error: string | null;
}

/** Batches per flush, so one alarm does not hold the mirror for minutes; the alarm returns. */
const FLUSH_MAX_BATCHES = 20;
const FLUSH_TIMEOUT_MS = 15_000;

/**
 * Mirrors pending outbox rows, oldest first, acknowledging each batch once Postgres committed
 * it. A failure leaves the rows in place, counts the failure and sets the retry time
 * (`backoffMs`) for the object's alarm. `send` must be idempotent: a batch whose
 * acknowledgement was lost is sent again.
 */
export async function drainOutbox<Row>(opts: DrainOptions<Row>): Promise<DrainResult> {
  const { store, transact } = opts;
  let batch = store.outboxBatch(opts.batchSize);
  if (batch.length === 0) return { mirrored: 0, pending: 0, error: null };
  let mirrored = 0;
  let handle: DbHandle | null = null;
  try {
    const config = loadConfig(opts.env);
    // A test aims the mirror at a dead database through this meta key (tests/helpers/object-hooks.ts).
    const databaseUrl = store.getMeta("mirror_target") ?? config.DATABASE_URL;
    const db: MirrorDb = {
      http: () => createHttpDb({ databaseUrl, localHttp: config.NEON_LOCAL_HTTP }),
      pool: () => {
        handle ??= createDb({ databaseUrl, localWsProxy: config.NEON_LOCAL_WS_PROXY });
        return handle.db;
      },
    };
    for (let i = 0; i < FLUSH_MAX_BATCHES; i++) {
      const last = batch.at(-1);
      if (!last) break;
      mirrored += await withTimeout(opts.send(db, batch, config), FLUSH_TIMEOUT_MS);
      transact(() => {
        store.ackOutbox(opts.keyOf(last));
        store.setMeta("mirror_failures", null);
        store.setMeta("mirror_retry_at", null);
        store.setMeta("mirror_last_error", null);
      });
      batch = store.outboxBatch(opts.batchSize);
    }
    return { mirrored, pending: store.pendingOutbox(), error: null };
  } catch (err) {
    const message = errorMessage(err);
    const lastRow = batch.at(-1);
    const failed = lastRow ? opts.keyOf(lastRow) : 0;
    const failures = Number(store.getMeta("mirror_failures") ?? 0) + 1;
    const retryAt = Date.now() + backoffMs(failures);
    transact(() => {
      store.outboxFailed(failed, message);
      store.setMeta("mirror_failures", String(failures));
      store.setMeta("mirror_retry_at", String(retryAt));
      store.setMeta("mirror_last_error", message);
    });
    opts.onFailure({ failures, retryAt, error: message });
    return { mirrored, pending: store.pendingOutbox(), error: message };
  } finally {
    // A pool stuck on a dead connection must not hold up the alarm; the next flush opens anew.
    const opened = handle as DbHandle | null;
    if (opened) await Promise.race([opened.close().catch(() => undefined), sleep(1_000)]);
  }
}
