import { eq } from "drizzle-orm";
import { roomOf } from "../../../durable-objects/auction-room.ts";
import { auctions } from "../../db/schema/auctions.ts";
import { products } from "../../db/schema/catalog.ts";
import type { ServiceContext } from "../context.ts";
import { NotFound } from "../errors.ts";
import { requireShopPermission } from "../shops/access.ts";
import { unwrap } from "./refusals.ts";
import { type SellerAuction, sellerView } from "./views.ts";

/**
 * The seller (catalog.write) withdraws an auction with no bid yet: the object stores the
 * `cancelled` result (409 has_bids / already_closed otherwise) and its outbox records it, with
 * the seller as the audit actor. Cancelling twice answers the same result.
 */
export async function cancelAuction(
  ctx: ServiceContext,
  userId: string,
  auctionId: string,
  reason: string,
): Promise<SellerAuction> {
  const [row] = await ctx.db
    .select({ shopId: auctions.shopId, title: products.title })
    .from(auctions)
    .innerJoin(products, eq(products.id, auctions.productId))
    .where(eq(auctions.id, auctionId));
  if (!row) throw new NotFound("auction", auctionId);
  await requireShopPermission(ctx.db, row.shopId, userId, "catalog.write");
  unwrap(await roomOf(ctx.rooms, auctionId).cancel({ auctionId, reason, actorId: userId }));
  const [after] = await ctx.db.select().from(auctions).where(eq(auctions.id, auctionId));
  if (!after) throw new NotFound("auction", auctionId);
  return sellerView(after, row.title);
}
