/**
 * ProductStock's outbox flush: sends pending movements to Postgres in batches and records the
 * acknowledgement (or the failure and its backoff) in the object's storage.
 */
import { createDb, type DbHandle } from "../../src/db/client.ts";
import { type Env, loadConfig } from "../../src/env.ts";
import type { Logger } from "../../src/lib/logger.ts";
import { backoffMs, errorMessage, sleep, withTimeout } from "../shared/mirror-retry.ts";
import { mirrorMovements } from "./mirror.ts";
import type { StockStore } from "./store.ts";
import type { FlushResult } from "./types.ts";

const FLUSH_BATCH = 100;
/** Batches per flush, so one alarm does not hold the mirror for minutes; the alarm returns. */
const FLUSH_MAX_BATCHES = 20;
const FLUSH_TIMEOUT_MS = 15_000;

export interface FlushDeps {
  store: StockStore;
  env: Env;
  log: Logger;
  /** Runs a synchronous storage transaction (`ctx.storage.transactionSync`). */
  transact: (fn: () => void) => void;
  /** Aims this flush at another database (tests simulate an outage with it). */
  databaseUrl?: string | undefined;
}

/**
 * Mirrors pending movements, oldest first, and deletes each batch from the outbox once Postgres
 * has committed it. A failure leaves the rows in place, counts the failure and sets the retry
 * time (exponential, capped at 5 minutes). Re-sending rows Postgres already holds is harmless:
 * the mirror's unique (product_id, sequence) turns them into no-ops.
 */
export async function flushOutbox(deps: FlushDeps): Promise<FlushResult> {
  const { store, transact } = deps;
  let batch = store.outboxBatch(FLUSH_BATCH);
  if (batch.length === 0) return { mirrored: 0, pending: 0, error: null };
  let mirrored = 0;
  let handle: DbHandle | null = null;
  try {
    const config = loadConfig(deps.env);
    handle = createDb({
      databaseUrl: deps.databaseUrl ?? store.getMeta("mirror_target") ?? config.DATABASE_URL,
      localWsProxy: config.NEON_LOCAL_WS_PROXY,
    });
    const db = handle.db;
    for (let i = 0; i < FLUSH_MAX_BATCHES; i++) {
      const last = batch.at(-1);
      if (!last) break;
      const movements = batch.map((row) => row.payload);
      mirrored += await withTimeout(mirrorMovements(db, movements), FLUSH_TIMEOUT_MS);
      transact(() => {
        store.ackOutbox(last.sequence);
        store.setMeta("mirror_failures", null);
        store.setMeta("mirror_retry_at", null);
        store.setMeta("mirror_last_error", null);
      });
      batch = store.outboxBatch(FLUSH_BATCH);
    }
    return { mirrored, pending: store.pendingOutbox(), error: null };
  } catch (err) {
    const message = errorMessage(err);
    const failed = batch.at(-1)?.sequence ?? 0;
    const failures = Number(store.getMeta("mirror_failures") ?? 0) + 1;
    const retryAt = Date.now() + backoffMs(failures);
    transact(() => {
      store.outboxFailed(failed, message);
      store.setMeta("mirror_failures", String(failures));
      store.setMeta("mirror_retry_at", String(retryAt));
      store.setMeta("mirror_last_error", message);
    });
    deps.log.warn("stock mirror flush failed", {
      productId: store.getMeta("product_id"),
      failures,
      retryAt: new Date(retryAt).toISOString(),
      error: message,
    });
    return { mirrored, pending: store.pendingOutbox(), error: message };
  } finally {
    // A pool stuck on a dead connection must not hold up the alarm; the next flush opens anew.
    if (handle) await Promise.race([handle.close().catch(() => undefined), sleep(1_000)]);
  }
}
