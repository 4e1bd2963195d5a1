/**
 * AuctionRoom's outbox flush: sends pending rows to Postgres in batches, then the notices of any
 * result, and only then records the acknowledgement. A failure anywhere leaves the rows in place
 * with a backoff; the retry re-applies nothing (see mirror.ts) and re-sends notices that the
 * consumer dedupes by key. So a result reaches Postgres once and each person is told once.
 */
import { drainOutbox, type FlushDeps } from "../shared/mirror-retry.ts";
import { mirrorBatch } from "./mirror.ts";
import { resultNotifications, sendNotifications } from "./results.ts";
import type { RoomStore } from "./store.ts";
import type { FlushResult } from "./types.ts";

const FLUSH_BATCH = 200;

export async function flushOutbox(deps: FlushDeps<RoomStore>): Promise<FlushResult> {
  const { store } = deps;
  return drainOutbox({
    store,
    env: deps.env,
    transact: deps.transact,
    batchSize: FLUSH_BATCH,
    keyOf: (row) => row.id,
    send: async (peers, batch, config) => {
      // Interactive: the mirror reads eligibility and results inside its transaction.
      const db = peers.pool();
      const opts = {
        deadlineHours: config.AUCTION_PAYMENT_DEADLINE_HOURS,
        platformFeeBps: config.PLATFORM_FEE_BPS,
      };
      const { results, blocked } = await mirrorBatch(db, batch, opts);
      // Blocked since the room found them eligible: their next bid asks Postgres again.
      if (blocked.length > 0) {
        deps.transact(() => {
          for (const id of blocked) store.forgetEligible(id);
        });
      }
      // Notices only after the result committed; the consumer dedupes a re-sent one by key.
      for (const result of results) {
        const notices = await resultNotifications(db, result, opts.deadlineHours);
        await sendNotifications(deps.env.NOTIFICATIONS, notices, deps.log);
      }
      return batch.length;
    },
    onFailure: ({ failures, retryAt, error }) =>
      deps.log.warn("auction mirror flush failed", {
        auctionId: store.room()?.auctionId,
        failures,
        retryAt: new Date(retryAt).toISOString(),
        error,
      }),
  });
}
