import { toHex } from "./hash.ts";
import type { Logger } from "./logger.ts";
import type { Redis } from "./redis.ts";

/** What the `x-cache` response header says. `bypass`: no Redis, or Redis failed or was slow. */
export type CacheStatus = "hit" | "miss" | "bypass";

/**
 * A cache call slower than this is abandoned and the request is served from Postgres. A cache
 * exists to make reads faster; waiting longer than a database query would defeat it.
 */
export const CACHE_TIMEOUT_MS = 300;

export class CacheTimeout extends Error {
  override name = "CacheTimeout";
}

/** Rejects with CacheTimeout when `promise` has not settled within `ms`. */
export async function withTimeout<T>(
  promise: Promise<T>,
  ms: number = CACHE_TIMEOUT_MS,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CacheTimeout(`cache call exceeded ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Everything a cached read needs; `redis: null` turns the cache off. */
export interface CacheDeps {
  redis: Redis | null;
  logger?: Logger | undefined;
  timeoutMs?: number | undefined;
}

export interface ReadThroughOptions<T> {
  /**
   * Counters whose current values are part of the data key. Bumping one (INCR) makes every key
   * built from the old value unreachable, so invalidation never races a concurrent reader: a
   * reader that loaded old rows writes them under the old version, which nobody reads again.
   */
  versionKeys: string[];
  /** The data key for these versions (same order as `versionKeys`). */
  key: (versions: number[]) => string;
  /** A backstop: even a missed invalidation lives at most this long. */
  ttlSeconds: number;
  /** The source of truth, called on a miss or a bypass. Errors propagate and are not cached. */
  load: () => Promise<T>;
}

export interface CachedValue<T> {
  value: T;
  status: CacheStatus;
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/** Current values of version counters; a counter never bumped reads as 0. */
export async function readVersions(
  redis: Redis,
  keys: string[],
  timeoutMs: number = CACHE_TIMEOUT_MS,
): Promise<number[]> {
  if (keys.length === 0) return [];
  const raw = await withTimeout(redis.mget<unknown[]>(...keys), timeoutMs);
  return keys.map((_, i) => {
    const n = Number(raw[i] ?? 0);
    return Number.isSafeInteger(n) ? n : 0;
  });
}

/**
 * Read-through: the cached value when present, else `load()` and store it with a TTL. Redis
 * missing, failing or slower than the timeout never fails the request: it is served from
 * `load()` with status `bypass`, and nothing is written.
 */
export async function readThrough<T>(
  deps: CacheDeps,
  opts: ReadThroughOptions<T>,
): Promise<CachedValue<T>> {
  const { redis, logger } = deps;
  const timeoutMs = deps.timeoutMs ?? CACHE_TIMEOUT_MS;
  if (!redis) return { value: await opts.load(), status: "bypass" };
  let key: string;
  try {
    key = opts.key(await readVersions(redis, opts.versionKeys, timeoutMs));
    const cached = await withTimeout(redis.get<T>(key), timeoutMs);
    if (cached !== null && cached !== undefined) return { value: cached, status: "hit" };
  } catch (err) {
    logger?.warn("cache bypassed: Redis failed or was slow", { error: describe(err) });
    return { value: await opts.load(), status: "bypass" };
  }
  const value = await opts.load();
  // Awaited rather than left to waitUntil: the next request must find what this one loaded.
  try {
    await withTimeout(redis.set(key, value, { ex: opts.ttlSeconds }), timeoutMs);
  } catch (err) {
    logger?.warn("cache write failed", { key, error: describe(err) });
  }
  return { value, status: "miss" };
}

/**
 * INCRs every counter in one round trip. Never throws: a bump that fails leaves entries that
 * the TTL retires, which is the backstop the short TTL exists for.
 */
export async function bumpVersions(
  redis: Redis | null,
  keys: string[],
  logger?: Logger,
  timeoutMs: number = CACHE_TIMEOUT_MS,
): Promise<boolean> {
  if (!redis || keys.length === 0) return false;
  try {
    const pipe = redis.pipeline();
    for (const key of keys) pipe.incr(key);
    await withTimeout(pipe.exec(), timeoutMs);
    return true;
  } catch (err) {
    logger?.warn("cache version bump failed; entries expire by TTL", {
      keys,
      error: describe(err),
    });
    return false;
  }
}

/** A short stable digest for keys built from request parameters. */
export async function digest(value: unknown): Promise<string> {
  const bytes = new TextEncoder().encode(JSON.stringify(value));
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return toHex(hash.subarray(0, 16));
}
