import { env } from "cloudflare:workers";
import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { buildApp } from "../../../src/app.ts";
import { accountCodes, auditLog } from "../../../src/db/schema/index.ts";
import { withDb } from "../../helpers/db.ts";
import { api, type Problem, randomIp, uniqueEmail } from "../../helpers/http.ts";
import { codeIn, waitForMail } from "../../helpers/shop-support.ts";
import { registerUser, type TestUser } from "../../helpers/users.ts";

const hasRedis = Boolean(env.UPSTASH_REDIS_REST_URL);
const NEW_PASSWORD = "a brand new passphrase";

const request = (email: string, ip = randomIp()) =>
  api<{ message: string }>("POST", "/v1/auth/password-reset", { body: { email }, ip });

const confirm = (email: string, code: string, newPassword = NEW_PASSWORD) =>
  api<Problem>("POST", "/v1/auth/password-reset/confirm", {
    body: { email, code, newPassword },
  });

const login = (email: string, password: string) =>
  api("POST", "/v1/auth/login", { body: { email, password } });

/** Asks for a reset code and reads it from the dev mailbox. */
async function mailedCode(u: TestUser): Promise<string> {
  const box = await api<{ items: Array<{ text: string }> }>(
    "GET",
    `/dev/mailbox?to=${encodeURIComponent(u.email)}`,
  );
  expect((await request(u.email)).status).toBe(202);
  return codeIn((await waitForMail(u.email, box.body.items[0]?.text)).text);
}

const codeRows = (userId: string) =>
  withDb((db) => db.select().from(accountCodes).where(eq(accountCodes.userId, userId)));

/** A 6-digit code that is not `code`. */
const wrong = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, "0");

describe("POST /v1/auth/password-reset and /password-reset/confirm", () => {
  it("answers an unknown address exactly as a known one, and mails only the known one", async () => {
    const u = await registerUser();
    const stranger = uniqueEmail();
    const known = await request(u.email);
    const unknown = await request(stranger);
    expect(known.status).toBe(202);
    expect(unknown.status).toBe(202);
    expect(unknown.body).toEqual(known.body);
    await waitForMail(u.email);
    const box = await api<{ items: unknown[] }>(
      "GET",
      `/dev/mailbox?to=${encodeURIComponent(stranger)}`,
    );
    expect(box.body.items).toHaveLength(0);
  });

  it("sets the new password with the mailed code, signs out every session, audited", async () => {
    const u = await registerUser();
    const code = await mailedCode(u);
    expect((await confirm(u.email, code)).status).toBe(204);
    expect((await login(u.email, NEW_PASSWORD)).status).toBe(200);
    expect((await login(u.email, u.password)).status).toBe(401);
    const refreshed = await api("POST", "/v1/auth/refresh", {
      body: { refreshToken: u.refreshToken },
    });
    expect(refreshed.status).toBe(401);
    const audits = await withDb((db) =>
      db
        .select()
        .from(auditLog)
        .where(and(eq(auditLog.entityId, u.id), eq(auditLog.action, "user.password_reset"))),
    );
    expect(audits).toHaveLength(1);
    expect(audits[0]?.actorId).toBe(u.id);
  });

  it("stores only an HMAC of the code, never the code, and keeps it out of the audit", async () => {
    const u = await registerUser();
    const code = await mailedCode(u);
    const [row] = await codeRows(u.id);
    expect(row?.codeHash).toMatch(/^[0-9a-f]{64}$/);
    expect(row?.codeHash).not.toContain(code);
    const audits = await withDb((db) =>
      db.select().from(auditLog).where(eq(auditLog.entityId, u.id)),
    );
    expect(JSON.stringify(audits)).not.toContain(code);
  });

  it("accepts a code once: the second use is refused", async () => {
    const u = await registerUser();
    const code = await mailedCode(u);
    expect((await confirm(u.email, code)).status).toBe(204);
    const again = await confirm(u.email, code, "yet another passphrase");
    expect(again.status).toBe(422);
    expect((await login(u.email, NEW_PASSWORD)).status).toBe(200);
  });

  it("refuses an expired code and leaves the password as it was", async () => {
    const u = await registerUser();
    const code = await mailedCode(u);
    await withDb((db) =>
      db
        .update(accountCodes)
        .set({ expiresAt: new Date(Date.now() - 1000) })
        .where(eq(accountCodes.userId, u.id)),
    );
    expect((await confirm(u.email, code)).status).toBe(422);
    expect((await login(u.email, u.password)).status).toBe(200);
  });

  it("voids the code after five wrong tries, answering as it answers an unknown address", async () => {
    const u = await registerUser();
    const code = await mailedCode(u);
    const unknown = await confirm(uniqueEmail(), code);
    for (let i = 0; i < 5; i++) {
      const res = await confirm(u.email, wrong(code));
      expect(res.status).toBe(422);
      expect(res.body.detail).toBe(unknown.body.detail);
      expect(res.body.errors).toEqual(unknown.body.errors);
    }
    expect((await confirm(u.email, code)).status).toBe(422);
    const [row] = await codeRows(u.id);
    expect(row).toMatchObject({ failedAttempts: 5, consumedAt: null });
    expect(row?.voidedAt).not.toBeNull();
  });

  it("keeps one live code: a new request voids the previous one", async () => {
    const u = await registerUser();
    const first = await mailedCode(u);
    const second = await mailedCode(u);
    expect((await confirm(u.email, first)).status).toBe(422);
    expect((await confirm(u.email, second)).status).toBe(204);
  });
});

describe.skipIf(!hasRedis)("password reset rate limits", () => {
  it("limits requests per email across IPs: the fourth in the window answers 429", async () => {
    const email = uniqueEmail();
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await request(email)).status);
    expect(statuses).toEqual([202, 202, 202, 429]);
  });

  it("limits requests per IP across emails: the eleventh answers 429", async () => {
    const ip = randomIp();
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) statuses.push((await request(uniqueEmail(), ip)).status);
    expect(statuses.slice(0, 10).every((s) => s === 202)).toBe(true);
    expect(statuses[10]).toBe(429);
  });
});

describe("password reset when Redis fails", () => {
  it("fails closed: 503 for request and confirm, and no code is issued", async () => {
    const u = await registerUser();
    // Nothing listens on port 9: every Redis call fails.
    const dead = {
      ...env,
      UPSTASH_REDIS_REST_URL: "http://127.0.0.1:9",
      UPSTASH_REDIS_REST_TOKEN: "t",
    };
    const app = buildApp();
    const send = (path: string, body: unknown) =>
      app.request(
        `/v1/auth/password-reset${path}`,
        {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(body),
        },
        dead,
      );
    const asked = await send("", { email: u.email });
    expect(asked.status).toBe(503);
    expect(((await asked.json()) as Problem).code).toBe("SERVICE_UNAVAILABLE");
    const confirmed = await send("/confirm", {
      email: u.email,
      code: "123456",
      newPassword: NEW_PASSWORD,
    });
    expect(confirmed.status).toBe(503);
    expect(await codeRows(u.id)).toHaveLength(0);
  });
});
