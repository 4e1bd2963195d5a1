import { env } from "cloudflare:workers";
import { Redis } from "@upstash/redis/cloudflare";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { shopOtps } from "../../../src/db/schema/index.ts";
import { loadConfig } from "../../../src/env.ts";
import { ServiceUnavailable } from "../../../src/services/errors.ts";
import {
  generateOtpCode,
  hashOtp,
  issueShopOtp,
  maskDestination,
} from "../../../src/services/shops/otp.ts";
import { testContext } from "../../helpers/context.ts";
import { withDb } from "../../helpers/db.ts";
import { seedShop } from "../../helpers/shops.ts";

/** A Redis that does not answer: nothing listens on port 9. */
const deadRedis = () =>
  new Redis({
    url: "http://127.0.0.1:9",
    token: "t",
    retry: { retries: 0 },
    enableTelemetry: false,
  });

describe("OTP codes", () => {
  it("are six digits, leading zeros kept, spread over the whole range", () => {
    const codes = Array.from({ length: 5000 }, generateOtpCode);
    expect(codes.every((c) => /^\d{6}$/.test(c))).toBe(true);
    // Each leading digit should hold about a tenth of the codes: a crude check against bias.
    const leading = new Map<string, number>();
    for (const c of codes) leading.set(c[0] ?? "", (leading.get(c[0] ?? "") ?? 0) + 1);
    expect(leading.size).toBe(10);
    for (const n of leading.values()) expect(n).toBeGreaterThan(350);
    expect(new Set(codes).size).toBeGreaterThan(4900);
  });

  it("hash to an HMAC bound to the code's id, shop and purpose, keyed by the secret", async () => {
    const otp = { id: crypto.randomUUID(), shopId: crypto.randomUUID(), purpose: "email" as const };
    const h = await hashOtp("secret-one-0123456789", otp, "123456");
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(await hashOtp("secret-one-0123456789", otp, "123456")).toBe(h);
    expect(await hashOtp("secret-two-0123456789", otp, "123456")).not.toBe(h);
    expect(await hashOtp("secret-one-0123456789", { ...otp, purpose: "phone" }, "123456")).not.toBe(
      h,
    );
    expect(
      await hashOtp("secret-one-0123456789", { ...otp, id: crypto.randomUUID() }, "123456"),
    ).not.toBe(h);
    expect(await hashOtp("secret-one-0123456789", otp, "123457")).not.toBe(h);
  });

  it("mask the destination in the response", () => {
    expect(maskDestination("shop@example.test")).toBe("s***@example.test");
    expect(maskDestination("+351912345678")).toBe("+35191****678");
  });
});

describe("issueShopOtp with a failing Redis", () => {
  it("fails closed (503) and issues nothing", async () => {
    const shop = await seedShop({ status: "pending", emailVerified: false });
    const sent: unknown[] = [];
    const queue = { send: async (m: unknown) => void sent.push(m) };
    await withDb(async (db) => {
      const ctx = testContext({
        db,
        queue,
        redis: deadRedis(),
        actor: { type: "user", id: shop.owner.id },
      });
      const issuing = issueShopOtp(ctx, shop.owner.id, shop.id, { purpose: "email" });
      await expect(issuing).rejects.toBeInstanceOf(ServiceUnavailable);
    });
    expect(sent).toHaveLength(0);
    const rows = await withDb((db) =>
      db.select().from(shopOtps).where(eq(shopOtps.shopId, shop.id)),
    );
    expect(rows).toHaveLength(0);
  });

  it("refuses phone codes in production, where no SMS provider is wired", async () => {
    const shop = await seedShop({ status: "pending", emailVerified: false });
    await withDb(async (db) => {
      const c = testContext({
        db,
        config: { ...loadConfig(env), ENVIRONMENT: "production" },
        actor: { type: "user", id: shop.owner.id },
      });
      await expect(
        issueShopOtp(c, shop.owner.id, shop.id, { purpose: "phone" }),
      ).rejects.toBeInstanceOf(ServiceUnavailable);
    });
  });
});
