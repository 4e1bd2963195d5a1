import { describe, expect, it } from "vitest";
import { eventually } from "../../helpers/eventually.ts";
import { api, uniqueEmail } from "../../helpers/http.ts";
import { codeIn, shopBody } from "../../helpers/shop-support.ts";
import { createAdmin } from "../../helpers/shops.ts";

interface Session {
  session: { accessToken: string };
}

describe("the verified-shop flow, over HTTP alone", () => {
  it("register → open a shop → OTP from /dev/mailbox → verify → admin approves → buyers see it", async () => {
    const email = uniqueEmail("seller");
    const reg = await api<Session>("POST", "/v1/auth/register", {
      body: { email, password: "a long enough password", displayName: "Sam", role: "seller" },
    });
    expect(reg.status).toBe(201);
    const seller = reg.body.session.accessToken;

    const body = shopBody();
    const created = await api<{ id: string }>("POST", "/v1/shops", { token: seller, body });
    expect(created.status).toBe(201);
    const id = created.body.id;
    const hidden = async () => {
      expect((await api("GET", `/v1/shops/${id}`)).status).toBe(404);
      const list = await api<{ items: unknown[] }>("GET", `/v1/shops?q=${body.slug}`);
      expect(list.body.items).toHaveLength(0);
    };
    await hidden();

    const issued = await api("POST", `/v1/shops/${id}/otp`, {
      token: seller,
      body: { purpose: "email" },
    });
    expect(issued.status).toBe(202);
    await hidden();
    const mail = await eventually(async () => {
      const res = await api<{ items: Array<{ text: string }> }>(
        "GET",
        `/dev/mailbox?to=${encodeURIComponent(body.contactEmail)}`,
      );
      return res.body.items[0];
    });
    const verified = await api("POST", `/v1/shops/${id}/otp/verify`, {
      token: seller,
      body: { purpose: "email", code: codeIn(mail.text) },
    });
    expect(verified.status).toBe(200);
    await hidden();

    // Admins are made by an operator (npm run admin:create); the test helper does the same.
    const admin = await createAdmin();
    const queue = await api<{ items: Array<{ id: string }> }>(
      "GET",
      "/v1/admin/shops?status=pending&limit=100",
      { token: admin.accessToken },
    );
    expect(queue.body.items.map((s) => s.id)).toContain(id);
    const approved = await api("POST", `/v1/admin/shops/${id}/approve`, {
      token: admin.accessToken,
    });
    expect(approved.status).toBe(200);

    const seen = await api<{ id: string; name: string }>("GET", `/v1/shops/${id}`);
    expect(seen.status).toBe(200);
    expect(seen.body).toMatchObject({ id, name: body.name });
    const listed = await api<{ items: Array<{ id: string }> }>("GET", `/v1/shops?q=${body.slug}`);
    expect(listed.body.items.map((s) => s.id)).toEqual([id]);

    const inbox = await eventually(async () => {
      const res = await api<{ items: Array<{ kind: string }>; unreadCount: number }>(
        "GET",
        "/v1/notifications",
        { token: seller },
      );
      return res.body.items.length > 0 ? res.body : undefined;
    });
    expect(inbox.items[0]?.kind).toBe("shop.approved");
    expect(inbox.unreadCount).toBe(1);
  });
});
