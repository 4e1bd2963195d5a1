import { DurableObject } from "cloudflare:workers";
import { type Config, type Env, loadConfig } from "../src/env.ts";
import { cacheNamespace } from "../src/lib/cache-namespace.ts";
import { uuidv7 } from "../src/lib/ids.ts";
import { createLogger } from "../src/lib/logger.ts";
import { createRedis } from "../src/lib/redis.ts";

import { BidRateLimit, checkEligibility } from "./auction-room/eligibility.ts";
import * as ops from "./auction-room/operations.ts";
import { flushOutbox } from "./auction-room/outbox.ts";
import { aliasOf, migrate, RoomStore } from "./auction-room/store.ts";
import { SummaryPublisher, summaryOf } from "./auction-room/summary.ts";
import {
  type BuyNowInput,
  type BuyNowResult,
  buyNowInput,
  type CancelInput,
  type CancelResult,
  type CloseIfDueResult,
  type ConfigureInput,
  type ConfigureResult,
  cancelInput,
  configureInput,
  type FlushResult,
  type Frame,
  type Ledger,
  type MirrorStatus,
  type PlaceBidInput,
  type PlaceBidResult,
  type PublicBid,
  type PublicState,
  parseInput,
  placeBidInput,
  type RankedBidder,
  type RankedBiddersInput,
  type Refusal,
  rankedBiddersInput,
  refusalStatus,
  reverifyInput,
  socketBidMessage,
  type UserBidResult,
  type WatcherIdentity,
} from "./auction-room/types.ts";
import { WatcherHub } from "./auction-room/watchers.ts";
import { serially } from "./shared/mirror-retry.ts";

export type * from "./auction-room/types.ts";

/** The one handle on an auction's object: `roomOf(env.AUCTION_ROOM, auctionId)`. */
export function roomOf(
  rooms: DurableObjectNamespace<AuctionRoom>,
  auctionId: string,
): DurableObjectStub<AuctionRoom> {
  return rooms.get(rooms.idFromName(auctionId));
}

/** The Worker names the signed-in watcher with this header; the object is not reachable otherwise. */
export const WATCHER_USER_HEADER = "x-souk-watcher-user";
/** …and with this one, when that user's access token expires (epoch ms). */
export const WATCHER_UNTIL_HEADER = "x-souk-watcher-until";

/** What a fresh object answers to `summary()`. */
export interface UnconfiguredSummary {
  status: "not_configured";
  watchers: number;
}

const iso = (ms: number) => new Date(ms).toISOString();

function refOf(raw: unknown): string | null {
  const ref = (raw as { ref?: unknown } | null)?.ref;
  return typeof ref === "string" && ref.length > 0 && ref.length <= 100 ? ref : null;
}

/** A refused socket message, shaped as the POST route's problem+json body. */
function socketProblem(
  ref: string | null,
  status: number,
  code: string,
  detail: string,
  errors?: Array<{ field: string; message: string }>,
): object {
  return {
    type: "bid.refused",
    ...(ref ? { ref } : {}),
    status,
    code,
    detail,
    ...(errors ? { errors } : {}),
  };
}

function refusalMessage(ref: string | null, refusal: Refusal): object {
  const { ok: _ok, code, message, ...details } = refusal;
  return { ...socketProblem(ref, refusalStatus(refusal), code, message), ...details };
}

/**
 * The single writer for one auction (one object per auction: `idFromName(auctionId)`). Bids,
 * buy-now, cancel and the close each run as one synchronous storage transaction, so they are
 * serialized in arrival order and no await splits a check from its write: one leader, one
 * result, a gapless bid sequence. Each accepted bid is folded through the pure proxy engine
 * (./auction-room/proxy-bidding.ts), so replaying the stored bids gives the same state.
 *
 * Time is the object's clock (`Date.now()`), never the caller's. A bid in the last
 * `softCloseSeconds` moves the end to bid time + window, capped at the scheduled end plus
 * `maxExtensionSeconds`. The alarm closes at the (possibly extended) end; the cron sweep's
 * `closeIfDue` is the safety net. Closing is at-least-once; its effect is once: the state moves
 * open → final inside one transaction, and the result's outbox row carries it to Postgres,
 * where the order id minted here and the auction row's `closed_at` make a retry a no-op.
 *
 * Watchers connect through `fetch` (the Worker's `/v1/auctions/{id}/live`), held with the
 * Hibernation API; see ./auction-room/watchers.ts for frames and batching.
 */
export class AuctionRoom extends DurableObject<Env> {
  private readonly store: RoomStore;
  private readonly hub: WatcherHub;
  private readonly limit = new BidRateLimit();
  /** Counts `reverify` calls, so a check that a block overtook is not kept (see `bid`). */
  private reverifications = 0;
  private readonly log = createLogger("info", { component: "AuctionRoom" });
  /** Flushes one at a time: a flush requested during another runs after it. */
  private readonly serial = serially();
  private summaries: SummaryPublisher | null | undefined;
  /** Added to `Date.now()`: set by tests only (tests/helpers/object-hooks.ts), read back only under ENVIRONMENT=test. */
  private clockOffsetMs = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new RoomStore(ctx.storage.sql);
    this.hub = new WatcherHub(ctx, this.config()?.AUCTION_FRAME_BATCH_MS ?? 0);
    // Keep-alives are answered by the runtime without waking a hibernated object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
    ctx.blockConcurrencyWhile(async () => {
      ctx.storage.transactionSync(() => migrate(ctx.storage.sql));
      if (this.env.ENVIRONMENT === "test") {
        this.clockOffsetMs = Number(this.store.getMeta("clock_offset_ms") ?? 0);
      }
      const batch = this.store.getMeta("frame_batch_ms");
      if (batch !== null) this.hub.setFrameBatchMs(Number(batch));
      // Covers a crash between a write and its setAlarm: pending work always has an alarm.
      await this.scheduleAlarm(false);
    });
  }

  /**
   * Sets the auction up (terms, times, soft close). Idempotent: the same terms again answer the
   * same state (`replayed`); other terms are refused (CONFLICT configure_mismatch). Arms the
   * alarm at the start (the status flip) and the end.
   */
  async configure(input: ConfigureInput): Promise<ConfigureResult> {
    const c = parseInput(configureInput, input);
    const watchers = this.hub.count();
    const result = this.apply((now) => ops.configure(this.store, c, now, watchers));
    await this.scheduleAlarm(true);
    return result;
  }

  /**
   * Places a bid: a maximum, by the server's clock. Refused with AUCTION_CLOSED before the start
   * or at/after the (possibly extended) end, BID_TOO_LOW under the next minimum (or not above
   * the leader's own maximum); refusals change nothing and tell watchers nothing. Accepted:
   * leading or outbid, the new price, the next minimum, the end, and the bid's sequence. An
   * optional `key` makes a retry answer the first result instead of bidding twice. The rules
   * alone: a user's bid comes through `bid`, which adds the limit and eligibility first.
   */
  async placeBid(input: PlaceBidInput): Promise<PlaceBidResult> {
    const b = parseInput(placeBidInput, input);
    const result = this.apply((now) => ops.placeBid(this.store, b, now));
    await this.scheduleAlarm(result.ok && result.extended);
    return result;
  }

  /**
   * A user's bid, as the POST route and the live socket send it: the per-bidder limit (429), then
   * eligibility (404 hidden shop, 403 own team or blocked), then `placeBid`. Eligibility is asked
   * of Postgres once per bidder per room and kept (./auction-room/eligibility.ts), so every later
   * bid is decided with no round trip; `reverify` makes the next bid ask again.
   */
  async bid(input: PlaceBidInput): Promise<UserBidResult> {
    const b = parseInput(placeBidInput, input);
    const room = this.store.room();
    if (!room) return { ok: false, code: "NOT_FOUND", message: "This auction does not exist." };
    const limited = this.limit.take(b.bidderId, Date.now());
    if (limited) return limited;
    if (!this.store.isEligible(b.bidderId)) {
      const config = this.config();
      if (!config) throw new Error("INVARIANT: AuctionRoom without a valid config");
      const asked = this.reverifications;
      const refusal = await checkEligibility(config, room.shopId, b.bidderId);
      if (refusal) return refusal;
      // A reverify while Postgres answered may mean a block the answer predates: decide this
      // bid on it (its mirror re-reads the block, mirror.ts) but keep nothing.
      if (asked === this.reverifications) {
        this.ctx.storage.transactionSync(() => this.store.markEligible(b.bidderId, Date.now()));
      }
    }
    return this.placeBid(b);
  }

  /**
   * A block or strike changed what this user may do: forget that they were found eligible, so
   * their next bid here asks Postgres again. Safe to repeat; true when the room held them.
   */
  async reverify(input: { userId: string }): Promise<{ held: boolean }> {
    const { userId } = parseInput(reverifyInput, input);
    this.reverifications += 1;
    return { held: this.ctx.storage.transactionSync(() => this.store.forgetEligible(userId)) };
  }

  /**
   * Buys at the buy-now price and closes the auction at once. Available until the first bid, or
   * with a reserve until the reserve is met. Serialized with bids: whichever arrives first wins;
   * the other is refused (CONFLICT buy_now_unavailable, or AUCTION_CLOSED). The same buyer
   * asking again gets the same result. Waits for the mirror so the order exists on return
   * (`mirrored`); if Postgres is down the outbox delivers it later.
   */
  async buyNow(input: BuyNowInput): Promise<BuyNowResult> {
    const i = parseInput(buyNowInput, input);
    const result = this.apply((now) => ops.buyNow(this.store, i, now));
    if (!result.ok) return result;
    const flushed = await this.flush();
    await this.scheduleAlarm(false);
    return { ...result, mirrored: flushed.error === null && flushed.pending === 0 };
  }

  /** The seller withdraws an auction that has no bid (CONFLICT has_bids otherwise). */
  async cancel(input: CancelInput): Promise<CancelResult> {
    const c = parseInput(cancelInput, input);
    const result = this.apply((now) => ops.cancel(this.store, c, now));
    if (result.ok) await this.flush();
    await this.scheduleAlarm(false);
    return result;
  }

  /**
   * The cron sweep's poke: closes the auction if its end has passed (a no-op otherwise, or when
   * already closed), then flushes what the outbox holds. Safe to call any number of times.
   */
  async closeIfDue(): Promise<CloseIfDueResult> {
    const result = this.apply((now) => ops.closeIfDue(this.store, now, "sweep"));
    let pending = this.store.pendingOutbox();
    if (pending > 0) pending = (await this.flush()).pending;
    await this.scheduleAlarm(false);
    return { ...result, pending };
  }

  /** The public state, or null for an object never configured. */
  async state(): Promise<PublicState | null> {
    const room = this.store.room();
    return room ? ops.publicState(this.store, room, this.now(), this.hub.count()) : null;
  }

  /** The public state; `{ status: "not_configured", watchers }` for a fresh object. */
  async summary(): Promise<PublicState | UnconfiguredSummary> {
    return (await this.state()) ?? { status: "not_configured", watchers: this.hub.count() };
  }

  /** Public bid history, newest first: sequence, alias, price after — no ids, no maximums. */
  async history(input?: { beforeSequence?: number; limit?: number }): Promise<PublicBid[]> {
    const before = Math.max(1, Math.trunc(input?.beforeSequence ?? Number.MAX_SAFE_INTEGER));
    const limit = Math.max(1, Math.min(200, Math.trunc(input?.limit ?? 50)));
    return this.store.recentBids(before, limit).map((b) => ({
      sequence: b.sequence,
      bidder: b.alias,
      priceAfterMinor: b.priceAfterMinor,
      acceptedAt: b.acceptedAt,
    }));
  }

  /**
   * Everything the object holds about bids, hidden fields included (ids, maximums): for
   * services (second-chance offers, a bidder's own view) and for tests that replay the bids.
   */
  async ledger(): Promise<Ledger | null> {
    const room = this.store.room();
    if (!room) return null;
    return {
      terms: ops.termsOf(room),
      state: ops.bidStateOf(room),
      bids: this.store.bids(),
    };
  }

  /** Bidders by their best maximum, highest first (earlier first on ties), minus `exclude`. */
  async rankedBidders(input?: RankedBiddersInput): Promise<RankedBidder[]> {
    const r = parseInput(rankedBiddersInput, input);
    return this.store.ranked(new Set(r.exclude));
  }

  /** A bidder's own standing: alias and best maximum, or null if they never bid. */
  async bidder(bidderId: string): Promise<{ alias: string; maxMinor: number } | null> {
    const n = this.store.aliasNo(bidderId);
    if (n === null) return null;
    const best = this.store.ranked(new Set()).find((r) => r.bidderId === bidderId);
    return { alias: aliasOf(n), maxMinor: best?.maxMinor ?? 0 };
  }

  /** Flushes the outbox now and reports the outcome (the alarm does the same on its own). */
  async flushOutbox(): Promise<FlushResult> {
    const result = await this.flush();
    await this.scheduleAlarm(false);
    return result;
  }

  /** How far the Postgres mirror lags. */
  async mirrorStatus(): Promise<MirrorStatus & { pending: number }> {
    const retryAt = this.store.getMeta("mirror_retry_at");
    return {
      pending: this.store.pendingOutbox(),
      failures: Number(this.store.getMeta("mirror_failures") ?? 0),
      retryAt: retryAt === null ? null : iso(Number(retryAt)),
      lastError: this.store.getMeta("mirror_last_error"),
    };
  }

  /**
   * Only the WebSocket upgrade of `/v1/auctions/{id}/live` arrives here (everything else is
   * RPC). The socket is accepted with the Hibernation API, its identity kept in its attachment,
   * and it is sent a snapshot; every later frame follows in order.
   */
  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return new Response("Expected a WebSocket upgrade.", { status: 426 });
    }
    const room = this.store.room();
    if (!room) return new Response("No such auction.", { status: 404 });
    // Frames still buffered predate the snapshot: send them to the current watchers first.
    this.hub.flush();
    const pair = new WebSocketPair();
    const client = pair[0];
    const server = pair[1];
    const identity: WatcherIdentity = {
      watcherId: uuidv7(),
      userId: request.headers.get(WATCHER_USER_HEADER) || null,
      connectedAt: iso(Date.now()),
      bidsUntil: Number(request.headers.get(WATCHER_UNTIL_HEADER)) || null,
    };
    this.ctx.acceptWebSocket(server, ["watcher"]);
    server.serializeAttachment(identity);
    server.send(JSON.stringify(this.snapshot(identity)));
    return new Response(null, { status: 101, webSocket: client });
  }

  /**
   * `whoami` → the socket's identity; `snapshot` → a fresh snapshot (after a gap); a JSON
   * `{ "type": "bid", "maxMinor": … }` → a bid by the socket's signed-in user, answered on this
   * socket only (`bid.accepted` / `bid.refused` with the POST route's status and code).
   */
  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    const identity = ws.deserializeAttachment() as WatcherIdentity | null;
    const command = typeof message === "string" ? message.trim() : "";
    if (!identity) return;
    if (command.startsWith("{")) {
      const answer = JSON.stringify(await this.socketBid(identity, command));
      try {
        ws.send(answer);
      } catch {
        // The client left while its bid was decided: the bid stands, the answer has nowhere to go.
      }
    } else if (command === "whoami") {
      ws.send(JSON.stringify({ type: "hello", watcher: identity }));
    } else if (command === "snapshot") {
      ws.send(JSON.stringify(this.snapshot(identity)));
    } else {
      ws.send(
        JSON.stringify({
          type: "error",
          message: 'Commands: whoami, snapshot, ping, or JSON {"type":"bid","maxMinor":…}.',
        }),
      );
    }
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    try {
      ws.close(code === 1005 || code === 1006 ? 1000 : code, reason);
    } catch {
      // Already closed.
    }
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    try {
      ws.close(1011, "error");
    } catch {
      // Already closed.
    }
  }

  /** Starts or closes whatever is due, flushes the outbox, then re-arms for the next thing. */
  override async alarm(): Promise<void> {
    this.apply((now) => {
      const frames = ops.startIfDue(this.store, now);
      return { result: null, frames, changed: frames.length > 0 };
    });
    this.apply((now) => ops.closeIfDue(this.store, now, "alarm"));
    if (this.store.pendingOutbox() > 0) await this.flush();
    await this.scheduleAlarm(true);
  }

  /** One socket message as a bid: parsed, authenticated, then the same path as the POST route. */
  private async socketBid(identity: WatcherIdentity, text: string): Promise<object> {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      return socketProblem(null, 400, "VALIDATION_FAILED", "The message is not JSON.", [
        { field: "message", message: "must be JSON" },
      ]);
    }
    const ref = refOf(raw);
    const parsed = socketBidMessage.safeParse(raw);
    if (!parsed.success) {
      const errors = parsed.error.issues.flatMap((i) =>
        // An unknown field is named itself, not the message that holds it.
        i.code === "unrecognized_keys"
          ? i.keys.map((key) => ({ field: key, message: "is not a field of a bid message" }))
          : [{ field: i.path.join(".") || "message", message: i.message }],
      );
      return socketProblem(ref, 422, "VALIDATION_FAILED", "The bid message is invalid.", errors);
    }
    const m = parsed.data;
    if (!identity.userId) {
      return socketProblem(
        ref,
        401,
        "UNAUTHENTICATED",
        "Connect with an access token to bid on this socket.",
      );
    }
    if (identity.bidsUntil && Date.now() >= identity.bidsUntil) {
      return socketProblem(
        ref,
        401,
        "UNAUTHENTICATED",
        "The access token this socket connected with has expired; reconnect with a fresh one.",
      );
    }
    const room = this.store.room();
    const auctionId = room?.auctionId ?? "";
    const result = await this.bid({
      auctionId,
      bidderId: identity.userId,
      maxMinor: m.maxMinor,
      // Scoped by user like the POST route's key, so two users' keys never collide.
      ...(m.key ? { key: `${identity.userId}:${m.key}` } : {}),
    });
    if (result.ok) {
      const { ok: _ok, ...body } = result;
      return { type: "bid.accepted", ...(ref ? { ref } : {}), status: 201, ...body };
    }
    return refusalMessage(ref, result);
  }

  private now(): number {
    return Date.now() + this.clockOffsetMs;
  }

  private snapshot(identity: WatcherIdentity): Frame {
    const room = this.store.room();
    if (!room) throw new Error("INVARIANT: snapshot of an unconfigured room");
    const n = identity.userId ? this.store.aliasNo(identity.userId) : null;
    return {
      type: "snapshot",
      seq: room.eventSeq,
      auction: ops.publicState(this.store, room, this.now(), this.hub.count()),
      watcher: { id: identity.watcherId, you: n === null ? null : aliasOf(n) },
    };
  }

  /**
   * Runs one change in one storage transaction, then (committed) sends its frames and refreshes
   * the summary cache without waiting on it. A throw rolls everything back and sends nothing.
   */
  private apply<R>(change: (now: number) => ops.Effect<R>): R {
    const now = this.now();
    const effect = this.ctx.storage.transactionSync(() => change(now));
    this.hub.emit(effect.frames);
    if (effect.changed) this.publishSummary(now);
    return effect.result;
  }

  private publishSummary(now: number): void {
    const publisher = this.publisher();
    const room = this.store.room();
    if (!publisher || !room) return;
    const state = ops.publicState(this.store, room, now, this.hub.count());
    this.ctx.waitUntil(publisher.publish(room.auctionId, summaryOf(state)));
  }

  private publisher(): SummaryPublisher | null {
    if (this.summaries === undefined) {
      const config = this.config();
      const redis = config ? createRedis(config) : null;
      this.summaries =
        config && redis
          ? new SummaryPublisher(redis, cacheNamespace(config.DATABASE_URL), this.log)
          : null;
    }
    return this.summaries;
  }

  private config(): Config | null {
    try {
      return loadConfig(this.env);
    } catch {
      return null;
    }
  }

  /**
   * Sets the alarm to the next thing due: the start (status flip), the end, or a flush (now, or
   * when the backoff allows). `force` rewrites it even if an earlier one looks set.
   */
  private async scheduleAlarm(force: boolean): Promise<void> {
    const room = this.store.room();
    const candidates: number[] = [];
    if (room && room.status === "open") {
      // Not started yet: wake at the start (at once if it has passed) to flip the status.
      const due = room.started ? room.currentEndsAt : room.startsAt;
      candidates.push(due - this.clockOffsetMs);
    }
    if (this.store.pendingOutbox() > 0) {
      candidates.push(Math.max(Date.now(), Number(this.store.getMeta("mirror_retry_at") ?? 0)));
    }
    if (candidates.length === 0) return;
    const next = Math.min(...candidates);
    const current = force ? null : await this.ctx.storage.getAlarm();
    if (current === null || next < current) await this.ctx.storage.setAlarm(next);
  }

  private flush(): Promise<FlushResult> {
    return this.serial(() =>
      flushOutbox({
        store: this.store,
        env: this.env,
        log: this.log,
        transact: (fn) => this.ctx.storage.transactionSync(fn),
      }),
    );
  }
}
