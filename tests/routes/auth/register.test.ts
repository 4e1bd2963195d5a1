import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { auditLog, credentials } from "../../../src/db/schema/index.ts";
import { withDb } from "../../helpers/db.ts";
import { api, type Problem, uniqueEmail } from "../../helpers/http.ts";

describe("POST /v1/auth/register", () => {
  it("creates a buyer, returns a session, and never returns the password hash", async () => {
    const email = uniqueEmail();
    const res = await api<{ user: Record<string, unknown>; session: Record<string, unknown> }>(
      "POST",
      "/v1/auth/register",
      {
        body: {
          email: email.toUpperCase(),
          password: "a long enough password",
          displayName: "Ana",
        },
      },
    );
    expect(res.status).toBe(201);
    expect(res.body.user).toMatchObject({
      email,
      role: "buyer",
      displayName: "Ana",
      blocked: false,
    });
    expect(JSON.stringify(res.body)).not.toContain("pbkdf2");
    expect(res.body.session).toMatchObject({ tokenType: "Bearer", expiresIn: 900 });
  });

  it("stores the password as a PHC pbkdf2-sha256 string and writes one audit row", async () => {
    const email = uniqueEmail();
    const res = await api<{ user: { id: string } }>("POST", "/v1/auth/register", {
      body: { email, password: "a long enough password", displayName: "Bo", role: "seller" },
    });
    const id = res.body.user.id;
    await withDb(async (db) => {
      const [cred] = await db.select().from(credentials).where(eq(credentials.userId, id));
      expect(cred?.passwordHash).toMatch(
        /^\$pbkdf2-sha256\$i=100000\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/,
      );
      const audits = await db
        .select()
        .from(auditLog)
        .where(and(eq(auditLog.entityId, id), eq(auditLog.action, "user.registered")));
      expect(audits).toHaveLength(1);
      expect(audits[0]?.actorId).toBe(id);
    });
  });

  it("refuses a second account with the same email, whatever its case", async () => {
    const email = uniqueEmail();
    const body = { email, password: "a long enough password", displayName: "C" };
    expect((await api("POST", "/v1/auth/register", { body })).status).toBe(201);
    const again = await api<Problem>("POST", "/v1/auth/register", {
      body: { ...body, email: email.toUpperCase() },
    });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe("CONFLICT");
  });

  it("gives exactly one account when the same email registers concurrently", async () => {
    const email = uniqueEmail();
    const body = { email, password: "a long enough password", displayName: "Race" };
    const results = await Promise.all(
      Array.from({ length: 8 }, () => api("POST", "/v1/auth/register", { body })),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(7);
  });

  it("never lets anyone register as an admin", async () => {
    const res = await api<Problem>("POST", "/v1/auth/register", {
      body: {
        email: uniqueEmail(),
        password: "a long enough password",
        displayName: "X",
        role: "admin",
      },
    });
    expect(res.status).toBe(422);
    expect(res.body.errors?.map((e) => e.field)).toEqual(["role"]);
  });

  it("names every failing field of a malformed body", async () => {
    const res = await api<Problem>("POST", "/v1/auth/register", {
      body: { email: "not-an-email", password: "short" },
    });
    expect(res.status).toBe(422);
    expect(res.headers.get("content-type")).toBe("application/problem+json");
    expect(res.body.code).toBe("VALIDATION_FAILED");
    const fields = res.body.errors?.map((e) => `${e.in}.${e.field}`).sort();
    expect(fields).toEqual(["body.displayName", "body.email", "body.password"]);
  });

  it("answers 422 for a body that is not JSON at all", async () => {
    const res = await api<Problem>("POST", "/v1/auth/register", {
      body: "{not json",
      headers: { "content-type": "application/json" },
    });
    expect(res.status).toBe(422);
    expect(res.body.code).toBe("VALIDATION_FAILED");
  });
});
