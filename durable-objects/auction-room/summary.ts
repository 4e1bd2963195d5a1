import { errorMessage } from "../../src/lib/errors.ts";
/**
 * Publishes the room's summary to the Upstash cache without making anyone wait: callers hand it
 * to `ctx.waitUntil`. Latest wins: while one write is in flight, newer summaries replace each
 * other and only the newest is written next, so a burst of bids costs a few writes, not one each.
 * A failure is logged and dropped (the list falls back to Postgres; the next change rewrites it).
 */

import { CACHE_TIMEOUT_MS, withTimeout } from "../../src/lib/cache.ts";
import type { Logger } from "../../src/lib/logger.ts";
import type { Redis } from "../../src/lib/redis.ts";
import type { PublicState } from "./types.ts";

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

export class SummaryPublisher {
  private latest: { auctionId: string; summary: AuctionSummary } | null = null;
  private running: Promise<void> | null = null;

  constructor(
    private readonly redis: Redis,
    private readonly namespace: string,
    private readonly log: Logger,
  ) {}

  publish(auctionId: string, summary: AuctionSummary): Promise<void> {
    this.latest = { auctionId, summary };
    this.running ??= this.drain();
    return this.running;
  }

  private async drain(): Promise<void> {
    try {
      while (this.latest) {
        const next = this.latest;
        this.latest = null;
        try {
          await writeSummary(this.redis, this.namespace, next.auctionId, next.summary);
        } catch (err) {
          this.log.warn("auction summary not cached", {
            auctionId: next.auctionId,
            error: errorMessage(err),
          });
        }
      }
    } finally {
      this.running = null;
    }
  }
}
