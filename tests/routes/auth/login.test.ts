import { describe, expect, it } from "vitest";
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
