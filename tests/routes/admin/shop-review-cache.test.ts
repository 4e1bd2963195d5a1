import { describe, expect, it } from "vitest";
import {
  createProduct,
  hasRedis,
  type ListedProduct,
  type Page,
  seedCategory,
  seedVisibleShop,
  uniqueWord,
} from "../../helpers/catalog.ts";
import { api } from "../../helpers/http.ts";
import { createAdmin } from "../../helpers/shops.ts";

describe.skipIf(!hasRedis)("admin review and the catalog cache", () => {
  it("a suspended shop's products leave cached pages at once, not after the TTL", async () => {
    const shop = await seedVisibleShop();
    const category = await seedCategory();
    const word = uniqueWord();
    const product = await createProduct(shop.owner.accessToken, {
      shopId: shop.id,
      categoryId: category.id,
      title: `Vase ${word}`,
    });
    // Warm both caches and prove they are warm.
    for (let i = 0; i < 2; i++) {
      await api("GET", `/v1/products/${product.id}`);
      await api("GET", `/v1/products?q=${word}`);
    }
    expect((await api("GET", `/v1/products/${product.id}`)).headers.get("x-cache")).toBe("hit");

    const admin = await createAdmin();
    const suspend = await api("POST", `/v1/admin/shops/${shop.id}/suspend`, {
      token: admin.accessToken,
      body: { reason: "Counterfeit goods reported" },
    });
    expect(suspend.status).toBe(200);

    expect((await api("GET", `/v1/products/${product.id}`)).status).toBe(404);
    const list = await api<Page<ListedProduct>>("GET", `/v1/products?q=${word}`);
    expect(list.body.items).toEqual([]);
  });
});
