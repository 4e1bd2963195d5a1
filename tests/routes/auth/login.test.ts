import { describe, expect, it } from "vitest";
import { auditRows } from "../../helpers/audit.ts";
import { api, type Problem, uniqueEmail } from "../../helpers/http.ts";
import { registerUser } from "../../helpers/users.ts";

describe("POST /v1/auth/login", () => {
  it("signs in with the right password and the token opens /v1/me", async () => {
    const u = await registerUser();
    const login = await api<{ session: { accessToken: string } }>("POST", "/v1/auth/login", {
      body: { email: u.email, password: u.password },
    });
    expect(login.status).toBe(200);
    const me = await api<{ id: string }>("GET", "/v1/me", {
      token: login.body.session.accessToken,
    });
    expect(me.status).toBe(200);
    expect(me.body.id).toBe(u.id);
  });

  it("refuses a wrong password with 401", async () => {
    const u = await registerUser();
    const res = await api<Problem>("POST", "/v1/auth/login", {
      body: { email: u.email, password: "wrong password!!" },
    });
    expect(res.status).toBe(401);
    expect(res.body.code).toBe("UNAUTHENTICATED");
  });

  it("gives an unknown email the same answer as a wrong password", async () => {
    const u = await registerUser();
    const unknown = await api<Problem>("POST", "/v1/auth/login", {
      body: { email: uniqueEmail(), password: "whatever it is" },
    });
    const wrong = await api<Problem>("POST", "/v1/auth/login", {
      body: { email: u.email, password: "whatever it is" },
    });
    expect(unknown.status).toBe(401);
    expect(unknown.body.detail).toBe(wrong.body.detail);
  });
});

describe("POST /v1/auth/logout-all", () => {
  it("revokes every session of the account, on every device, with an audit row", async () => {
    const u = await registerUser();
    const other = await api<{ session: { refreshToken: string } }>("POST", "/v1/auth/login", {
      body: { email: u.email, password: u.password },
    });
    expect(other.status).toBe(200);

    const res = await api("POST", "/v1/auth/logout-all", { token: u.accessToken });

    expect(res.status).toBe(204);
    for (const refreshToken of [u.refreshToken, other.body.session.refreshToken]) {
      const renewed = await api<Problem>("POST", "/v1/auth/refresh", { body: { refreshToken } });
      expect(renewed.status).toBe(401);
    }
    expect(await auditRows(u.id, { action: "user.signed_out_everywhere" })).toHaveLength(1);
  });

  it("needs a signed-in caller", async () => {
    expect((await api("POST", "/v1/auth/logout-all")).status).toBe(401);
  });
});
