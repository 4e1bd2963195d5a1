import { randomBytes } from "node:crypto";
import { DEFAULT_HTTP_POOL_SIZE, startNeonHttp } from "./neon-http.ts";
import { startOcrServer } from "./ocr.ts";
import { startPgWsBridge } from "./pg-ws-bridge.ts";
import { startPglite } from "./pglite-server.ts";
import {
  applyMigrations,
  connectionBudget,
  createDatabase,
  dropDatabase,
  listDatabases,
  probePostgres,
  withDatabase,
} from "./postgres.ts";
import { probeRedis } from "./redis.ts";
import { startRedisRestBridge } from "./redis-rest-bridge.ts";

/** Where `npm run dev` keeps its embedded database between runs. */
export const DEV_PGLITE_DIR = ".data/pg";
export const LOCAL_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/postgres";
export const LOCAL_REDIS_URL = "redis://127.0.0.1:6379";
export const NO_REDIS_MESSAGE = "Redis not found: rate limits and cache are off";

const TEST_DATABASE_PREFIX = "souk_test_";
const STALE_TEST_DATABASE_MS = 24 * 60 * 60 * 1000;
const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]", "::1"]);

export type PostgresKind = "external" | "local-server" | "pglite";

export interface Stack {
  /** What the Worker gets as DATABASE_URL. */
  databaseUrl: string;
  /**
   * `127.0.0.1:PORT` of the WebSocket-to-TCP bridge, the Worker's NEON_LOCAL_WS_PROXY. Empty when
   * the database is not on this machine (a real Neon): the driver then talks to it directly.
   */
  neonLocalWsProxy: string;
  /**
   * `127.0.0.1:PORT` of the local stand-in for Neon's SQL-over-HTTP endpoint, the Worker's
   * NEON_LOCAL_HTTP (the driver's `neon()` and `transaction()`). Empty when the database is not on
   * this machine, as for the bridge.
   */
  neonLocalHttp: string;
  /** The Worker's UPSTASH_REDIS_REST_URL and _TOKEN, or null when no Redis is available. */
  redisRest: { url: string; token: string } | null;
  /**
   * The Worker's OCR_PROVIDER_URL: the one given in the environment, else the local OCR service
   * (scripts/stack/ocr.ts), which loads its model on the first receipt, so starting it is free.
   */
  ocrUrl: string;
  postgresKind: PostgresKind;
  stop(): Promise<void>;
}

export interface StackOptions {
  mode: "dev" | "test";
  log?: (msg: string) => void;
  /** Defaults to process.env. */
  env?: Record<string, string | undefined>;
}

type Cleanup = () => Promise<void>;

let saidNoRedis = false;

function isLoopback(databaseUrl: string): boolean {
  return LOOPBACK_HOSTS.has(new URL(databaseUrl).hostname);
}

/** Shown in logs: the URL without its password. */
export function redact(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = "***";
  return parsed.toString();
}

function testDatabaseName(now: number): string {
  return `${TEST_DATABASE_PREFIX}${now}_${randomBytes(4).toString("hex")}`;
}

/** Crashed runs leave their database behind; sweep the ones older than a day. */
async function dropStaleTestDatabases(
  adminUrl: string,
  now: number,
  log: (msg: string) => void,
): Promise<void> {
  try {
    for (const name of await listDatabases(adminUrl, TEST_DATABASE_PREFIX)) {
      const created = Number(name.slice(TEST_DATABASE_PREFIX.length).split("_")[0]);
      if (Number.isFinite(created) && now - created > STALE_TEST_DATABASE_MS) {
        await dropDatabase(adminUrl, name);
        log(`dropped stale test database ${name}`);
      }
    }
  } catch (error) {
    log(`could not sweep stale test databases: ${String(error)}`);
  }
}

interface PostgresChoice {
  kind: PostgresKind;
  /** A server URL in test mode (a fresh database is made on it); the database itself in dev. */
  url: string | null;
}

async function choosePostgres(
  mode: StackOptions["mode"],
  env: Record<string, string | undefined>,
): Promise<PostgresChoice> {
  // SOUK_TEST_POSTGRES=pglite forces the embedded database in test mode, to prove the tests pass
  // on a machine with nothing installed even when a Postgres is running here.
  if (mode === "test" && env.SOUK_TEST_POSTGRES === "pglite") return { kind: "pglite", url: null };
  if (env.DATABASE_URL) {
    if (!(await probePostgres(env.DATABASE_URL, 5_000))) {
      throw new Error(`DATABASE_URL is set but ${redact(env.DATABASE_URL)} does not answer`);
    }
    return { kind: "external", url: env.DATABASE_URL };
  }
  if (mode === "test" && (await probePostgres(LOCAL_POSTGRES_URL))) {
    return { kind: "local-server", url: LOCAL_POSTGRES_URL };
  }
  return { kind: "pglite", url: null };
}

async function startPostgres(
  mode: StackOptions["mode"],
  choice: PostgresChoice,
  log: (msg: string) => void,
  cleanups: Cleanup[],
): Promise<string> {
  if (choice.kind === "pglite") {
    const dataDir = mode === "dev" ? DEV_PGLITE_DIR : undefined;
    const pglite = await startPglite(dataDir ? { dataDir } : {});
    cleanups.push(() => pglite.close());
    log(`Postgres: embedded PGlite (${dataDir ?? "in memory"}) at ${redact(pglite.url)}`);
    return pglite.url;
  }
  const serverUrl = choice.url ?? LOCAL_POSTGRES_URL;
  if (mode === "dev") {
    log(`Postgres: ${redact(serverUrl)}`);
    return serverUrl;
  }
  const now = Date.now();
  await dropStaleTestDatabases(serverUrl, now, log);
  const name = testDatabaseName(now);
  await createDatabase(serverUrl, name);
  cleanups.push(async () => {
    await dropDatabase(serverUrl, name);
  });
  const databaseUrl = withDatabase(serverUrl, name);
  log(`Postgres: fresh database ${name} on ${redact(serverUrl)}`);
  return databaseUrl;
}

async function startRedis(
  mode: StackOptions["mode"],
  env: Record<string, string | undefined>,
  log: (msg: string) => void,
  cleanups: Cleanup[],
): Promise<Stack["redisRest"]> {
  // A real Upstash database (or any REST endpoint) configured by hand is used as it is.
  if (env.UPSTASH_REDIS_REST_URL && env.UPSTASH_REDIS_REST_TOKEN) {
    log(`Redis: Upstash REST at ${env.UPSTASH_REDIS_REST_URL}`);
    return { url: env.UPSTASH_REDIS_REST_URL, token: env.UPSTASH_REDIS_REST_TOKEN };
  }
  let redisUrl: string | null = null;
  // SOUK_TEST_REDIS=off runs the tests as on a machine without Redis (limits and cache off).
  const forcedOff = mode === "test" && env.SOUK_TEST_REDIS === "off";
  if (forcedOff) {
    redisUrl = null;
  } else if (env.REDIS_URL) {
    if (!(await probeRedis(env.REDIS_URL, 3_000))) {
      throw new Error(`REDIS_URL is set but ${redact(env.REDIS_URL)} does not answer PING`);
    }
    redisUrl = env.REDIS_URL;
  } else if (await probeRedis(LOCAL_REDIS_URL)) {
    redisUrl = LOCAL_REDIS_URL;
  }
  if (!redisUrl) {
    if (mode === "test" && env.CI === "true") {
      const why = forcedOff
        ? "SOUK_TEST_REDIS=off"
        : "no Redis answered on 127.0.0.1:6379 and REDIS_URL is unset";
      throw new Error(`CI=true but ${why}: CI must run the Redis tests, not skip them`);
    }
    if (!saidNoRedis) log(NO_REDIS_MESSAGE);
    saidNoRedis = true;
    return null;
  }
  const bridge = await startRedisRestBridge({
    redisUrl,
    token: randomBytes(24).toString("base64url"),
  });
  cleanups.push(() => bridge.close());
  log(`Redis: ${redact(redisUrl)} behind an Upstash REST bridge at ${bridge.url}`);
  return { url: bridge.url, token: bridge.token };
}

async function startOcr(
  env: Record<string, string | undefined>,
  log: (msg: string) => void,
  cleanups: Cleanup[],
): Promise<string> {
  if (env.OCR_PROVIDER_URL) {
    log(`OCR: ${env.OCR_PROVIDER_URL}`);
    return env.OCR_PROVIDER_URL;
  }
  const ocr = await startOcrServer();
  cleanups.push(() => ocr.close());
  log(`OCR: tesseract.js at ${ocr.url}`);
  return ocr.url;
}

/**
 * How many Postgres connections the bridge may hold at once, like the pooler in front of Neon:
 * SOUK_PG_MAX_CONNECTIONS, or the server's budget less a margin for psql, seed and the test
 * helpers' own pools and less the HTTP endpoint's pool. PGlite serializes sessions itself, so it
 * gets no cap.
 */
async function bridgeConnectionCap(
  kind: PostgresKind,
  databaseUrl: string,
  env: Record<string, string | undefined>,
  log: (msg: string) => void,
): Promise<number | undefined> {
  if (env.SOUK_PG_MAX_CONNECTIONS) return Number(env.SOUK_PG_MAX_CONNECTIONS);
  if (kind === "pglite") return undefined;
  try {
    const { max, reserved } = await connectionBudget(databaseUrl);
    const cap = Math.max(5, max - reserved - 15 - DEFAULT_HTTP_POOL_SIZE);
    log(`Postgres bridge: at most ${cap} connections at once (server max_connections ${max})`);
    return cap;
  } catch (error) {
    log(`could not read max_connections (${String(error)}); the bridge has no cap`);
    return undefined;
  }
}

/**
 * Starts what the Worker needs around it: Postgres (external, the local server, or embedded
 * PGlite), migrations, the WebSocket bridge and the SQL-over-HTTP endpoint for the Neon driver's
 * two transports, and the Upstash REST bridge when a Redis answers. Test mode gives every run a
 * fresh database, dropped by `stop()`.
 */
export async function startStack(opts: StackOptions): Promise<Stack> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? ((msg: string) => console.log(`[stack] ${msg}`));
  const cleanups: Cleanup[] = [];

  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      // Reverse order: bridges close before the database they lead to goes away.
      for (const cleanup of cleanups.splice(0).reverse()) {
        try {
          await cleanup();
        } catch (error) {
          log(`stop: ${String(error)}`);
        }
      }
    })();
    return stopping;
  };

  try {
    const choice = await choosePostgres(opts.mode, env);
    const databaseUrl = await startPostgres(opts.mode, choice, log, cleanups);
    await applyMigrations(databaseUrl);
    log("migrations applied");

    const maxUpstream = await bridgeConnectionCap(choice.kind, databaseUrl, env, log);
    const bridge = await startPgWsBridge({ maxUpstream });
    cleanups.push(() => bridge.close());
    const neonHttp = await startNeonHttp();
    cleanups.push(() => neonHttp.close());
    let neonLocalWsProxy = `127.0.0.1:${bridge.port}`;
    let neonLocalHttp = `127.0.0.1:${neonHttp.port}`;
    if (!isLoopback(databaseUrl)) {
      neonLocalWsProxy = "";
      neonLocalHttp = "";
      log(
        "DATABASE_URL is not on this machine: the Worker reaches it directly, not via the bridges",
      );
    }

    const redisRest = await startRedis(opts.mode, env, log, cleanups);
    const ocrUrl = await startOcr(env, log, cleanups);
    return {
      databaseUrl,
      neonLocalWsProxy,
      neonLocalHttp,
      redisRest,
      ocrUrl,
      postgresKind: choice.kind,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
