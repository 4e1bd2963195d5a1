import { inArray } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { userStrikes, users } from "../../../src/db/schema/index.ts";
import { uuidv7 } from "../../../src/lib/ids.ts";
import { withDb } from "../../helpers/db.ts";
import { seedOrder } from "../../helpers/feedback.ts";
import { api, type Problem } from "../../helpers/http.ts";
import { createAdmin, seedShop } from "../../helpers/shops.ts";
import { registerUser } from "../../helpers/users.ts";

interface Item {
  id: string;
  email: string;
  role: string;
  blocked: boolean;
  strikeCount: number;
}
interface UserPage {
  items: Item[];
  nextCursor: string | null;
}

const list = (token: string, qs: string) =>
  api<UserPage & Problem>("GET", `/v1/admin/users?${qs}`, { token });

describe("GET /v1/admin/users", () => {
  it("searches email and display name, filters role and block state, pages newest first", async () => {
    const admin = await createAdmin();
    const marker = `Zed${crypto.randomUUID().slice(0, 8)}`;
    const a = await registerUser();
    const b = await registerUser("seller");
    const c = await registerUser();
    await withDb((db) =>
      db
        .update(users)
        .set({ displayName: `${marker} Person` })
        .where(inArray(users.id, [a.id, b.id, c.id])),
    );
    const t = admin.accessToken;
    const q = encodeURIComponent(marker.toLowerCase());

    const first = await list(t, `q=${q}&limit=2`);
    expect(first.status).toBe(200);
    expect(first.body.items.map((u) => u.id)).toEqual([c.id, b.id]);
    const rest = await list(t, `q=${q}&limit=2&cursor=${first.body.nextCursor}`);
    expect(rest.body.items.map((u) => u.id)).toEqual([a.id]);
    expect(rest.body.nextCursor).toBeNull();

    const byEmail = await list(t, `q=${encodeURIComponent(a.email.slice(0, 18).toUpperCase())}`);
    expect(byEmail.body.items.map((u) => u.id)).toEqual([a.id]);
    const sellers = await list(t, `q=${q}&role=seller`);
    expect(sellers.body.items.map((u) => u.id)).toEqual([b.id]);

    const blocked = await api("POST", `/v1/admin/users/${a.id}/block`, {
      token: t,
      body: { reason: "Repeated unpaid wins" },
    });
    expect(blocked.status).toBe(200);
    expect((await list(t, `q=${q}&blocked=true`)).body.items.map((u) => u.id)).toEqual([a.id]);
    expect((await list(t, `q=${q}&blocked=false`)).body.items.map((u) => u.id)).toEqual([
      c.id,
      b.id,
    ]);
  });

  it("counts strikes in the list and shows their history in the detail", async () => {
    const admin = await createAdmin();
    const user = await registerUser();
    const shop = await seedShop({ status: "approved" });
    const orderId = await seedOrder(user.id, shop.id, "expired");
    await withDb((db) =>
      db
        .insert(userStrikes)
        .values({ id: uuidv7(), userId: user.id, orderId, reason: "unpaid auction win" }),
    );
    const t = admin.accessToken;
    const found = await list(t, `q=${encodeURIComponent(user.email)}`);
    expect(found.body.items).toEqual([
      expect.objectContaining({ id: user.id, strikeCount: 1, blocked: false }),
    ]);
    const detail = await api<{ strikes: Array<{ orderId: string }>; blocked: boolean }>(
      "GET",
      `/v1/admin/users/${user.id}`,
      { token: t },
    );
    expect(detail.status).toBe(200);
    expect(detail.body.strikes.map((s) => s.orderId)).toEqual([orderId]);
  });

  it("is for admins only and answers 422 naming bad filters", async () => {
    const u = await registerUser();
    expect((await list(u.accessToken, "")).status).toBe(403);
    const admin = await createAdmin();
    const bad = await list(admin.accessToken, "role=king&blocked=maybe&limit=500");
    expect(bad.status).toBe(422);
    expect(bad.body.errors?.map((e) => e.field).sort()).toEqual(["blocked", "limit", "role"]);
  });
});
