import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { shops } from "../../../src/db/schema/index.ts";
import { auditRows } from "../../helpers/audit.ts";
import { withDb } from "../../helpers/db.ts";
import { eventually } from "../../helpers/eventually.ts";
import { api, type Problem } from "../../helpers/http.ts";
import { waitForMail } from "../../helpers/shop-support.ts";
import { createAdmin, seedShop } from "../../helpers/shops.ts";
import { registerUser, type TestUser } from "../../helpers/users.ts";

interface ShopOut {
  id: string;
  status: string;
  statusReason: string | null;
  visible: boolean;
}

const act = (admin: TestUser, id: string, action: string, body?: unknown) =>
  api<ShopOut & Problem>("POST", `/v1/admin/shops/${id}/${action}`, {
    token: admin.accessToken,
    body,
  });

describe("/v1/admin/shops", () => {
  it("refuses to approve a shop whose contact email is not verified (409, says why)", async () => {
    const admin = await createAdmin();
    const shop = await seedShop({ status: "pending", emailVerified: false });
    const res = await act(admin, shop.id, "approve");
    expect(res.status).toBe(409);
    expect(res.body.detail).toMatch(/email is not OTP-verified/);
    // The shop's status is a detail of its own; the problem's `status` stays the HTTP status.
    expect(res.body).toMatchObject({ status: 409, currentStatus: "pending" });
    const [row] = await withDb((db) => db.select().from(shops).where(eq(shops.id, shop.id)));
    expect(row?.status).toBe("pending");
    expect(await auditRows(shop.id, { entityType: "shop" })).toHaveLength(0);
  });

  it("approves a verified shop with one audit row (old and new status); buyers then see it", async () => {
    const admin = await createAdmin();
    const shop = await seedShop({ status: "pending", emailVerified: true });
    expect((await api("GET", `/v1/shops/${shop.id}`)).status).toBe(404);
    const res = await act(admin, shop.id, "approve");
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: "approved", visible: true });
    expect((await api("GET", `/v1/shops/${shop.id}`)).status).toBe(200);
    const audits = await auditRows(shop.id, { entityType: "shop" });
    expect(audits).toHaveLength(1);
    expect(audits[0]).toMatchObject({
      action: "shop.approved",
      actorId: admin.id,
      oldValue: expect.objectContaining({ status: "pending" }),
      newValue: expect.objectContaining({ status: "approved" }),
    });
    const again = await act(admin, shop.id, "approve");
    expect(again.status).toBe(409);
    expect(await auditRows(shop.id, { entityType: "shop" })).toHaveLength(1);
  });

  it("rejects a pending shop with a reason: one audit row, the owner is told, it stays hidden", async () => {
    const admin = await createAdmin();
    const shop = await seedShop({ status: "pending", emailVerified: true });
    const res = await act(admin, shop.id, "reject", { reason: "Photos are not of real items" });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      status: "rejected",
      statusReason: "Photos are not of real items",
    });
    expect((await api("GET", `/v1/shops/${shop.id}`)).status).toBe(404);
    const audits = await auditRows(shop.id, { entityType: "shop" });
    expect(audits).toHaveLength(1);
    expect(audits[0]).toMatchObject({
      action: "shop.rejected",
      oldValue: expect.objectContaining({ status: "pending" }),
      newValue: expect.objectContaining({
        status: "rejected",
        statusReason: "Photos are not of real items",
      }),
    });
    const inbox = await eventually(async () => {
      const r = await api<{ items: Array<{ kind: string; body: string }> }>(
        "GET",
        "/v1/notifications",
        { token: shop.owner.accessToken },
      );
      return r.body.items[0];
    });
    expect(inbox).toMatchObject({ kind: "shop.rejected" });
    expect(inbox.body).toContain("Photos are not of real items");
  });

  it("suspends an approved shop with a reason: it disappears for buyers, emails the contact", async () => {
    const admin = await createAdmin();
    const shop = await seedShop({ status: "approved" });
    expect((await api("GET", `/v1/shops/${shop.id}`)).status).toBe(200);
    const res = await act(admin, shop.id, "suspend", { reason: "Counterfeit goods reported" });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: "suspended", visible: false });
    expect((await api("GET", `/v1/shops/${shop.id}`)).status).toBe(404);
    const list = await api<{ items: unknown[] }>("GET", `/v1/shops?q=${shop.slug}`);
    expect(list.body.items).toHaveLength(0);
    // The owner still sees it, with the reason.
    const own = await api<ShopOut>("GET", `/v1/shops/${shop.id}`, {
      token: shop.owner.accessToken,
    });
    expect(own.body).toMatchObject({
      status: "suspended",
      statusReason: "Counterfeit goods reported",
    });
    const audits = await auditRows(shop.id, { entityType: "shop" });
    expect(audits.map((a) => a.action)).toEqual(["shop.suspended"]);
    const [row] = await withDb((db) => db.select().from(shops).where(eq(shops.id, shop.id)));
    const mail = await waitForMail(row?.contactEmail ?? "");
    expect(mail.subject).toMatch(/suspended/);
    // Reinstating is an approval.
    expect((await act(admin, shop.id, "approve")).status).toBe(200);
    expect((await api("GET", `/v1/shops/${shop.id}`)).status).toBe(200);
  });

  it("refuses transitions the rules do not allow, writing nothing", async () => {
    const admin = await createAdmin();
    const pending = await seedShop({ status: "pending", emailVerified: true });
    expect((await act(admin, pending.id, "suspend", { reason: "too early" })).status).toBe(409);
    const approved = await seedShop({ status: "approved" });
    expect((await act(admin, approved.id, "reject", { reason: "too late" })).status).toBe(409);
    expect(await auditRows(pending.id, { entityType: "shop" })).toHaveLength(0);
    expect(await auditRows(approved.id, { entityType: "shop" })).toHaveLength(0);
    expect((await act(admin, crypto.randomUUID(), "approve")).status).toBe(404);
  });

  it("refuses sellers and buyers every decision (403) and writes nothing", async () => {
    const shop = await seedShop({ status: "pending", emailVerified: true });
    for (const who of [shop.owner, await registerUser("buyer")]) {
      for (const [action, body] of [
        ["approve", undefined],
        ["reject", { reason: "nope nope" }],
        ["suspend", { reason: "nope nope" }],
      ] as const) {
        const res = await act(who, shop.id, action, body);
        expect(res.status, action).toBe(403);
      }
      expect((await api("GET", "/v1/admin/shops", { token: who.accessToken })).status).toBe(403);
    }
    expect(await auditRows(shop.id, { entityType: "shop" })).toHaveLength(0);
  });

  it("lists shops by status with a cursor", async () => {
    const admin = await createAdmin();
    const a = await seedShop({ status: "rejected" });
    const b = await seedShop({ status: "rejected" });
    const first = await api<{ items: ShopOut[]; nextCursor: string | null }>(
      "GET",
      "/v1/admin/shops?status=rejected&limit=1",
      { token: admin.accessToken },
    );
    expect(first.status).toBe(200);
    expect(first.body.items.map((s) => s.id)).toEqual([b.id]);
    const second = await api<{ items: ShopOut[] }>(
      "GET",
      `/v1/admin/shops?status=rejected&limit=1&cursor=${first.body.nextCursor}`,
      { token: admin.accessToken },
    );
    expect(second.body.items.map((s) => s.id)).toEqual([a.id]);
    const all = await api<{ items: ShopOut[] }>(
      "GET",
      "/v1/admin/shops?status=rejected&limit=100",
      {
        token: admin.accessToken,
      },
    );
    expect(all.body.items.every((s) => s.status === "rejected")).toBe(true);
  });

  it("names malformed input with 422: a missing or short reason, a bad status filter", async () => {
    const admin = await createAdmin();
    const shop = await seedShop({ status: "approved" });
    for (const body of [{}, { reason: " " }, { reason: 42 }]) {
      const res = await act(admin, shop.id, "suspend", body);
      expect(res.status).toBe(422);
      expect(res.body.errors?.map((e) => e.field)).toEqual(["reason"]);
    }
    const noBody = await act(admin, shop.id, "reject");
    expect(noBody.status).toBe(422);
    const badStatus = await api<Problem>("GET", "/v1/admin/shops?status=lost&cursor=", {
      token: admin.accessToken,
    });
    expect(badStatus.status).toBe(422);
    expect(badStatus.body.errors?.map((e) => e.field).sort()).toEqual(["cursor", "status"]);
    const badId = await act(admin, "nope", "approve");
    expect(badId.body.errors?.[0]).toMatchObject({ field: "id", in: "path" });
    expect(await auditRows(shop.id, { entityType: "shop" })).toHaveLength(0);
  });
});
