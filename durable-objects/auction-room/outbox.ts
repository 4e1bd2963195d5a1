/**
 * AuctionRoom's outbox flush: sends pending rows to Postgres in batches, then the notices of any
 * result, and only then records the acknowledgement. A failure anywhere leaves the rows in place
 * with a backoff; the retry re-applies nothing (see mirror.ts) and re-sends notices that the
 * consumer dedupes by key. So a result reaches Postgres once and each person is told once.
 */
import { createDb, type DbHandle } from "../../src/db/client.ts";
import { type Env, loadConfig } from "../../src/env.ts";
import type { Logger } from "../../src/lib/logger.ts";
import { resultNotifications, sendNotifications } from "../../src/services/auctions/results.ts";
import { backoffMs, errorMessage, sleep, withTimeout } from "../shared/mirror-retry.ts";
import { mirrorBatch } from "./mirror.ts";
import type { RoomStore } from "./store.ts";
import type { FlushResult } from "./types.ts";

const FLUSH_BATCH = 200;
/** Batches per flush, so one alarm does not hold the mirror for minutes; the alarm returns. */
const FLUSH_MAX_BATCHES = 20;
const FLUSH_TIMEOUT_MS = 15_000;

export interface FlushDeps {
  store: RoomStore;
  env: Env;
  log: Logger;
  transact: (fn: () => void) => void;
  /** Aims this flush at another database (tests simulate an outage with it). */
  databaseUrl?: string | undefined;
}

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
    const opts = {
      deadlineHours: config.AUCTION_PAYMENT_DEADLINE_HOURS,
      platformFeeBps: config.PLATFORM_FEE_BPS,
    };
    for (let i = 0; i < FLUSH_MAX_BATCHES; i++) {
      const last = batch.at(-1);
      if (!last) break;
      const results = await withTimeout(mirrorBatch(db, batch, opts), FLUSH_TIMEOUT_MS);
      for (const result of results) {
        const notices = await resultNotifications(db, result, opts.deadlineHours);
        await sendNotifications(deps.env.NOTIFICATIONS, notices, deps.log);
      }
      mirrored += batch.length;
      transact(() => {
        store.ackOutbox(last.id);
        store.setMeta("mirror_failures", null);
        store.setMeta("mirror_retry_at", null);
        store.setMeta("mirror_last_error", null);
      });
      batch = store.outboxBatch(FLUSH_BATCH);
    }
    return { mirrored, pending: store.pendingOutbox(), error: null };
  } catch (err) {
    const message = errorMessage(err);
    const failed = batch.at(-1)?.id ?? 0;
    const failures = Number(store.getMeta("mirror_failures") ?? 0) + 1;
    const retryAt = Date.now() + backoffMs(failures);
    transact(() => {
      store.outboxFailed(failed, message);
      store.setMeta("mirror_failures", String(failures));
      store.setMeta("mirror_retry_at", String(retryAt));
      store.setMeta("mirror_last_error", message);
    });
    deps.log.warn("auction mirror flush failed", {
      auctionId: store.room()?.auctionId,
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
