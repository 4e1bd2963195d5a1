import { describe, expect, it } from "vitest";
import { api, type Problem } from "../../helpers/http.ts";
import { registerUser } from "../../helpers/users.ts";

const home = {
  recipientName: "Ana Lima",
  line1: "Rua Augusta 10",
  city: "Lisboa",
  postalCode: "1100-053",
  country: "pt",
};

describe("/v1/me/addresses", () => {
  it("creates, reads, updates and soft-deletes an address", async () => {
    const u = await registerUser();
    const created = await api<{ id: string; country: string }>("POST", "/v1/me/addresses", {
      token: u.accessToken,
      body: home,
    });
    expect(created.status).toBe(201);
    expect(created.body.country).toBe("PT");
    const id = created.body.id;
    const patched = await api<{ city: string }>("PATCH", `/v1/me/addresses/${id}`, {
      token: u.accessToken,
      body: { city: "Porto" },
    });
    expect(patched.body.city).toBe("Porto");
    expect((await api("DELETE", `/v1/me/addresses/${id}`, { token: u.accessToken })).status).toBe(
      204,
    );
    expect((await api("GET", `/v1/me/addresses/${id}`, { token: u.accessToken })).status).toBe(404);
    expect((await api("DELETE", `/v1/me/addresses/${id}`, { token: u.accessToken })).status).toBe(
      404,
    );
  });

  it("answers 404 for another user's address on read, update and delete", async () => {
    const owner = await registerUser();
    const other = await registerUser();
    const created = await api<{ id: string }>("POST", "/v1/me/addresses", {
      token: owner.accessToken,
      body: home,
    });
    const path = `/v1/me/addresses/${created.body.id}`;
    for (const [method, body] of [["GET"], ["PATCH", { city: "x" }], ["DELETE"]] as const) {
      const res = await api<Problem>(method, path, { token: other.accessToken, body });
      expect(res.status, method).toBe(404);
      expect(res.body.code).toBe("NOT_FOUND");
    }
    expect((await api("GET", path, { token: owner.accessToken })).status).toBe(200);
  });

  it("keeps a single default address", async () => {
    const u = await registerUser();
    await api("POST", "/v1/me/addresses", {
      token: u.accessToken,
      body: { ...home, isDefault: true },
    });
    await api("POST", "/v1/me/addresses", {
      token: u.accessToken,
      body: { ...home, isDefault: true },
    });
    const list = await api<{ items: Array<{ isDefault: boolean }> }>("GET", "/v1/me/addresses", {
      token: u.accessToken,
    });
    expect(list.body.items.filter((a) => a.isDefault)).toHaveLength(1);
  });

  it("pages with a cursor without duplicates or gaps", async () => {
    const u = await registerUser();
    for (let i = 0; i < 5; i++) {
      await api("POST", "/v1/me/addresses", {
        token: u.accessToken,
        body: { ...home, label: `a${i}` },
      });
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const q: string = cursor ? `?limit=2&cursor=${cursor}` : "?limit=2";
      const page = await api<{ items: Array<{ label: string }>; nextCursor: string | null }>(
        "GET",
        `/v1/me/addresses${q}`,
        { token: u.accessToken },
      );
      seen.push(...page.body.items.map((a) => a.label));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(["a4", "a3", "a2", "a1", "a0"]);
  });

  it("names the failing fields: bad country, bad phone, bad id, bad cursor", async () => {
    const u = await registerUser();
    const bad = await api<Problem>("POST", "/v1/me/addresses", {
      token: u.accessToken,
      body: { ...home, country: "Portugal", phone: "12" },
    });
    expect(bad.status).toBe(422);
    expect(bad.body.errors?.map((e) => e.field).sort()).toEqual(["country", "phone"]);
    const badId = await api<Problem>("GET", "/v1/me/addresses/not-a-uuid", {
      token: u.accessToken,
    });
    expect(badId.status).toBe(422);
    expect(badId.body.errors?.[0]).toMatchObject({ field: "id", in: "path" });
    const badCursor = await api<Problem>("GET", "/v1/me/addresses?cursor=garbage", {
      token: u.accessToken,
    });
    expect(badCursor.status).toBe(422);
    expect(badCursor.body.errors?.[0]).toMatchObject({ field: "cursor", in: "query" });
  });
});

describe("/v1/me", () => {
  it("changes the display name", async () => {
    const u = await registerUser();
    const res = await api<{ displayName: string }>("PATCH", "/v1/me", {
      token: u.accessToken,
      body: { displayName: "New Name" },
    });
    expect(res.status).toBe(200);
    expect(res.body.displayName).toBe("New Name");
  });

  it("changes the password only with the current one, and signs out every session", async () => {
    const u = await registerUser();
    const wrong = await api<Problem>("PATCH", "/v1/me", {
      token: u.accessToken,
      body: { currentPassword: "not it at all", newPassword: "a brand new password" },
    });
    expect(wrong.status).toBe(422);
    expect(wrong.body.errors?.[0]?.field).toBe("currentPassword");
    const ok = await api("PATCH", "/v1/me", {
      token: u.accessToken,
      body: { currentPassword: u.password, newPassword: "a brand new password" },
    });
    expect(ok.status).toBe(200);
    expect(
      (await api("POST", "/v1/auth/refresh", { body: { refreshToken: u.refreshToken } })).status,
    ).toBe(401);
    const login = await api("POST", "/v1/auth/login", {
      body: { email: u.email, password: "a brand new password" },
    });
    expect(login.status).toBe(200);
  });
});
