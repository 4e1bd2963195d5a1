import { describe, expect, it } from "vitest";
import { uuidv7 } from "../../../src/lib/ids.ts";
import { MAX_IMPORT_BYTES } from "../../../src/services/inventory/import.ts";
import { type ApiResponse, api, type Problem } from "../../helpers/http.ts";
import {
  flush,
  levelAt,
  mirrorOf,
  product,
  type StockShop,
  setStock,
  stockOf,
  stockShop,
  stub,
} from "../../helpers/seller-stock.ts";
import { registerUser } from "../../helpers/users.ts";

interface Summary {
  operationId: string;
  rows: number;
  products: number;
  locations: number;
  changed: number;
  thresholdsSet: number;
}

interface RowProblem {
  row: number;
  column: string | null;
  reason: string;
}

type ImportResponse = ApiResponse<
  Summary & Problem & { rows: RowProblem[] | number; lines?: Array<{ row: number }> }
>;

function upload(
  token: string,
  shopId: string,
  csv: string,
  headers: Record<string, string> = {},
): Promise<ImportResponse> {
  return api("POST", `/v1/seller/inventory/import?shopId=${shopId}`, {
    token,
    body: csv,
    headers: { "content-type": "text/csv", ...headers },
  });
}

async function twoProducts(shop: StockShop) {
  const suffix = uuidv7().slice(-8);
  const mug = await product(shop, { sku: `MUG-${suffix}` });
  const bowl = await product(shop, { sku: `BOWL-${suffix}` });
  return { mug, bowl };
}

describe("POST /v1/seller/inventory/import", () => {
  it("refuses a file with bad rows, listing every row and reason, and applies nothing", async () => {
    const shop = await stockShop();
    const { mug, bowl } = await twoProducts(shop);
    await setStock(shop.owner.accessToken, mug.id, shop.warehouseId, 4);
    const before = await stub(mug.id).snapshot();
    const csv = [
      "sku,location,quantity,threshold",
      `${mug.sku},WH,10,2`,
      "NOPE-1,WH,3,",
      `${bowl.sku},MARS,3,`,
      `${bowl.sku},WH,-2,`,
      `${bowl.sku},BR1,1.5,`,
      `${mug.sku},WH,11,`,
      `${bowl.sku},WH`,
      `${bowl.sku},BR1,x1,`,
    ].join("\n");
    const res = await upload(shop.owner.accessToken, shop.id, csv);
    expect(res.status).toBe(422);
    expect(res.body.code).toBe("VALIDATION_FAILED");
    const rows = res.body.rows as RowProblem[];
    expect(rows.map((r) => [r.row, r.column])).toEqual([
      [3, "sku"],
      [4, "location"],
      [5, "quantity"],
      [6, "quantity"],
      [7, null],
      [8, null],
      [9, "quantity"],
    ]);
    expect(rows.find((r) => r.row === 7)?.reason).toMatch(/repeats .* from row 2/);
    expect(res.body.errors?.map((e) => e.field)).toContain("rows.4.location");
    expect(res.body.detail).toMatch(/row\(s\) 3, 4, 5, 6, 7, 8, 9/);
    const after = await stub(mug.id).snapshot();
    expect(after.sequence).toBe(before.sequence);
    expect(after.locations).toEqual(before.locations);
    expect((await stub(bowl.id).snapshot()).sequence).toBe(0);
  });

  it("applies a clean file as one all-or-nothing operation, thresholds included", async () => {
    const shop = await stockShop();
    const { mug, bowl } = await twoProducts(shop);
    const t = shop.manager.accessToken;
    await setStock(t, mug.id, shop.warehouseId, 9);
    const csv = `\uFEFFsku,location,quantity,threshold\r\n${mug.sku},WH,9,2\r\n${mug.sku},BR1,4,\r\n"${bowl.sku}",WH,0,1\r\n`;
    const res = await upload(t, shop.id, csv);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({
      rows: 3,
      products: 2,
      locations: 2,
      // The mug's warehouse count was already right.
      changed: 1,
      thresholdsSet: 2,
    });
    const m = await stockOf(t, mug.id);
    expect(levelAt(m, shop.warehouseId)).toMatchObject({ onHand: 9, threshold: 2 });
    expect(levelAt(m, shop.branchId)).toMatchObject({ onHand: 4, threshold: null });
    expect(levelAt(await stockOf(t, bowl.id), shop.warehouseId)).toMatchObject({
      onHand: 0,
      threshold: 1,
      low: true,
    });
    await flush(mug.id);
    const mirror = await mirrorOf(mug.id);
    expect(mirror.filter((x) => x.kind === "bulk").map((x) => x.txId)).toEqual([
      res.body.operationId,
      res.body.operationId,
    ]);
  });

  it("refuses the whole file when a count would go below what buyers hold, naming its row", async () => {
    const shop = await stockShop();
    const { mug, bowl } = await twoProducts(shop);
    const t = shop.owner.accessToken;
    await setStock(t, mug.id, shop.warehouseId, 5);
    const held = await stub(mug.id).reserve({
      productId: mug.id,
      locationId: shop.warehouseId,
      quantity: 3,
      ttlMs: 60_000,
      key: `cart-${uuidv7()}`,
    });
    expect(held.ok).toBe(true);
    const res = await upload(
      t,
      shop.id,
      `sku,location,quantity\n${bowl.sku},WH,8\n${mug.sku},WH,1\n`,
    );
    expect(res.status).toBe(409);
    expect(res.body.code).toBe("INSUFFICIENT_STOCK");
    expect(res.body.lines).toEqual([expect.objectContaining({ row: 3, available: 2 })]);
    expect(levelAt(await stockOf(t, bowl.id), shop.warehouseId)).toMatchObject({
      onHand: 0,
      reserved: 0,
    });
    expect(levelAt(await stockOf(t, mug.id), shop.warehouseId)).toMatchObject({
      onHand: 5,
      reserved: 3,
    });
  });

  it("answers staff 403 and strangers 404 before reading the file, and names bad requests", async () => {
    const shop = await stockShop();
    const { mug } = await twoProducts(shop);
    const stranger = await registerUser("seller");
    const csv = `sku,location,quantity\n${mug.sku},WH,3\n`;
    expect((await upload(shop.staff.accessToken, shop.id, csv)).status).toBe(403);
    expect((await upload(stranger.accessToken, shop.id, csv)).status).toBe(404);
    const huge = `sku,location,quantity\n${"X".repeat(1024 * 1024)}`;
    expect((await upload(stranger.accessToken, shop.id, huge)).status).toBe(404);

    const t = shop.owner.accessToken;
    const tooBig = await upload(
      t,
      shop.id,
      `sku,location,quantity\n${"X".repeat(MAX_IMPORT_BYTES)}`,
    );
    expect(tooBig.status).toBe(413);
    expect(tooBig.body.code).toBe("PAYLOAD_TOO_LARGE");
    const json = await upload(t, shop.id, csv, { "content-type": "application/json" });
    expect(json.status).toBe(422);
    expect(json.body.errors?.[0]).toMatchObject({ field: "content-type", in: "header" });
    const noShop = await api<Problem>("POST", "/v1/seller/inventory/import", {
      token: t,
      body: csv,
      headers: { "content-type": "text/csv" },
    });
    expect(noShop.status).toBe(422);
    expect(noShop.body.errors?.[0]).toMatchObject({ field: "shopId", in: "query" });
    const noHeader = await upload(t, shop.id, `${mug.sku},WH,3\n`);
    expect(noHeader.status).toBe(422);
    expect((noHeader.body.rows as RowProblem[])[0]?.row).toBe(1);
    expect((await stub(mug.id).snapshot()).sequence).toBe(0);
  });
});
