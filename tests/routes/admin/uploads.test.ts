import { describe, expect, it } from "vitest";
import { api } from "../../helpers/http.ts";
import { product, setStock, stockShop } from "../../helpers/seller-stock.ts";
import { createAdmin } from "../../helpers/shops.ts";
import { csvOf, finished, queued, type UploadBody } from "../seller/imports-fixtures.ts";

type Page = { items: UploadBody[]; nextCursor: string | null };

describe("GET /v1/admin/uploads", () => {
  it("lists the uploads with failed rows of every shop, and shows one with its row errors", async () => {
    const [admin, shop] = await Promise.all([createAdmin(), stockShop()]);
    const p = await product(shop);
    await setStock(shop.owner.accessToken, p.id, shop.warehouseId, 5);
    const header = "sku,quantity,unit_price,sold_at,location";
    const good = await queued(
      shop.owner.accessToken,
      "transactions",
      shop.id,
      csvOf(header, `${p.sku},1,,2026-06-01,WH`),
    );
    const bad = await queued(
      shop.owner.accessToken,
      "transactions",
      shop.id,
      csvOf(header, "GONE,1,,2026-06-01,WH"),
    );
    await Promise.all([
      finished(shop.owner.accessToken, good.id),
      finished(shop.owner.accessToken, bad.id),
    ]);

    const failing = await api<Page>(
      "GET",
      `/v1/admin/uploads?shopId=${shop.id}&status=failed,partially_failed`,
      { token: admin.accessToken },
    );
    const all = await api<Page>("GET", `/v1/admin/uploads?shopId=${shop.id}`, {
      token: admin.accessToken,
    });
    const one = await api<UploadBody>("GET", `/v1/admin/uploads/${bad.id}`, {
      token: admin.accessToken,
    });

    expect(failing.status).toBe(200);
    expect(failing.body.items.map((u) => [u.id, u.status])).toEqual([[bad.id, "failed"]]);
    expect(all.body.items.map((u) => u.id)).toEqual([bad.id, good.id]);
    expect(one.body.rowErrors).toEqual([
      { row: 2, field: "sku", message: "is not a live product of this shop" },
    ]);
  });

  it("is for admins only (403), and names a status it does not know (422)", async () => {
    const [admin, shop] = await Promise.all([createAdmin(), stockShop()]);
    const asOwner = await api("GET", "/v1/admin/uploads", { token: shop.owner.accessToken });
    const unknown = await api<{ errors: Array<{ field: string }> }>(
      "GET",
      "/v1/admin/uploads?status=failed,lost",
      { token: admin.accessToken },
    );
    expect(asOwner.status).toBe(403);
    expect(unknown.status).toBe(422);
    expect(unknown.body.errors.map((e) => e.field)).toEqual(["status"]);
  });
});
