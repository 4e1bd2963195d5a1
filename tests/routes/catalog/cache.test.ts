import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { shops } from "../../../src/db/schema/index.ts";
import type { Redis } from "../../../src/lib/redis.ts";
import { bumpCatalogVersion, versionKey } from "../../../src/services/catalog/cache-keys.ts";
import { cachedCategoryTree } from "../../../src/services/catalog/categories.ts";
import { updateProduct } from "../../../src/services/catalog/products.ts";
import { cachedProduct, cachedProductList } from "../../../src/services/catalog/search.ts";
import type { ServiceContext } from "../../../src/services/context.ts";
import {
  createProduct,
  deadRedis,
  hasRedis,
  ns,
  type Page,
  seedCategory,
  seedVisibleShop,
  testCache,
  testRedis,
  uniqueWord,
} from "../../helpers/catalog.ts";
import { testContext } from "../../helpers/context.ts";
import { withDb } from "../../helpers/db.ts";
import { type ApiResponse, api } from "../../helpers/http.ts";

interface Detail {
  id: string;
  title: string;
  priceMinor: number;
}

const xCache = (res: ApiResponse<unknown>) => res.headers.get("x-cache");

async function versions(keys: string[]): Promise<string> {
  return JSON.stringify(await testRedis().mget(...keys));
}

/**
 * Reads `path` until a read happens with none of `keys` moving meanwhile, and expects that read
 * to be a hit. Other test files run in parallel and bump the shared counters (any product change
 * moves every list), which rightly turns a read into a miss; that is not this test's subject.
 */
async function expectHit<T>(path: string, keys: string[]): Promise<ApiResponse<T>> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const before = await versions(keys);
    const res = await api<T>("GET", path);
    if ((await versions(keys)) === before) {
      expect(xCache(res), path).toBe("hit");
      return res;
    }
  }
  throw new Error(`the cache versions of ${path} never held still`);
}

describe.skipIf(!hasRedis)("catalog cache against real Redis", () => {
  it("misses then hits a product's detail, and serves a change at once", async () => {
    const shop = await seedVisibleShop();
    const cat = await seedCategory();
    const p = await createProduct(shop.owner.accessToken, {
      shopId: shop.id,
      categoryId: cat.id,
      title: "Linen apron",
    });
    const path = `/v1/products/${p.id}`;
    const keys = [versionKey.product(ns, p.id), versionKey.shops(ns)];
    const first = await api<Detail>("GET", path);
    expect(xCache(first)).toBe("miss");
    const hit = await expectHit<Detail>(path, keys);
    expect(hit.body).toEqual(first.body);

    await api("PATCH", `/v1/seller/products/${p.id}`, {
      token: shop.owner.accessToken,
      body: { title: "Linen apron, natural" },
    });
    const fresh = await api<Detail>("GET", path);
    expect(xCache(fresh)).toBe("miss");
    expect(fresh.body.title).toBe("Linen apron, natural");
    expect((await expectHit<Detail>(path, keys)).body.title).toBe("Linen apron, natural");

    await api("POST", `/v1/seller/products/${p.id}/unpublish`, { token: shop.owner.accessToken });
    expect((await api("GET", path)).status).toBe(404);
  });

  it("misses then hits a list, and a product change or delete shows in it at once", async () => {
    const shop = await seedVisibleShop();
    const cat = await seedCategory();
    const w = uniqueWord();
    const p = await createProduct(shop.owner.accessToken, {
      shopId: shop.id,
      categoryId: cat.id,
      title: `${w} basket`,
      priceMinor: 4000,
    });
    const path = `/v1/products?q=${w}`;
    const keys = [versionKey.catalog(ns)];
    const first = await api<Page<Detail>>("GET", path);
    expect(xCache(first)).toBe("miss");
    expect(first.body.items.map((i) => i.priceMinor)).toEqual([4000]);
    await expectHit(path, keys);

    await api("PATCH", `/v1/seller/products/${p.id}`, {
      token: shop.owner.accessToken,
      body: { priceMinor: 3500 },
    });
    const changed = await api<Page<Detail>>("GET", path);
    expect(xCache(changed)).toBe("miss");
    expect(changed.body.items.map((i) => i.priceMinor)).toEqual([3500]);

    await api("DELETE", `/v1/seller/products/${p.id}`, { token: shop.owner.accessToken });
    const gone = await api<Page<Detail>>("GET", path);
    expect(xCache(gone)).toBe("miss");
    expect(gone.body.items).toEqual([]);
  });

  it("invalidates exactly: a draft's edits bump nothing, another product's change not this detail", async () => {
    const shop = await seedVisibleShop();
    const cat = await seedCategory();
    const t = shop.owner.accessToken;
    const live = await createProduct(t, { shopId: shop.id, categoryId: cat.id });
    const draft = await createProduct(t, { shopId: shop.id, categoryId: cat.id, status: "draft" });
    const redis = testRedis();
    const liveVersion = await redis.get<number>(versionKey.product(ns, live.id));
    expect(await redis.get(versionKey.product(ns, draft.id))).toBeNull();

    await api("PATCH", `/v1/seller/products/${draft.id}`, { token: t, body: { title: "Draft 2" } });
    expect(await redis.get(versionKey.product(ns, draft.id))).toBeNull();

    await api("POST", `/v1/seller/products/${draft.id}/publish`, { token: t });
    expect(await redis.get(versionKey.product(ns, draft.id))).toBe(1);
    expect(await redis.get<number>(versionKey.product(ns, live.id))).toBe(liveVersion);
    await api("GET", `/v1/products/${live.id}`);
    await expectHit(`/v1/products/${live.id}`, [
      versionKey.product(ns, live.id),
      versionKey.shops(ns),
    ]);
  });

  it("hides a product at once when its shop's visibility changes and the shop scope is bumped", async () => {
    const shop = await seedVisibleShop();
    const cat = await seedCategory();
    const w = uniqueWord();
    const p = await createProduct(shop.owner.accessToken, {
      shopId: shop.id,
      categoryId: cat.id,
      title: `${w} lamp`,
    });
    await api("GET", `/v1/products/${p.id}`);
    await api("GET", `/v1/products?q=${w}`);
    await withDb((db) =>
      db.update(shops).set({ status: "suspended" }).where(eq(shops.id, shop.id)),
    );
    // What the shops service does after committing a suspension.
    expect(await bumpCatalogVersion(testCache(), { kind: "shop", shopId: shop.id })).toBe(true);
    expect((await api("GET", `/v1/products/${p.id}`)).status).toBe(404);
    expect((await api<Page<Detail>>("GET", `/v1/products?q=${w}`)).body.items).toEqual([]);
  });

  it("caches the category tree and refreshes it when a category changes", async () => {
    const first = await api("GET", "/v1/categories");
    expect(["hit", "miss"]).toContain(xCache(first));
    await expectHit("/v1/categories", [versionKey.categories(ns)]);
    // seedCategory bumps the categories version, as the categories service does.
    const cat = await seedCategory();
    const after = await api<Array<{ id: string }>>("GET", "/v1/categories");
    expect(xCache(after)).toBe("miss");
    expect(after.body.map((c) => c.id)).toContain(cat.id);
  });
});

describe.skipIf(hasRedis)("catalog cache without Redis", () => {
  it("answers every catalog read with x-cache: bypass", async () => {
    for (const path of ["/v1/categories", "/v1/products"]) {
      const res = await api("GET", path);
      expect(res.status).toBe(200);
      expect(xCache(res)).toBe("bypass");
    }
  });
});

describe("catalog reads and writes when Redis is down", () => {
  const contextWith = async <T>(
    redis: Redis,
    actorId: string,
    fn: (ctx: ServiceContext) => Promise<T>,
  ): Promise<T> =>
    withDb((db) =>
      fn(
        testContext({
          db,
          redis,
          actor: { type: "user", id: actorId, requestId: "cache-test" },
          cache: testCache(redis),
        }),
      ),
    );

  it("serves detail, list and tree from Postgres with status bypass, and writes still commit", async () => {
    const shop = await seedVisibleShop();
    const cat = await seedCategory();
    const w = uniqueWord();
    const p = await createProduct(shop.owner.accessToken, {
      shopId: shop.id,
      categoryId: cat.id,
      title: `${w} jug`,
    });
    await contextWith(deadRedis(), shop.owner.id, async (ctx) => {
      const detail = await cachedProduct(ctx, p.id);
      expect(detail.status).toBe("bypass");
      expect(detail.value).toMatchObject({ id: p.id, title: `${w} jug` });
      const list = await cachedProductList(ctx, { q: w, limit: 20 });
      expect(list.status).toBe("bypass");
      expect(list.value.items.map((i) => i.id)).toEqual([p.id]);
      const tree = await cachedCategoryTree(ctx);
      expect(tree.status).toBe("bypass");
      expect(tree.value.map((c) => c.id)).toContain(cat.id);
      const updated = await updateProduct(ctx, shop.owner.id, p.id, { title: `${w} big jug` });
      expect(updated.title).toBe(`${w} big jug`);
    });
    const served = await api<Detail>("GET", `/v1/products/${p.id}`);
    expect(served.body.title).toBe(`${w} big jug`);
  });
});
