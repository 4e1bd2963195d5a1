import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import type { Database } from "../../src/db/client.ts";
import { receipts } from "../../src/db/schema/receipts.ts";
import { loadConfig } from "../../src/env.ts";
import type { ServiceContext } from "../../src/services/context.ts";
import { ServiceUnavailable } from "../../src/services/errors.ts";
import { httpOcrReader } from "../../src/services/receipts/ocr-client.ts";
import { MAX_READ_ATTEMPTS, readReceipt } from "../../src/services/receipts/read.ts";
import { uploadReceipt } from "../../src/services/receipts/receipts.ts";
import { receiptImage } from "../fixtures/receipts/images.ts";
import { testContext } from "../helpers/context.ts";
import { withDb } from "../helpers/db.ts";
import { product, stockShop } from "../helpers/seller-stock.ts";

/** A context whose imports queue keeps nothing: the test runs the reading itself. */
function quietContext(db: Database, overrides: Partial<ServiceContext> = {}): ServiceContext {
  return testContext({ db, imports: { send: async () => undefined }, ...overrides });
}

/** A queued receipt of a fresh shop (selling Green tea, TEA-100) for these bytes. */
async function queuedReceipt(
  ctx: ServiceContext,
  bytes: Uint8Array,
  type: "image/png" | "image/jpeg" = "image/png",
) {
  const shop = await stockShop();
  const tea = await product(shop, { sku: "TEA-100", title: "Green tea" });
  const { receipt } = await uploadReceipt(
    ctx,
    shop.owner.id,
    shop.id,
    type,
    async () => bytes.slice().buffer,
  );
  return { id: receipt.id, tea };
}

async function stored(db: Database, id: string) {
  const [row] = await db.select().from(receipts).where(eq(receipts.id, id));
  if (!row) throw new Error(`no receipt ${id}`);
  return row;
}

/** A PNG's signature followed by bytes no decoder accepts. */
const CORRUPT_PNG = new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10, 1, 2, 3, 4, 5, 6, 7, 8]);

describe("uploadReceipt", () => {
  it("refuses with 503 when no OCR service is configured, storing nothing", async () => {
    await withDb(async (db) => {
      const config = { ...loadConfig(env), OCR_PROVIDER_URL: undefined };
      const shop = await stockShop();
      let read = false;

      const upload = uploadReceipt(
        testContext({ db, config }),
        shop.owner.id,
        shop.id,
        "image/png",
        async () => {
          read = true;
          return receiptImage("corner-shop.png").slice().buffer;
        },
      );

      await expect(upload).rejects.toBeInstanceOf(ServiceUnavailable);
      expect(read).toBe(false);
      expect(await db.select().from(receipts).where(eq(receipts.shopId, shop.id))).toEqual([]);
    });
  });
});

describe("readReceipt", () => {
  it("reads a queued receipt into review, and a message delivered again changes nothing", async () => {
    await withDb(async (db) => {
      const ctx = quietContext(db);
      const { id } = await queuedReceipt(ctx, receiptImage("corner-shop.png"));

      await readReceipt(ctx, id);
      const reviewed = await stored(db, id);
      await readReceipt(ctx, id);

      expect(reviewed).toMatchObject({ status: "review", attempts: 1, totalMinor: 3350 });
      expect(reviewed.lines.find((l) => l.sku === "TEA-100")).toMatchObject({ quantity: 2 });
      expect(await stored(db, id)).toEqual(reviewed);
    });
  });

  it("reads a JPEG photo, leaving a line that names no product for the seller to match", async () => {
    await withDb(async (db) => {
      const ctx = quietContext(db);
      const { id, tea } = await queuedReceipt(ctx, receiptImage("market-stall.jpg"), "image/jpeg");

      await readReceipt(ctx, id);

      const row = await stored(db, id);
      expect(
        row.lines.map((l) => [l.description, l.quantity, l.unitPriceMinor, l.productId]),
      ).toEqual([
        ["Green tea", 2, 450, tea.id],
        ["Paper bag", 1, 20, null],
      ]);
      // Printed 10.20 against 9.20 of lines: both are kept for the reviewer to compare.
      expect(row).toMatchObject({ status: "review", totalMinor: 1020 });
      expect(row.soldAt?.toISOString()).toBe("2026-11-28T00:00:00.000Z");
    });
  });

  it("marks the receipt failed, without a retry, when the image cannot be decoded", async () => {
    await withDb(async (db) => {
      const ctx = quietContext(db);
      const { id } = await queuedReceipt(ctx, CORRUPT_PNG);

      await readReceipt(ctx, id);

      const row = await stored(db, id);
      expect(row.status).toBe("failed");
      expect(row.error).toMatch(/could not be decoded/);
    });
  });

  it("leaves the receipt to the queue's retry while the OCR service is down, then fails it at the last try", async () => {
    await withDb(async (db) => {
      const ctx = quietContext(db);
      const { id } = await queuedReceipt(ctx, receiptImage("corner-shop.png"));
      // An OCR service that is up but failing: every answer a 503.
      const down = httpOcrReader(
        "http://ocr.test",
        async () => new Response("busy", { status: 503 }),
      );

      await expect(readReceipt(ctx, id, down)).rejects.toBeInstanceOf(ServiceUnavailable);
      expect((await stored(db, id)).status).toBe("reading");

      await db
        .update(receipts)
        .set({ attempts: MAX_READ_ATTEMPTS - 1 })
        .where(eq(receipts.id, id));
      await readReceipt(ctx, id, down);
      expect(await stored(db, id)).toMatchObject({ status: "failed", attempts: MAX_READ_ATTEMPTS });
    });
  });
});
