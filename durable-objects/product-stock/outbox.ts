/**
 * ProductStock's outbox flush: sends pending movements to Postgres in batches and records the
 * acknowledgement (or the failure and its backoff) in the object's storage.
 */
import { drainOutbox, type FlushDeps } from "../shared/mirror-retry.ts";
import { mirrorMovements } from "./mirror.ts";
import type { StockStore } from "./store.ts";
import type { FlushResult } from "./types.ts";

const FLUSH_BATCH = 100;

/**
 * Mirrors pending movements, oldest first. Re-sending rows Postgres already holds is harmless:
 * the mirror's unique (product_id, sequence) turns them into no-ops, and `mirrored` counts only
 * rows Postgres inserted.
 */
export async function flushOutbox(deps: FlushDeps<StockStore>): Promise<FlushResult> {
  const { store } = deps;
  return drainOutbox({
    store,
    env: deps.env,
    transact: deps.transact,
    batchSize: FLUSH_BATCH,
    keyOf: (row) => row.sequence,
    send: (db, batch) =>
      mirrorMovements(
        db.http(),
        batch.map((row) => row.payload),
      ),
    onFailure: ({ failures, retryAt, error }) =>
      deps.log.warn("stock mirror flush failed", {
        productId: store.getMeta("product_id"),
        failures,
        retryAt: new Date(retryAt).toISOString(),
        error,
      }),
  });
}
