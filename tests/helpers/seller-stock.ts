import { env } from "cloudflare:workers";
import { asc, eq } from "drizzle-orm";
import { expect } from "vitest";
import type { ProductStock } from "../../durable-objects/product-stock.ts";
import { shopLocations, stockMovements } from "../../src/db/schema/index.ts";
import { uuidv7 } from "../../src/lib/ids.ts";
import { createProduct, type SellerProduct, seedCategory, seedVisibleShop } from "./catalog.ts";
import { withDb } from "./db.ts";
import { type ApiResponse, api, type Problem } from "./http.ts";
import { seedMember, type TestShop } from "./shops.ts";
import { registerUser, type TestUser } from "./users.ts";

export interface StockMovement {
  id: string;
  sequence: number;
  productId: string;
  locationId: string;
  kind: string;
  deltaOnHand: number;
  deltaReserved: number;
  onHandAfter: number;
  reservedAfter: number;
  availableAfter: number;
  threshold: number | null;
  low: boolean;
  alert: "raised" | "cleared" | null;
  reason: string | null;
  undoesSequence: number | null;
  undoneBySequence: number | null;
  txId: string | null;
}

export interface Adjustment {
  movement: StockMovement;
  thresholdMovement: StockMovement | null;
  replayed: boolean;
}

export interface LocationStock {
  locationId: string;
  code: string | null;
  onHand: number;
  reserved: number;
  available: number;
  threshold: number | null;
  low: boolean;
}

export interface ProductStockBody {
  productId: string;
  shopId: string;
  sku: string;
  locations: LocationStock[];
  totals: { onHand: number; reserved: number; available: number };
  sequence: number;
  pendingMirror: number;
}

export type ProblemWith<T = unknown> = Problem & T;

/** A shop buyers can see, a warehouse (code WH) and a branch (code BR1), and a team. */
export interface StockShop extends TestShop {
  branchId: string;
  categoryId: string;
  manager: TestUser;
  staff: TestUser;
}

export async function stockShop(): Promise<StockShop> {
  const shop = await seedVisibleShop();
  const [category, manager, staff] = await Promise.all([
    seedCategory(),
    registerUser("seller"),
    registerUser("seller"),
  ]);
  const branchId = uuidv7();
  await withDb((db) =>
    db
      .insert(shopLocations)
      .values({ id: branchId, shopId: shop.id, kind: "branch", name: "Branch 1", code: "BR1" }),
  );
  await seedMember(shop.id, manager, "manager");
  await seedMember(shop.id, staff, "staff");
  return { ...shop, branchId, categoryId: category.id, manager, staff };
}

/** A published product of the shop, through the seller API. */
export function product(
  shop: StockShop,
  extra: { sku?: string; title?: string } = {},
): Promise<SellerProduct> {
  return createProduct(shop.owner.accessToken, {
    shopId: shop.id,
    categoryId: shop.categoryId,
    ...extra,
  });
}

export function adjust(
  token: string,
  productId: string,
  body: Record<string, unknown>,
  key?: string,
): Promise<ApiResponse<Adjustment & Problem>> {
  return api<Adjustment & Problem>("POST", `/v1/seller/products/${productId}/stock/adjustments`, {
    token,
    body,
    ...(key ? { headers: { "idempotency-key": key } } : {}),
  });
}

/** Sets on hand at a location through the API and expects it to work. */
export async function setStock(
  token: string,
  productId: string,
  locationId: string,
  quantity: number,
  threshold?: number | null,
): Promise<Adjustment> {
  const res = await adjust(token, productId, {
    locationId,
    mode: "set",
    quantity,
    reason: "count",
    ...(threshold === undefined ? {} : { threshold }),
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

export async function stockOf(token: string, productId: string): Promise<ProductStockBody> {
  const res = await api<ProductStockBody>("GET", `/v1/seller/products/${productId}/stock`, {
    token,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

export function levelAt(stock: ProductStockBody, locationId: string): LocationStock {
  const l = stock.locations.find((x) => x.locationId === locationId);
  if (!l) throw new Error(`no location ${locationId} in ${JSON.stringify(stock)}`);
  return l;
}

export function stub(productId: string): DurableObjectStub<ProductStock> {
  return env.PRODUCT_STOCK.get(env.PRODUCT_STOCK.idFromName(productId));
}

/** Pushes the object's outbox to Postgres now (the alarm would, a moment later). */
export async function flush(productId: string): Promise<void> {
  const result = await stub(productId).flushOutbox();
  expect(result.error).toBeNull();
  expect(result.pending).toBe(0);
}

export async function mirrorOf(productId: string) {
  return withDb((db) =>
    db
      .select()
      .from(stockMovements)
      .where(eq(stockMovements.productId, productId))
      .orderBy(asc(stockMovements.sequence)),
  );
}
