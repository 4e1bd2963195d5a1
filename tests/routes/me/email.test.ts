import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { accountCodes } from "../../../src/db/schema/index.ts";
import { auditRows } from "../../helpers/audit.ts";
import { withDb } from "../../helpers/db.ts";
import { api, type Problem, uniqueEmail } from "../../helpers/http.ts";
import { codeIn, waitForMail } from "../../helpers/shop-support.ts";
import { registerUser, type TestUser } from "../../helpers/users.ts";

const hasRedis = Boolean(env.UPSTASH_REDIS_REST_URL);

interface Me {
  id: string;
  email: string;
  emailVerifiedAt: string | null;
}
type Answer = Me & Problem & { sentTo: string; expiresAt: string };

const post = (u: TestUser, path: string, body?: unknown) =>
  api<Answer>("POST", `/v1/me${path}`, { token: u.accessToken, body });

const me = async (u: TestUser) => (await api<Me>("GET", "/v1/me", { token: u.accessToken })).body;

/** A 6-digit code that is not `code`. */
const wrong = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, "0");

describe("POST /v1/me/email-verification and /confirm", () => {
  it("verifies the current address with the mailed code, audited, once", async () => {
    const u = await registerUser();
    expect((await me(u)).emailVerifiedAt).toBeNull();
    const sent = await post(u, "/email-verification");
    expect(sent.status).toBe(202);
    expect(sent.body.sentTo).toMatch(/^b\*\*\*@example\.test$/);
    const ttl = Date.parse(sent.body.expiresAt) - Date.now();
    expect(ttl).toBeGreaterThan(14 * 60_000);
    expect(ttl).toBeLessThanOrEqual(15 * 60_000);
    const code = codeIn((await waitForMail(u.email)).text);
    const res = await post(u, "/email-verification/confirm", { code });
    expect(res.status).toBe(200);
    expect(res.body.emailVerifiedAt).toEqual(expect.any(String));
    expect((await me(u)).emailVerifiedAt).toBe(res.body.emailVerifiedAt);
    expect(await auditRows(u.id, { action: "user.email_verified" })).toHaveLength(1);
    expect((await post(u, "/email-verification/confirm", { code })).status).toBe(409);
    expect((await post(u, "/email-verification")).status).toBe(409);
  });

  it("counts wrong codes down and voids the code at the fifth", async () => {
    const u = await registerUser();
    expect((await post(u, "/email-verification")).status).toBe(202);
    const code = codeIn((await waitForMail(u.email)).text);
    const messages: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await post(u, "/email-verification/confirm", { code: wrong(code) });
      expect(res.status).toBe(422);
      messages.push(res.body.errors?.[0]?.message ?? "");
    }
    expect(messages[0]).toContain("4 tries left");
    expect(messages[4]).toContain("void");
    expect((await post(u, "/email-verification/confirm", { code })).status).toBe(409);
    expect((await me(u)).emailVerifiedAt).toBeNull();
  });
});

describe("POST /v1/me/email-change and /confirm", () => {
  it("changes the email only once the new address confirms its code", async () => {
    const u = await registerUser();
    const newEmail = uniqueEmail("moved");
    const sent = await post(u, "/email-change", { newEmail, currentPassword: u.password });
    expect(sent.status).toBe(202);
    // Not yet: the account keeps its address and the new one cannot sign in.
    expect((await me(u)).email).toBe(u.email);
    const early = await api("POST", "/v1/auth/login", {
      body: { email: newEmail, password: u.password },
    });
    expect(early.status).toBe(401);
    const code = codeIn((await waitForMail(newEmail)).text);
    const res = await post(u, "/email-change/confirm", { code });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ email: newEmail, emailVerifiedAt: expect.any(String) });
    const login = (email: string) =>
      api("POST", "/v1/auth/login", { body: { email, password: u.password } });
    expect((await login(newEmail)).status).toBe(200);
    expect((await login(u.email)).status).toBe(401);
    const [audit] = await auditRows(u.id, { action: "user.email_changed" });
    expect(audit).toMatchObject({ oldValue: { email: u.email }, newValue: { email: newEmail } });
    // The old address hears of it.
    expect((await waitForMail(u.email)).subject).toMatch(/email was changed/);
  });

  it("refuses a wrong password with 422 and mails nothing", async () => {
    const u = await registerUser();
    const newEmail = uniqueEmail("moved");
    const res = await post(u, "/email-change", { newEmail, currentPassword: "not my password" });
    expect(res.status).toBe(422);
    expect(res.body.errors?.[0]?.field).toBe("currentPassword");
    const rows = await withDb((db) =>
      db.select().from(accountCodes).where(eq(accountCodes.userId, u.id)),
    );
    expect(rows).toHaveLength(0);
  });

  it("answers an address another account holds like any other, and sends it no code", async () => {
    const u = await registerUser();
    const other = await registerUser();
    const free = await post(u, "/email-change", {
      newEmail: uniqueEmail("moved"),
      currentPassword: u.password,
    });
    const taken = await post(u, "/email-change", {
      newEmail: other.email,
      currentPassword: u.password,
    });
    expect(taken.status).toBe(free.status);
    expect(Object.keys(taken.body).sort()).toEqual(Object.keys(free.body).sort());
    const notice = await waitForMail(other.email);
    expect(notice.text).not.toMatch(/\b\d{6}\b/);
    expect((await me(u)).email).toBe(u.email);
  });
});

describe.skipIf(!hasRedis)("account code rate limits", () => {
  it("limits code requests per account: the sixth in the window answers 429", async () => {
    const u = await registerUser();
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await post(u, "/email-verification")).status);
    expect(statuses).toEqual([202, 202, 202, 202, 202, 429]);
  });
});
