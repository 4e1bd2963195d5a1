import { asc, eq, inArray, sql } from "drizzle-orm";
import { stockOf } from "../../../durable-objects/product-stock.ts";
import type { Queryable } from "../../db/client.ts";
import type { HttpDatabase } from "../../db/http.ts";
import { type ListingType, type ProductStatus, products } from "../../db/schema/catalog.ts";
import { cartItems, carts } from "../../db/schema/orders.ts";
import { shops } from "../../db/schema/shops.ts";
import type { StockNamespace } from "../context.ts";
import {
  type Availability,
  availabilityOf,
  UNKNOWN_AVAILABILITY,
} from "../inventory/availability.ts";
import { isShopVisible } from "../shops/access.ts";

/** Most distinct products in one cart (each is reserved in its own object at checkout). */
export const MAX_CART_LINES = 50;
/** Most units of one product in one line. */
export const MAX_LINE_QUANTITY = 999;

/**
 * Why a line cannot be bought now. The line stays in the cart, flagged, so the buyer sees what
 * went away instead of it vanishing: `shop_unavailable` (the shop was suspended, rejected or
 * deleted), `shop_paused` (visible, but its payouts are disabled: the platform could not pay it
 * its share, so it takes no orders), `product_unavailable` (unpublished or deleted),
 * `not_for_sale` (moved to auction).
 */
export type UnavailableReason =
  | "shop_unavailable"
  | "shop_paused"
  | "product_unavailable"
  | "not_for_sale";

/** A cart line joined with its product and shop as they are now. */
export interface CartLineRow {
  productId: string;
  quantity: number;
  addedAt: Date;
  title: string;
  sku: string;
  priceMinor: number;
  currency: string;
  listingType: ListingType;
  imageUrls: string[];
  shopId: string;
  shopName: string;
  shopSlug: string;
  freeDeliveryMinMinor: number | null;
  deliveryFeeMinor: number | null;
  /** The seller's limit of units per buyer; null: the platform default. */
  maxPerBuyer: number | null;
  /** Null when the line can be bought. */
  unavailable: UnavailableReason | null;
}

/** A line's product and shop columns, as cart lines and buy-now lines both read them. */
export const lineColumns = {
  title: products.title,
  sku: products.sku,
  priceMinor: products.priceMinor,
  currency: products.currency,
  listingType: products.listingType,
  maxPerBuyer: products.maxPerBuyer,
  productStatus: products.status,
  productDeletedAt: products.deletedAt,
  imageUrls: products.imageUrls,
  shopId: shops.id,
  shopName: shops.name,
  shopSlug: shops.slug,
  shopStatus: shops.status,
  shopEmailVerifiedAt: shops.emailVerifiedAt,
  shopDeletedAt: shops.deletedAt,
  payoutsEnabled: shops.payoutsEnabled,
  freeDeliveryMinMinor: shops.freeDeliveryMinMinor,
  deliveryFeeMinor: shops.deliveryFeeMinor,
};

export interface LineSource {
  productId: string;
  quantity: number;
  addedAt: Date;
  title: string;
  sku: string;
  priceMinor: number;
  currency: string;
  listingType: ListingType;
  maxPerBuyer: number | null;
  productStatus: ProductStatus;
  productDeletedAt: Date | null;
  imageUrls: string[];
  shopId: string;
  shopName: string;
  shopSlug: string;
  shopStatus: Parameters<typeof isShopVisible>[0]["status"];
  shopEmailVerifiedAt: Date | null;
  shopDeletedAt: Date | null;
  payoutsEnabled: boolean;
  freeDeliveryMinMinor: number | null;
  deliveryFeeMinor: number | null;
}

/** Why a line cannot be bought now, in the order a buyer should hear it; null when it can. */
function unavailableReason(r: LineSource): UnavailableReason | null {
  const shopVisible = isShopVisible({
    status: r.shopStatus,
    emailVerifiedAt: r.shopEmailVerifiedAt,
    deletedAt: r.shopDeletedAt,
  });
  return !shopVisible
    ? "shop_unavailable"
    : r.productDeletedAt !== null || r.productStatus !== "published"
      ? "product_unavailable"
      : r.listingType !== "fixed"
        ? "not_for_sale"
        : !r.payoutsEnabled
          ? "shop_paused"
          : null;
}

export function toLineRow(r: LineSource): CartLineRow {
  return {
    productId: r.productId,
    quantity: r.quantity,
    addedAt: r.addedAt,
    title: r.title,
    sku: r.sku,
    priceMinor: r.priceMinor,
    currency: r.currency,
    listingType: r.listingType,
    imageUrls: r.imageUrls,
    shopId: r.shopId,
    shopName: r.shopName,
    shopSlug: r.shopSlug,
    freeDeliveryMinMinor: r.freeDeliveryMinMinor,
    deliveryFeeMinor: r.deliveryFeeMinor,
    maxPerBuyer: r.maxPerBuyer,
    unavailable: unavailableReason(r),
  };
}

/**
 * A cart's version: `updated_at` to the microsecond, as text, so that it survives JSON and
 * compares exactly in SQL. Every cart change bumps `updated_at`.
 */
export const cartVersion = sql<string>`((extract(epoch from ${carts.updatedAt}) * 1000000)::bigint)::text`;

/** The buyer's cart id (null before the first add) and its lines, oldest first. */
export async function loadCartLines(
  db: Queryable | HttpDatabase,
  buyerId: string,
): Promise<{
  cartId: string | null;
  updatedAt: Date | null;
  /** `updated_at` in microseconds since the epoch: a change to the cart changes it. */
  version: string | null;
  lines: CartLineRow[];
}> {
  const [cart] = await db
    .select({ id: carts.id, updatedAt: carts.updatedAt, version: cartVersion })
    .from(carts)
    .where(eq(carts.buyerId, buyerId));
  if (!cart) return { cartId: null, updatedAt: null, version: null, lines: [] };
  const rows = await db
    .select({
      productId: cartItems.productId,
      quantity: cartItems.quantity,
      addedAt: cartItems.addedAt,
      ...lineColumns,
    })
    .from(cartItems)
    .innerJoin(products, eq(products.id, cartItems.productId))
    .innerJoin(shops, eq(shops.id, products.shopId))
    .where(eq(cartItems.cartId, cart.id))
    .orderBy(asc(cartItems.addedAt), asc(cartItems.productId));
  return {
    cartId: cart.id,
    updatedAt: cart.updatedAt,
    version: cart.version,
    lines: rows.map(toLineRow),
  };
}

/**
 * Lines for products named directly (a "buy now"), in the order given, flagged exactly as cart
 * lines are. A product id that matches no row comes back in `missing`; the caller decides what
 * a buyer may learn about it.
 */
export async function loadProductLines(
  db: Queryable,
  items: ReadonlyArray<{ productId: string; quantity: number }>,
): Promise<{ lines: CartLineRow[]; missing: string[] }> {
  if (items.length === 0) return { lines: [], missing: [] };
  const rows = await db
    .select({ productId: products.id, ...lineColumns })
    .from(products)
    .innerJoin(shops, eq(shops.id, products.shopId))
    .where(
      inArray(
        products.id,
        items.map((i) => i.productId),
      ),
    );
  const byId = new Map(rows.map((r) => [r.productId, r]));
  const addedAt = new Date();
  const lines: CartLineRow[] = [];
  const missing: string[] = [];
  for (const item of items) {
    const row = byId.get(item.productId);
    if (row) lines.push(toLineRow({ ...row, quantity: item.quantity, addedAt }));
    else missing.push(item.productId);
  }
  return { lines, missing };
}

/**
 * Units available now, summed over the product's locations, read from its stock object (not the
 * few-seconds cache the public page uses: a cart decision should see the latest sale).
 * `unknown` when the object cannot be reached.
 */
export async function liveAvailability(
  stock: StockNamespace,
  productId: string,
): Promise<Availability> {
  try {
    return availabilityOf((await stockOf(stock, productId).snapshot()).locations);
  } catch {
    return UNKNOWN_AVAILABILITY;
  }
}
