import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { auditLog, shopMembers } from "../../../src/db/schema/index.ts";
import { withDb } from "../../helpers/db.ts";
import { api, type Problem } from "../../helpers/http.ts";
import { createAdmin, seedMember, seedShop } from "../../helpers/shops.ts";
import { registerUser, type TestUser } from "../../helpers/users.ts";
import { invite, inviteAndAccept } from "./invitations.ts";

interface Member {
  userId: string;
  email: string;
  role: string;
}

const team = (by: TestUser, shopId: string) =>
  api<{ items: Member[] } & Problem>("GET", `/v1/shops/${shopId}/staff`, {
    token: by.accessToken,
  });

describe("/v1/shops/{id}/staff", () => {
  it("puts invited members on the team once they accept, audited, in the order they joined", async () => {
    const shop = await seedShop({ status: "pending" });
    const manager = await registerUser("seller");
    const staff = await registerUser("buyer");
    await inviteAndAccept(shop.owner, shop.id, manager, "manager");
    await inviteAndAccept(shop.owner, shop.id, staff, "staff");
    const list = await team(shop.owner, shop.id);
    expect(list.body.items.map((x) => [x.userId, x.email, x.role])).toEqual([
      [shop.owner.id, shop.owner.email, "owner"],
      [manager.id, manager.email, "manager"],
      [staff.id, staff.email, "staff"],
    ]);
    const audits = await withDb((db) =>
      db
        .select()
        .from(auditLog)
        .where(and(eq(auditLog.entityId, shop.id), eq(auditLog.action, "shop.member.added"))),
    );
    expect(audits).toHaveLength(2);
  });

  it("gives the new members their permissions: they see the hidden shop and the team", async () => {
    const shop = await seedShop({ status: "pending" });
    const staff = await registerUser("buyer");
    expect((await api("GET", `/v1/shops/${shop.id}`, { token: staff.accessToken })).status).toBe(
      404,
    );
    await inviteAndAccept(shop.owner, shop.id, staff, "staff");
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
      const added = await invite(who, shop.id, { email: target.email, role: "staff" });
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

  it("names malformed fields with 422", async () => {
    const shop = await seedShop({ status: "pending" });
    const res = await invite(shop.owner, shop.id, { email: "nope", role: "owner" });
    expect(res.status).toBe(422);
    expect(res.body.errors?.map((e) => e.field).sort()).toEqual(["email", "role"]);
    const badParam = await api<Problem>("DELETE", `/v1/shops/${shop.id}/staff/not-a-uuid`, {
      token: shop.owner.accessToken,
    });
    expect(badParam.status).toBe(422);
    expect(badParam.body.errors?.[0]).toMatchObject({ field: "userId", in: "path" });
  });
});
