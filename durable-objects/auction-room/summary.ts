/**
 * Publishes the room's summary to the Upstash cache without making anyone wait: callers hand it
 * to `ctx.waitUntil`. Latest wins: while one write is in flight, newer summaries replace each
 * other and only the newest is written next, so a burst of bids costs a few writes, not one each.
 * A failure is logged and dropped (the list falls back to Postgres; the next change rewrites it).
 */
import type { Logger } from "../../src/lib/logger.ts";
import type { Redis } from "../../src/lib/redis.ts";
import { type AuctionSummary, writeSummary } from "../../src/services/auctions/cache.ts";

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
            error: err instanceof Error ? err.message : String(err),
          });
        }
      }
    } finally {
      this.running = null;
    }
  }
}
