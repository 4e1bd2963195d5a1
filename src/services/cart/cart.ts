import { and, eq, isNull, sql } from "drizzle-orm";
import { z } from "zod";
import { withAudit } from "../../db/audit.ts";
import type { Queryable, Tx } from "../../db/client.ts";
import { type ListingType, products } from "../../db/schema/catalog.ts";
import { cartItems, carts } from "../../db/schema/orders.ts";
import { shops } from "../../db/schema/shops.ts";
import { uuidv7 } from "../../lib/ids.ts";
import { parseOr422 } from "../../lib/input.ts";
import type { ServiceContext } from "../context.ts";
import { Conflict, InsufficientStock, NotFound, ServiceUnavailable } from "../errors.ts";
import type { Availability } from "../inventory/availability.ts";
import { visibleShopCondition } from "../shops/access.ts";
import { requireCanBuy } from "./can-buy.ts";
import {
  type CartLineRow,
  liveAvailability,
  loadCartLines,
  MAX_CART_LINES,
  MAX_LINE_QUANTITY,
  type UnavailableReason,
} from "./lines.ts";

export const quantityField = z.int().min(1).max(MAX_LINE_QUANTITY);
export const addCartItemInput = z.object({ productId: z.uuid(), quantity: quantityField });
export const setCartItemInput = z.object({ quantity: quantityField });

export type CartLineFlag = UnavailableReason | "insufficient_stock" | "stock_unknown";

/**
 * One line as the buyer sees it now: current price and availability. A line whose shop is no
 * longer visible shows only its product id, quantity and flag (invariant 5: a hidden shop and
 * its catalog are never shown), and is not counted in the subtotals.
 */
export interface CartLineView {
  productId: string;
  quantity: number;
  addedAt: string;
  purchasable: boolean;
  flags: CartLineFlag[];
  title: string | null;
  sku: string | null;
  imageUrl: string | null;
  unitPriceMinor: number | null;
  lineTotalMinor: number | null;
  currency: string | null;
  listingType: ListingType | null;
  shop: { id: string; name: string; slug: string } | null;
  availability: Availability | null;
}

export interface CartView {
  /** Null until the first item is added. */
  id: string | null;
  lines: CartLineView[];
  /** Units over every line. */
  itemCount: number;
  /** Sum of purchasable lines per currency (a checkout takes one currency). */
  subtotals: Array<{ currency: string; subtotalMinor: number }>;
  /** True when every line can be bought as it stands, in one currency. */
  checkoutReady: boolean;
  updatedAt: string | null;
}

function lineView(row: CartLineRow, availability: Availability | null): CartLineView {
  const flags: CartLineFlag[] = [];
  if (row.unavailable) flags.push(row.unavailable);
  if (availability?.status === "unknown") flags.push("stock_unknown");
  else if (availability && availability.quantity < row.quantity) flags.push("insufficient_stock");
  const hidden = row.unavailable === "shop_unavailable";
  return {
    productId: row.productId,
    quantity: row.quantity,
    addedAt: row.addedAt.toISOString(),
    purchasable: row.unavailable === null,
    flags,
    title: hidden ? null : row.title,
    sku: hidden ? null : row.sku,
    imageUrl: hidden ? null : (row.imageUrls[0] ?? null),
    unitPriceMinor: hidden ? null : row.priceMinor,
    lineTotalMinor: hidden ? null : row.priceMinor * row.quantity,
    currency: hidden ? null : row.currency,
    listingType: hidden ? null : row.listingType,
    shop: hidden ? null : { id: row.shopId, name: row.shopName, slug: row.shopSlug },
    availability,
  };
}

/** The buyer's cart with current prices and live availability; flagged lines stay listed. */
export async function getCart(ctx: ServiceContext, buyerId: string): Promise<CartView> {
  const { cartId, updatedAt, lines } = await loadCartLines(ctx.db, buyerId);
  // A hidden shop's stock is nobody's business but its own: not even read.
  const availability = await Promise.all(
    lines.map((l) =>
      l.unavailable === "shop_unavailable" ? null : liveAvailability(ctx.stock, l.productId),
    ),
  );
  const views = lines.map((l, i) => lineView(l, availability[i] ?? null));
  const subtotals = new Map<string, number>();
  for (const v of views) {
    if (!v.purchasable || v.currency === null || v.lineTotalMinor === null) continue;
    subtotals.set(v.currency, (subtotals.get(v.currency) ?? 0) + v.lineTotalMinor);
  }
  return {
    id: cartId,
    lines: views,
    itemCount: views.reduce((n, v) => n + v.quantity, 0),
    subtotals: [...subtotals].map(([currency, subtotalMinor]) => ({ currency, subtotalMinor })),
    checkoutReady:
      views.length > 0 && subtotals.size === 1 && views.every((v) => v.flags.length === 0),
    updatedAt: updatedAt?.toISOString() ?? null,
  };
}

/**
 * A product a buyer may put in a cart: live, published, fixed-price, of a visible shop that takes
 * orders (payouts enabled). Anything a buyer cannot see is NOT_FOUND; an auction listing or a
 * paused shop is a 409 that says why.
 */
async function requireBuyableProduct(db: Queryable, productId: string): Promise<void> {
  const [row] = await db
    .select({ listingType: products.listingType, payoutsEnabled: shops.payoutsEnabled })
    .from(products)
    .innerJoin(shops, and(eq(shops.id, products.shopId), visibleShopCondition))
    .where(
      and(eq(products.id, productId), eq(products.status, "published"), isNull(products.deletedAt)),
    );
  if (!row) throw new NotFound("product", productId);
  if (row.listingType !== "fixed") {
    throw new Conflict(
      `Product ${productId} is sold by auction: bid on it (POST /v1/auctions/{id}/bids) instead ` +
        "of adding it to a cart.",
      { reason: "not_fixed_price", productId },
    );
  }
  if (!row.payoutsEnabled) {
    throw new Conflict(
      `The shop selling product ${productId} is not taking orders right now; try again later.`,
      { reason: "shop_paused", productId },
    );
  }
}

/** What the object says is available over every location; an unreachable object is a 503. */
async function availableUnits(ctx: ServiceContext, productId: string): Promise<number> {
  const a = await liveAvailability(ctx.stock, productId);
  if (a.status === "unknown") {
    throw new ServiceUnavailable("Stock cannot be checked right now; try again shortly.");
  }
  return a.quantity;
}

function tooFew(productId: string, requested: number, available: number): InsufficientStock {
  return new InsufficientStock(
    `Only ${available} of product ${productId} available; the cart line would need ${requested}.`,
    { productId, requested, available },
  );
}

/** The buyer's cart id, created on first use. Two first adds racing meet on buyer_id's key. */
async function cartIdOf(tx: Tx, buyerId: string): Promise<string> {
  const [cart] = await tx
    .insert(carts)
    .values({ id: uuidv7(), buyerId })
    .onConflictDoUpdate({ target: carts.buyerId, set: { updatedAt: sql`now()` } })
    .returning({ id: carts.id });
  if (!cart) throw new Error("cart upsert returned nothing");
  return cart.id;
}

/**
 * Adds `quantity` units of a product (or adds to its line). The line's new quantity must fit
 * what is available now (409 INSUFFICIENT_STOCK with the available amount; nothing changes).
 * This is a courtesy check: checkout reserves against the stock object for real.
 */
export async function addCartItem(
  ctx: ServiceContext,
  buyerId: string,
  raw: z.input<typeof addCartItemInput>,
): Promise<CartView> {
  const input = parseOr422(addCartItemInput, raw);
  await requireCanBuy(ctx.db, buyerId);
  await requireBuyableProduct(ctx.db, input.productId);
  const available = await availableUnits(ctx, input.productId);
  await withAudit(ctx.db, ctx.actor, async (tx) => {
    const cartId = await cartIdOf(tx, buyerId);
    const [{ lines } = { lines: 0 }] = await tx
      .select({ lines: sql<number>`count(*)::int` })
      .from(cartItems)
      .where(and(eq(cartItems.cartId, cartId), sql`${cartItems.productId} <> ${input.productId}`));
    if (lines >= MAX_CART_LINES) {
      throw new Conflict(`A cart holds at most ${MAX_CART_LINES} different products.`, {
        reason: "cart_full",
      });
    }
    const [line] = await tx
      .insert(cartItems)
      .values({ cartId, productId: input.productId, quantity: input.quantity })
      .onConflictDoUpdate({
        target: [cartItems.cartId, cartItems.productId],
        set: { quantity: sql`${cartItems.quantity} + excluded.quantity` },
      })
      .returning({ quantity: cartItems.quantity });
    const quantity = line?.quantity ?? input.quantity;
    if (quantity > MAX_LINE_QUANTITY) {
      throw new Conflict(`A cart line holds at most ${MAX_LINE_QUANTITY} units.`, {
        reason: "line_quantity_limit",
        productId: input.productId,
        requested: quantity,
      });
    }
    // Throwing rolls the increment back: the line keeps its old quantity.
    if (quantity > available) throw tooFew(input.productId, quantity, available);
  });
  return getCart(ctx, buyerId);
}

/** Sets a line's quantity; the product must still be buyable and that many available. */
export async function setCartItemQuantity(
  ctx: ServiceContext,
  buyerId: string,
  productId: string,
  raw: z.input<typeof setCartItemInput>,
): Promise<CartView> {
  const input = parseOr422(setCartItemInput, raw);
  await requireCanBuy(ctx.db, buyerId);
  const line = await findLine(ctx.db, buyerId, productId);
  if (!line) throw new NotFound("cart line", productId);
  await requireBuyableProduct(ctx.db, productId);
  const available = await availableUnits(ctx, productId);
  if (input.quantity > available) throw tooFew(productId, input.quantity, available);
  await withAudit(ctx.db, ctx.actor, async (tx) => {
    await tx
      .update(cartItems)
      .set({ quantity: input.quantity })
      .where(and(eq(cartItems.cartId, line.cartId), eq(cartItems.productId, productId)));
    await tx.update(carts).set({ updatedAt: sql`now()` }).where(eq(carts.id, line.cartId));
  });
  return getCart(ctx, buyerId);
}

/** Removes a line (flagged lines too: that is how a buyer clears them). */
export async function removeCartItem(
  ctx: ServiceContext,
  buyerId: string,
  productId: string,
): Promise<void> {
  const line = await findLine(ctx.db, buyerId, productId);
  if (!line) throw new NotFound("cart line", productId);
  await withAudit(ctx.db, ctx.actor, async (tx) => {
    await tx
      .delete(cartItems)
      .where(and(eq(cartItems.cartId, line.cartId), eq(cartItems.productId, productId)));
    await tx.update(carts).set({ updatedAt: sql`now()` }).where(eq(carts.id, line.cartId));
  });
}

async function findLine(db: Queryable, buyerId: string, productId: string) {
  const [line] = await db
    .select({ cartId: cartItems.cartId, quantity: cartItems.quantity })
    .from(cartItems)
    .innerJoin(carts, eq(carts.id, cartItems.cartId))
    .where(and(eq(carts.buyerId, buyerId), eq(cartItems.productId, productId)));
  return line ?? null;
}
