import { describe, expect, it } from "vitest";
import { seedOrder } from "../../helpers/feedback.ts";
import { api } from "../../helpers/http.ts";
import { createAdmin, seedShop } from "../../helpers/shops.ts";
import { registerUser } from "../../helpers/users.ts";

interface Case {
  name: string;
  method: string;
  path: string;
  body?: unknown;
  /** What a signed-in user who is not a party gets. */
  stranger: number;
  /** What an admin gets, when admins may read it. */
  admin?: number;
}

/**
 * Every community and admin route, called by a user who is neither party: the resources of
 * others are 404 (their existence is never confirmed), admin routes 403 by role.
 */
async function world() {
  const buyer = await registerUser();
  const shop = await seedShop({ status: "approved" });
  const hidden = await seedShop({ status: "suspended" });
  const orderId = await seedOrder(buyer.id, shop.id, "delivered");
  const conv = await api<{ conversation: { id: string } }>("POST", "/v1/conversations", {
    token: buyer.accessToken,
    body: { shopId: shop.id, orderId, body: "Hello" },
  });
  const fb = await api<{ id: string }>("POST", `/v1/orders/${orderId}/feedback`, {
    token: buyer.accessToken,
    body: { rating: 5, comment: "Great" },
  });
  const complaint = await api<{ id: string }>("POST", "/v1/complaints", {
    token: buyer.accessToken,
    body: {
      subject: { type: "order", id: orderId },
      category: "not_as_described",
      text: "The colour is not the one in the photos.",
    },
  });
  return {
    buyer,
    shop,
    hidden,
    orderId,
    conversationId: conv.body.conversation.id,
    feedbackId: fb.body.id,
    complaintId: complaint.body.id,
  };
}

describe("ownership: another user gets 404 on every community route", () => {
  it("holds for each route in the table; admins read conversations and complaints", async () => {
    const w = await world();
    const stranger = await registerUser("seller");
    const admin = await createAdmin();
    const cases: Case[] = [
      {
        name: "conversation",
        method: "GET",
        path: `/v1/conversations/${w.conversationId}`,
        stranger: 404,
        admin: 200,
      },
      {
        name: "messages",
        method: "GET",
        path: `/v1/conversations/${w.conversationId}/messages`,
        stranger: 404,
        admin: 200,
      },
      {
        name: "write",
        method: "POST",
        path: `/v1/conversations/${w.conversationId}/messages`,
        body: { body: "hi" },
        stranger: 404,
        admin: 403,
      },
      {
        name: "read mark",
        method: "POST",
        path: `/v1/conversations/${w.conversationId}/read`,
        stranger: 404,
        admin: 200,
      },
      {
        name: "shop inbox",
        method: "GET",
        path: `/v1/conversations?shopId=${w.shop.id}`,
        stranger: 404,
      },
      {
        name: "open about another's order",
        method: "POST",
        path: "/v1/conversations",
        body: { shopId: w.shop.id, orderId: w.orderId, body: "hi" },
        stranger: 404,
      },
      {
        name: "rate another's order",
        method: "POST",
        path: `/v1/orders/${w.orderId}/feedback`,
        body: { rating: 1, comment: "x" },
        stranger: 404,
      },
      {
        name: "edit feedback",
        method: "PATCH",
        path: `/v1/feedback/orders/${w.feedbackId}`,
        body: { rating: 1 },
        stranger: 404,
      },
      {
        name: "reply to feedback",
        method: "POST",
        path: `/v1/feedback/orders/${w.feedbackId}/reply`,
        body: { body: "x" },
        stranger: 404,
      },
      {
        name: "hidden shop's feedback",
        method: "GET",
        path: `/v1/shops/${w.hidden.id}/feedback`,
        stranger: 404,
      },
      {
        name: "complaint",
        method: "GET",
        path: `/v1/complaints/${w.complaintId}`,
        stranger: 404,
        admin: 200,
      },
      {
        name: "complain about another's order",
        method: "POST",
        path: "/v1/complaints",
        body: {
          subject: { type: "order", id: w.orderId },
          category: "fraud",
          text: "Not my order at all, really.",
        },
        stranger: 404,
      },
      {
        name: "admin complaints",
        method: "GET",
        path: "/v1/admin/complaints",
        stranger: 403,
        admin: 200,
      },
      {
        name: "assign",
        method: "POST",
        path: `/v1/admin/complaints/${w.complaintId}/assign`,
        stranger: 403,
      },
      {
        name: "resolve",
        method: "POST",
        path: `/v1/admin/complaints/${w.complaintId}/resolve`,
        body: { note: "x", outcome: "rejected" },
        stranger: 403,
      },
      { name: "audit", method: "GET", path: "/v1/admin/audit", stranger: 403, admin: 200 },
      { name: "users", method: "GET", path: "/v1/admin/users", stranger: 403, admin: 200 },
      {
        name: "user",
        method: "GET",
        path: `/v1/admin/users/${w.buyer.id}`,
        stranger: 403,
        admin: 200,
      },
    ];
    for (const c of cases) {
      const res = await api(c.method, c.path, { token: stranger.accessToken, body: c.body });
      expect(res.status, `${c.name} as a stranger`).toBe(c.stranger);
      if (c.admin !== undefined) {
        const asAdmin = await api(c.method, c.path, { token: admin.accessToken, body: c.body });
        expect(asAdmin.status, `${c.name} as an admin`).toBe(c.admin);
      }
    }
    // Nothing the stranger tried changed anything the buyer owns.
    const msgs = await api<{ items: unknown[] }>(
      "GET",
      `/v1/conversations/${w.conversationId}/messages`,
      { token: w.buyer.accessToken },
    );
    expect(msgs.body.items).toHaveLength(1);
    const mine = await api<{ items: Array<{ id: string }> }>("GET", "/v1/complaints", {
      token: stranger.accessToken,
    });
    expect(mine.body.items).toEqual([]);
  });
});

describe("/openapi.json", () => {
  it("documents every community and admin route", async () => {
    const doc = await api<{ paths: Record<string, Record<string, unknown>> }>(
      "GET",
      "/openapi.json",
    );
    expect(doc.status).toBe(200);
    const expected: Array<[string, string]> = [
      ["/v1/conversations", "post"],
      ["/v1/conversations", "get"],
      ["/v1/conversations/{id}", "get"],
      ["/v1/conversations/{id}/messages", "get"],
      ["/v1/conversations/{id}/messages", "post"],
      ["/v1/conversations/{id}/read", "post"],
      ["/v1/feedback", "post"],
      ["/v1/orders/{id}/feedback", "post"],
      ["/v1/feedback/orders/{id}", "patch"],
      ["/v1/feedback/orders/{id}/reply", "post"],
      ["/v1/shops/{id}/feedback", "get"],
      ["/v1/complaints", "post"],
      ["/v1/complaints", "get"],
      ["/v1/complaints/{id}", "get"],
      ["/v1/admin/complaints", "get"],
      ["/v1/admin/complaints/{id}/assign", "post"],
      ["/v1/admin/complaints/{id}/resolve", "post"],
      ["/v1/admin/audit", "get"],
      ["/v1/admin/users", "get"],
    ];
    for (const [path, method] of expected) {
      expect(doc.body.paths[path]?.[method], `${method} ${path}`).toBeDefined();
    }
  });
});
