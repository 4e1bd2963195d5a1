import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { auditLog, shopMembers } from "../../../src/db/schema/index.ts";
import { withDb } from "../../helpers/db.ts";
import { api, type Problem } from "../../helpers/http.ts";
import { createAdmin, seedMember, seedShop } from "../../helpers/shops.ts";
import { registerUser, type TestUser } from "../../helpers/users.ts";
import { eventually } from "./support.ts";

interface Member {
  userId: string;
  email: string;
  role: string;
}

const add = (by: TestUser, shopId: string, body: unknown) =>
  api<Member & Problem>("POST", `/v1/shops/${shopId}/staff`, { token: by.accessToken, body });
const team = (by: TestUser, shopId: string) =>
  api<{ items: Member[] } & Problem>("GET", `/v1/shops/${shopId}/staff`, {
    token: by.accessToken,
  });

describe("/v1/shops/{id}/staff", () => {
  it("lets the owner add a manager and a staff member by email, audited, and tells them", async () => {
    const shop = await seedShop({ status: "pending" });
    const manager = await registerUser("seller");
    const staff = await registerUser("buyer");
    const m = await add(shop.owner, shop.id, {
      email: manager.email.toUpperCase(),
      role: "manager",
    });
    expect(m.status).toBe(201);
    expect(m.body).toMatchObject({ userId: manager.id, email: manager.email, role: "manager" });
    expect((await add(shop.owner, shop.id, { email: staff.email, role: "staff" })).status).toBe(
      201,
    );
    const list = await team(shop.owner, shop.id);
    expect(list.body.items.map((x) => [x.userId, x.role])).toEqual([
      [shop.owner.id, "owner"],
      [manager.id, "manager"],
      [staff.id, "staff"],
    ]);
    const audits = await withDb((db) =>
      db
        .select()
        .from(auditLog)
        .where(and(eq(auditLog.entityId, shop.id), eq(auditLog.action, "shop.member.added"))),
    );
    expect(audits).toHaveLength(2);
    const inbox = await eventually(async () => {
      const res = await api<{ items: Array<{ kind: string }> }>("GET", "/v1/notifications", {
        token: staff.accessToken,
      });
      return res.body.items.length > 0 ? res.body.items : undefined;
    });
    expect(inbox[0]?.kind).toBe("shop.member.added");
  });

  it("gives the new members their permissions: they see the hidden shop and the team", async () => {
    const shop = await seedShop({ status: "pending" });
    const staff = await registerUser("buyer");
    expect((await api("GET", `/v1/shops/${shop.id}`, { token: staff.accessToken })).status).toBe(
      404,
    );
    await add(shop.owner, shop.id, { email: staff.email, role: "staff" });
    const seen = await api<{ myRole: string }>("GET", `/v1/shops/${shop.id}`, {
      token: staff.accessToken,
    });
    expect(seen.status).toBe(200);
    expect(seen.body.myRole).toBe("staff");
    expect((await team(staff, shop.id)).status).toBe(200);
    const mine = await api<{ items: Array<{ id: string }> }>("GET", "/v1/seller/shops", {
      token: staff.accessToken,
    });
    expect(mine.body.items.map((s) => s.id)).toEqual([shop.id]);
  });

  it("removes a member, audited; the removed member loses access", async () => {
    const shop = await seedShop({ status: "pending" });
    const manager = await registerUser("seller");
    await seedMember(shop.id, manager, "manager");
    const res = await api("DELETE", `/v1/shops/${shop.id}/staff/${manager.id}`, {
      token: shop.owner.accessToken,
    });
    expect(res.status).toBe(204);
    expect((await api("GET", `/v1/shops/${shop.id}`, { token: manager.accessToken })).status).toBe(
      404,
    );
    expect((await team(manager, shop.id)).status).toBe(404);
    const again = await api("DELETE", `/v1/shops/${shop.id}/staff/${manager.id}`, {
      token: shop.owner.accessToken,
    });
    expect(again.status).toBe(404);
    const audits = await withDb((db) =>
      db
        .select()
        .from(auditLog)
        .where(and(eq(auditLog.entityId, shop.id), eq(auditLog.action, "shop.member.removed"))),
    );
    expect(audits).toHaveLength(1);
    expect(audits[0]?.oldValue).toEqual({ userId: manager.id, role: "manager" });
  });

  it("never removes the owner (409), even at the owner's own request", async () => {
    const shop = await seedShop({ status: "pending" });
    const res = await api<Problem>("DELETE", `/v1/shops/${shop.id}/staff/${shop.owner.id}`, {
      token: shop.owner.accessToken,
    });
    expect(res.status).toBe(409);
    const rows = await withDb((db) =>
      db.select().from(shopMembers).where(eq(shopMembers.shopId, shop.id)),
    );
    expect(rows).toHaveLength(1);
  });

  it("refuses team changes by staff and managers (403) and by non-members (404)", async () => {
    const shop = await seedShop({ status: "approved" });
    const staff = await registerUser("buyer");
    const manager = await registerUser("seller");
    await seedMember(shop.id, staff, "staff");
    await seedMember(shop.id, manager, "manager");
    const stranger = await registerUser("seller");
    const admin = await createAdmin();
    const target = await registerUser("buyer");
    for (const [who, expected] of [
      [staff, 403],
      [manager, 403],
      [stranger, 404],
      [admin, 404],
    ] as const) {
      const added = await add(who, shop.id, { email: target.email, role: "staff" });
      expect(added.status).toBe(expected);
      const removed = await api("DELETE", `/v1/shops/${shop.id}/staff/${staff.id}`, {
        token: who.accessToken,
      });
      expect(removed.status).toBe(expected);
    }
    // Reading the team is for members only; the shop is public, its team is not.
    expect((await team(stranger, shop.id)).status).toBe(404);
    expect((await team(staff, shop.id)).status).toBe(200);
  });

  it("answers 422 naming email for an unknown account, and 409 for an existing member", async () => {
    const shop = await seedShop({ status: "pending" });
    const unknown = await add(shop.owner, shop.id, {
      email: "nobody-here@example.test",
      role: "staff",
    });
    expect(unknown.status).toBe(422);
    expect(unknown.body.errors?.[0]).toMatchObject({ field: "email", in: "body" });
    const member = await registerUser("buyer");
    expect((await add(shop.owner, shop.id, { email: member.email, role: "staff" })).status).toBe(
      201,
    );
    const twice = await add(shop.owner, shop.id, { email: member.email, role: "manager" });
    expect(twice.status).toBe(409);
    const self = await add(shop.owner, shop.id, { email: shop.owner.email, role: "manager" });
    expect(self.status).toBe(409);
  });

  it("names malformed fields with 422", async () => {
    const shop = await seedShop({ status: "pending" });
    const res = await add(shop.owner, shop.id, { email: "nope", role: "owner" });
    expect(res.status).toBe(422);
    expect(res.body.errors?.map((e) => e.field).sort()).toEqual(["email", "role"]);
    const badParam = await api<Problem>("DELETE", `/v1/shops/${shop.id}/staff/not-a-uuid`, {
      token: shop.owner.accessToken,
    });
    expect(badParam.status).toBe(422);
    expect(badParam.body.errors?.[0]).toMatchObject({ field: "userId", in: "path" });
  });
});
