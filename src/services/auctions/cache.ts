/** Reads of the auction summary cache that each AuctionRoom writes (see its summary.ts). */
import { type AuctionSummary, summaryKey } from "../../../durable-objects/auction-room/summary.ts";
import { withTimeout } from "../../lib/cache.ts";
import { errorMessage } from "../../lib/errors.ts";
import type { Logger } from "../../lib/logger.ts";
import type { Redis } from "../../lib/redis.ts";

/**
 * The cached summaries of these auctions in one round trip; missing ones are absent from the
 * map. Null when the cache is off or failed (the caller uses the mirror rows).
 */
export async function readSummaries(
  redis: Redis | null,
  ns: string,
  auctionIds: string[],
  logger?: Logger,
): Promise<Map<string, AuctionSummary> | null> {
  if (!redis) return null;
  if (auctionIds.length === 0) return new Map();
  try {
    const values = await withTimeout(
      redis.mget<Array<AuctionSummary | null>>(...auctionIds.map((id) => summaryKey(ns, id))),
    );
    const out = new Map<string, AuctionSummary>();
    auctionIds.forEach((id, i) => {
      const v = values[i];
      if (v && typeof v === "object") out.set(id, v);
    });
    return out;
  } catch (err) {
    logger?.warn("auction summaries bypassed: Redis failed or was slow", {
      error: errorMessage(err),
    });
    return null;
  }
}
