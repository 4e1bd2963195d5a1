import { env } from "cloudflare:workers";
import { Ratelimit } from "@upstash/ratelimit";
import { Redis } from "@upstash/redis/cloudflare";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const hasRedis = Boolean(env.UPSTASH_REDIS_REST_URL);
if (!hasRedis) {
  // In CI the global setup throws instead, so these never skip there.
  console.warn("Redis tests skipped: no Redis answered on 127.0.0.1:6379 and REDIS_URL is unset");
}

// The real Upstash clients, inside workerd, against the REST bridge in front of a real Redis.
describe.skipIf(!hasRedis)("Upstash clients through the local REST bridge", () => {
  // Built only when the suite runs: a client without a URL warns as soon as it is constructed.
  let redis: Redis;
  beforeAll(() => {
    redis = new Redis({
      url: env.UPSTASH_REDIS_REST_URL ?? "",
      token: env.UPSTASH_REDIS_REST_TOKEN ?? "",
      enableTelemetry: false,
    });
  });
  const prefix = `test:stack:${crypto.randomUUID()}`;
  const key = (name: string) => `${prefix}:${name}`;

  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
  });

  it("round-trips strings, including non-ASCII text", async () => {
    expect(await redis.set(key("s"), "héllo, 世界 🌍")).toBe("OK");
    expect(await redis.get<string>(key("s"))).toBe("héllo, 世界 🌍");
  });

  it("round-trips JSON objects and numbers", async () => {
    await redis.set(key("json"), { id: 7, tags: ["a", "b"], nested: { ok: true } });
    expect(await redis.get(key("json"))).toEqual({ id: 7, tags: ["a", "b"], nested: { ok: true } });
    await redis.set(key("n"), 42);
    expect(await redis.get(key("n"))).toBe(42);
  });

  it("answers null for a missing key", async () => {
    expect(await redis.get(key("missing"))).toBeNull();
  });

  it("increments counters and reports a type error as an error", async () => {
    expect(await redis.incr(key("counter"))).toBe(1);
    expect(await redis.incrby(key("counter"), 9)).toBe(10);
    await expect(redis.incr(key("s"))).rejects.toThrow(/not an integer/);
  });

  it("runs a pipeline and returns each command's result in order", async () => {
    const results = await redis
      .pipeline()
      .set(key("p"), "1")
      .incr(key("p"))
      .get(key("p"))
      .rpush(key("list"), "x", "y")
      .lrange(key("list"), 0, -1)
      .exec();
    expect(results).toEqual(["OK", 2, 2, 2, ["x", "y"]]);
  });

  it("runs a multi-exec transaction atomically", async () => {
    const results = await redis
      .multi()
      .set(key("tx"), "v")
      .get(key("tx"))
      .hset(key("hash"), { a: "1", b: "two" })
      .hgetall(key("hash"))
      .exec();
    expect(results).toEqual(["OK", "v", 2, { a: 1, b: "two" }]);
  });

  it("evaluates Lua scripts and reports an unknown script as NOSCRIPT", async () => {
    const result = await redis.eval<[string], [string, number]>(
      "return {KEYS[1], redis.call('INCRBY', KEYS[1], ARGV[1])}",
      [key("lua")],
      ["5"],
    );
    expect(result).toEqual([key("lua"), 5]);
    await expect(redis.evalsha("0".repeat(40), [], [])).rejects.toThrow(/NOSCRIPT/);
  });

  it("limits the request past a sliding window's allowance", async () => {
    const ratelimit = new Ratelimit({
      redis,
      limiter: Ratelimit.slidingWindow(3, "60 s"),
      prefix: key("ratelimit"),
      // No in-memory short-cut: every decision must come from Redis.
      ephemeralCache: false,
    });
    const outcomes: boolean[] = [];
    for (let i = 0; i < 4; i++) outcomes.push((await ratelimit.limit("client-a")).success);
    expect(outcomes).toEqual([true, true, true, false]);
    const other = await ratelimit.limit("client-b");
    expect(other.success).toBe(true);
    expect(other.remaining).toBe(2);
  });
});
