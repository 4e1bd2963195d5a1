import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { auditLog, shopLocations, shopMembers, shops } from "../../../src/db/schema/index.ts";
import { withDb } from "../../helpers/db.ts";
import { api, type Problem } from "../../helpers/http.ts";
import { type CreatedShop, createShopViaApi, shopBody } from "../../helpers/shop-support.ts";
import { createAdmin } from "../../helpers/shops.ts";
import { registerUser } from "../../helpers/users.ts";

describe("POST /v1/shops", () => {
  it("opens a pending shop with its owner, a WH warehouse and one audit row", async () => {
    const seller = await registerUser("seller");
    const body = shopBody({ contactEmail: "Owner.Shop@Example.TEST" });
    const res = await api<CreatedShop & Record<string, unknown>>("POST", "/v1/shops", {
      token: seller.accessToken,
      body,
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      slug: body.slug,
      status: "pending",
      visible: false,
      country: "PT",
      currency: "EUR",
      contactEmail: "owner.shop@example.test",
      emailVerifiedAt: null,
      myRole: "owner",
      ownerId: seller.id,
    });
    const id = res.body.id;
    await withDb(async (db) => {
      const [shop] = await db.select().from(shops).where(eq(shops.id, id));
      expect(shop?.status).toBe("pending");
      const members = await db.select().from(shopMembers).where(eq(shopMembers.shopId, id));
      expect(members).toEqual([expect.objectContaining({ userId: seller.id, role: "owner" })]);
      const locations = await db.select().from(shopLocations).where(eq(shopLocations.shopId, id));
      expect(locations).toEqual([expect.objectContaining({ kind: "warehouse", code: "WH" })]);
      const audits = await db
        .select()
        .from(auditLog)
        .where(and(eq(auditLog.entityId, id), eq(auditLog.action, "shop.created")));
      expect(audits).toHaveLength(1);
      expect(audits[0]?.actorId).toBe(seller.id);
    });
  });

  it("lets an admin open a shop too, but not a buyer (403) or an anonymous caller (401)", async () => {
    const admin = await createAdmin();
    expect(
      (await api("POST", "/v1/shops", { token: admin.accessToken, body: shopBody() })).status,
    ).toBe(201);
    const buyer = await registerUser("buyer");
    const asBuyer = await api<Problem>("POST", "/v1/shops", {
      token: buyer.accessToken,
      body: shopBody(),
    });
    expect(asBuyer.status).toBe(403);
    expect(asBuyer.body.code).toBe("FORBIDDEN");
    expect((await api("POST", "/v1/shops", { body: shopBody() })).status).toBe(401);
  });

  it("refuses a slug a live shop already uses with 409 naming the slug, and writes nothing", async () => {
    const seller = await registerUser("seller");
    const first = await createShopViaApi(seller);
    const again = await api<Problem & { errors?: Array<{ field: string }> }>("POST", "/v1/shops", {
      token: seller.accessToken,
      body: shopBody({ slug: first.slug }),
    });
    expect(again.status).toBe(409);
    expect(again.body.code).toBe("CONFLICT");
    expect(again.body.errors?.[0]?.field).toBe("slug");
    const rows = await withDb((db) => db.select().from(shops).where(eq(shops.slug, first.slug)));
    expect(rows).toHaveLength(1);
  });

  it("names every malformed field with 422", async () => {
    const seller = await registerUser("seller");
    const res = await api<Problem>("POST", "/v1/shops", {
      token: seller.accessToken,
      body: {
        name: "",
        slug: "Bad Slug!",
        contactEmail: "not-an-email",
        contactPhone: "0912345678",
        country: "Portugal",
        currency: "eur",
      },
    });
    expect(res.status).toBe(422);
    expect(res.body.code).toBe("VALIDATION_FAILED");
    expect(res.body.errors?.map((e) => e.field).sort()).toEqual([
      "contactEmail",
      "contactPhone",
      "country",
      "currency",
      "name",
      "slug",
    ]);
    for (const slug of ["ab", "a".repeat(61), "-lead", "trail-", "dou--ble"]) {
      const bad = await api<Problem>("POST", "/v1/shops", {
        token: seller.accessToken,
        body: shopBody({ slug }),
      });
      expect(bad.status, slug).toBe(422);
      expect(bad.body.errors?.map((e) => e.field)).toEqual(["slug"]);
    }
    const notJson = await api<Problem>("POST", "/v1/shops", {
      token: seller.accessToken,
      body: "{not json",
    });
    expect(notJson.status).toBe(422);
  });
});

describe("GET /v1/seller/shops", () => {
  it("lists the caller's own shops with their status and role, never anyone else's", async () => {
    const seller = await registerUser("seller");
    const a = await createShopViaApi(seller);
    const b = await createShopViaApi(seller);
    const other = await registerUser("seller");
    await createShopViaApi(other);
    const res = await api<{ items: CreatedShop[]; nextCursor: string | null }>(
      "GET",
      "/v1/seller/shops",
      { token: seller.accessToken },
    );
    expect(res.status).toBe(200);
    expect(res.body.items.map((s) => s.id)).toEqual([b.id, a.id]);
    expect(res.body.items.every((s) => s.status === "pending" && s.myRole === "owner")).toBe(true);
    const paged = await api<{ items: CreatedShop[]; nextCursor: string | null }>(
      "GET",
      "/v1/seller/shops?limit=1",
      { token: seller.accessToken },
    );
    expect(paged.body.items.map((s) => s.id)).toEqual([b.id]);
    const next = await api<{ items: CreatedShop[] }>(
      "GET",
      `/v1/seller/shops?limit=1&cursor=${paged.body.nextCursor}`,
      { token: seller.accessToken },
    );
    expect(next.body.items.map((s) => s.id)).toEqual([a.id]);
    const bad = await api<Problem>("GET", "/v1/seller/shops?limit=0&cursor=%%%", {
      token: seller.accessToken,
    });
    expect(bad.status).toBe(422);
  });
});
