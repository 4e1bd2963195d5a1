import { describe, expect, it } from "vitest";
import {
  createProduct,
  type ListedProduct,
  listProducts,
  seedCategory,
  seedVisibleShop,
  uniqueWord,
} from "../../helpers/catalog.ts";
import { api, type Problem } from "../../helpers/http.ts";
import { seedShop } from "../../helpers/shops.ts";

const ids = (items: ListedProduct[]) => items.map((p) => p.id);

describe("GET /v1/products: search", () => {
  it("ranks title matches above description matches, more occurrences first", async () => {
    const shop = await seedVisibleShop();
    const cat = await seedCategory();
    const w = uniqueWord();
    const t = shop.owner.accessToken;
    const base = { shopId: shop.id, categoryId: cat.id };
    // Created in the reverse of the expected order, so "newest" would give the opposite answer.
    const inDescription = await createProduct(t, {
      ...base,
      title: "Plain stoneware bowl",
      description: `Glazed by hand, ${w} finish`,
    });
    const inTitle = await createProduct(t, { ...base, title: `${w} bowl` });
    const inTitleTwice = await createProduct(t, {
      ...base,
      title: `${w} ${w} bowl`,
      description: `The ${w} original`,
    });
    await createProduct(t, { ...base, title: "Unrelated vase", description: "nothing" });

    const res = await listProducts({ q: w });
    expect(res.status).toBe(200);
    expect(ids(res.body.items)).toEqual([inTitleTwice.id, inTitle.id, inDescription.id]);

    // Stemming: the plural finds the singular; web-search syntax excludes with "-".
    const plural = await listProducts({ q: `${w} bowls`, shop: shop.id });
    expect(ids(plural.body.items)).toEqual([inTitleTwice.id, inTitle.id, inDescription.id]);
    const excluded = await listProducts({ q: `${w} -stoneware` });
    expect(ids(excluded.body.items)).toEqual([inTitleTwice.id, inTitle.id]);
  });

  it("filters by category subtree, shop, price range, currency and listing type", async () => {
    const shopA = await seedVisibleShop();
    const shopB = await seedVisibleShop({ currency: "GBP" });
    const root = await seedCategory();
    const child = await seedCategory(root.id);
    const grandchild = await seedCategory(child.id);
    const other = await seedCategory();
    const w = uniqueWord();
    const a = shopA.owner.accessToken;
    const b = shopB.owner.accessToken;
    const p1 = await createProduct(a, {
      shopId: shopA.id,
      categoryId: root.id,
      title: `${w} one`,
      priceMinor: 500,
    });
    const p2 = await createProduct(a, {
      shopId: shopA.id,
      categoryId: grandchild.id,
      title: `${w} two`,
      priceMinor: 1500,
      listingType: "auction",
    });
    const p3 = await createProduct(b, {
      shopId: shopB.id,
      categoryId: child.id,
      title: `${w} three`,
      priceMinor: 2500,
    });
    const p4 = await createProduct(b, {
      shopId: shopB.id,
      categoryId: other.id,
      title: `${w} four`,
      priceMinor: 3500,
    });
    const sorted = (items: ListedProduct[]) => ids(items).sort();
    const check = async (params: Record<string, string | number>, expected: string[]) => {
      const res = await listProducts({ q: w, ...params });
      expect(res.status, JSON.stringify(params)).toBe(200);
      expect(sorted(res.body.items), JSON.stringify(params)).toEqual([...expected].sort());
    };
    await check({ category: root.id }, [p1.id, p2.id, p3.id]);
    await check({ category: child.slug }, [p2.id, p3.id]);
    await check({ category: grandchild.id }, [p2.id]);
    await check({ shop: shopB.id }, [p3.id, p4.id]);
    await check({ shop: shopA.slug }, [p1.id, p2.id]);
    await check({ minPrice: 1500, maxPrice: 2500 }, [p2.id, p3.id]);
    await check({ minPrice: 1501 }, [p3.id, p4.id]);
    await check({ currency: "gbp" }, [p3.id, p4.id]);
    await check({ listingType: "auction" }, [p2.id]);
    await check({ category: root.id, shop: shopA.id, listingType: "fixed" }, [p1.id]);
    await check({ category: uniqueWord() }, []);
    const listed = (await listProducts({ q: w, shop: shopB.id })).body.items[0];
    expect(listed?.currency).toBe("GBP");
    expect(listed?.shop).toMatchObject({ id: shopB.id, slug: shopB.slug, country: "PT" });
  });

  it("sorts by price both ways and by newest", async () => {
    const shop = await seedVisibleShop();
    const cat = await seedCategory();
    const w = uniqueWord();
    const made = [];
    for (const price of [700, 300, 900, 100]) {
      made.push(
        await createProduct(shop.owner.accessToken, {
          shopId: shop.id,
          categoryId: cat.id,
          title: `${w} item`,
          priceMinor: price,
        }),
      );
    }
    const prices = async (sort: string) =>
      (await listProducts({ q: w, sort })).body.items.map((p) => p.priceMinor);
    expect(await prices("price_asc")).toEqual([100, 300, 700, 900]);
    expect(await prices("price_desc")).toEqual([900, 700, 300, 100]);
    expect(ids((await listProducts({ q: w, sort: "newest" })).body.items)).toEqual(
      ids([...made].reverse() as unknown as ListedProduct[]),
    );
    // Without q the default is newest; our shop filter isolates our rows.
    expect(ids((await listProducts({ shop: shop.id })).body.items)).toEqual(
      made.map((p) => p.id).reverse(),
    );
  });

  it("pages without duplicates or gaps while products are added between pages", async () => {
    const shop = await seedVisibleShop();
    const cat = await seedCategory();
    const t = shop.owner.accessToken;
    for (const sort of ["newest", "price_asc", "price_desc", "relevance"]) {
      const w = uniqueWord();
      let n = 0;
      // Keys on both sides of any cursor: equal prices, title and description matches.
      const add = (price: number, inTitle: boolean) =>
        createProduct(t, {
          shopId: shop.id,
          categoryId: cat.id,
          title: inTitle ? `${w} item ${n++}` : `item ${n++}`,
          description: inTitle ? "" : `a ${w} inside`,
          priceMinor: price,
        });
      const original: string[] = [];
      for (let i = 0; i < 6; i++) original.push((await add(1000 + (i % 3) * 100, i % 2 === 0)).id);
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const res = await listProducts({ q: w, sort, limit: 2, cursor });
        expect(res.status, sort).toBe(200);
        seen.push(...ids(res.body.items));
        cursor = res.body.nextCursor ?? undefined;
        pages += 1;
        await add(1000 + (pages % 3) * 100, pages % 2 === 0);
        await add(1100, pages % 2 === 1);
      } while (cursor && pages < 50);
      expect(cursor, `${sort}: the walk ended`).toBeUndefined();
      expect(new Set(seen).size, `${sort}: duplicates`).toBe(seen.length);
      for (const id of original) expect(seen, `${sort}: gap`).toContain(id);
    }
  });
});

describe("GET /v1/products: visibility", () => {
  it("shows only published products of visible shops", async () => {
    const visible = await seedVisibleShop();
    const cat = await seedCategory();
    const w = uniqueWord();
    const live = await createProduct(visible.owner.accessToken, {
      shopId: visible.id,
      categoryId: cat.id,
      title: `${w} live`,
    });
    const draft = await createProduct(visible.owner.accessToken, {
      shopId: visible.id,
      categoryId: cat.id,
      title: `${w} draft`,
      status: "draft",
    });
    const deleted = await createProduct(visible.owner.accessToken, {
      shopId: visible.id,
      categoryId: cat.id,
      title: `${w} deleted`,
    });
    await api("DELETE", `/v1/seller/products/${deleted.id}`, { token: visible.owner.accessToken });
    const hidden: string[] = [];
    for (const seed of [
      { status: "pending" as const, emailVerified: true },
      { status: "approved" as const, emailVerified: false },
      { status: "suspended" as const, emailVerified: true },
      { status: "rejected" as const, emailVerified: true },
    ]) {
      const shop = await seedShop(seed);
      hidden.push(
        (
          await createProduct(shop.owner.accessToken, {
            shopId: shop.id,
            categoryId: cat.id,
            title: `${w} ${seed.status}`,
          })
        ).id,
      );
    }
    const res = await listProducts({ q: w });
    expect(ids(res.body.items)).toEqual([live.id]);
    for (const id of [draft.id, deleted.id, ...hidden]) {
      const one = await api<Problem>("GET", `/v1/products/${id}`);
      expect(one.status, id).toBe(404);
      expect(one.body.code).toBe("NOT_FOUND");
    }
  });

  it("answers the detail with a shop summary and availability from its (empty) stock", async () => {
    const shop = await seedVisibleShop();
    const cat = await seedCategory();
    const p = await createProduct(shop.owner.accessToken, {
      shopId: shop.id,
      categoryId: cat.id,
      title: "Azulejo tile",
      description: "Hand-painted",
      imageUrls: ["https://img.example/tile.jpg"],
      attributes: { color: "blue", sizeCm: 15, glazed: true },
    });
    const res = await api<Record<string, unknown>>("GET", `/v1/products/${p.id}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      id: p.id,
      title: "Azulejo tile",
      description: "Hand-painted",
      priceMinor: 1000,
      currency: "EUR",
      listingType: "fixed",
      categoryId: cat.id,
      imageUrls: ["https://img.example/tile.jpg"],
      attributes: { color: "blue", sizeCm: 15, glazed: true },
      shop: { id: shop.id, name: `Shop ${shop.slug}`, slug: shop.slug, country: "PT" },
      availability: { status: "out_of_stock", quantity: 0 },
    });
    expect(res.body).not.toHaveProperty("sku");
    expect(res.body).not.toHaveProperty("status");
  });
});

describe("GET /v1/products: bad input", () => {
  it("names each failing query parameter", async () => {
    const cases: Array<[string, string]> = [
      ["limit=0", "limit"],
      ["limit=abc", "limit"],
      ["minPrice=-1", "minPrice"],
      ["maxPrice=1.5", "maxPrice"],
      ["minPrice=500&maxPrice=100", "maxPrice"],
      ["currency=euro", "currency"],
      ["listingType=barter", "listingType"],
      ["sort=cheapest", "sort"],
      ["sort=relevance", "sort"],
      ["cursor=garbage", "cursor"],
      [`q=${"x".repeat(201)}`, "q"],
    ];
    for (const [qs, field] of cases) {
      const res = await api<Problem>("GET", `/v1/products?${qs}`);
      expect(res.status, qs).toBe(422);
      expect(res.body.code).toBe("VALIDATION_FAILED");
      expect(
        res.body.errors?.map((e) => e.field),
        qs,
      ).toContain(field);
      expect(res.body.errors?.[0]?.in, qs).toBe("query");
    }
    const badId = await api<Problem>("GET", "/v1/products/not-a-uuid");
    expect(badId.status).toBe(422);
    expect(badId.body.errors?.[0]).toMatchObject({ field: "id", in: "path" });
  });

  it("refuses a cursor from another sort", async () => {
    const shop = await seedVisibleShop();
    const cat = await seedCategory();
    for (let i = 0; i < 3; i++) {
      await createProduct(shop.owner.accessToken, { shopId: shop.id, categoryId: cat.id });
    }
    const first = await listProducts({ shop: shop.id, limit: 1 });
    const cursor = first.body.nextCursor ?? "";
    expect(cursor).not.toBe("");
    const res = await api<Problem>(
      "GET",
      `/v1/products?shop=${shop.id}&sort=price_asc&cursor=${cursor}`,
    );
    expect(res.status).toBe(422);
    expect(res.body.errors?.[0]).toMatchObject({ field: "cursor", in: "query" });
  });
});
