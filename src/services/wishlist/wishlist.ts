import { and, desc, eq, isNull, lt, or } from "drizzle-orm";
import { z } from "zod";
import { type ListingType, products } from "../../db/schema/catalog.ts";
import { wishlistItems } from "../../db/schema/orders.ts";
import { shops } from "../../db/schema/shops.ts";
import { parseOr422 } from "../../lib/input.ts";
import { decodeCursor, type Page, toPage } from "../../lib/pagination.ts";
import { liveAvailability } from "../cart/lines.ts";
import type { ServiceContext } from "../context.ts";
import { NotFound, ValidationFailed } from "../errors.ts";
import type { Availability } from "../inventory/availability.ts";
import { visibleShopCondition } from "../shops/access.ts";

export const addWishlistInput = z.object({ productId: z.uuid() });

export interface WishlistItemView {
  productId: string;
  title: string;
  imageUrl: string | null;
  priceMinor: number;
  currency: string;
  /** Auction listings may be wished for too; only `fixed` ones can go in a cart. */
  listingType: ListingType;
  shop: { id: string; name: string; slug: string };
  availability: Availability;
  addedAt: string;
}

/** Only what a buyer may see: published, live products of visible shops. */
const visibleProduct = and(
  eq(products.status, "published"),
  isNull(products.deletedAt),
  visibleShopCondition,
);

const cursorShape = z.object({ at: z.iso.datetime(), id: z.uuid() });

/**
 * The buyer's wishlist, newest first, with current prices and live availability. Products that
 * are no longer visible (unpublished, deleted, or their shop hidden) are left out of the list
 * rather than flagged: a wishlist is a list of things to look at, and invariant 5 keeps hidden
 * shops out of sight. The rows are kept, so they come back if the product does.
 */
export async function listWishlist(
  ctx: ServiceContext,
  buyerId: string,
  q: { limit: number; cursor?: string | undefined },
): Promise<Page<WishlistItemView>> {
  const after = q.cursor ? decodeCursor(q.cursor, cursorShape) : null;
  if (q.cursor && !after) {
    throw new ValidationFailed([
      { field: "cursor", in: "query", message: "is not a valid cursor" },
    ]);
  }
  const at = after ? new Date(after.at) : null;
  const rows = await ctx.db
    .select({
      productId: products.id,
      title: products.title,
      imageUrls: products.imageUrls,
      priceMinor: products.priceMinor,
      currency: products.currency,
      listingType: products.listingType,
      shopId: shops.id,
      shopName: shops.name,
      shopSlug: shops.slug,
      addedAt: wishlistItems.addedAt,
    })
    .from(wishlistItems)
    .innerJoin(products, eq(products.id, wishlistItems.productId))
    .innerJoin(shops, eq(shops.id, products.shopId))
    .where(
      and(
        eq(wishlistItems.buyerId, buyerId),
        visibleProduct,
        at && after
          ? or(
              lt(wishlistItems.addedAt, at),
              and(eq(wishlistItems.addedAt, at), lt(wishlistItems.productId, after.id)),
            )
          : undefined,
      ),
    )
    .orderBy(desc(wishlistItems.addedAt), desc(wishlistItems.productId))
    .limit(q.limit + 1);
  const page = toPage(rows, q.limit, (r) => ({ at: r.addedAt.toISOString(), id: r.productId }));
  const availability = await Promise.all(
    page.items.map((r) => liveAvailability(ctx.stock, r.productId)),
  );
  return {
    items: page.items.map((r, i) => ({
      productId: r.productId,
      title: r.title,
      imageUrl: r.imageUrls[0] ?? null,
      priceMinor: r.priceMinor,
      currency: r.currency,
      listingType: r.listingType,
      shop: { id: r.shopId, name: r.shopName, slug: r.shopSlug },
      availability: availability[i] ?? { status: "unknown", quantity: null },
      addedAt: r.addedAt.toISOString(),
    })),
    nextCursor: page.nextCursor,
  };
}

/**
 * Adds a visible product (fixed-price or auction). Adding it again changes nothing and keeps its
 * place; `created` says which happened.
 */
export async function addToWishlist(
  ctx: ServiceContext,
  buyerId: string,
  raw: z.input<typeof addWishlistInput>,
): Promise<{ created: boolean; item: WishlistItemView }> {
  const input = parseOr422(addWishlistInput, raw);
  const [product] = await ctx.db
    .select({ id: products.id })
    .from(products)
    .innerJoin(shops, eq(shops.id, products.shopId))
    .where(and(eq(products.id, input.productId), visibleProduct));
  if (!product) throw new NotFound("product", input.productId);
  const inserted = await ctx.db
    .insert(wishlistItems)
    // Millisecond precision on purpose: the cursor carries this time through JSON, which has no
    // microseconds, and a truncated cursor would skip rows added within the same millisecond.
    .values({ buyerId, productId: input.productId, addedAt: new Date() })
    .onConflictDoNothing()
    .returning({ productId: wishlistItems.productId });
  const item = await wishlistItem(ctx, buyerId, input.productId);
  return { created: inserted.length > 0, item };
}

async function wishlistItem(
  ctx: ServiceContext,
  buyerId: string,
  productId: string,
): Promise<WishlistItemView> {
  const [r] = await ctx.db
    .select({
      productId: products.id,
      title: products.title,
      imageUrls: products.imageUrls,
      priceMinor: products.priceMinor,
      currency: products.currency,
      listingType: products.listingType,
      shopId: shops.id,
      shopName: shops.name,
      shopSlug: shops.slug,
      addedAt: wishlistItems.addedAt,
    })
    .from(wishlistItems)
    .innerJoin(products, eq(products.id, wishlistItems.productId))
    .innerJoin(shops, eq(shops.id, products.shopId))
    .where(and(eq(wishlistItems.buyerId, buyerId), eq(wishlistItems.productId, productId)));
  if (!r) throw new NotFound("wishlist item", productId);
  return {
    productId: r.productId,
    title: r.title,
    imageUrl: r.imageUrls[0] ?? null,
    priceMinor: r.priceMinor,
    currency: r.currency,
    listingType: r.listingType,
    shop: { id: r.shopId, name: r.shopName, slug: r.shopSlug },
    availability: await liveAvailability(ctx.stock, r.productId),
    addedAt: r.addedAt.toISOString(),
  };
}

/** Removes a product from the wishlist; one that is not there is NOT_FOUND. */
export async function removeFromWishlist(
  ctx: ServiceContext,
  buyerId: string,
  productId: string,
): Promise<void> {
  const deleted = await ctx.db
    .delete(wishlistItems)
    .where(and(eq(wishlistItems.buyerId, buyerId), eq(wishlistItems.productId, productId)))
    .returning({ productId: wishlistItems.productId });
  if (deleted.length === 0) throw new NotFound("wishlist item", productId);
}
