import { and, asc, eq, isNull } from "drizzle-orm";
import { type Actor, recordAudit } from "../../src/db/audit.ts";
import type { Tx } from "../../src/db/client.ts";
import { products, shopTaxRates } from "../../src/db/schema/catalog.ts";
import { type Order, orderItems, orders } from "../../src/db/schema/orders.ts";
import { shopLocations, shops } from "../../src/db/schema/shops.ts";
import { uuidv7 } from "../../src/lib/ids.ts";
import { taxOrder } from "../../src/lib/tax.ts";

/**
 * Orders born of an auction: the winner's (or the buy-now buyer's) at the close, and a
 * second-chance bidder's when they accept. `source = 'auction'`, `auction_id` set, one item.
 *
 * - Auction items are one of a kind and never go through ProductStock: the auction itself is
 *   the single writer that sells the item once (one result per auction; one open second-chance
 *   offer at a time), so there is no reservation to hold or commit.
 * - The price is the hammer price and includes delivery (auction listings state their terms);
 *   the delivery fee is 0, the fulfilment `delivery`, the address chosen when paying.
 * - The platform fee follows checkout's rule: round half up of price × PLATFORM_FEE_BPS / 10 000.
 * - Tax follows checkout's rule too (src/lib/tax.ts): the hammer price is taken as entered in
 *   the shop's mode, at the product's rate (its category's in the shop, else the shop's
 *   default); exclusive tax is added to the total, inclusive tax is inside the price.
 * - `(auction_id, buyer_id)` is unique: a retried close can never make a second order.
 */
export interface AuctionOrderInput {
  orderId: string;
  auctionId: string;
  buyerId: string;
  shopId: string;
  productId: string;
  priceMinor: number;
  currency: string;
  paymentDeadline: Date;
  /** Why the order exists: `win`, `buy_now` or `second_chance`. */
  via: "win" | "buy_now" | "second_chance";
  platformFeeBps: number;
}

/** Round half up of `amount × bps / 10 000`, in integers (checkout's rule). */
export function auctionPlatformFeeMinor(amountMinor: number, bps: number): number {
  return Math.floor((amountMinor * bps + 5_000) / 10_000);
}

/**
 * Writes the order, its one item snapshot and its `order.created` audit row inside the caller's
 * transaction. Idempotent: an order already made for this auction and buyer is returned as is.
 */
export async function createAuctionOrder(
  tx: Tx,
  actor: Actor,
  input: AuctionOrderInput,
): Promise<{ order: Order; created: boolean }> {
  const [product] = await tx
    .select({
      title: products.title,
      sku: products.sku,
      pricesIncludeTax: shops.pricesIncludeTax,
      shopRateBps: shops.taxRateBps,
      categoryRateBps: shopTaxRates.rateBps,
    })
    .from(products)
    .innerJoin(shops, eq(shops.id, products.shopId))
    .leftJoin(
      shopTaxRates,
      and(
        eq(shopTaxRates.shopId, products.shopId),
        eq(shopTaxRates.categoryId, products.categoryId),
      ),
    )
    .where(eq(products.id, input.productId));
  if (!product) throw new Error(`auction ${input.auctionId}: product ${input.productId} is gone`);
  // Delivery ships from the warehouse; a shop without a live one falls back to any location.
  const [location] = await tx
    .select({ id: shopLocations.id })
    .from(shopLocations)
    .where(and(eq(shopLocations.shopId, input.shopId), isNull(shopLocations.deletedAt)))
    .orderBy(asc(shopLocations.kind), asc(shopLocations.id));
  if (!location)
    throw new Error(`auction ${input.auctionId}: shop ${input.shopId} has no location`);

  const platformFeeMinor = auctionPlatformFeeMinor(input.priceMinor, input.platformFeeBps);
  const rateBps = product.categoryRateBps ?? product.shopRateBps;
  const tax = taxOrder({
    inclusive: product.pricesIncludeTax,
    lines: [{ amountMinor: input.priceMinor, rateBps }],
    delivery: { amountMinor: 0, rateBps: product.shopRateBps },
  });
  const totalMinor = input.priceMinor + tax.addedMinor;
  const inserted = await tx
    .insert(orders)
    .values({
      id: input.orderId,
      buyerId: input.buyerId,
      shopId: input.shopId,
      status: "pending_payment",
      source: "auction",
      auctionId: input.auctionId,
      currency: input.currency,
      subtotalMinor: input.priceMinor,
      deliveryFeeMinor: 0,
      platformFeeMinor,
      pricesIncludeTax: product.pricesIncludeTax,
      taxMinor: tax.taxMinor,
      deliveryTaxRateBps: product.shopRateBps,
      totalMinor,
      fulfilment: "delivery",
      paymentDeadline: input.paymentDeadline,
    })
    .onConflictDoNothing()
    .returning();
  const order = inserted[0];
  if (!order) {
    const [existing] = await tx
      .select()
      .from(orders)
      .where(and(eq(orders.auctionId, input.auctionId), eq(orders.buyerId, input.buyerId)));
    if (!existing) throw new Error(`auction ${input.auctionId}: order conflict without a row`);
    return { order: existing, created: false };
  }
  await tx.insert(orderItems).values({
    id: uuidv7(),
    orderId: order.id,
    productId: input.productId,
    title: product.title,
    sku: product.sku,
    unitPriceMinor: input.priceMinor,
    quantity: 1,
    locationId: location.id,
    taxRateBps: rateBps,
    taxMinor: tax.taxMinor,
  });
  await recordAudit(tx, actor, {
    action: "order.created",
    entityType: "order",
    entityId: order.id,
    newValue: {
      status: "pending_payment",
      source: "auction",
      via: input.via,
      auctionId: input.auctionId,
      shopId: input.shopId,
      currency: input.currency,
      totalMinor,
      taxMinor: tax.taxMinor,
      paymentDeadline: input.paymentDeadline.toISOString(),
    },
  });
  return { order, created: true };
}
