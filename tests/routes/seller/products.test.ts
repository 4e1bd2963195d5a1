import { describe, expect, it } from "vitest";
import { auditActions, auditCountBy } from "../../helpers/audit.ts";
import {
  createProduct,
  listProducts,
  type Page,
  type SellerProduct,
  seedCategory,
  seedVisibleShop,
  uniqueWord,
} from "../../helpers/catalog.ts";
import { api, type Problem } from "../../helpers/http.ts";
import { seedMember } from "../../helpers/shops.ts";
import { registerUser } from "../../helpers/users.ts";

const body = (shopId: string, categoryId: string, extra: Record<string, unknown> = {}) => ({
  shopId,
  categoryId,
  title: "Cork notebook",
  description: "A5, 120 pages",
  priceMinor: 1850,
  sku: `NB-${crypto.randomUUID().slice(0, 8)}`,
  listingType: "fixed",
  ...extra,
});

describe("/v1/seller/products", () => {
  it("creates a draft in the shop's currency, edits, publishes, unpublishes and deletes it", async () => {
    const shop = await seedVisibleShop({ currency: "GBP" });
    const cat = await seedCategory();
    const t = shop.owner.accessToken;
    const created = await api<SellerProduct>("POST", "/v1/seller/products", {
      token: t,
      body: { ...body(shop.id, cat.id), currency: "USD" },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      status: "draft",
      currency: "GBP",
      priceMinor: 1850,
      publishedAt: null,
    });
    const id = created.body.id;
    expect((await api("GET", `/v1/products/${id}`)).status).toBe(404);

    const edited = await api<SellerProduct>("PATCH", `/v1/seller/products/${id}`, {
      token: t,
      body: { title: "Cork notebook, A5", attributes: { pages: 120, ruled: true } },
    });
    expect(edited.status).toBe(200);
    // A PATCH leaves out what it does not mention.
    expect(edited.body).toMatchObject({ title: "Cork notebook, A5", description: "A5, 120 pages" });

    const published = await api<SellerProduct>("POST", `/v1/seller/products/${id}/publish`, {
      token: t,
    });
    expect(published.status).toBe(200);
    expect(published.body.status).toBe("published");
    expect(published.body.publishedAt).not.toBeNull();
    expect((await api("GET", `/v1/products/${id}`)).status).toBe(200);

    const unpublished = await api<SellerProduct>("PATCH", `/v1/seller/products/${id}`, {
      token: t,
      body: { status: "draft" },
    });
    expect(unpublished.body.status).toBe("draft");
    expect((await api("GET", `/v1/products/${id}`)).status).toBe(404);

    expect((await api("DELETE", `/v1/seller/products/${id}`, { token: t })).status).toBe(204);
    expect((await api("GET", `/v1/seller/products/${id}`, { token: t })).status).toBe(404);
    expect((await api("DELETE", `/v1/seller/products/${id}`, { token: t })).status).toBe(404);

    expect(await auditActions(id)).toEqual([
      "product.created",
      "product.updated",
      "product.published",
      "product.unpublished",
      "product.deleted",
    ]);
  });

  it("lists a shop's products with drafts, filtered by status, paged", async () => {
    const shop = await seedVisibleShop();
    const cat = await seedCategory();
    const t = shop.owner.accessToken;
    const made: SellerProduct[] = [];
    for (const status of ["draft", "published", "draft"] as const) {
      made.push(await createProduct(t, { shopId: shop.id, categoryId: cat.id, status }));
    }
    const all = await api<Page<SellerProduct>>(
      "GET",
      `/v1/seller/products?shopId=${shop.id}&limit=2`,
      { token: t },
    );
    expect(all.status).toBe(200);
    const next = await api<Page<SellerProduct>>(
      "GET",
      `/v1/seller/products?shopId=${shop.id}&limit=2&cursor=${all.body.nextCursor}`,
      { token: t },
    );
    expect([...all.body.items, ...next.body.items].map((p) => p.id)).toEqual(
      made.map((p) => p.id).reverse(),
    );
    expect(next.body.nextCursor).toBeNull();
    const drafts = await api<Page<SellerProduct>>(
      "GET",
      `/v1/seller/products?shopId=${shop.id}&status=draft`,
      { token: t },
    );
    expect(drafts.body.items.map((p) => p.status)).toEqual(["draft", "draft"]);
  });

  it("lets owner and manager write, staff only read, and hides the shop from strangers", async () => {
    const shop = await seedVisibleShop();
    const cat = await seedCategory();
    const manager = await registerUser("seller");
    const staff = await registerUser("seller");
    const stranger = await registerUser("seller");
    await seedMember(shop.id, manager, "manager");
    await seedMember(shop.id, staff, "staff");
    const product = await createProduct(shop.owner.accessToken, {
      shopId: shop.id,
      categoryId: cat.id,
    });
    const p = `/v1/seller/products/${product.id}`;

    const byManager = await createProduct(manager.accessToken, {
      shopId: shop.id,
      categoryId: cat.id,
    });
    expect(byManager.shopId).toBe(shop.id);
    expect(
      (await api("PATCH", p, { token: manager.accessToken, body: { priceMinor: 999 } })).status,
    ).toBe(200);

    const writes = (token: string) => [
      api<Problem>("POST", "/v1/seller/products", { token, body: body(shop.id, cat.id) }),
      api<Problem>("PATCH", p, { token, body: { priceMinor: 1 } }),
      api<Problem>("POST", `${p}/publish`, { token }),
      api<Problem>("POST", `${p}/unpublish`, { token }),
      api<Problem>("DELETE", p, { token }),
    ];
    for (const res of await Promise.all(writes(staff.accessToken))) {
      expect(res.status).toBe(403);
      expect(res.body.code).toBe("FORBIDDEN");
    }
    const [strangerCreate, ...strangerWrites] = await Promise.all(writes(stranger.accessToken));
    expect(strangerCreate?.status).toBe(404);
    for (const res of strangerWrites) {
      expect(res.status).toBe(404);
      expect(res.body.code).toBe("NOT_FOUND");
      // Asked about a product, a stranger does not even learn which shop owns it.
      expect(res.body.detail).not.toContain(shop.id);
    }

    const reads = (token: string) => [
      api("GET", p, { token }),
      api("GET", `/v1/seller/products?shopId=${shop.id}`, { token }),
    ];
    for (const res of await Promise.all(reads(staff.accessToken))) expect(res.status).toBe(200);
    for (const res of await Promise.all(reads(stranger.accessToken))) expect(res.status).toBe(404);

    expect(await auditCountBy(staff.id, "product.updated")).toBe(0);
    expect(await auditCountBy(stranger.id, "product.updated")).toBe(0);
    expect(await auditCountBy(staff.id, "product.created")).toBe(0);
    expect(await auditCountBy(staff.id, "product.deleted")).toBe(0);
  });

  it("refuses to publish without payouts, with a clear 409 and no audit row", async () => {
    const shop = await seedVisibleShop({ payoutsEnabled: false });
    const cat = await seedCategory();
    const t = shop.owner.accessToken;
    const atOnce = await api<Problem & { reason: string }>("POST", "/v1/seller/products", {
      token: t,
      body: body(shop.id, cat.id, { status: "published" }),
    });
    expect(atOnce.status).toBe(409);
    expect(atOnce.body.detail).toMatch(/payouts/);
    expect(atOnce.body.reason).toBe("payouts_not_enabled");

    const draft = await createProduct(t, { shopId: shop.id, categoryId: cat.id, status: "draft" });
    const before = await auditCountBy(shop.owner.id);
    for (const res of [
      await api<Problem>("POST", `/v1/seller/products/${draft.id}/publish`, { token: t }),
      await api<Problem>("PATCH", `/v1/seller/products/${draft.id}`, {
        token: t,
        body: { status: "published", title: "Changed too" },
      }),
    ]) {
      expect(res.status).toBe(409);
      expect(res.body.code).toBe("CONFLICT");
    }
    expect(await auditCountBy(shop.owner.id)).toBe(before);
    const still = await api<SellerProduct>("GET", `/v1/seller/products/${draft.id}`, { token: t });
    expect(still.body).toMatchObject({ status: "draft", title: "Untitled" });
  });

  it("keeps SKUs unique per shop among live products", async () => {
    const shopA = await seedVisibleShop();
    const shopB = await seedVisibleShop();
    const cat = await seedCategory();
    const sku = `SKU-${uniqueWord()}`;
    const first = await createProduct(shopA.owner.accessToken, {
      shopId: shopA.id,
      categoryId: cat.id,
      sku,
    });
    const before = await auditCountBy(shopA.owner.id);
    const dup = await api<Problem>("POST", "/v1/seller/products", {
      token: shopA.owner.accessToken,
      body: body(shopA.id, cat.id, { sku }),
    });
    expect(dup.status).toBe(409);
    expect(dup.body.detail).toContain(sku);
    const other = await createProduct(shopA.owner.accessToken, {
      shopId: shopA.id,
      categoryId: cat.id,
    });
    const dupPatch = await api<Problem>("PATCH", `/v1/seller/products/${other.id}`, {
      token: shopA.owner.accessToken,
      body: { sku },
    });
    expect(dupPatch.status).toBe(409);
    expect(await auditCountBy(shopA.owner.id, "product.updated")).toBe(0);
    expect(await auditCountBy(shopA.owner.id)).toBe(before + 1);
    // Another shop may use it; a soft-deleted product frees it.
    await createProduct(shopB.owner.accessToken, { shopId: shopB.id, categoryId: cat.id, sku });
    await api("DELETE", `/v1/seller/products/${first.id}`, { token: shopA.owner.accessToken });
    const reused = await api("PATCH", `/v1/seller/products/${other.id}`, {
      token: shopA.owner.accessToken,
      body: { sku },
    });
    expect(reused.status).toBe(200);
  });

  it("fixes the listing type once published", async () => {
    const shop = await seedVisibleShop();
    const cat = await seedCategory();
    const t = shop.owner.accessToken;
    const draft = await createProduct(t, { shopId: shop.id, categoryId: cat.id, status: "draft" });
    const switched = await api<SellerProduct>("PATCH", `/v1/seller/products/${draft.id}`, {
      token: t,
      body: { listingType: "auction" },
    });
    expect(switched.body.listingType).toBe("auction");
    await api("POST", `/v1/seller/products/${draft.id}/publish`, { token: t });
    const refused = await api<Problem>("PATCH", `/v1/seller/products/${draft.id}`, {
      token: t,
      body: { listingType: "fixed" },
    });
    expect(refused.status).toBe(409);
    const listed = await listProducts({ shop: shop.id, listingType: "auction" });
    expect(listed.body.items.map((p) => p.id)).toEqual([draft.id]);
  });

  it("names every malformed field on create and update", async () => {
    const shop = await seedVisibleShop();
    const cat = await seedCategory();
    const t = shop.owner.accessToken;
    const before = await auditCountBy(shop.owner.id);
    const bad = await api<Problem>("POST", "/v1/seller/products", {
      token: t,
      body: {
        shopId: "not-a-uuid",
        categoryId: cat.id,
        title: "",
        priceMinor: 12.5,
        sku: "has spaces",
        imageUrls: ["http://insecure.example/a.jpg", "not a url"],
        attributes: { nested: { no: true } },
        listingType: "barter",
        status: "live",
      },
    });
    expect(bad.status).toBe(422);
    const fields = new Set(bad.body.errors?.map((e) => e.field.split(".")[0]));
    expect([...fields].sort()).toEqual([
      "attributes",
      "imageUrls",
      "listingType",
      "priceMinor",
      "shopId",
      "sku",
      "status",
      "title",
    ]);
    const fieldsOf = async (patch: unknown) => {
      const res = await api<Problem>("PATCH", `/v1/seller/products/${crypto.randomUUID()}`, {
        token: t,
        body: patch,
      });
      expect(res.status).toBe(422);
      return res.body.errors?.map((e) => e.field.split(".")[0]);
    };
    expect(await fieldsOf({ priceMinor: 0 })).toEqual(["priceMinor"]);
    expect(await fieldsOf({ priceMinor: -5 })).toEqual(["priceMinor"]);
    expect(await fieldsOf({ imageUrls: Array(11).fill("https://img.example/a.jpg") })).toEqual([
      "imageUrls",
    ]);
    expect(await fieldsOf({ categoryId: "x" })).toEqual(["categoryId"]);
    const missing = await api<Problem>("POST", "/v1/seller/products", { token: t, body: {} });
    expect(missing.body.errors?.map((e) => e.field).sort()).toEqual([
      "categoryId",
      "listingType",
      "priceMinor",
      "shopId",
      "sku",
      "title",
    ]);
    const unknownCategory = await api<Problem>("POST", "/v1/seller/products", {
      token: t,
      body: body(shop.id, crypto.randomUUID()),
    });
    expect(unknownCategory.status).toBe(422);
    expect(unknownCategory.body.errors?.[0]).toMatchObject({ field: "categoryId", in: "body" });
    const badQuery = await api<Problem>("GET", "/v1/seller/products?shopId=nope&status=gone", {
      token: t,
    });
    expect(badQuery.body.errors?.map((e) => e.field).sort()).toEqual(["shopId", "status"]);
    expect(await auditCountBy(shop.owner.id)).toBe(before);
  });
});
