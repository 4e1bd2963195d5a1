import { describe, expect, it } from "vitest";
import {
  bumpVersions,
  CacheTimeout,
  readThrough,
  readVersions,
  withTimeout,
} from "../../src/lib/cache.ts";
import { createLogger } from "../../src/lib/logger.ts";
import { deadRedis, hasRedis, testRedis } from "../helpers/catalog.ts";

const logger = createLogger("error");
const unique = () => `souk:test:${crypto.randomUUID()}`;

describe("withTimeout", () => {
  it("gives up on a call that does not settle in time", async () => {
    const never = new Promise<never>(() => {});
    const started = Date.now();
    await expect(withTimeout(never, 50)).rejects.toBeInstanceOf(CacheTimeout);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it("passes a prompt result through", async () => {
    await expect(withTimeout(Promise.resolve(7), 50)).resolves.toBe(7);
  });
});

describe("readThrough without a working Redis", () => {
  it("bypasses when no Redis is configured", async () => {
    let loads = 0;
    const opts = {
      versionKeys: [unique()],
      key: () => unique(),
      ttlSeconds: 60,
      load: async () => ++loads,
    };
    expect(await readThrough({ redis: null }, opts)).toEqual({ value: 1, status: "bypass" });
    expect(await readThrough({ redis: null }, opts)).toEqual({ value: 2, status: "bypass" });
  });

  it("serves from the source when Redis refuses connections, and bumps report failure", async () => {
    const redis = deadRedis();
    const res = await readThrough(
      { redis, logger },
      { versionKeys: [unique()], key: () => unique(), ttlSeconds: 60, load: async () => "db" },
    );
    expect(res).toEqual({ value: "db", status: "bypass" });
    expect(await bumpVersions(redis, [unique()], logger)).toBe(false);
    expect(await bumpVersions(null, [unique()], logger)).toBe(false);
  });

  it("propagates the source's own errors instead of hiding them", async () => {
    await expect(
      readThrough(
        { redis: deadRedis(), logger },
        {
          versionKeys: [],
          key: () => unique(),
          ttlSeconds: 60,
          load: async () => {
            throw new Error("boom");
          },
        },
      ),
    ).rejects.toThrow("boom");
  });
});

describe.skipIf(!hasRedis)("readThrough against real Redis", () => {
  it("misses, then hits, then misses again under a bumped version", async () => {
    const redis = testRedis();
    const ver = unique();
    const base = unique();
    let loads = 0;
    const opts = {
      versionKeys: [ver],
      key: ([v]: number[]) => `${base}:v${v}`,
      ttlSeconds: 60,
      load: async () => ({ n: ++loads, at: "2026-01-01T00:00:00.000Z" }),
    };
    expect(await readThrough({ redis, logger }, opts)).toEqual({
      value: { n: 1, at: "2026-01-01T00:00:00.000Z" },
      status: "miss",
    });
    expect(await readThrough({ redis, logger }, opts)).toEqual({
      value: { n: 1, at: "2026-01-01T00:00:00.000Z" },
      status: "hit",
    });
    expect(await readVersions(redis, [ver])).toEqual([0]);
    expect(await bumpVersions(redis, [ver], logger)).toBe(true);
    expect(await readVersions(redis, [ver])).toEqual([1]);
    const after = await readThrough({ redis, logger }, opts);
    expect(after).toEqual({ value: { n: 2, at: "2026-01-01T00:00:00.000Z" }, status: "miss" });
    expect(await redis.ttl(`${base}:v1`)).toBeGreaterThan(50);
    await redis.del(ver, `${base}:v0`, `${base}:v1`);
  });

  it("bypasses a Redis slower than the timeout and writes nothing", async () => {
    const redis = testRedis();
    const key = unique();
    // A 0 ms budget: no network round trip can beat it, so this is "Redis is slow".
    const slow = await readThrough(
      { redis, logger, timeoutMs: 0 },
      { versionKeys: [unique()], key: () => key, ttlSeconds: 60, load: async () => "db" },
    );
    expect(slow).toEqual({ value: "db", status: "bypass" });
    expect(await redis.exists(key)).toBe(0);
  });

  it("does not cache a load that failed", async () => {
    const redis = testRedis();
    const key = unique();
    let calls = 0;
    const opts = {
      versionKeys: [],
      key: () => key,
      ttlSeconds: 60,
      load: async () => {
        calls += 1;
        if (calls === 1) throw new Error("not found");
        return "second";
      },
    };
    await expect(readThrough({ redis, logger }, opts)).rejects.toThrow("not found");
    expect(await readThrough({ redis, logger }, opts)).toEqual({ value: "second", status: "miss" });
    await redis.del(key);
  });
});
