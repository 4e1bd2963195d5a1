/**
 * Who may bid in a room, decided inside the room so that a bid waits on neither Postgres nor
 * Redis (DESIGN.md: "a bid waits for none").
 *
 * - The per-bidder limit is a sliding window kept in the object's memory. One object is the only
 *   writer for its auction, so a counter here is exact for that auction without a shared store;
 *   an eviction forgets it, which only ever lets a bidder in sooner.
 * - Eligibility (the auction's shop is visible, the bidder is not on its team, the account is not
 *   blocked) is checked in Postgres once, at a bidder's first bid in the room, and a "yes" kept in
 *   SQLite (store.ts `eligible`). A "no" is never kept, so lifting a block needs no message.
 * - What can turn a "yes" into a "no" later tells the rooms: a block or a strike calls
 *   `AuctionRoom.reverify` on every open auction the user bid in (the `bids` mirror knows them),
 *   and the mirror re-reads the bidders' block under a share lock with every batch of bids it
 *   writes, which covers bids not yet in `bids` when the block looked (see mirror.ts).
 */
import { and, eq, sql } from "drizzle-orm";
import { createHttpDb } from "../../src/db/http.ts";
import { shopMembers, shops } from "../../src/db/schema/shops.ts";
import { users } from "../../src/db/schema/users.ts";
import type { Config } from "../../src/env.ts";
import type { ForbiddenRefusal, NotFoundRefusal, RateLimitedRefusal } from "./types.ts";

/** The same budget the Upstash limit gave a bidder: 30 bids per 10 s. */
export const BID_LIMIT = { limit: 30, windowMs: 10_000 } as const;

/** A sliding-window log per bidder, in memory. */
export class BidRateLimit {
  private readonly hits = new Map<string, number[]>();
  private lastSweep = 0;

  constructor(private readonly rule: { limit: number; windowMs: number } = BID_LIMIT) {}

  /** Counts one attempt; a refusal says how long until the window frees a slot. */
  take(userId: string, now: number): RateLimitedRefusal | null {
    this.sweep(now);
    const since = now - this.rule.windowMs;
    const log = (this.hits.get(userId) ?? []).filter((t) => t > since);
    if (log.length >= this.rule.limit) {
      this.hits.set(userId, log);
      const oldest = log[0] ?? now;
      return {
        ok: false,
        code: "RATE_LIMITED",
        retryAfterSeconds: Math.max(1, Math.ceil((oldest + this.rule.windowMs - now) / 1000)),
        message: "Too many bids; try again later.",
      };
    }
    log.push(now);
    this.hits.set(userId, log);
    return null;
  }

  /** Drops idle bidders now and then, so a long auction's map stays small. */
  private sweep(now: number): void {
    if (now - this.lastSweep < this.rule.windowMs) return;
    this.lastSweep = now;
    for (const [userId, log] of this.hits) {
      if ((log.at(-1) ?? 0) <= now - this.rule.windowMs) this.hits.delete(userId);
    }
  }
}

export type Ineligible = ForbiddenRefusal | NotFoundRefusal;

/**
 * The first-contact check: one statement over Neon's HTTP transport, one round trip (no
 * connection to open or close). Null when the user may bid; a hidden shop is a NOT_FOUND (as the
 * auction's detail is), the team and blocked users FORBIDDEN.
 */
export async function checkEligibility(
  config: Config,
  shopId: string,
  userId: string,
): Promise<Ineligible | null> {
  const db = createHttpDb({ databaseUrl: config.DATABASE_URL, localHttp: config.NEON_LOCAL_HTTP });
  const [row] = await db
    .select({
      status: shops.status,
      emailVerifiedAt: shops.emailVerifiedAt,
      deletedAt: shops.deletedAt,
      member: sql<boolean>`exists (select 1 from ${shopMembers} where ${and(eq(shopMembers.shopId, shopId), eq(shopMembers.userId, userId))})`,
      // A deleted account is refused as a blocked one is (its last token may outlive it).
      blocked: sql<boolean>`exists (select 1 from ${users} where ${users.id} = ${userId} and (${users.blockedAt} is not null or ${users.deletedAt} is not null))`,
    })
    .from(shops)
    .where(eq(shops.id, shopId));
  // The shop rule of src/services/shops/access.ts (isShopVisible), which the room may not import.
  if (row?.status !== "approved" || row.emailVerifiedAt === null || row.deletedAt) {
    return { ok: false, code: "NOT_FOUND", message: "This auction does not exist." };
  }
  if (row.member) {
    return {
      ok: false,
      code: "FORBIDDEN",
      reason: "own_shop",
      message: "Sellers cannot bid on or buy their own shop's auctions.",
    };
  }
  if (row.blocked) {
    return {
      ok: false,
      code: "FORBIDDEN",
      reason: "blocked",
      message:
        "This account is blocked from bidding and buying (two unpaid wins within 12 months, " +
        "or an admin's decision); contact support to have it lifted.",
    };
  }
  return null;
}
