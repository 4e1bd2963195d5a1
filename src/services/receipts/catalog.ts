import { and, eq, inArray, isNull } from "drizzle-orm";
import { products } from "../../db/schema/catalog.ts";
import type { ServiceContext } from "../context.ts";
import type { CatalogEntry } from "./parse.ts";

/** The shop's live products as the receipt parser matches them: id, SKU, title. */
export function shopCatalog(ctx: ServiceContext, shopId: string): Promise<CatalogEntry[]> {
  return ctx.db
    .select({ productId: products.id, sku: products.sku, title: products.title })
    .from(products)
    .where(and(eq(products.shopId, shopId), isNull(products.deletedAt)));
}

/** Of `ids`, the shop's live products, each with its SKU. */
export async function liveProductSkus(
  ctx: ServiceContext,
  shopId: string,
  ids: string[],
): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await ctx.db
    .select({ id: products.id, sku: products.sku })
    .from(products)
    .where(and(eq(products.shopId, shopId), isNull(products.deletedAt), inArray(products.id, ids)));
  return new Map(rows.map((r) => [r.id, r.sku]));
}
