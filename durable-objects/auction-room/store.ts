import { SqlMetaStore } from "../shared/sql-outbox.ts";
/**
 * AuctionRoom's SQLite storage: the schema and synchronous reads and writes, called only inside
 * `ctx.storage.transactionSync` (writes) or between awaits (reads). One row holds the auction:
 * its terms, the proxy engine's state, the end, the watcher frame counter and the result.
 */
import type { AuctionResult, FinalStatus, LedgerBid, RankedBidder } from "./types.ts";

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`,
  // The CHECKs are the last line of invariant 4: a bug past the code's own checks aborts its
  // transaction instead of storing a second result or an end beyond the extension cap.
  `CREATE TABLE IF NOT EXISTS room (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    auction_id TEXT NOT NULL,
    shop_id TEXT NOT NULL,
    product_id TEXT NOT NULL,
    currency TEXT NOT NULL,
    terms TEXT NOT NULL,
    start_price INTEGER NOT NULL CHECK (start_price > 0),
    reserve_price INTEGER,
    buy_now_price INTEGER,
    starts_at INTEGER NOT NULL,
    ends_at INTEGER NOT NULL,
    current_ends_at INTEGER NOT NULL,
    soft_close_ms INTEGER NOT NULL,
    max_extension_ms INTEGER NOT NULL,
    started INTEGER NOT NULL DEFAULT 0 CHECK (started IN (0, 1)),
    leader_id TEXT,
    leader_max INTEGER NOT NULL DEFAULT 0,
    second_max INTEGER NOT NULL DEFAULT 0,
    price INTEGER NOT NULL,
    bid_count INTEGER NOT NULL DEFAULT 0,
    event_seq INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'open'
      CHECK (status IN ('open', 'ended_sold', 'ended_unsold', 'bought_now', 'cancelled')),
    result TEXT,
    closed_at INTEGER,
    CHECK (current_ends_at >= ends_at AND current_ends_at <= ends_at + max_extension_ms),
    CHECK ((status = 'open') = (result IS NULL))
  )`,
  `CREATE TABLE IF NOT EXISTS bids (
    sequence INTEGER PRIMARY KEY,
    bidder_id TEXT NOT NULL,
    max_minor INTEGER NOT NULL,
    price_after INTEGER NOT NULL,
    leader_after TEXT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('leading', 'outbid')),
    accepted_at INTEGER NOT NULL,
    ends_at_after INTEGER NOT NULL,
    extended INTEGER NOT NULL,
    key TEXT UNIQUE,
    request TEXT
  )`,
  // One row per bidder: the stable pseudonym (bidder-1, bidder-2 … in order of first bid) and
  // the best maximum, which second-chance offers rank by.
  `CREATE TABLE IF NOT EXISTS bidders (
    bidder_id TEXT PRIMARY KEY,
    alias_no INTEGER NOT NULL UNIQUE,
    max_minor INTEGER NOT NULL,
    max_sequence INTEGER NOT NULL
  )`,
  // Bidders this room has found eligible (a visible shop, not its team, not blocked) by one
  // Postgres check at their first bid. Only "yes" is kept: a refused user is checked again, so
  // an unblock needs no message. A block or strike deletes the row (AuctionRoom.reverify).
  `CREATE TABLE IF NOT EXISTS eligible (
    user_id TEXT PRIMARY KEY,
    checked_at INTEGER NOT NULL
  )`,
  // A row leaves the outbox when Postgres has acknowledged it: "acked" is "deleted".
  `CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('bid', 'started', 'result')),
    payload TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
  )`,
];

export function migrate(sql: SqlStorage): void {
  for (const statement of SCHEMA) sql.exec(statement);
}

export interface Room {
  auctionId: string;
  shopId: string;
  productId: string;
  currency: string;
  terms: string;
  startPrice: number;
  reservePrice: number | null;
  buyNowPrice: number | null;
  startsAt: number;
  endsAt: number;
  currentEndsAt: number;
  softCloseMs: number;
  maxExtensionMs: number;
  started: boolean;
  leaderId: string | null;
  leaderMax: number;
  secondMax: number;
  price: number;
  bidCount: number;
  eventSeq: number;
  status: "open" | FinalStatus;
  result: AuctionResult | null;
  closedAt: number | null;
}

interface RoomRow extends Record<string, SqlStorageValue> {
  auction_id: string;
  shop_id: string;
  product_id: string;
  currency: string;
  terms: string;
  start_price: number;
  reserve_price: number | null;
  buy_now_price: number | null;
  starts_at: number;
  ends_at: number;
  current_ends_at: number;
  soft_close_ms: number;
  max_extension_ms: number;
  started: number;
  leader_id: string | null;
  leader_max: number;
  second_max: number;
  price: number;
  bid_count: number;
  event_seq: number;
  status: string;
  result: string | null;
  closed_at: number | null;
}

interface BidRow extends Record<string, SqlStorageValue> {
  sequence: number;
  bidder_id: string;
  max_minor: number;
  price_after: number;
  leader_after: string;
  outcome: string;
  accepted_at: number;
  ends_at_after: number;
  extended: number;
  key: string | null;
  request: string | null;
  alias_no: number;
}

export interface OutboxRow {
  id: number;
  kind: "bid" | "started" | "result";
  payload: string;
}

export const aliasOf = (n: number) => `bidder-${n}`;
const iso = (ms: number) => new Date(ms).toISOString();

/** Synchronous access to one auction's tables. */
export class RoomStore extends SqlMetaStore {
  room(): Room | null {
    const r = this.sql.exec<RoomRow>("SELECT * FROM room WHERE id = 1").toArray()[0];
    if (!r) return null;
    return {
      auctionId: r.auction_id,
      shopId: r.shop_id,
      productId: r.product_id,
      currency: r.currency,
      terms: r.terms,
      startPrice: r.start_price,
      reservePrice: r.reserve_price,
      buyNowPrice: r.buy_now_price,
      startsAt: r.starts_at,
      endsAt: r.ends_at,
      currentEndsAt: r.current_ends_at,
      softCloseMs: r.soft_close_ms,
      maxExtensionMs: r.max_extension_ms,
      started: r.started === 1,
      leaderId: r.leader_id,
      leaderMax: r.leader_max,
      secondMax: r.second_max,
      price: r.price,
      bidCount: r.bid_count,
      eventSeq: r.event_seq,
      status: r.status as Room["status"],
      result: r.result === null ? null : (JSON.parse(r.result) as AuctionResult),
      closedAt: r.closed_at,
    };
  }

  insertRoom(r: Room): void {
    this.sql.exec(
      `INSERT INTO room (id, auction_id, shop_id, product_id, currency, terms, start_price,
         reserve_price, buy_now_price, starts_at, ends_at, current_ends_at, soft_close_ms,
         max_extension_ms, price)
       VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      r.auctionId,
      r.shopId,
      r.productId,
      r.currency,
      r.terms,
      r.startPrice,
      r.reservePrice,
      r.buyNowPrice,
      r.startsAt,
      r.endsAt,
      r.currentEndsAt,
      r.softCloseMs,
      r.maxExtensionMs,
      r.price,
    );
  }

  /** Takes the next watcher frame number. */
  nextSeq(): number {
    return this.sql
      .exec<{ event_seq: number }>(
        "UPDATE room SET event_seq = event_seq + 1 WHERE id = 1 RETURNING event_seq",
      )
      .one().event_seq;
  }

  markStarted(): void {
    this.sql.exec("UPDATE room SET started = 1 WHERE id = 1");
  }

  /** Writes the proxy engine's state and the end after an accepted bid. */
  saveBidState(s: {
    leaderId: string;
    leaderMax: number;
    secondMax: number;
    price: number;
    bidCount: number;
    currentEndsAt: number;
  }): void {
    this.sql.exec(
      `UPDATE room SET leader_id = ?, leader_max = ?, second_max = ?, price = ?, bid_count = ?,
         current_ends_at = ? WHERE id = 1`,
      s.leaderId,
      s.leaderMax,
      s.secondMax,
      s.price,
      s.bidCount,
      s.currentEndsAt,
    );
  }

  /**
   * Stores the one result. The `status = 'open'` guard makes a second close a no-op that the
   * caller detects (it throws: callers check `room.status` first, so this means a bug).
   */
  saveResult(result: AuctionResult, closedAt: number): void {
    const changed = this.sql.exec(
      "UPDATE room SET status = ?, result = ?, closed_at = ? WHERE id = 1 AND status = 'open'",
      result.status,
      JSON.stringify(result),
      closedAt,
    ).rowsWritten;
    if (changed !== 1) throw new Error("INVARIANT: the auction already has a result");
  }

  insertBid(b: {
    sequence: number;
    bidderId: string;
    maxMinor: number;
    priceAfter: number;
    leaderAfter: string;
    outcome: string;
    acceptedAt: number;
    endsAtAfter: number;
    extended: boolean;
    key: string | null;
    request: string | null;
  }): void {
    this.sql.exec(
      `INSERT INTO bids (sequence, bidder_id, max_minor, price_after, leader_after, outcome,
         accepted_at, ends_at_after, extended, key, request)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      b.sequence,
      b.bidderId,
      b.maxMinor,
      b.priceAfter,
      b.leaderAfter,
      b.outcome,
      b.acceptedAt,
      b.endsAtAfter,
      b.extended ? 1 : 0,
      b.key,
      b.request,
    );
  }

  /** The bidder's alias number, assigning the next one on a first bid. */
  aliasNo(bidderId: string): number | null {
    const row = this.sql
      .exec<{ alias_no: number }>("SELECT alias_no FROM bidders WHERE bidder_id = ?", bidderId)
      .toArray()[0];
    return row?.alias_no ?? null;
  }

  /** Records a bidder's maximum (keeps the best one) and returns their alias number. */
  recordBidder(bidderId: string, maxMinor: number, sequence: number): number {
    const existing = this.aliasNo(bidderId);
    if (existing === null) {
      const next =
        this.sql
          .exec<{ n: number }>("SELECT coalesce(max(alias_no), 0) + 1 AS n FROM bidders")
          .one().n ?? 1;
      this.sql.exec(
        "INSERT INTO bidders (bidder_id, alias_no, max_minor, max_sequence) VALUES (?, ?, ?, ?)",
        bidderId,
        next,
        maxMinor,
        sequence,
      );
      return next;
    }
    this.sql.exec(
      `UPDATE bidders SET max_minor = ?, max_sequence = ? WHERE bidder_id = ? AND max_minor < ?`,
      maxMinor,
      sequence,
      bidderId,
      maxMinor,
    );
    return existing;
  }

  bidByKey(key: string): (LedgerBid & { request: string | null }) | null {
    const row = this.sql
      .exec<BidRow>(
        `SELECT b.*, d.alias_no FROM bids b JOIN bidders d ON d.bidder_id = b.bidder_id
         WHERE b.key = ?`,
        key,
      )
      .toArray()[0];
    return row ? { ...toLedgerBid(row), request: row.request } : null;
  }

  bids(afterSequence = 0, limit = 100_000): LedgerBid[] {
    return this.sql
      .exec<BidRow>(
        `SELECT b.*, d.alias_no FROM bids b JOIN bidders d ON d.bidder_id = b.bidder_id
         WHERE b.sequence > ? ORDER BY b.sequence LIMIT ?`,
        afterSequence,
        limit,
      )
      .toArray()
      .map(toLedgerBid);
  }

  /** The newest bids first, for the public history. */
  recentBids(beforeSequence: number, limit: number): LedgerBid[] {
    return this.sql
      .exec<BidRow>(
        `SELECT b.*, d.alias_no FROM bids b JOIN bidders d ON d.bidder_id = b.bidder_id
         WHERE b.sequence < ? ORDER BY b.sequence DESC LIMIT ?`,
        beforeSequence,
        limit,
      )
      .toArray()
      .map(toLedgerBid);
  }

  bidderIds(): string[] {
    return this.sql
      .exec<{ bidder_id: string }>("SELECT bidder_id FROM bidders ORDER BY alias_no")
      .toArray()
      .map((r) => r.bidder_id);
  }

  ranked(exclude: ReadonlySet<string>): RankedBidder[] {
    return this.sql
      .exec<{ bidder_id: string; alias_no: number; max_minor: number; max_sequence: number }>(
        "SELECT * FROM bidders ORDER BY max_minor DESC, max_sequence ASC",
      )
      .toArray()
      .filter((r) => !exclude.has(r.bidder_id))
      .map((r) => ({
        bidderId: r.bidder_id,
        alias: aliasOf(r.alias_no),
        maxMinor: r.max_minor,
        maxSequence: r.max_sequence,
      }));
  }

  isEligible(userId: string): boolean {
    return this.sql.exec("SELECT 1 FROM eligible WHERE user_id = ?", userId).toArray().length > 0;
  }

  markEligible(userId: string, at: number): void {
    this.sql.exec(
      "INSERT INTO eligible (user_id, checked_at) VALUES (?, ?) ON CONFLICT (user_id) DO NOTHING",
      userId,
      at,
    );
  }

  /** Forgets a bidder's eligibility; true when the room held them as eligible. */
  forgetEligible(userId: string): boolean {
    return this.sql.exec("DELETE FROM eligible WHERE user_id = ?", userId).rowsWritten > 0;
  }

  enqueue(kind: OutboxRow["kind"], payload: unknown): void {
    this.sql.exec(
      "INSERT INTO outbox (kind, payload) VALUES (?, ?)",
      kind,
      JSON.stringify(payload),
    );
  }

  outboxBatch(limit: number): OutboxRow[] {
    return this.sql
      .exec<{ id: number; kind: string; payload: string }>(
        "SELECT id, kind, payload FROM outbox ORDER BY id LIMIT ?",
        limit,
      )
      .toArray()
      .map((r) => ({ id: r.id, kind: r.kind as OutboxRow["kind"], payload: r.payload }));
  }

  ackOutbox(throughId: number): void {
    this.sql.exec("DELETE FROM outbox WHERE id <= ?", throughId);
  }

  outboxFailed(throughId: number, error: string): void {
    this.sql.exec(
      "UPDATE outbox SET attempts = attempts + 1, last_error = ? WHERE id <= ?",
      error,
      throughId,
    );
  }

  pendingOutbox(): number {
    return this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM outbox").one().n;
  }
}

function toLedgerBid(r: BidRow): LedgerBid {
  return {
    sequence: r.sequence,
    bidderId: r.bidder_id,
    alias: aliasOf(r.alias_no),
    maxMinor: r.max_minor,
    priceAfterMinor: r.price_after,
    leaderAfterId: r.leader_after,
    outcome: r.outcome as LedgerBid["outcome"],
    acceptedAt: iso(r.accepted_at),
    endsAtAfter: iso(r.ends_at_after),
    extended: r.extended === 1,
  };
}
