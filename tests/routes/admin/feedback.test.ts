import { describe, expect, it } from "vitest";
import { api, type Problem } from "../../helpers/http.ts";
import { createAdmin } from "../../helpers/shops.ts";
import { registerUser } from "../../helpers/users.ts";

interface Feedback {
  id: string;
  userId: string;
  rating: number;
  comment: string;
  category: string | null;
}
interface FeedbackPage {
  items: Feedback[];
  nextCursor: string | null;
}

describe("GET /v1/admin/feedback", () => {
  it("lists platform feedback to admins only, newest first, by rating, category and since", async () => {
    const [admin, alice, bob] = await Promise.all([
      createAdmin(),
      registerUser(),
      registerUser("seller"),
    ]);
    const since = encodeURIComponent(new Date(Date.now() - 1000).toISOString());
    // A category no other test uses, so the list holds only these.
    const category = `test-${crypto.randomUUID().slice(0, 8)}`;
    const leave = async (token: string, rating: number, comment: string) => {
      const res = await api<Feedback>("POST", "/v1/feedback", {
        token,
        body: { rating, comment, category },
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      return res.body.id;
    };
    const older = await leave(alice.accessToken, 2, "Checkout asked twice for my card");
    const newer = await leave(bob.accessToken, 5, "Listing a product was quick");
    const list = (qs: string) =>
      api<FeedbackPage & Problem>("GET", `/v1/admin/feedback?category=${category}&${qs}`, {
        token: admin.accessToken,
      });

    const first = await list(`since=${since}&limit=1`);
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.body.items).toEqual([
      expect.objectContaining({ id: newer, userId: bob.id, rating: 5, category }),
    ]);
    const second = await list(`since=${since}&limit=1&cursor=${first.body.nextCursor}`);
    expect(second.body.items.map((f) => [f.id, f.userId, f.comment])).toEqual([
      [older, alice.id, "Checkout asked twice for my card"],
    ]);
    expect(second.body.nextCursor).toBeNull();

    expect((await list("rating=2")).body.items.map((f) => f.id)).toEqual([older]);
    const later = encodeURIComponent(new Date(Date.now() + 60_000).toISOString());
    expect((await list(`since=${later}`)).body.items).toEqual([]);
    expect((await list("rating=6")).status).toBe(422);

    expect((await api("GET", "/v1/admin/feedback", { token: alice.accessToken })).status).toBe(403);
  });
});
