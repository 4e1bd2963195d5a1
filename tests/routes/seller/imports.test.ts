import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { products, uploadRows, uploads } from "../../../src/db/schema/index.ts";
import worker from "../../../src/index.ts";
import { auditRows } from "../../helpers/audit.ts";
import { withDb } from "../../helpers/db.ts";
import { api } from "../../helpers/http.ts";
import {
  levelAt,
  product,
  type StockShop,
  setStock,
  stockOf,
  stockShop,
} from "../../helpers/seller-stock.ts";
import { registerUser } from "../../helpers/users.ts";
import { csvOf, finished, queued, type UploadBody, upload } from "./imports-fixtures.ts";

interface Sale {
  sku: string;
  quantity: number;
  unitPriceMinor: number;
  soldAt: string;
  locationId: string;
  source: string;
  customer: { email: string | null } | null;
}

const SALES = "sku,quantity,unit_price,sold_at,location,customer_email";

async function importedSales(shop: StockShop): Promise<Sale[]> {
  const res = await api<{ items: Sale[] }>(
    "GET",
    `/v1/seller/transactions?shopId=${shop.id}&source=import&limit=100`,
    { token: shop.owner.accessToken },
  );
  expect(res.status).toBe(200);
  return res.body.items;
}

/** A shop with a product of this SKU and `onHand` units at its warehouse. */
async function withStock(onHand: number, sku = `MUG-${crypto.randomUUID().slice(0, 6)}`) {
  const shop = await stockShop();
  const p = await product(shop, { sku });
  await setStock(shop.owner.accessToken, p.id, shop.warehouseId, onHand);
  return { shop, p };
}

/** A shop whose one-row transactions upload has run. */
async function oneSaleImported() {
  const { shop, p } = await withStock(3);
  const file = csvOf(SALES, `${p.sku},1,,2026-06-01,WH,`);
  const up = await queued(shop.owner.accessToken, "transactions", shop.id, file);
  return { shop, up: await finished(shop.owner.accessToken, up.id) };
}

describe("POST /v1/seller/imports/transactions", () => {
  it("records each row as an imported sale taken from stock, and the upload succeeds", async () => {
    const { shop, p } = await withStock(10);
    const file = csvOf(
      SALES,
      `${p.sku},3,7.50,2026-06-01,WH,ana@example.test`,
      `${p.sku},2,,2026-06-02T09:30:00+02:00,WH,`,
    );

    const first = await queued(shop.manager.accessToken, "transactions", shop.id, file);
    expect(first).toMatchObject({ kind: "transactions", status: "queued", attempts: 1 });
    const done = await finished(shop.manager.accessToken, first.id);

    expect(done).toMatchObject({
      status: "succeeded",
      totalRows: 2,
      succeededRows: 2,
      failedRows: 0,
      rowErrors: [],
    });
    const sales = await importedSales(shop);
    expect(sales.map((s) => [s.quantity, s.unitPriceMinor, s.soldAt, s.source]).sort()).toEqual([
      [2, 1000, "2026-06-02T07:30:00.000Z", "import"],
      [3, 750, "2026-06-01T00:00:00.000Z", "import"],
    ]);
    const stock = await stockOf(shop.owner.accessToken, p.id);
    expect(levelAt(stock, shop.warehouseId).onHand).toBe(5);
  });

  it("names the row and column of each row it could not apply, and applies the others", async () => {
    const { shop, p } = await withStock(1);
    const file = csvOf(
      SALES,
      `${p.sku},1,5.00,2026-06-01,WH,`,
      "NO-SUCH-SKU,1,5.00,2026-06-01,WH,",
      `${p.sku},many,5.00,2026-06-01,WH,`,
      `${p.sku},1,5.001,2026-06-01,BR9,not-an-email`,
      `${p.sku},1,5.00,2026-06-01,WH,`,
    );

    const up = await queued(shop.owner.accessToken, "transactions", shop.id, file);
    const done = await finished(shop.owner.accessToken, up.id);

    expect(done).toMatchObject({
      status: "partially_failed",
      totalRows: 5,
      succeededRows: 1,
      failedRows: 4,
    });
    expect(done.rowErrors.map((e) => [e.row, e.field])).toEqual([
      [3, "sku"],
      [4, "quantity"],
      [5, "unit_price"],
      [5, "location"],
      // The last unit went with row 2.
      [6, "quantity"],
    ]);
    expect(await importedSales(shop)).toHaveLength(1);
  });

  it("keeps the file in R2 by shop and sha256, answers the first upload for the same bytes (200), and applies it once", async () => {
    const { shop, p } = await withStock(10);
    const file = csvOf(SALES, `${p.sku},4,,2026-06-01,WH,`);

    const first = await upload(shop.owner.accessToken, "transactions", shop.id, file);
    const again = await upload(shop.manager.accessToken, "transactions", shop.id, file);

    expect(first.status).toBe(202);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ created: false, upload: { id: first.body.upload.id } });
    const digest = new Uint8Array(
      await crypto.subtle.digest("SHA-256", new TextEncoder().encode(file)),
    );
    const hash = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
    expect(first.body.upload.fileHash).toBe(hash);
    expect(await (await env.UPLOADS.get(`uploads/${shop.id}/${hash}.csv`))?.text()).toBe(file);
    await finished(shop.owner.accessToken, first.body.upload.id);
    expect(await importedSales(shop)).toHaveLength(1);
    const stock = await stockOf(shop.owner.accessToken, p.id);
    expect(levelAt(stock, shop.warehouseId).onHand).toBe(6);
  });

  it("refuses a file whose header lacks a column with 422 naming it, and queues nothing", async () => {
    const shop = await stockShop();
    const res = await upload(
      shop.owner.accessToken,
      "transactions",
      shop.id,
      csvOf("sku,quantity,sold_at", "A,1,2026-06-01"),
    );
    expect(res.status).toBe(422);
    expect(res.body.errors?.map((e) => e.field)).toEqual(["rows.1.unit_price"]);
    const rows = await withDb((db) => db.select().from(uploads).where(eq(uploads.shopId, shop.id)));
    expect(rows).toEqual([]);
  });

  it("audits the upload's creation and its completion", async () => {
    const { shop, up } = await oneSaleImported();
    const audits = await auditRows(up.id, { entityType: "upload" });
    expect(audits.map((a) => [a.action, a.actorId])).toEqual([
      ["upload.created", shop.owner.id],
      ["upload.completed", null],
    ]);
  });
});

describe("POST /v1/seller/imports/{id}/retry", () => {
  it("runs only the failed rows again: a row whose SKU was missing succeeds once the product exists", async () => {
    const { shop, p } = await withStock(10);
    const later = `LATER-${crypto.randomUUID().slice(0, 6)}`;
    const file = csvOf(SALES, `${p.sku},2,,2026-06-01,WH,`, `${later},1,,2026-06-01,WH,`);
    const up = await queued(shop.owner.accessToken, "transactions", shop.id, file);
    const first = await finished(shop.owner.accessToken, up.id);
    expect(first.status).toBe("partially_failed");
    expect(first.rowErrors.map((e) => [e.row, e.field])).toEqual([[3, "sku"]]);

    const created = await product(shop, { sku: later });
    await setStock(shop.owner.accessToken, created.id, shop.warehouseId, 5);
    const retry = await api<UploadBody>("POST", `/v1/seller/imports/${up.id}/retry`, {
      token: shop.manager.accessToken,
    });
    expect(retry.status, JSON.stringify(retry.body)).toBe(202);
    expect(retry.body).toMatchObject({ status: "queued", attempts: 2 });
    const second = await finished(shop.owner.accessToken, up.id);

    expect(second).toMatchObject({ status: "succeeded", succeededRows: 2, failedRows: 0 });
    expect((await importedSales(shop)).map((s) => s.sku).sort()).toEqual([later, p.sku].sort());
    const stock = await stockOf(shop.owner.accessToken, p.id);
    expect(levelAt(stock, shop.warehouseId).onHand).toBe(8);
  });

  it("refuses to retry an upload that succeeded (409)", async () => {
    const { shop, up } = await oneSaleImported();
    const res = await api("POST", `/v1/seller/imports/${up.id}/retry`, {
      token: shop.owner.accessToken,
    });
    expect(res.status).toBe(409);
  });
});

describe("the imports queue", () => {
  it("doubles no sale when a message comes again after a crash lost the rows' outcomes", async () => {
    const { shop, p } = await withStock(10);
    const file = csvOf(SALES, `${p.sku},2,,2026-06-01,WH,`, `${p.sku},3,,2026-06-02,WH,`);
    const up = await queued(shop.owner.accessToken, "transactions", shop.id, file);
    await finished(shop.owner.accessToken, up.id);
    // The worst crash: after the sales, before their outcomes and the upload's end were written.
    await withDb(async (db) => {
      await db.delete(uploadRows).where(eq(uploadRows.uploadId, up.id));
      await db.update(uploads).set({ status: "processing" }).where(eq(uploads.id, up.id));
    });

    const batch = createMessageBatch<unknown>("imports", [
      {
        id: `again-${up.id}`,
        timestamp: new Date(),
        attempts: 2,
        body: { kind: "csv", uploadId: up.id },
      },
    ]);
    const ctx = createExecutionContext();
    await worker.queue(batch, env);
    expect((await getQueueResult(batch, ctx)).explicitAcks).toEqual([`again-${up.id}`]);

    const done = await finished(shop.owner.accessToken, up.id);
    expect(done).toMatchObject({ status: "succeeded", succeededRows: 2 });
    expect(await importedSales(shop)).toHaveLength(2);
    const stock = await stockOf(shop.owner.accessToken, p.id);
    expect(levelAt(stock, shop.warehouseId).onHand).toBe(5);
  });
});

describe("POST /v1/seller/imports/inventory", () => {
  it("creates a new SKU as a draft product, updates a known one's title and price, and sets stock", async () => {
    const { shop, p } = await withStock(1);
    const fresh = `NEW-${crypto.randomUUID().slice(0, 6)}`;
    const category = await withDb(async (db) => {
      const [row] = await db
        .select({ categoryId: products.categoryId })
        .from(products)
        .where(eq(products.id, p.id));
      return row?.categoryId;
    });
    const file = csvOf(
      "sku,title,price,currency,category,location,quantity,threshold",
      `${p.sku},Renamed mug,12.50,EUR,,WH,40,5`,
      `${fresh},Blue bowl,8,EUR,${category},BR1,7,`,
      `NEWER-${fresh},,8,EUR,,WH,1,`,
    );

    const up = await queued(shop.owner.accessToken, "inventory", shop.id, file);
    const done = await finished(shop.owner.accessToken, up.id);

    expect(done).toMatchObject({ status: "partially_failed", succeededRows: 2, failedRows: 1 });
    expect(done.rowErrors.map((e) => [e.row, e.field])).toEqual([
      [4, "title"],
      [4, "category"],
    ]);
    const rows = await withDb((db) =>
      db
        .select({
          sku: products.sku,
          title: products.title,
          price: products.priceMinor,
          status: products.status,
          id: products.id,
        })
        .from(products)
        .where(eq(products.shopId, shop.id)),
    );
    expect(rows.find((r) => r.sku === p.sku)).toMatchObject({ title: "Renamed mug", price: 1250 });
    const created = rows.find((r) => r.sku === fresh);
    expect(created).toMatchObject({ title: "Blue bowl", price: 800, status: "draft" });
    const known = levelAt(await stockOf(shop.owner.accessToken, p.id), shop.warehouseId);
    expect(known).toMatchObject({ onHand: 40, threshold: 5 });
    const made = levelAt(await stockOf(shop.owner.accessToken, created?.id ?? ""), shop.branchId);
    expect(made.onHand).toBe(7);
  });
});

describe("GET /v1/seller/imports", () => {
  it("lists the shop's uploads newest first, by status, and by kind under the kind's path", async () => {
    const { shop, up } = await oneSaleImported();
    const bad = await queued(
      shop.owner.accessToken,
      "inventory",
      shop.id,
      csvOf("sku,location,quantity", "NEW-SKU,WH,3"),
    );
    await finished(shop.owner.accessToken, bad.id);
    const ids = async (path: string) => {
      const res = await api<{ items: UploadBody[] }>("GET", path, {
        token: shop.manager.accessToken,
      });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return res.body.items.map((u) => u.id);
    };

    expect(await ids(`/v1/seller/imports?shopId=${shop.id}`)).toEqual([bad.id, up.id]);
    expect(await ids(`/v1/seller/imports?shopId=${shop.id}&status=failed`)).toEqual([bad.id]);
    expect(await ids(`/v1/seller/imports/transactions?shopId=${shop.id}`)).toEqual([up.id]);
  });
});

describe("who may upload and read uploads", () => {
  it("answers 404 to a stranger and 403 to the shop's staff", async () => {
    const { shop, p } = await withStock(3);
    const file = csvOf(SALES, `${p.sku},1,,2026-06-01,WH,`);
    const stranger = await registerUser("seller");

    const byStranger = await upload(stranger.accessToken, "transactions", shop.id, file);
    const byStaff = await upload(shop.staff.accessToken, "inventory", shop.id, file);
    expect(byStranger.status).toBe(404);
    expect(byStaff.status).toBe(403);

    const up = await queued(shop.owner.accessToken, "transactions", shop.id, file);
    const read = (token: string) => api("GET", `/v1/seller/imports/${up.id}`, { token });
    expect((await read(stranger.accessToken)).status).toBe(404);
    expect((await read(shop.staff.accessToken)).status).toBe(403);
    const list = await api("GET", `/v1/seller/imports?shopId=${shop.id}`, {
      token: stranger.accessToken,
    });
    expect(list.status).toBe(404);
  });
});
