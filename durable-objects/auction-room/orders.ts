import { and, asc, eq, isNull } from "drizzle-orm";
import { type Actor, recordAudit } from "../../src/db/audit.ts";
import type { Tx } from "../../src/db/client.ts";
import { products } from "../../src/db/schema/catalog.ts";
import { type Order, orderItems, orders } from "../../src/db/schema/orders.ts";
import { shopLocations } from "../../src/db/schema/shops.ts";
import { uuidv7 } from "../../src/lib/ids.ts";

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
    .select({ title: products.title, sku: products.sku })
    .from(products)
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
      totalMinor: input.priceMinor,
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
      totalMinor: input.priceMinor,
      paymentDeadline: input.paymentDeadline.toISOString(),
    },
  });
  return { order, created: true };
}
