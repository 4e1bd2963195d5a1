import type { PublicState } from "../../../durable-objects/auction-room/types.ts";
import { CACHE_TIMEOUT_MS, withTimeout } from "../../lib/cache.ts";
import type { Logger } from "../../lib/logger.ts";
import type { Redis } from "../../lib/redis.ts";

/*
 * The auction summary cache in Upstash, written by each AuctionRoom after every change (bid,
 * start, close) without the caller waiting, and read by the public list to show live prices:
 *
 *   {ns}:auction:{id}:summary   the fields below, as JSON, for a day past the last write
 *
 * {ns} is the catalog's per-database namespace (cacheNamespace). The cache only ever makes the
 * list fresher than the Postgres mirror; with Redis absent, failing or slow the list answers
 * from the mirror rows.
 */
export const SUMMARY_TTL_SECONDS = 24 * 60 * 60;

/** The live part of an auction, as the list shows it. */
export interface AuctionSummary {
  status: PublicState["status"];
  priceMinor: number;
  bidCount: number;
  leaderAlias: string | null;
  reserveMet: boolean;
  buyNowAvailable: boolean;
  minimumNextBidMinor: number;
  endsAt: string;
  /** The last frame's sequence: a later write always carries a larger one. */
  seq: number;
}

export const summaryKey = (ns: string, auctionId: string) => `${ns}:auction:${auctionId}:summary`;

export function summaryOf(s: PublicState): AuctionSummary {
  return {
    status: s.status,
    priceMinor: s.priceMinor,
    bidCount: s.bidCount,
    leaderAlias: s.leaderAlias,
    reserveMet: s.reserveMet,
    buyNowAvailable: s.buyNowAvailable,
    minimumNextBidMinor: s.minimumNextBidMinor,
    endsAt: s.endsAt,
    seq: s.seq,
  };
}

export async function writeSummary(
  redis: Redis,
  ns: string,
  auctionId: string,
  summary: AuctionSummary,
  timeoutMs: number = CACHE_TIMEOUT_MS * 3,
): Promise<void> {
  await withTimeout(
    redis.set(summaryKey(ns, auctionId), summary, { ex: SUMMARY_TTL_SECONDS }),
    timeoutMs,
  );
}

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
      error: err instanceof Error ? err.message : String(err),
    });
    return null;
  }
}
