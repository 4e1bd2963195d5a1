import { exports } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { receipts, salesTransactions } from "../../../src/db/schema/index.ts";
import { receiptImage } from "../../fixtures/receipts/images.ts";
import { auditActions } from "../../helpers/audit.ts";
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
import {
  act,
  edit,
  inReview,
  type ReceiptBody,
  read,
  receipt,
  uploadImage,
} from "./receipts-fixtures.ts";

/**
 * A shop selling what tests/fixtures/receipts/corner-shop.png lists, with `onHand` of each at
 * its warehouse (none when 0).
 */
async function cornerShop(onHand = 10) {
  const shop = await stockShop();
  const [tea, mug, honey] = await Promise.all([
    product(shop, { sku: "TEA-100", title: "Green tea" }),
    product(shop, { sku: "MUG-200", title: "Clay mug" }),
    product(shop, { sku: "HNY-1", title: "Honey jar" }),
  ]);
  if (onHand > 0) {
    for (const p of [tea, mug, honey]) {
      await setStock(shop.owner.accessToken, p.id, shop.warehouseId, onHand);
    }
  }
  return { shop, tea, mug, honey };
}

async function salesOf(shop: StockShop) {
  return withDb((db) =>
    db.select().from(salesTransactions).where(eq(salesTransactions.shopId, shop.id)),
  );
}

async function onHand(shop: StockShop, productId: string): Promise<number> {
  return levelAt(await stockOf(shop.owner.accessToken, productId), shop.warehouseId).onHand;
}

describe("POST /v1/seller/receipts", () => {
  // The file's first test warms workerd, then waits on the queue and a real OCR run: on two
  // busy cores that takes more than the default 30 s.
  it("reads an uploaded photo with OCR off the request into lines matched to the shop's products", {
    timeout: 90_000,
  }, async () => {
    const { shop, tea, mug, honey } = await cornerShop(0);

    const up = await uploadImage(
      shop.manager.accessToken,
      shop.id,
      receiptImage("corner-shop.png"),
    );
    expect(up.status, JSON.stringify(up.body)).toBe(202);
    expect(up.body).toMatchObject({ created: true, receipt: { status: "queued", lines: [] } });

    const done = await read(shop.manager.accessToken, up.body.receipt.id);
    expect(done.status, done.error ?? "").toBe("review");
    expect(done.lines.map((l) => [l.productId, l.quantity, l.unitPriceMinor])).toEqual([
      [tea.id, 2, 450],
      [mug.id, 1, 1250],
      [honey.id, 3, 400],
    ]);
    expect(done).toMatchObject({
      totalMinor: 3350,
      linesTotalMinor: 3350,
      soldAt: "2026-11-30T14:05:00.000Z",
    });
    expect(done.ocrText).toContain("SOUK CORNER SHOP");
  });

  it("answers the receipt it already is when the same image comes again", async () => {
    const shop = await stockShop();
    const image = receiptImage("corner-shop.png");
    const first = await uploadImage(shop.owner.accessToken, shop.id, image);
    const again = await uploadImage(shop.owner.accessToken, shop.id, image);

    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ created: false, receipt: { id: first.body.receipt.id } });
  });

  it("refuses bytes that are not the image their content type says, naming the body", async () => {
    const shop = await stockShop();
    const res = await uploadImage(shop.owner.accessToken, shop.id, new Uint8Array([1, 2, 3]));

    expect(res.status).toBe(422);
    expect(res.body.errors?.[0]?.field).toBe("body");
  });

  it("refuses a content type other than PNG or JPEG, naming the header", async () => {
    const shop = await stockShop();
    const res = await uploadImage(
      shop.owner.accessToken,
      shop.id,
      receiptImage("corner-shop.png"),
      "image/gif",
    );

    expect(res.status).toBe(422);
    expect(res.body.errors?.[0]).toMatchObject({ field: "content-type", in: "header" });
  });

  it("answers 404 to someone outside the shop and 403 to its staff", async () => {
    const shop = await stockShop();
    const stranger = await registerUser("seller");
    const image = receiptImage("corner-shop.png");

    expect((await uploadImage(stranger.accessToken, shop.id, image)).status).toBe(404);
    expect((await uploadImage(shop.staff.accessToken, shop.id, image)).status).toBe(403);
  });
});

describe("GET /v1/seller/receipts", () => {
  it("lists the shop's receipts newest first, filtered by status", async () => {
    const { shop, tea } = await cornerShop();
    const older = await inReview(shop, [{ productId: tea.id, quantity: 1 }]);
    const newer = await inReview(shop, [{ productId: tea.id, quantity: 1 }]);
    await act(shop.owner.accessToken, older, "reject");

    const all = await api<{ items: ReceiptBody[] }>(
      "GET",
      `/v1/seller/receipts?shopId=${shop.id}`,
      { token: shop.manager.accessToken },
    );
    const review = await api<{ items: ReceiptBody[] }>(
      "GET",
      `/v1/seller/receipts?shopId=${shop.id}&status=review`,
      { token: shop.manager.accessToken },
    );

    expect(all.body.items.map((r) => r.id)).toEqual([newer, older]);
    expect(review.body.items.map((r) => r.id)).toEqual([newer]);
  });
});

describe("GET /v1/seller/receipts/{id}", () => {
  it("answers 404 to someone outside the shop and 403 to its staff", async () => {
    const { shop, tea } = await cornerShop();
    const id = await inReview(shop, [{ productId: tea.id, quantity: 1 }]);
    const stranger = await registerUser("seller");

    expect((await receipt(stranger.accessToken, id)).status).toBe(404);
    expect((await receipt(shop.staff.accessToken, id)).status).toBe(403);
  });
});

describe("GET /v1/seller/receipts/{id}/image", () => {
  it("answers the photo as it was uploaded", async () => {
    const shop = await stockShop();
    const image = receiptImage("corner-shop.png");
    const up = await uploadImage(shop.owner.accessToken, shop.id, image);

    const res = await exports.default.fetch(
      `http://souk.test/v1/seller/receipts/${up.body.receipt.id}/image`,
      { headers: { authorization: `Bearer ${shop.manager.accessToken}` } },
    );

    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/png");
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(image);
  });
});

describe("PATCH /v1/seller/receipts/{id}", () => {
  it("replaces the lines, each with a new id, and sets the location and time, audited", async () => {
    const { shop, tea, mug } = await cornerShop();
    const id = await inReview(shop, [{ productId: null, quantity: 1, description: "Clay mgu" }]);

    const res = await edit(shop.manager.accessToken, id, {
      lines: [
        { description: "Clay mug", quantity: 2, unitPriceMinor: 1200, productId: mug.id },
        { description: "Green tea", quantity: 1, productId: tea.id },
      ],
      locationId: shop.warehouseId,
      soldAt: "2026-11-29T10:00:00Z",
    });

    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.lines).toMatchObject([
      { productId: mug.id, sku: "MUG-200", quantity: 2, unitPriceMinor: 1200, confidence: null },
      { productId: tea.id, sku: "TEA-100", quantity: 1, unitPriceMinor: null },
    ]);
    expect(res.body).toMatchObject({
      locationId: shop.warehouseId,
      soldAt: "2026-11-29T10:00:00.000Z",
    });
    expect(await auditActions(id)).toContain("receipt.edited");
  });

  it("refuses a product of another shop, naming the line", async () => {
    const { shop, tea } = await cornerShop();
    const other = await cornerShop();
    const id = await inReview(shop, [{ productId: tea.id, quantity: 1 }]);

    const res = await edit(shop.owner.accessToken, id, {
      lines: [{ description: "Green tea", quantity: 1, productId: other.tea.id }],
    });

    expect(res.status).toBe(422);
    expect(res.body.errors?.[0]?.field).toBe("lines.0.productId");
  });

  it("refuses to edit a receipt that is no longer in review", async () => {
    const { shop, tea } = await cornerShop();
    const id = await inReview(shop, [{ productId: tea.id, quantity: 1 }]);
    await act(shop.owner.accessToken, id, "reject");

    const res = await edit(shop.owner.accessToken, id, { soldAt: null });

    expect(res.status).toBe(409);
  });
});

describe("POST /v1/seller/receipts/{id}/confirm", () => {
  it("records each line as a sale from the receipt and takes its units out of stock, once", async () => {
    const { shop, tea, mug } = await cornerShop();
    const soldAt = new Date("2026-11-30T14:05:00Z");
    const id = await inReview(
      shop,
      [
        { productId: tea.id, quantity: 2, unitPriceMinor: 450 },
        { productId: mug.id, quantity: 1, unitPriceMinor: null },
      ],
      { locationId: shop.warehouseId, soldAt },
    );

    const first = await act(shop.manager.accessToken, id, "confirm");
    const again = await act(shop.owner.accessToken, id, "confirm");

    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.body.status).toBe("confirmed");
    expect(again.status).toBe(200);
    expect(again.body.lines.map((l) => l.saleId)).toEqual(first.body.lines.map((l) => l.saleId));
    const sales = await salesOf(shop);
    expect(sales).toHaveLength(2);
    expect(
      sales.every((s) => s.source === "receipt" && s.soldAt.getTime() === soldAt.getTime()),
    ).toBe(true);
    expect(sales.find((s) => s.productId === tea.id)).toMatchObject({
      quantity: 2,
      unitPriceMinor: 450,
    });
    expect(await onHand(shop, tea.id)).toBe(8);
    expect(await onHand(shop, mug.id)).toBe(9);
    expect(await auditActions(id)).toContain("receipt.confirmed");
  });

  it("records each line once when two of the team confirm at the same moment", async () => {
    const { shop, tea, mug } = await cornerShop();
    const id = await inReview(
      shop,
      [
        { productId: tea.id, quantity: 2 },
        { productId: mug.id, quantity: 3 },
      ],
      { locationId: shop.warehouseId },
    );

    const both = await Promise.all([
      act(shop.owner.accessToken, id, "confirm"),
      act(shop.manager.accessToken, id, "confirm"),
    ]);

    expect(both.some((r) => r.status === 200 && r.body.status === "confirmed")).toBe(true);
    expect(await salesOf(shop)).toHaveLength(2);
    expect(await onHand(shop, tea.id)).toBe(8);
    expect(await onHand(shop, mug.id)).toBe(7);
  });

  it("refuses a line that names no product, naming it, and sells nothing", async () => {
    const { shop, tea } = await cornerShop();
    const id = await inReview(
      shop,
      [
        { productId: tea.id, quantity: 1 },
        { productId: null, quantity: 1 },
      ],
      { locationId: shop.warehouseId },
    );

    const res = await act(shop.owner.accessToken, id, "confirm");

    expect(res.status).toBe(422);
    expect(res.body.errors?.[0]?.field).toBe("lines.1.productId");
    expect(await salesOf(shop)).toHaveLength(0);
  });

  it("keeps the lines recorded before a line short of stock, and records only the rest later", async () => {
    const { shop, tea, mug } = await cornerShop();
    const id = await inReview(
      shop,
      [
        { productId: tea.id, quantity: 1 },
        { productId: mug.id, quantity: 11 },
      ],
      { locationId: shop.warehouseId },
    );

    const short = await act(shop.owner.accessToken, id, "confirm");
    expect(short.status).toBe(409);
    const partly = (await receipt(shop.owner.accessToken, id)).body;
    expect(partly.status).toBe("review");
    expect(partly.lines[0]?.saleId).not.toBeNull();

    const fixed = await edit(shop.owner.accessToken, id, {
      lines: [{ description: "Clay mug", quantity: 10, productId: mug.id }],
    });
    expect(fixed.body.lines).toHaveLength(2);
    const done = await act(shop.owner.accessToken, id, "confirm");

    expect(done.body.status).toBe("confirmed");
    expect(await salesOf(shop)).toHaveLength(2);
    expect(await onHand(shop, tea.id)).toBe(9);
    expect(await onHand(shop, mug.id)).toBe(0);
  });
});

describe("POST /v1/seller/receipts/{id}/reject", () => {
  it("rejects the receipt, audited, selling nothing, and refuses to confirm it after", async () => {
    const { shop, tea } = await cornerShop();
    const id = await inReview(shop, [{ productId: tea.id, quantity: 1 }], {
      locationId: shop.warehouseId,
    });

    const res = await act(shop.manager.accessToken, id, "reject");

    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: "rejected", decidedBy: shop.manager.id });
    expect(await auditActions(id)).toContain("receipt.rejected");
    expect((await act(shop.owner.accessToken, id, "confirm")).status).toBe(409);
    expect(await salesOf(shop)).toHaveLength(0);
  });

  it("refuses while a confirmation is under way, which may be recording sales", async () => {
    const { shop, tea } = await cornerShop();
    const id = await inReview(shop, [{ productId: tea.id, quantity: 1 }]);
    // What a confirmation in progress has written before its first sale.
    await withDb((db) =>
      db.update(receipts).set({ decidedBy: shop.manager.id }).where(eq(receipts.id, id)),
    );

    expect((await act(shop.owner.accessToken, id, "reject")).status).toBe(409);
  });

  it("accepts a receipt whose confirmation was refused before any stock moved", async () => {
    const { shop, tea } = await cornerShop();
    const id = await inReview(shop, [{ productId: tea.id, quantity: 11 }], {
      locationId: shop.warehouseId,
    });
    expect((await act(shop.owner.accessToken, id, "confirm")).status).toBe(409);

    const res = await act(shop.owner.accessToken, id, "reject");

    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(await auditActions(id)).toEqual(
      expect.arrayContaining(["receipt.confirm_refused", "receipt.rejected"]),
    );
  });

  it("refuses to reject a confirmed receipt", async () => {
    const { shop, tea } = await cornerShop();
    const id = await inReview(shop, [{ productId: tea.id, quantity: 1 }], {
      locationId: shop.warehouseId,
    });
    await act(shop.owner.accessToken, id, "confirm");

    expect((await act(shop.owner.accessToken, id, "reject")).status).toBe(409);
  });
});
