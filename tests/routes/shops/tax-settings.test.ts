import { describe, expect, it } from "vitest";
import { auditRows } from "../../helpers/audit.ts";
import { seedCategory } from "../../helpers/catalog.ts";
import { api, type Problem } from "../../helpers/http.ts";
import { seedMember, seedShop } from "../../helpers/shops.ts";
import { registerUser } from "../../helpers/users.ts";

interface TaxRates {
  pricesIncludeTax: boolean;
  defaultRateBps: number;
  categories: Array<{ categoryId: string; rateBps: number }>;
}

describe("shop tax settings", () => {
  it("lets the owner set the tax mode and default rate, audited old and new", async () => {
    const shop = await seedShop();
    const res = await api<Record<string, unknown>>("PATCH", `/v1/shops/${shop.id}`, {
      token: shop.owner.accessToken,
      body: { pricesIncludeTax: true, taxRateBps: 1700 },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ pricesIncludeTax: true, taxRateBps: 1700 });
    const [row] = await auditRows(shop.id, { action: "shop.updated" });
    expect(row?.oldValue).toEqual({ pricesIncludeTax: false, taxRateBps: 0 });
    expect(row?.newValue).toEqual({ pricesIncludeTax: true, taxRateBps: 1700 });
  });

  it("keeps tax settings with the owner and refuses a rate over 100%, naming the field", async () => {
    const shop = await seedShop();
    const manager = await registerUser("seller");
    await seedMember(shop.id, manager, "manager");
    const byManager = await api("PATCH", `/v1/shops/${shop.id}`, {
      token: manager.accessToken,
      body: { taxRateBps: 1700 },
    });
    expect(byManager.status).toBe(403);
    const tooHigh = await api<Problem>("PATCH", `/v1/shops/${shop.id}`, {
      token: shop.owner.accessToken,
      body: { taxRateBps: 10_001 },
    });
    expect(tooHigh.status).toBe(422);
    expect(tooHigh.body.errors?.[0]?.field).toBe("taxRateBps");
  });

  it("sets, lists and removes a category's own rate (owner), each change audited", async () => {
    const [shop, category] = await Promise.all([seedShop(), seedCategory()]);
    const path = `/v1/seller/shops/${shop.id}/tax-rates`;
    const token = shop.owner.accessToken;
    expect(
      (await api("PUT", `${path}/${category.id}`, { token, body: { rateBps: 800 } })).status,
    ).toBe(200);
    expect(
      (await api("PUT", `${path}/${category.id}`, { token, body: { rateBps: 500 } })).status,
    ).toBe(200);
    const listed = await api<TaxRates>("GET", path, { token });
    expect(listed.body).toMatchObject({
      pricesIncludeTax: false,
      defaultRateBps: 0,
      categories: [{ categoryId: category.id, rateBps: 500 }],
    });

    expect((await api("DELETE", `${path}/${category.id}`, { token })).status).toBe(204);
    expect((await api<TaxRates>("GET", path, { token })).body.categories).toEqual([]);
    expect((await api("DELETE", `${path}/${category.id}`, { token })).status).toBe(404);

    const audit = await auditRows(shop.id);
    expect(
      audit
        .filter((r) => r.action.startsWith("shop.tax_rate"))
        .map((r) => [r.action, r.oldValue, r.newValue]),
    ).toEqual([
      [
        "shop.tax_rate_set",
        { categoryId: category.id, rateBps: null },
        { categoryId: category.id, rateBps: 800 },
      ],
      [
        "shop.tax_rate_set",
        { categoryId: category.id, rateBps: 800 },
        { categoryId: category.id, rateBps: 500 },
      ],
      [
        "shop.tax_rate_removed",
        { categoryId: category.id, rateBps: 500 },
        { categoryId: category.id, rateBps: null },
      ],
    ]);
  });

  it("lets only the owner change category rates, and knows no unknown category", async () => {
    const [shop, category] = await Promise.all([seedShop(), seedCategory()]);
    const manager = await registerUser("seller");
    await seedMember(shop.id, manager, "manager");
    const path = `/v1/seller/shops/${shop.id}/tax-rates`;
    const byManager = await api("PUT", `${path}/${category.id}`, {
      token: manager.accessToken,
      body: { rateBps: 800 },
    });
    expect(byManager.status).toBe(403);
    expect((await api("GET", path, { token: manager.accessToken })).status).toBe(200);
    const stranger = await registerUser("seller");
    expect((await api("GET", path, { token: stranger.accessToken })).status).toBe(404);
    const unknown = await api("PUT", `${path}/${crypto.randomUUID()}`, {
      token: shop.owner.accessToken,
      body: { rateBps: 800 },
    });
    expect(unknown.status).toBe(404);
    const bad = await api<Problem>("PUT", `${path}/${category.id}`, {
      token: shop.owner.accessToken,
      body: { rateBps: -1 },
    });
    expect(bad.status).toBe(422);
    expect(bad.body.errors?.[0]?.field).toBe("rateBps");
  });
});
