/**
 * The Postgres side of AuctionRoom's outbox: one transaction per batch mirrors the accepted
 * bids (`bids`, keyed by auction + sequence), moves the auction row's live columns forward
 * (never back: guarded by `last_sequence`), flips `scheduled` to `active`, and applies a result
 * (the order, the final columns, the audit rows) exactly once.
 */
import { and, eq, inArray, lt, sql } from "drizzle-orm";
import type { Database } from "../../src/db/client.ts";
import { auctions, bids } from "../../src/db/schema/auctions.ts";
import { users } from "../../src/db/schema/users.ts";
import type { BidRecord, StartedRecord } from "./operations.ts";
import { applyAuctionResult } from "./results.ts";
import type { OutboxRow } from "./store.ts";
import type { AuctionResult } from "./types.ts";

export interface MirrorOptions {
  deadlineHours: number;
  platformFeeBps: number;
}

/**
 * Mirrors a batch of outbox rows (one auction, oldest first). Safe to repeat: bids already held
 * are skipped by their key, the live columns only move to a later sequence, and a result already
 * applied is left alone. Returns the results in the batch, applied now or before, so the caller
 * can (re)send their notices, and the bidders of the batch who are blocked now.
 *
 * The blocked read takes a share lock on the bidders' user rows. A block updates that row, so it
 * either commits first (this read sees it: the room forgets the bidder) or waits for this
 * transaction (the block's search of `bids` for the rooms to tell then sees these bids). Either
 * way no room keeps a blocked bidder as eligible past its next flush.
 */
export async function mirrorBatch(
  db: Database,
  rows: OutboxRow[],
  opts: MirrorOptions,
): Promise<{ results: AuctionResult[]; blocked: string[] }> {
  const bidRecords: BidRecord[] = [];
  const started: StartedRecord[] = [];
  const results: AuctionResult[] = [];
  for (const row of rows) {
    const payload: unknown = JSON.parse(row.payload);
    if (row.kind === "bid") bidRecords.push(payload as BidRecord);
    else if (row.kind === "started") started.push(payload as StartedRecord);
    else results.push(payload as AuctionResult);
  }
  const blocked: string[] = [];
  await db.transaction(async (tx) => {
    const first = started[0];
    if (first) {
      await tx
        .update(auctions)
        .set({ status: "active", updatedAt: new Date() })
        .where(and(eq(auctions.id, first.auctionId), eq(auctions.status, "scheduled")));
    }
    const last = bidRecords.at(-1);
    if (last) {
      await tx
        .insert(bids)
        .values(
          bidRecords.map((b) => ({
            auctionId: b.auctionId,
            sequence: b.sequence,
            bidderId: b.bidderId,
            bidderAlias: b.alias,
            maxMinor: b.maxMinor,
            priceAfterMinor: b.priceAfterMinor,
            outcome: b.outcome,
            acceptedAt: new Date(b.acceptedAt),
          })),
        )
        .onConflictDoNothing({ target: [bids.auctionId, bids.sequence] });
      const bidderIds = [...new Set(bidRecords.map((b) => b.bidderId))];
      const standing = await tx
        .select({ id: users.id, blockedAt: users.blockedAt })
        .from(users)
        .where(inArray(users.id, bidderIds))
        .for("share");
      for (const u of standing) if (u.blockedAt !== null) blocked.push(u.id);
      await tx
        .update(auctions)
        .set({
          priceMinor: last.state.priceMinor,
          bidCount: last.state.bidCount,
          leaderAlias: last.state.leaderAlias,
          currentEndsAt: new Date(last.state.currentEndsAt),
          reserveMet: last.state.reserveMet,
          lastSequence: last.sequence,
          // A bid proves the auction started, whatever the mirror has seen so far.
          status: sql`case when ${auctions.status} = 'scheduled' then 'active'::auction_status else ${auctions.status} end`,
          updatedAt: new Date(),
        })
        .where(and(eq(auctions.id, last.auctionId), lt(auctions.lastSequence, last.sequence)));
    }
    for (const result of results) await applyAuctionResult(tx, result, opts);
  });
  return { results, blocked };
}
