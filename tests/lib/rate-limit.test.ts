import { env } from "cloudflare:workers";
import { Redis } from "@upstash/redis/cloudflare";
import { describe, expect, it } from "vitest";
import { enforceLimit } from "../../src/lib/rate-limit.ts";
import { RateLimited, ServiceUnavailable } from "../../src/services/errors.ts";
import { api, type Problem, randomIp, uniqueEmail } from "../helpers/http.ts";
import { registerUser } from "../helpers/users.ts";

const hasRedis = Boolean(env.UPSTASH_REDIS_REST_URL);
if (!hasRedis) {
  console.warn(
    "Rate-limit tests against Redis skipped: no Redis answered on 127.0.0.1:6379 and REDIS_URL is unset",
  );
}

/** A Redis that does not answer: nothing listens on port 9. */
const deadRedis = () =>
  new Redis({
    url: "http://127.0.0.1:9",
    token: "t",
    retry: { retries: 0 },
    enableTelemetry: false,
  });

describe("rate limits when Redis fails", () => {
  it("fails closed on auth limits: 503, not a free pass", async () => {
    await expect(enforceLimit(deadRedis(), "auth.login.ip", "1.2.3.4")).rejects.toBeInstanceOf(
      ServiceUnavailable,
    );
  });

  it("fails open on non-auth limits", async () => {
    await expect(enforceLimit(deadRedis(), "bid", "user-1")).resolves.toBeUndefined();
  });

  it("is off without Redis configured", async () => {
    for (let i = 0; i < 50; i++) await enforceLimit(null, "auth.register", "1.2.3.4");
  });
});

describe.skipIf(!hasRedis)("rate limits against real Redis", () => {
  it("limits login attempts per email with 429 and Retry-After", async () => {
    const u = await registerUser();
    const statuses: number[] = [];
    let last: Problem | undefined;
    let retryAfter: string | null = null;
    for (let i = 0; i < 11; i++) {
      const res = await api<Problem>("POST", "/v1/auth/login", {
        body: { email: u.email, password: "wrong password" },
      });
      statuses.push(res.status);
      last = res.body;
      retryAfter = res.headers.get("retry-after");
    }
    expect(statuses.slice(0, 10).every((s) => s === 401)).toBe(true);
    expect(statuses[10]).toBe(429);
    expect(last?.code).toBe("RATE_LIMITED");
    expect(Number(retryAfter)).toBeGreaterThan(0);
  });

  it("limits registrations per IP", async () => {
    const ip = randomIp();
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) {
      const res = await api("POST", "/v1/auth/register", {
        ip,
        body: { email: uniqueEmail(), password: "a long enough password", displayName: "R" },
      });
      statuses.push(res.status);
    }
    expect(statuses.filter((s) => s === 201)).toHaveLength(10);
    expect(statuses[10]).toBe(429);
  });

  it("counts each identifier separately", async () => {
    const redis = new Redis({
      url: env.UPSTASH_REDIS_REST_URL ?? "",
      token: env.UPSTASH_REDIS_REST_TOKEN ?? "",
    });
    const a = `a-${crypto.randomUUID()}`;
    for (let i = 0; i < 5; i++) await enforceLimit(redis, "otp.issue", a);
    await expect(enforceLimit(redis, "otp.issue", a)).rejects.toBeInstanceOf(RateLimited);
    await expect(
      enforceLimit(redis, "otp.issue", `b-${crypto.randomUUID()}`),
    ).resolves.toBeUndefined();
  });
});
