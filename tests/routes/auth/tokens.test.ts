import { env } from "cloudflare:workers";
import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { signAccessToken } from "../../../src/services/auth/tokens.ts";
import { api, type Problem } from "../../helpers/http.ts";
import { registerUser } from "../../helpers/users.ts";

const secret = () => env.JWT_SECRET ?? "";

describe("access tokens", () => {
  it("refuses a request without a token", async () => {
    const res = await api<Problem>("GET", "/v1/me");
    expect(res.status).toBe(401);
    expect(res.body.code).toBe("UNAUTHENTICATED");
  });

  it("refuses an expired token and says it expired", async () => {
    const u = await registerUser();
    const token = await signAccessToken(
      { sub: u.id, role: "buyer" },
      secret(),
      Date.now() - 16 * 60_000,
    );
    const res = await api<Problem>("GET", "/v1/me", { token });
    expect(res.status).toBe(401);
    expect(res.body.detail).toMatch(/expired/);
  });

  it("refuses a token whose payload was tampered with", async () => {
    const u = await registerUser();
    const [h, p, s] = u.accessToken.split(".");
    const payload = JSON.parse(atob((p ?? "").replaceAll("-", "+").replaceAll("_", "/")));
    payload.role = "admin";
    const forged = btoa(JSON.stringify(payload))
      .replaceAll("+", "-")
      .replaceAll("/", "_")
      .replace(/=+$/, "");
    const res = await api<Problem>("GET", "/v1/me", { token: `${h}.${forged}.${s}` });
    expect(res.status).toBe(401);
  });

  it("refuses a token signed with another secret", async () => {
    const u = await registerUser();
    const token = await signAccessToken(
      { sub: u.id, role: "buyer" },
      "another-secret-another-secret-another!",
    );
    expect((await api("GET", "/v1/me", { token })).status).toBe(401);
  });

  it("refuses an unsigned alg=none token", async () => {
    const u = await registerUser();
    const enc = (o: unknown) => btoa(JSON.stringify(o)).replace(/=+$/, "");
    const now = Math.floor(Date.now() / 1000);
    const token = `${enc({ alg: "none", typ: "JWT" })}.${enc({ sub: u.id, role: "admin", iss: "souk", aud: "souk-api", exp: now + 600 })}.`;
    expect((await api("GET", "/v1/me", { token })).status).toBe(401);
  });

  it("refuses a validly signed token that carries no expiry", async () => {
    const u = await registerUser();
    const token = await new SignJWT({ role: "buyer" })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject(u.id)
      .setIssuer("souk")
      .setAudience("souk-api")
      .setIssuedAt()
      .sign(new TextEncoder().encode(secret()));
    expect((await api("GET", "/v1/me", { token })).status).toBe(401);
  });

  it("refuses a validly signed token for another audience", async () => {
    const u = await registerUser();
    const token = await new SignJWT({ role: "buyer" })
      .setProtectedHeader({ alg: "HS256" })
      .setSubject(u.id)
      .setIssuer("souk")
      .setAudience("someone-else")
      .setExpirationTime("5m")
      .sign(new TextEncoder().encode(secret()));
    expect((await api("GET", "/v1/me", { token })).status).toBe(401);
  });
});

describe("POST /v1/auth/refresh", () => {
  it("rotates: the new refresh token works and the access token opens /v1/me", async () => {
    const u = await registerUser();
    const res = await api<{ accessToken: string; refreshToken: string }>(
      "POST",
      "/v1/auth/refresh",
      {
        body: { refreshToken: u.refreshToken },
      },
    );
    expect(res.status).toBe(200);
    expect(res.body.refreshToken).not.toBe(u.refreshToken);
    expect((await api("GET", "/v1/me", { token: res.body.accessToken })).status).toBe(200);
    const again = await api("POST", "/v1/auth/refresh", {
      body: { refreshToken: res.body.refreshToken },
    });
    expect(again.status).toBe(200);
  });

  it("treats a reused refresh token as stolen and revokes its whole family", async () => {
    const u = await registerUser();
    const first = await api<{ refreshToken: string }>("POST", "/v1/auth/refresh", {
      body: { refreshToken: u.refreshToken },
    });
    const reuse = await api<Problem>("POST", "/v1/auth/refresh", {
      body: { refreshToken: u.refreshToken },
    });
    expect(reuse.status).toBe(401);
    expect(reuse.body.detail).toMatch(/already used/);
    // The legitimate newer token is now dead too: the family is revoked.
    const newer = await api("POST", "/v1/auth/refresh", {
      body: { refreshToken: first.body.refreshToken },
    });
    expect(newer.status).toBe(401);
  });

  it("lets exactly one of many concurrent refreshes with one token win", async () => {
    const u = await registerUser();
    const results = await Promise.all(
      Array.from({ length: 6 }, () =>
        api("POST", "/v1/auth/refresh", { body: { refreshToken: u.refreshToken } }),
      ),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.status === 401)).toHaveLength(5);
  });

  it("refuses an unknown refresh token", async () => {
    const res = await api("POST", "/v1/auth/refresh", { body: { refreshToken: "x".repeat(43) } });
    expect(res.status).toBe(401);
  });
});

describe("POST /v1/auth/logout", () => {
  it("revokes the session so its refresh token no longer works", async () => {
    const u = await registerUser();
    expect(
      (await api("POST", "/v1/auth/logout", { body: { refreshToken: u.refreshToken } })).status,
    ).toBe(204);
    expect(
      (await api("POST", "/v1/auth/refresh", { body: { refreshToken: u.refreshToken } })).status,
    ).toBe(401);
  });
});
