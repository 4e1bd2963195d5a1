import { env } from "cloudflare:workers";
import { eq } from "drizzle-orm";
import { expect } from "vitest";
import type { ProductStock } from "../../durable-objects/product-stock.ts";
import { shopLocations, shops } from "../../src/db/schema/index.ts";
import { uuidv7 } from "../../src/lib/ids.ts";
import { createProduct, type SellerProduct, seedCategory, seedVisibleShop } from "./catalog.ts";
import { withDb } from "./db.ts";
import { type ApiResponse, api, type Problem } from "./http.ts";
import type { ShopSeed, TestShop } from "./shops.ts";
import { registerUser, type TestUser } from "./users.ts";

/** A visible shop with its warehouse (delivery) and one pickup branch, and a category. */
export interface BuyShop extends TestShop {
  branchId: string;
  categoryId: string;
}

export async function buyShop(
  seed: ShopSeed & { deliveryFeeMinor?: number; freeDeliveryMinMinor?: number } = {},
): Promise<BuyShop> {
  const { deliveryFeeMinor, freeDeliveryMinMinor, ...shopSeed } = seed;
  const [shop, category] = await Promise.all([seedVisibleShop(shopSeed), seedCategory()]);
  const branchId = uuidv7();
  await withDb(async (db) => {
    await db
      .insert(shopLocations)
      .values({ id: branchId, shopId: shop.id, kind: "branch", name: "Branch 1", code: "BR1" });
    if (deliveryFeeMinor !== undefined || freeDeliveryMinMinor !== undefined) {
      await db
        .update(shops)
        .set({
          deliveryFeeMinor: deliveryFeeMinor ?? null,
          freeDeliveryMinMinor: freeDeliveryMinMinor ?? null,
        })
        .where(eq(shops.id, shop.id));
    }
  });
  return { ...shop, branchId, categoryId: category.id };
}

/** Sets on hand at a location through the seller API. */
export async function setStock(
  shop: BuyShop,
  productId: string,
  locationId: string,
  quantity: number,
): Promise<void> {
  const res = await api("POST", `/v1/seller/products/${productId}/stock/adjustments`, {
    token: shop.owner.accessToken,
    body: { locationId, mode: "set", quantity, reason: "count" },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
}

/** A published product of the shop (seller API), stocked at the warehouse and/or the branch. */
export async function stockedProduct(
  shop: BuyShop,
  opts: {
    priceMinor?: number;
    warehouse?: number;
    branch?: number;
    listingType?: "fixed" | "auction";
    title?: string;
  } = {},
): Promise<SellerProduct> {
  const p = await createProduct(shop.owner.accessToken, {
    shopId: shop.id,
    categoryId: shop.categoryId,
    priceMinor: opts.priceMinor ?? 1000,
    listingType: opts.listingType ?? "fixed",
    ...(opts.title ? { title: opts.title } : {}),
  });
  if (opts.warehouse !== undefined) await setStock(shop, p.id, shop.warehouseId, opts.warehouse);
  if (opts.branch !== undefined) await setStock(shop, p.id, shop.branchId, opts.branch);
  return p;
}

export const buyer = (): Promise<TestUser> => registerUser("buyer");

export interface CartLine {
  productId: string;
  quantity: number;
  purchasable: boolean;
  flags: string[];
  title: string | null;
  unitPriceMinor: number | null;
  lineTotalMinor: number | null;
  currency: string | null;
  shop: { id: string; name: string; slug: string } | null;
  availability: { status: string; quantity: number | null } | null;
}

export interface Cart {
  id: string | null;
  lines: CartLine[];
  itemCount: number;
  subtotals: Array<{ currency: string; subtotalMinor: number }>;
  checkoutReady: boolean;
}

export function addItem(
  user: TestUser,
  productId: string,
  quantity: number,
): Promise<ApiResponse<Cart & Problem & Record<string, unknown>>> {
  return api("POST", "/v1/cart/items", {
    token: user.accessToken,
    body: { productId, quantity },
  });
}

/** Adds and expects it to work. */
export async function addToCart(user: TestUser, productId: string, quantity: number) {
  const res = await addItem(user, productId, quantity);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

export async function cartOf(user: TestUser): Promise<Cart> {
  const res = await api<Cart>("GET", "/v1/cart", { token: user.accessToken });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

export function lineOf(cart: Cart, productId: string): CartLine {
  const line = cart.lines.find((l) => l.productId === productId);
  if (!line) throw new Error(`no line for ${productId} in ${JSON.stringify(cart)}`);
  return line;
}

/** One of the buyer's addresses, through /v1/me/addresses. */
export async function addressOf(user: TestUser): Promise<string> {
  const res = await api<{ id: string }>("POST", "/v1/me/addresses", {
    token: user.accessToken,
    body: {
      recipientName: "Ana Lima",
      line1: "Rua Augusta 10",
      city: "Lisboa",
      postalCode: "1100-053",
      country: "PT",
    },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id;
}

export function stockStub(productId: string): DurableObjectStub<ProductStock> {
  return env.PRODUCT_STOCK.get(env.PRODUCT_STOCK.idFromName(productId));
}

/** A location's levels straight from the product's stock object. */
export async function levelAt(productId: string, locationId: string) {
  const snap = await stockStub(productId).snapshot();
  return (
    snap.locations.find((l) => l.locationId === locationId) ?? {
      onHand: 0,
      reserved: 0,
      available: 0,
    }
  );
}
