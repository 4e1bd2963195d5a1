/**
 * `npm run bench:auction`: one live auction, W watchers on `/v1/auctions/{id}/live` (hibernatable
 * WebSockets in the AuctionRoom object) and a bidder stepping through fixed rates of accepted
 * bids, on the local stack (Postgres + Redis + the Worker under wrangler's unstable_startWorker).
 *
 * Per step: latency from a bid's acceptance (the `at` the object stamps on its `bid` frame) to its
 * arrival at each watcher (p50, p99, max = the last watcher). Hard gate: every accepted bid
 * reaches every watcher, and every socket sees `seq` without gaps or reordering; a breach prints
 * FAIL and the run exits 1. The sweep runs twice, AUCTION_FRAME_BATCH_MS=0 and =N (a Worker
 * each), then one auction with no watchers takes bids as fast as it answers them, over POST and
 * over the live WebSocket (`{"type":"bid"}` messages on signed-in sockets, answered there).
 *
 * Round trips per bid: the Worker reaches Postgres (the Neon WebSocket bridge and the
 * SQL-over-HTTP endpoint) and Redis (the Upstash REST bridge) through counting pass-through
 * proxies (./delay-proxy.ts at RTT 0); each row divides the round trips of its window by the bids
 * answered. They include the work nobody waits for (the room's outbox mirroring bids to Postgres,
 * its summary cache write to Redis); a bid's own path makes none once its bidder is known to the
 * room (every bidder bids once before the measured steps).
 *
 *   npm run bench:auction -- --quick
 *   npm run bench:auction -- --watchers 1000 --rates 1,5,10,20,50 --seconds 5 --batch-ms 50
 *   npm run bench:auction -- --quick --ws-bidders 100
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { drizzle } from "drizzle-orm/node-postgres";
import pg from "pg";
import WebSocket from "ws";
import * as schema from "../../src/db/schema/index.ts";
import { ROOT } from "../stack/dev-database.ts";
import { startStack } from "../stack/stack.ts";
import { descendantsNamed, treeCpuMs } from "./children.ts";
import { type DelayProxy, type ProxyCounts, startDelayProxy } from "./delay-proxy.ts";
import { type BenchShop, insertBuyers, seedShop, signTokens, startWorker } from "./souk.ts";

const log = (msg: string) => console.error(`[bench:auction] ${msg}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Options {
  watchers: number;
  rates: number[];
  seconds: number;
  batchMs: number;
  maxSeconds: number;
  maxConcurrency: number[];
  /** Signed-in sockets that bid over the WebSocket in the no-watchers rows. */
  wsBidders: number;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: "boolean", default: false },
      watchers: { type: "string" },
      rates: { type: "string" },
      seconds: { type: "string" },
      "batch-ms": { type: "string" },
      "max-seconds": { type: "string" },
      "max-concurrency": { type: "string" },
      "ws-bidders": { type: "string" },
    },
  });
  const quick = values.quick ?? false;
  const num = (flag: string, v: string | undefined, dflt: number): number => {
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`--${flag} must be a positive number`);
    return n;
  };
  const rates = values.rates
    ? values.rates.split(",").map((r) => num("rates", r.trim(), 1))
    : quick
      ? [1, 10]
      : [1, 5, 10, 20, 50];
  return {
    watchers: Math.floor(num("watchers", values.watchers, quick ? 100 : 1000)),
    rates,
    seconds: num("seconds", values.seconds, quick ? 2 : 5),
    batchMs: Math.floor(num("batch-ms", values["batch-ms"], 50)),
    maxSeconds: num("max-seconds", values["max-seconds"], quick ? 2 : 5),
    maxConcurrency: (values["max-concurrency"] ?? (quick ? "16" : "1,4,16"))
      .split(",")
      .map((c) => Math.floor(num("max-concurrency", c.trim(), 1))),
    wsBidders: Math.floor(num("ws-bidders", values["ws-bidders"], quick ? 100 : 200)),
  };
}

// ---------------------------------------------------------------------------------------------
// HTTP

async function post<T>(
  url: string,
  token: string,
  body: unknown,
): Promise<{ status: number; body: T }> {
  const res = await fetch(url, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
}

async function openAuction(
  api: string,
  shop: BenchShop,
  sellerToken: string,
  title: string,
): Promise<string> {
  const product = await post<{ id: string }>(`${api}/v1/seller/products`, sellerToken, {
    shopId: shop.id,
    categoryId: shop.categoryId,
    title,
    priceMinor: 1000,
    sku: `AUC-${randomBytes(4).toString("hex")}`,
    listingType: "auction",
    status: "published",
  });
  if (product.status !== 201)
    throw new Error(`product: ${product.status} ${JSON.stringify(product.body)}`);
  const auction = await post<{ id: string }>(`${api}/v1/seller/auctions`, sellerToken, {
    productId: product.body.id,
    startPriceMinor: 1000,
    endsAt: new Date(Date.now() + 3 * 60 * 60_000).toISOString(),
  });
  if (auction.status !== 201)
    throw new Error(`auction: ${auction.status} ${JSON.stringify(auction.body)}`);
  return auction.body.id;
}

interface BidAnswer {
  status: number;
  sequence: number | null;
  code: string | null;
}

/** Something that places the next bid of a rotation and reports the answer. */
interface BidSource {
  bid(): Promise<BidAnswer>;
}

/**
 * Bids by a pool of bidders in rotation (the room allows 30 bids per 10 s per bidder), maxima
 * rising by 200.00 each time: above any increment step, so every bid in order takes the lead.
 */
class Bidder implements BidSource {
  private next = 0;
  private readonly api: string;
  private readonly auctionId: string;
  private readonly tokens: string[];
  constructor(api: string, auctionId: string, tokens: string[]) {
    this.api = api;
    this.auctionId = auctionId;
    this.tokens = tokens;
  }

  async bid(): Promise<BidAnswer> {
    const i = this.next++;
    const token = this.tokens[i % this.tokens.length] ?? "";
    const res = await post<{ sequence?: number; code?: string }>(
      `${this.api}/v1/auctions/${this.auctionId}/bids`,
      token,
      { maxMinor: 1000 + (i + 1) * 20_000 },
    );
    return {
      status: res.status,
      sequence: res.body?.sequence ?? null,
      code: res.body?.code ?? null,
    };
  }
}

/**
 * The same rotation over the live WebSocket: one signed-in socket per bidder, each bid a
 * `{"type":"bid","maxMinor":…,"ref":…}` message answered on its socket (`bid.accepted` /
 * `bid.refused`, with the POST route's status). The sockets are watchers too: they get every
 * frame, which they skip.
 */
class SocketBidder implements BidSource {
  private next = 0;
  private readonly sockets: WebSocket[] = [];
  private readonly waiting = new Map<string, (a: BidAnswer) => void>();

  async connect(wsUrl: string, tokens: string[]): Promise<void> {
    for (let i = 0; i < tokens.length; i += 50) {
      await Promise.all(tokens.slice(i, i + 50).map((t) => this.open(wsUrl, t)));
    }
  }

  private open(wsUrl: string, token: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(wsUrl, { headers: { authorization: `Bearer ${token}` } });
      const timer = setTimeout(
        () => reject(new Error("bidder socket: no snapshot in 30 s")),
        30_000,
      );
      ws.on("message", (data) => {
        const text = data.toString();
        // Frames (and batches of them) are for watching; answers carry our `ref`.
        if (!text.includes('"ref"')) {
          if (text.includes('"snapshot"')) {
            clearTimeout(timer);
            resolve();
          }
          return;
        }
        const m = JSON.parse(text) as {
          ref?: string;
          status?: number;
          sequence?: number;
          code?: string;
        };
        const done = m.ref ? this.waiting.get(m.ref) : undefined;
        if (!m.ref || !done) return;
        this.waiting.delete(m.ref);
        done({ status: m.status ?? 0, sequence: m.sequence ?? null, code: m.code ?? null });
      });
      ws.on("error", (err) => {
        clearTimeout(timer);
        reject(err);
      });
      this.sockets.push(ws);
    });
  }

  bid(): Promise<BidAnswer> {
    const i = this.next++;
    const ws = this.sockets[i % this.sockets.length];
    if (!ws) throw new Error("no bidder sockets");
    const ref = `b${i}`;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(ref);
        resolve({ status: 0, sequence: null, code: "timeout" });
      }, 30_000);
      this.waiting.set(ref, (a) => {
        clearTimeout(timer);
        resolve(a);
      });
      ws.send(JSON.stringify({ type: "bid", maxMinor: 1000 + (i + 1) * 20_000, ref }));
    });
  }

  close(): void {
    for (const ws of this.sockets) ws.terminate();
  }
}

// ---------------------------------------------------------------------------------------------
// Round trips

/** Counting pass-through proxies on the Worker's ways to Postgres and Redis. */
class TripCounters {
  private readonly postgres: DelayProxy[];
  private readonly redis: DelayProxy | null;
  /** The running Worker's workerd processes (set at each start): their CPU is the bids'. */
  workerPids: number[] = [];
  constructor(postgres: DelayProxy[], redis: DelayProxy | null) {
    this.postgres = postgres;
    this.redis = redis;
  }

  snapshot(): { pg: number; redis: number; cpuMs: number } {
    const sum = (ps: DelayProxy[]) =>
      ps.reduce((n, p) => n + (p.counts() satisfies ProxyCounts).roundTrips, 0);
    return {
      pg: sum(this.postgres),
      redis: this.redis ? sum([this.redis]) : 0,
      cpuMs: treeCpuMs(this.workerPids),
    };
  }

  /** Round trips and workerd CPU ms per bid since `before`. */
  perBid(
    before: { pg: number; redis: number; cpuMs: number },
    bids: number,
  ): { pg: number; redis: number; cpuMs: number } {
    const now = this.snapshot();
    const d = Math.max(1, bids);
    return {
      pg: (now.pg - before.pg) / d,
      redis: (now.redis - before.redis) / d,
      cpuMs: (now.cpuMs - before.cpuMs) / d,
    };
  }
}

/** A proxy in front of `host:port`; returns it and its own `host:port`. */
async function countingProxy(target: string): Promise<{ proxy: DelayProxy; address: string }> {
  const url = new URL(target.includes("://") ? target : `tcp://${target}`);
  const proxy = await startDelayProxy({
    targetHost: url.hostname,
    targetPort: Number(url.port),
    rttMs: 0,
  });
  return { proxy, address: `127.0.0.1:${proxy.port}` };
}

// ---------------------------------------------------------------------------------------------
// Watchers

interface FrameLike {
  type?: string;
  seq?: number;
  bidSequence?: number;
  at?: string;
}

class Watchers {
  readonly sockets: WebSocket[] = [];
  private readonly lastSeq: number[] = [];
  /** bidSequence → latency (ms) at each watcher that got it. */
  readonly arrivals = new Map<number, number[]>();
  readonly problems: string[] = [];
  closedEarly = 0;

  async connect(url: string, n: number): Promise<void> {
    const batch = 50;
    for (let i = 0; i < n; i += batch) {
      await Promise.all(
        Array.from({ length: Math.min(batch, n - i) }, (_, k) => this.open(url, i + k)),
      );
    }
  }

  private open(url: string, index: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      this.sockets[index] = ws;
      this.lastSeq[index] = -1;
      let ready = false;
      const timer = setTimeout(
        () => reject(new Error(`watcher ${index}: no snapshot in 30 s`)),
        30_000,
      );
      ws.on("message", (data) => {
        const now = Date.now();
        const parsed = JSON.parse(data.toString()) as FrameLike | FrameLike[];
        for (const frame of Array.isArray(parsed) ? parsed : [parsed]) {
          if (frame.type === "snapshot") {
            if (!ready) {
              this.lastSeq[index] = frame.seq ?? 0;
              ready = true;
              clearTimeout(timer);
              resolve();
            }
            continue;
          }
          if (typeof frame.seq !== "number") continue;
          const last = this.lastSeq[index] ?? -1;
          if (frame.seq !== last + 1 && this.problems.length < 20) {
            this.problems.push(`watcher ${index}: seq ${frame.seq} after ${last}`);
          }
          if (frame.seq !== last + 1) this.gaps += 1;
          this.lastSeq[index] = Math.max(last, frame.seq);
          if (frame.type === "bid" && typeof frame.bidSequence === "number" && frame.at) {
            let list = this.arrivals.get(frame.bidSequence);
            if (!list) {
              list = [];
              this.arrivals.set(frame.bidSequence, list);
            }
            list.push(now - Date.parse(frame.at));
          }
        }
      });
      ws.on("error", (err) => {
        if (!ready) {
          clearTimeout(timer);
          reject(err);
        }
      });
      ws.on("close", () => {
        if (!this.closing) this.closedEarly += 1;
      });
    });
  }

  gaps = 0;
  private closing = false;

  /** Resolves once every watcher holds every one of `sequences`, or after `ms`. */
  async drain(sequences: number[], ms: number): Promise<void> {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      if (sequences.every((s) => (this.arrivals.get(s)?.length ?? 0) >= this.sockets.length)) {
        return;
      }
      await sleep(50);
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const ws of this.sockets) ws.terminate();
  }
}

// ---------------------------------------------------------------------------------------------
// Steps

interface Row {
  mode: string;
  target: string;
  achieved: number;
  accepted: number;
  p50: number | null;
  p99: number | null;
  max: number | null;
  gaps: string;
  ok: boolean;
  /** The bidder's POST (or socket message) round trip, median. */
  httpP50: number | null;
  /** Postgres / Redis round trips per bid answered, background work included. */
  pgPerBid: number | null;
  /** workerd CPU (the Worker, the room, the mirror, the fan-out) ÷ bids answered. */
  cpuPerBid: number | null;
  redisPerBid: number | null;
}

function quantile(sorted: number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? null;
}

async function rateStep(
  bidder: BidSource,
  watchers: Watchers,
  mode: string,
  rate: number,
  seconds: number,
  batchMs: number,
  trips: TripCounters,
): Promise<{ row: Row; failures: string[] }> {
  const count = Math.max(1, Math.round(rate * seconds));
  const tripsBefore = trips.snapshot();
  const started = performance.now();
  const gapsBefore = watchers.gaps;
  const inFlight: Array<Promise<BidAnswer>> = [];
  const httpTimes: number[] = [];
  for (let i = 0; i < count; i++) {
    const due = started + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    const t = performance.now();
    inFlight.push(
      bidder.bid().then((r) => {
        httpTimes.push(performance.now() - t);
        return r;
      }),
    );
  }
  const results = await Promise.all(inFlight);
  const perBid = trips.perBid(tripsBefore, results.length);
  // The step spans `count / rate` seconds by schedule; longer if answers came late.
  const elapsed = Math.max((performance.now() - started) / 1000, count / rate);
  const accepted = results.filter((r) => r.status === 201 && r.sequence !== null);
  const sequences = accepted.map((r) => r.sequence as number);
  await watchers.drain(sequences, 10_000 + batchMs * 2);

  const failures: string[] = [];
  const rejected = results.filter((r) => r.status !== 201);
  const refused =
    rejected.length > 0
      ? `; refused ${rejected.length}/${count} (${[...new Set(rejected.map((r) => `${r.status} ${r.code}`))].join(", ")})`
      : "";
  const latencies: number[] = [];
  let missing = 0;
  for (const s of sequences) {
    const got = watchers.arrivals.get(s) ?? [];
    missing += Math.max(0, watchers.sockets.length - got.length);
    latencies.push(...got);
  }
  if (missing > 0) failures.push(`${missing} (bid, watcher) deliveries missing`);
  const gaps = watchers.gaps - gapsBefore;
  if (gaps > 0)
    failures.push(`${gaps} seq gaps or reorders: ${watchers.problems.slice(0, 3).join("; ")}`);
  if (watchers.closedEarly > 0)
    failures.push(`${watchers.closedEarly} sockets closed by the server`);
  latencies.sort((a, b) => a - b);
  httpTimes.sort((a, b) => a - b);
  return {
    row: {
      httpP50: quantile(httpTimes, 0.5),
      mode,
      target: String(rate),
      achieved: sequences.length / elapsed,
      accepted: sequences.length,
      p50: quantile(latencies, 0.5),
      p99: quantile(latencies, 0.99),
      max: latencies.length > 0 ? (latencies[latencies.length - 1] ?? null) : null,
      gaps: `${gaps} gaps, ${missing} missing${refused}`,
      ok: failures.length === 0,
      pgPerBid: perBid.pg,
      cpuPerBid: perBid.cpuMs,
      redisPerBid: perBid.redis,
    },
    failures,
  };
}

/** Closed loop, `concurrency` bids in flight, no watchers: accepted bids per second. */
async function maxRate(
  bidder: BidSource,
  seconds: number,
  concurrency: number,
  trips: TripCounters,
  via: string,
): Promise<Row> {
  const tripsBefore = trips.snapshot();
  let answered = 0;
  const end = performance.now() + seconds * 1000;
  const started = performance.now();
  let accepted = 0;
  const other = new Map<string, number>();
  const latencies: number[] = [];
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const t = performance.now();
        const r = await bidder.bid();
        answered += 1;
        if (r.status === 201) {
          accepted += 1;
          latencies.push(performance.now() - t);
        } else {
          const k = `${r.status} ${r.code}`;
          other.set(k, (other.get(k) ?? 0) + 1);
        }
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  const perBid = trips.perBid(tripsBefore, answered);
  latencies.sort((a, b) => a - b);
  const refused = [...other].map(([k, v]) => `${v}× ${k}`).join(", ");
  return {
    mode: `no watchers, ${via}, ${concurrency} in flight`,
    pgPerBid: perBid.pg,
    cpuPerBid: perBid.cpuMs,
    redisPerBid: perBid.redis,
    httpP50: quantile(latencies, 0.5),
    target: "max",
    achieved: accepted / elapsed,
    accepted,
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    max: latencies[latencies.length - 1] ?? null,
    gaps: refused ? `refused: ${refused}` : "–",
    ok: true,
  };
}

const ms = (v: number | null) => (v === null ? "–" : v.toFixed(0));
const per = (v: number | null) => (v === null ? "–" : v.toFixed(2));

function table(rows: Row[]): string {
  const head =
    "| mode | bids/s target | achieved/s | accepted | p50 ms | p99 ms | max ms | bid answer p50 ms | PG rt/bid (incl. mirror) | Redis rt/bid (incl. summary) | workerd CPU ms/bid | gaps / missing |\n" +
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|";
  const body = rows.map(
    (r) =>
      `| ${r.mode} | ${r.target} | ${r.achieved.toFixed(1)} | ${r.accepted} | ${ms(r.p50)} | ${ms(r.p99)} | ${ms(r.max)} | ${ms(r.httpP50)} | ${per(r.pgPerBid)} | ${per(r.redisPerBid)} | ${per(r.cpuPerBid)} | ${r.ok ? "" : "**FAIL** "}${r.gaps} |`,
  );
  return [head, ...body].join("\n");
}

/** One bid per bidder of the rotation, 16 at a time (their first bids in this room). */
async function warmUp(bidder: BidSource, bidders: number): Promise<void> {
  let left = bidders;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (left > 0) {
        left -= 1;
        await bidder.bid();
      }
    }),
  );
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const startedAt = new Date();
  const loadBefore = loadavg();
  const cleanups: Array<() => Promise<void>> = [];
  const cleanup = async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn().catch(() => {});
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => void cleanup().finally(() => process.exit(130)));
  }
  const rows: Row[] = [];
  const failures: string[] = [];
  const dir = path.join(ROOT, ".bench");
  mkdirSync(dir, { recursive: true });
  const stamp = startedAt
    .toISOString()
    .replace(/:\d\d\.\d+Z$/, "")
    .replace(":", "");
  const workerLog = path.join(dir, `auction-${stamp}-worker.log`);
  const workerErrors: string[] = [];
  try {
    const stack = await startStack({ mode: "test", log: (m) => log(`stack: ${m}`) });
    cleanups.push(() => stack.stop());
    if (!stack.neonLocalWsProxy) throw new Error("needs Postgres on this machine");
    const pool = new pg.Pool({ connectionString: stack.databaseUrl, max: 3 });
    pool.on("error", () => {});
    cleanups.push(() => pool.end());
    const db = drizzle({ client: pool, schema });
    const shop = await seedShop(db);
    // Enough bidders that the room's per-bidder limit (30 bids / 10 s) never binds below
    // 750 bids/s; few enough that each can bid once before the measured steps, so that the
    // steps show the bid path of bidders the room knows.
    const bidderIds = await insertBuyers(db, 250);
    // Counting pass-throughs on the Worker's ways to Postgres and Redis.
    const pgWs = await countingProxy(stack.neonLocalWsProxy);
    cleanups.push(() => pgWs.proxy.close());
    const pgHttp = stack.neonLocalHttp ? await countingProxy(stack.neonLocalHttp) : null;
    if (pgHttp) cleanups.push(() => pgHttp.proxy.close());
    const redisUrl = stack.redisRest ? new URL(stack.redisRest.url) : null;
    const redisProxy = redisUrl
      ? await countingProxy(`${redisUrl.hostname}:${redisUrl.port}`)
      : null;
    if (redisProxy) cleanups.push(() => redisProxy.proxy.close());
    const trips = new TripCounters(
      [pgWs.proxy, ...(pgHttp ? [pgHttp.proxy] : [])],
      redisProxy?.proxy ?? null,
    );
    const jwtSecret = randomBytes(32).toString("base64url");
    const persistTo = mkdtempSync(path.join(tmpdir(), "souk-bench-auction-"));
    cleanups.push(async () => rmSync(persistTo, { recursive: true, force: true }));
    process.env.WRANGLER_LOG ??= "error";

    const modes = [0, opts.batchMs];
    for (const batch of modes) {
      const mode = batch === 0 ? "batching off" : `batch ${batch} ms`;
      const vars: Record<string, string> = {
        ENVIRONMENT: "development",
        DATABASE_URL: stack.databaseUrl,
        NEON_LOCAL_WS_PROXY: pgWs.address,
        NEON_LOCAL_HTTP: pgHttp ? pgHttp.address : stack.neonLocalHttp,
        JWT_SECRET: jwtSecret,
        PASSWORD_PEPPER: randomBytes(24).toString("base64url"),
        STRIPE_SECRET_KEY: "sk_test_bench_unused",
        STRIPE_WEBHOOK_SECRET: `whsec_${randomBytes(24).toString("hex")}`,
        STRIPE_CONNECT_WEBHOOK_SECRET: `whsec_${randomBytes(24).toString("hex")}`,
        AUCTION_FRAME_BATCH_MS: String(batch),
        LOG_LEVEL: "warn",
      };
      if (stack.redisRest && redisUrl && redisProxy) {
        vars.UPSTASH_REDIS_REST_URL = `${redisUrl.protocol}//${redisProxy.address}${redisUrl.pathname.replace(/\/$/, "")}`;
        vars.UPSTASH_REDIS_REST_TOKEN = stack.redisRest.token;
      }
      log(`${mode}: starting the Worker (AUCTION_FRAME_BATCH_MS=${batch})`);
      const workerdBefore = new Set(descendantsNamed(process.pid, "workerd"));
      const worker = await startWorker({ vars, persistTo, logFile: workerLog });
      trips.workerPids = descendantsNamed(process.pid, "workerd").filter(
        (p) => !workerdBefore.has(p),
      );
      try {
        const tokens = await signTokens(bidderIds, "buyer", jwtSecret);
        const [sellerToken = ""] = await signTokens([shop.sellerId], "seller", jwtSecret);
        const auctionId = await openAuction(worker.url, shop, sellerToken, `Bench lot (${mode})`);
        const bidder = new Bidder(worker.url, auctionId, tokens);
        // Warm-up: the object, the route, the JIT, and every bidder's first bid in this room
        // (the one that asks Postgres whether they may bid here).
        await warmUp(bidder, tokens.length);
        const watchers = new Watchers();
        const wsUrl = `${worker.url.replace(/^http/, "ws")}/v1/auctions/${auctionId}/live`;
        const t = performance.now();
        await watchers.connect(wsUrl, opts.watchers);
        log(
          `${mode}: ${opts.watchers} watchers connected in ${((performance.now() - t) / 1000).toFixed(1)} s`,
        );
        await sleep(500);
        for (const rate of opts.rates) {
          const step = await rateStep(bidder, watchers, mode, rate, opts.seconds, batch, trips);
          rows.push(step.row);
          const r = step.row;
          log(
            `${mode} ${rate}/s: achieved ${r.achieved.toFixed(1)}/s, p50 ${ms(r.p50)} p99 ${ms(r.p99)} max ${ms(r.max)} ms, ${r.gaps}`,
          );
          for (const f of step.failures) {
            const msg = `GATE FAILED (${mode}, ${rate}/s): ${f}`;
            failures.push(msg);
            console.error(`\n!!!!!!!! FAIL: ${msg} !!!!!!!!\n`);
          }
        }
        await watchers.close();
        if (batch === 0) {
          for (const concurrency of opts.maxConcurrency) {
            const quiet = await openAuction(worker.url, shop, sellerToken, "Bench lot (quiet)");
            const fast = new Bidder(worker.url, quiet, tokens);
            await warmUp(fast, tokens.length);
            const r = await maxRate(fast, opts.maxSeconds, concurrency, trips, "POST");
            log(
              `no watchers, POST, ${concurrency} in flight: ${r.achieved.toFixed(1)} accepted/s (${r.gaps})`,
            );
            rows.push(r);
          }
        }
        // Bids over the live WebSocket: signed-in sockets, one per bidder, on a fresh auction.
        const socketTokens = tokens.slice(0, Math.min(tokens.length, opts.wsBidders));
        for (const concurrency of opts.maxConcurrency) {
          const quiet = await openAuction(worker.url, shop, sellerToken, "Bench lot (socket)");
          const sockets = new SocketBidder();
          await sockets.connect(
            `${worker.url.replace(/^http/, "ws")}/v1/auctions/${quiet}/live`,
            socketTokens,
          );
          try {
            await warmUp(sockets, socketTokens.length);
            const r = await maxRate(
              sockets,
              opts.maxSeconds,
              concurrency,
              trips,
              `WebSocket (${mode})`,
            );
            log(
              `no watchers, WebSocket (${mode}), ${concurrency} in flight: ${r.achieved.toFixed(1)} accepted/s (${r.gaps})`,
            );
            rows.push(r);
          } finally {
            sockets.close();
          }
        }
      } finally {
        workerErrors.push(`${mode}: ${worker.errors()}`);
        await worker.stop();
      }
    }

    const loadAfter = loadavg();
    const out = [
      `# bench:auction — ${startedAt.toISOString()}`,
      "",
      `- machine: ${cpus().length} cores (${cpus()[0]?.model ?? "?"}), loopback only, Node ${process.version}; everything (workerd, Postgres, Redis, this process with all watchers and the bidder) shares it`,
      `- load average (1/5/15 min): before ${loadBefore.map((v) => v.toFixed(2)).join(" ")}, after ${loadAfter.map((v) => v.toFixed(2)).join(" ")} (other work shares this machine)`,
      `- ${opts.watchers} watchers (the \`ws\` package) on one auction; each rate runs ${opts.seconds} s, bids sent open-loop at the target rate by a rotation of ${bidderIds.length} bidders, maxima rising so each takes the lead`,
      "- latency: watcher arrival (Date.now() at the message) − the `at` the object stamps on the bid frame (ms clock, same machine), over every (bid, watcher) pair; max = the last watcher",
      `- gate: every accepted bid at every watcher; each socket's \`seq\` strictly +1 after its snapshot`,
      `- the Worker's error-level log lines (in ${path.relative(ROOT, workerLog)}): ${workerErrors.join(", ")}`,
      `- no-watchers rows: closed loop, ${opts.maxConcurrency.join(" / ")} bids in flight for ${opts.maxSeconds} s on a fresh auction; POST rows' latencies are HTTP round trips, WebSocket rows' the time from a bid message to its answer on ${Math.min(bidderIds.length, opts.wsBidders)} signed-in sockets (one per bidder; they receive every frame too)`,
      `- round trips per bid: client→server bursts answered, counted by pass-through proxies on the Worker's ways to Postgres (Neon WebSocket bridge${stack.neonLocalHttp ? " and SQL-over-HTTP endpoint" : ""}) and to Redis (the Upstash REST bridge), over each row's window ÷ bids answered; they include work no bidder waits for (the room's outbox mirroring bids to Postgres in batches, its summary cache write to Redis). Every bidder bid once in each auction before the measured rows, so these are bids of bidders the room already holds as eligible`,
      "",
      table(rows),
      "",
      failures.length > 0
        ? `**GATE FAILED**\n\n${failures.map((f) => `- ${f}`).join("\n")}\n`
        : "Gate held: every accepted bid reached every watcher, in order, no gaps.\n",
    ].join("\n");
    const file = path.join(dir, `auction-${stamp}.md`);
    writeFileSync(file, out);
    console.log(`\n${out}`);
    log(`written to ${path.relative(ROOT, file)}`);
  } finally {
    await cleanup();
  }
  if (failures.length > 0) {
    console.error(`\n!!!!!!!! FAIL: delivery gate broken in ${failures.length} step(s) !!!!!!!!`);
    process.exit(1);
  }
  process.exit(0);
}

main().catch((err: unknown) => {
  console.error(
    `[bench:auction] ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
  );
  process.exit(1);
});
