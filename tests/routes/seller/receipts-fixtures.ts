import { exports } from "cloudflare:workers";
import { expect } from "vitest";
import type { ReceiptLine } from "../../../src/db/schema/receipts.ts";
import { receipts } from "../../../src/db/schema/receipts.ts";
import { uuidv7 } from "../../../src/lib/ids.ts";
import type { ReceiptView } from "../../../src/services/receipts/receipts.ts";
import { withDb } from "../../helpers/db.ts";
import { eventually } from "../../helpers/eventually.ts";
import { type ApiResponse, api, type Problem, randomIp } from "../../helpers/http.ts";
import type { StockShop } from "../../helpers/seller-stock.ts";

export type ReceiptBody = ReceiptView;

// A problem body's `status` is its HTTP status; the tests read `res.status` for that.
export type ReceiptResult = ReceiptBody & Omit<Problem, "status">;
export type UploadResult = { receipt: ReceiptBody; created: boolean } & Problem;

/** `POST /v1/seller/receipts?shopId=` with raw image bytes (the `api` helper sends text only). */
export async function uploadImage(
  token: string,
  shopId: string,
  bytes: Uint8Array,
  contentType = "image/png",
): Promise<ApiResponse<UploadResult>> {
  const res = await exports.default.fetch(`http://souk.test/v1/seller/receipts?shopId=${shopId}`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${token}`,
      "content-type": contentType,
      "cf-connecting-ip": randomIp(),
    },
    body: bytes,
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as UploadResult };
}

export function receipt(token: string, id: string): Promise<ApiResponse<ReceiptResult>> {
  return api<ReceiptResult>("GET", `/v1/seller/receipts/${id}`, { token });
}

export function act(
  token: string,
  id: string,
  action: "confirm" | "reject",
): Promise<ApiResponse<ReceiptResult>> {
  return api<ReceiptResult>("POST", `/v1/seller/receipts/${id}/${action}`, { token });
}

export function edit(
  token: string,
  id: string,
  body: Record<string, unknown>,
): Promise<ApiResponse<ReceiptResult>> {
  return api<ReceiptResult>("PATCH", `/v1/seller/receipts/${id}`, { token, body });
}

/** The receipt once the imports queue has read it (the consumer runs in workerd). */
export function read(token: string, id: string): Promise<ReceiptBody> {
  return eventually(async () => {
    const res = await receipt(token, id);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body.status === "review" || res.body.status === "failed" ? res.body : undefined;
  }, 60_000);
}

/**
 * A receipt already read and waiting in review with these lines, written straight to the
 * database: the tests of review, confirmation and rejection need no OCR run.
 */
export async function inReview(
  shop: StockShop,
  lines: Array<Partial<ReceiptLine> & Pick<ReceiptLine, "quantity" | "productId">>,
  extra: { locationId?: string; soldAt?: Date } = {},
): Promise<string> {
  const id = uuidv7();
  await withDb((db) =>
    db.insert(receipts).values({
      id,
      shopId: shop.id,
      status: "review",
      fileKey: `receipts/${shop.id}/${id}`,
      fileHash: id,
      contentType: "image/png",
      sizeBytes: 1,
      currency: "EUR",
      uploadedBy: shop.owner.id,
      attempts: 1,
      locationId: extra.locationId ?? null,
      soldAt: extra.soldAt ?? null,
      lines: lines.map((l) => ({
        id: uuidv7(),
        description: "a line",
        unitPriceMinor: null,
        sku: null,
        confidence: 90,
        saleId: null,
        ...l,
      })),
    }),
  );
  return id;
}
