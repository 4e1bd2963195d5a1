import { env } from "cloudflare:workers";
import { and, eq, isNull } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { auditLog, shopOtps, shops } from "../../../src/db/schema/index.ts";
import { withDb } from "../../helpers/db.ts";
import { api, type Problem, randomIp } from "../../helpers/http.ts";
import {
  type CreatedShop,
  codeIn,
  createShopViaApi,
  issueAndReadCode,
  waitForMail,
} from "../../helpers/shop-support.ts";
import { createAdmin, seedMember } from "../../helpers/shops.ts";
import { registerUser, type TestUser } from "../../helpers/users.ts";

const hasRedis = Boolean(env.UPSTASH_REDIS_REST_URL);

async function newShop(): Promise<{ owner: TestUser; shop: CreatedShop }> {
  const owner = await registerUser("seller");
  return { owner, shop: await createShopViaApi(owner) };
}

const verify = (owner: TestUser, shopId: string, code: string, purpose = "email") =>
  api<Problem & { emailVerifiedAt?: string | null; phoneVerifiedAt?: string | null }>(
    "POST",
    `/v1/shops/${shopId}/otp/verify`,
    { token: owner.accessToken, body: { purpose, code } },
  );

const otpRows = (shopId: string) =>
  withDb((db) => db.select().from(shopOtps).where(eq(shopOtps.shopId, shopId)));

/** A 6-digit code that is not `code`. */
const wrong = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, "0");

describe("POST /v1/shops/{id}/otp and /otp/verify", () => {
  it("emails a code to the contact address and verifies the email with it, audited", async () => {
    const { owner, shop } = await newShop();
    const issued = await api<{ purpose: string; sentTo: string; expiresAt: string }>(
      "POST",
      `/v1/shops/${shop.id}/otp`,
      { token: owner.accessToken, body: { purpose: "email" } },
    );
    expect(issued.status).toBe(202);
    expect(issued.body.purpose).toBe("email");
    expect(issued.body.sentTo).toMatch(/^s\*\*\*@example\.test$/);
    const ttl = Date.parse(issued.body.expiresAt) - Date.now();
    expect(ttl).toBeGreaterThan(9 * 60_000);
    expect(ttl).toBeLessThanOrEqual(10 * 60_000);
    const mail = await waitForMail(shop.contactEmail);
    expect(mail.channel).toBe("email");
    const res = await verify(owner, shop.id, codeIn(mail.text));
    expect(res.status).toBe(200);
    expect(res.body.emailVerifiedAt).toEqual(expect.any(String));
    const audits = await withDb((db) =>
      db
        .select()
        .from(auditLog)
        .where(and(eq(auditLog.entityId, shop.id), eq(auditLog.action, "shop.email_verified"))),
    );
    expect(audits).toHaveLength(1);
    // Verified, yet still invisible: only an admin's approval makes it public.
    expect((await api("GET", `/v1/shops/${shop.id}`)).status).toBe(404);
  });

  it("never stores the code in clear: only an HMAC that neither equals nor contains it", async () => {
    const { owner, shop } = await newShop();
    const code = await issueAndReadCode(owner, shop);
    const [row] = await otpRows(shop.id);
    expect(row?.codeHash).toMatch(/^[0-9a-f]{64}$/);
    expect(row?.codeHash).not.toBe(code);
    expect(row?.codeHash).not.toContain(code);
    const audits = await withDb((db) =>
      db.select().from(auditLog).where(eq(auditLog.entityId, shop.id)),
    );
    expect(JSON.stringify(audits)).not.toContain(code);
  });

  it("refuses an expired code with 409 and leaves the shop unverified", async () => {
    const { owner, shop } = await newShop();
    const code = await issueAndReadCode(owner, shop);
    await withDb((db) =>
      db
        .update(shopOtps)
        .set({ expiresAt: new Date(Date.now() - 1000) })
        .where(eq(shopOtps.shopId, shop.id)),
    );
    const res = await verify(owner, shop.id, code);
    expect(res.status).toBe(409);
    expect(res.body.detail).toMatch(/expired/);
    const [row] = await withDb((db) => db.select().from(shops).where(eq(shops.id, shop.id)));
    expect(row?.emailVerifiedAt).toBeNull();
  });

  it("counts wrong tries, voids the code on the fifth, and then refuses even the right code", async () => {
    const { owner, shop } = await newShop();
    const code = await issueAndReadCode(owner, shop);
    for (let i = 1; i <= 5; i++) {
      const res = await verify(owner, shop.id, wrong(code));
      expect(res.status, `try ${i}`).toBe(422);
      expect(res.body.errors?.[0]?.field).toBe("code");
      expect(res.body.errors?.[0]?.message).toContain(i < 5 ? `${5 - i} tr` : "now void");
    }
    const [row] = await otpRows(shop.id);
    expect(row?.failedAttempts).toBe(5);
    expect(row?.voidedAt).not.toBeNull();
    const after = await verify(owner, shop.id, code);
    expect(after.status).toBe(409);
    const failures = await withDb((db) =>
      db
        .select()
        .from(auditLog)
        .where(and(eq(auditLog.entityId, shop.id), eq(auditLog.action, "shop.otp.failed"))),
    );
    expect(failures).toHaveLength(5);
  });

  it("voids the previous code when a new one is issued", async () => {
    const { owner, shop } = await newShop();
    const first = await issueAndReadCode(owner, shop);
    const second = await issueAndReadCode(owner, shop);
    const rows = await otpRows(shop.id);
    expect(rows).toHaveLength(2);
    expect(rows.filter((r) => r.voidedAt === null)).toHaveLength(1);
    if (first !== second) {
      const old = await verify(owner, shop.id, first);
      expect(old.status).toBe(422);
    }
    expect((await verify(owner, shop.id, second)).status).toBe(200);
  });

  it("refuses a used code: it is consumed and the email already verified", async () => {
    const { owner, shop } = await newShop();
    const code = await issueAndReadCode(owner, shop);
    expect((await verify(owner, shop.id, code)).status).toBe(200);
    const reuse = await verify(owner, shop.id, code);
    expect(reuse.status).toBe(409);
    expect(reuse.body.code).toBe("CONFLICT");
    const [row] = await otpRows(shop.id);
    expect(row?.consumedAt).not.toBeNull();
    const again = await api<Problem>("POST", `/v1/shops/${shop.id}/otp`, {
      token: owner.accessToken,
      body: { purpose: "email" },
    });
    expect(again.status).toBe(409);
  });

  it("leaves exactly one active code when several are issued at once", async () => {
    const { owner, shop } = await newShop();
    const results = await Promise.all(
      Array.from({ length: 4 }, () =>
        api("POST", `/v1/shops/${shop.id}/otp`, {
          token: owner.accessToken,
          body: { purpose: "email" },
        }),
      ),
    );
    expect(results.map((r) => r.status).every((s) => s === 202 || s === 409)).toBe(true);
    const rows = await otpRows(shop.id);
    expect(rows.filter((r) => r.consumedAt === null && r.voidedAt === null)).toHaveLength(1);
  });

  it("sends a phone code to the dev mailbox addressed to the number and verifies the phone", async () => {
    const { owner, shop } = await newShop();
    const code = await issueAndReadCode(owner, shop, "phone");
    const mail = await waitForMail(shop.contactPhone);
    expect(mail.channel).toBe("sms");
    const res = await verify(owner, shop.id, code, "phone");
    expect(res.status).toBe(200);
    expect(res.body.phoneVerifiedAt).toEqual(expect.any(String));
    expect(res.body.emailVerifiedAt).toBeNull();
  });

  it("lets only the owner issue and verify: staff get 403, strangers and admins 404", async () => {
    const { shop } = await newShop();
    const staff = await registerUser("buyer");
    const manager = await registerUser("seller");
    await seedMember(shop.id, staff, "staff");
    await seedMember(shop.id, manager, "manager");
    const stranger = await registerUser("seller");
    const admin = await createAdmin();
    for (const [who, expected] of [
      [staff, 403],
      [manager, 403],
      [stranger, 404],
      [admin, 404],
    ] as const) {
      const res = await api("POST", `/v1/shops/${shop.id}/otp`, {
        token: who.accessToken,
        body: { purpose: "email" },
      });
      expect(res.status).toBe(expected);
      expect((await verify(who, shop.id, "123456")).status).toBe(expected);
    }
    expect(
      (await api("POST", `/v1/shops/${shop.id}/otp`, { body: { purpose: "email" } })).status,
    ).toBe(401);
    expect(await otpRows(shop.id)).toHaveLength(0);
  });

  it("names malformed fields with 422 on both routes", async () => {
    const { owner, shop } = await newShop();
    const issue = await api<Problem>("POST", `/v1/shops/${shop.id}/otp`, {
      token: owner.accessToken,
      body: { purpose: "fax" },
    });
    expect(issue.status).toBe(422);
    expect(issue.body.errors?.map((e) => e.field)).toEqual(["purpose"]);
    const bad = await api<Problem>("POST", `/v1/shops/${shop.id}/otp/verify`, {
      token: owner.accessToken,
      body: { purpose: "email", code: "12ab" },
    });
    expect(bad.status).toBe(422);
    expect(bad.body.errors?.map((e) => e.field)).toEqual(["code"]);
    const empty = await api<Problem>("POST", `/v1/shops/${shop.id}/otp/verify`, {
      token: owner.accessToken,
      body: {},
    });
    expect(empty.body.errors?.map((e) => e.field).sort()).toEqual(["code", "purpose"]);
    const badId = await api<Problem>("POST", "/v1/shops/nope/otp", {
      token: owner.accessToken,
      body: { purpose: "email" },
    });
    expect(badId.body.errors?.[0]).toMatchObject({ field: "id", in: "path" });
  });

  it("answers 409 when no code was ever issued", async () => {
    const { owner, shop } = await newShop();
    const res = await verify(owner, shop.id, "123456");
    expect(res.status).toBe(409);
    expect(res.body.detail).toMatch(/no active/i);
  });
});

describe.skipIf(!hasRedis)("OTP rate limits", () => {
  it("limits issuing per shop: the sixth request in the window answers 429 with Retry-After", async () => {
    const { owner, shop } = await newShop();
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 6; i++) {
      const res = await api("POST", `/v1/shops/${shop.id}/otp`, {
        token: owner.accessToken,
        body: { purpose: "email" },
      });
      statuses.push(res.status);
      retryAfter = res.headers.get("retry-after");
    }
    expect(statuses).toEqual([202, 202, 202, 202, 202, 429]);
    expect(Number(retryAfter)).toBeGreaterThan(0);
    // The refused request issued nothing: five codes, one active.
    const rows = await otpRows(shop.id);
    expect(rows).toHaveLength(5);
    expect(rows.filter((r) => r.voidedAt === null)).toHaveLength(1);
  });

  it("limits verifying per IP, across shops", async () => {
    const a = await newShop();
    const b = await newShop();
    const ip = randomIp();
    const statuses: number[] = [];
    // 6 tries on one shop and 5 on another: neither shop reaches its own limit of 10.
    for (const [{ owner, shop }, times] of [
      [a, 6],
      [b, 5],
    ] as const) {
      for (let i = 0; i < times; i++) {
        const res = await api("POST", `/v1/shops/${shop.id}/otp/verify`, {
          token: owner.accessToken,
          ip,
          body: { purpose: "email", code: "000000" },
        });
        statuses.push(res.status);
      }
    }
    expect(statuses.slice(0, 10).every((s) => s === 409)).toBe(true);
    expect(statuses[10]).toBe(429);
  });

  it("limits verifying per shop, across IPs", async () => {
    const { owner, shop } = await newShop();
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) {
      const res = await api("POST", `/v1/shops/${shop.id}/otp/verify`, {
        token: owner.accessToken,
        ip: randomIp(),
        body: { purpose: "email", code: "000000" },
      });
      statuses.push(res.status);
    }
    expect(statuses.slice(0, 10).every((s) => s === 409)).toBe(true);
    expect(statuses[10]).toBe(429);
  });
});

describe("OTP delivery", () => {
  it("writes no in-app notification for a code: it goes to the contact address only", async () => {
    const { owner, shop } = await newShop();
    await issueAndReadCode(owner, shop);
    // The mail has arrived, so the consumer is done with the message.
    const inbox = await api<{ items: unknown[] }>("GET", "/v1/notifications", {
      token: owner.accessToken,
    });
    expect(inbox.status).toBe(200);
    expect(inbox.body.items).toHaveLength(0);
    const active = await withDb((db) =>
      db
        .select()
        .from(shopOtps)
        .where(and(eq(shopOtps.shopId, shop.id), isNull(shopOtps.voidedAt))),
    );
    expect(active).toHaveLength(1);
  });
});
