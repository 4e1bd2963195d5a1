import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { feedback } from "../../../src/db/schema/index.ts";
import { auditRows } from "../../helpers/audit.ts";
import { withDb } from "../../helpers/db.ts";
import { seedOrder, waitForNotice } from "../../helpers/feedback.ts";
import { api, type Problem } from "../../helpers/http.ts";
import { seedMember, seedShop } from "../../helpers/shops.ts";
import { registerUser } from "../../helpers/users.ts";

interface Feedback {
  id: string;
  orderId: string;
  rating: number;
  comment: string;
  reply: string | null;
}
interface ShopPage {
  items: Feedback[];
  nextCursor: string | null;
  summary: { count: number; average: number | null; distribution: Record<string, number> };
}

const leave = (token: string, orderId: string, rating = 5, comment = "Lovely mug") =>
  api<Feedback & Problem>("POST", `/v1/orders/${orderId}/feedback`, {
    token,
    body: { rating, comment },
  });

describe("order feedback", () => {
  it("is left once by the buyer of a delivered order, with its audit row", async () => {
    const buyer = await registerUser();
    const other = await registerUser();
    const shop = await seedShop({ status: "approved" });
    const delivered = await seedOrder(buyer.id, shop.id, "delivered");
    const shipped = await seedOrder(buyer.id, shop.id, "shipped");

    expect((await leave(other.accessToken, delivered)).status).toBe(404);
    const early = await leave(buyer.accessToken, shipped);
    expect(early.status).toBe(409);
    expect(early.body.detail).toContain("shipped");

    const first = await leave(buyer.accessToken, delivered, 4, "Good");
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ orderId: delivered, rating: 4, comment: "Good" });
    const second = await leave(buyer.accessToken, delivered);
    expect(second.status).toBe(409);
    const rows = await auditRows(first.body.id, { entityType: "feedback" });
    expect(rows.map((r) => r.action)).toEqual(["feedback.created"]);
  });

  it("is editable by its buyer for 7 days only", async () => {
    const buyer = await registerUser();
    const other = await registerUser();
    const shop = await seedShop({ status: "approved" });
    const orderId = await seedOrder(buyer.id, shop.id);
    const left = await leave(buyer.accessToken, orderId, 2, "Slow");
    const id = left.body.id;
    const edit = (token: string, body: unknown) =>
      api<Feedback & Problem>("PATCH", `/v1/feedback/orders/${id}`, { token, body });

    expect((await edit(other.accessToken, { rating: 1 })).status).toBe(404);
    const changed = await edit(buyer.accessToken, { rating: 4 });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ rating: 4, comment: "Slow" });
    const empty = await edit(buyer.accessToken, {});
    expect(empty.status).toBe(422);

    await withDb((db) =>
      db
        .update(feedback)
        .set({ createdAt: new Date(Date.now() - 7 * 86_400_000 - 60_000) })
        .where(eq(feedback.id, id)),
    );
    const late = await edit(buyer.accessToken, { comment: "Changed my mind" });
    expect(late.status).toBe(409);
    expect((await auditRows(id, { entityType: "feedback" })).map((r) => r.action).sort()).toEqual([
      "feedback.created",
      "feedback.updated",
    ]);
  });

  it("gets one reply from the shop's owner or manager; the buyer is told", async () => {
    const buyer = await registerUser();
    const shop = await seedShop({ status: "approved" });
    const manager = await registerUser("seller");
    const staff = await registerUser("seller");
    const outsider = await registerUser("seller");
    await seedMember(shop.id, manager, "manager");
    await seedMember(shop.id, staff, "staff");
    const orderId = await seedOrder(buyer.id, shop.id);
    const { body } = await leave(buyer.accessToken, orderId, 3, "Okay");
    const reply = (token: string, text = "Thank you!") =>
      api<Feedback & Problem>("POST", `/v1/feedback/orders/${body.id}/reply`, {
        token,
        body: { body: text },
      });

    expect((await reply(outsider.accessToken)).status).toBe(404);
    expect((await reply(buyer.accessToken)).status).toBe(404);
    expect((await reply(staff.accessToken)).status).toBe(403);
    const done = await reply(manager.accessToken);
    expect(done.status).toBe(200);
    expect(done.body.reply).toBe("Thank you!");
    expect((await reply(shop.owner.accessToken, "Again")).status).toBe(409);
    await waitForNotice(buyer.id, `feedback.replied:${body.id}`);
    expect(
      (await auditRows(body.id, { entityType: "feedback" })).map((r) => r.action).sort(),
    ).toEqual(["feedback.created", "feedback.replied"]);
  });

  it("lists a visible shop's feedback with the average and the distribution", async () => {
    const shop = await seedShop({ status: "approved" });
    const ratings = [5, 4, 4, 1];
    const ids: string[] = [];
    for (const r of ratings) {
      const buyer = await registerUser();
      const orderId = await seedOrder(buyer.id, shop.id);
      ids.push((await leave(buyer.accessToken, orderId, r)).body.id);
    }
    const first = await api<ShopPage>("GET", `/v1/shops/${shop.id}/feedback?limit=3`);
    expect(first.status).toBe(200);
    expect(first.body.summary).toEqual({
      count: 4,
      average: 3.5,
      distribution: { 1: 1, 2: 0, 3: 0, 4: 2, 5: 1 },
    });
    const rest = await api<ShopPage>(
      "GET",
      `/v1/shops/${shop.id}/feedback?limit=3&cursor=${first.body.nextCursor}`,
    );
    expect([...first.body.items, ...rest.body.items].map((f) => f.id)).toEqual([...ids].reverse());
    expect(rest.body.nextCursor).toBeNull();

    const hidden = await seedShop({ status: "suspended" });
    expect((await api("GET", `/v1/shops/${hidden.id}/feedback`)).status).toBe(404);
    const empty = await seedShop({ status: "approved" });
    const none = await api<ShopPage>("GET", `/v1/shops/${empty.id}/feedback`);
    expect(none.body.summary).toEqual({
      count: 0,
      average: null,
      distribution: { 1: 0, 2: 0, 3: 0, 4: 0, 5: 0 },
    });
  });

  it("answers 422 naming each bad field", async () => {
    const buyer = await registerUser();
    const badId = await api<Problem>("POST", "/v1/orders/nope/feedback", {
      token: buyer.accessToken,
      body: { rating: 5, comment: "Fine" },
    });
    expect(badId.status).toBe(422);
    expect(badId.body.errors?.map((e) => [e.in, e.field])).toEqual([["path", "id"]]);
    const res = await api<Problem>("POST", `/v1/orders/${crypto.randomUUID()}/feedback`, {
      token: buyer.accessToken,
      body: { rating: 6, comment: "" },
    });
    expect(res.status).toBe(422);
    expect(res.body.errors?.map((e) => e.field).sort()).toEqual(["comment", "rating"]);
  });
});

describe("POST /v1/feedback (platform)", () => {
  it("takes a rating, a comment and a category from any signed-in user, audited", async () => {
    const u = await registerUser();
    const res = await api<{ id: string; category: string | null }>("POST", "/v1/feedback", {
      token: u.accessToken,
      body: { rating: 5, comment: "Fast checkout", category: "checkout" },
    });
    expect(res.status).toBe(201);
    expect(res.body.category).toBe("checkout");
    expect(await auditRows(res.body.id, { entityType: "platform_feedback" })).toHaveLength(1);
    expect((await api("POST", "/v1/feedback", { body: { rating: 5, comment: "x" } })).status).toBe(
      401,
    );
    const bad = await api<Problem>("POST", "/v1/feedback", {
      token: u.accessToken,
      body: { rating: 0 },
    });
    expect(bad.status).toBe(422);
    expect(bad.body.errors?.map((e) => e.field).sort()).toEqual(["comment", "rating"]);
  });
});
