import { and, asc, eq, isNull } from "drizzle-orm";
import { z } from "zod";
import { withAudit } from "../../db/audit.ts";
import { categories, shopTaxRates } from "../../db/schema/catalog.ts";
import { parseOr422 } from "../../lib/input.ts";
import { MAX_TAX_RATE_BPS } from "../../lib/tax.ts";
import type { ServiceContext } from "../context.ts";
import { NotFound } from "../errors.ts";
import { requireShopPermission } from "./access.ts";
import { forgetShopListings } from "./settings.ts";

export const taxRateInput = z.object({
  rateBps: z
    .int()
    .min(0)
    .max(MAX_TAX_RATE_BPS)
    .meta({ description: "Basis points: 1700 = 17%, 0 = zero-rated." }),
});
export type TaxRateInput = z.input<typeof taxRateInput>;

export interface CategoryTaxRateView {
  categoryId: string;
  categoryName: string;
  rateBps: number;
  updatedAt: string;
}

/** A shop's tax settings: its mode and default rate, and the categories with a rate of their own. */
export interface ShopTaxRatesView {
  shopId: string;
  pricesIncludeTax: boolean;
  defaultRateBps: number;
  categories: CategoryTaxRateView[];
}

/** Any member of the shop reads its tax rates; off the team, 404. */
export async function listTaxRates(
  ctx: ServiceContext,
  userId: string,
  shopId: string,
): Promise<ShopTaxRatesView> {
  const { shop } = await requireShopPermission(ctx.db, shopId, userId, "catalog.read");
  const rows = await ctx.db
    .select({
      categoryId: shopTaxRates.categoryId,
      categoryName: categories.name,
      rateBps: shopTaxRates.rateBps,
      updatedAt: shopTaxRates.updatedAt,
    })
    .from(shopTaxRates)
    .innerJoin(categories, eq(categories.id, shopTaxRates.categoryId))
    .where(eq(shopTaxRates.shopId, shopId))
    .orderBy(asc(categories.name), asc(shopTaxRates.categoryId));
  return {
    shopId,
    pricesIncludeTax: shop.pricesIncludeTax,
    defaultRateBps: shop.taxRateBps,
    categories: rows.map((r) => ({ ...r, updatedAt: r.updatedAt.toISOString() })),
  };
}

/**
 * Sets the shop's rate for one category (the owner only; a live category, else 404), audited as
 * `shop.tax_rate_set` with the old rate (null: none) and the new. Checkout prices the shop's
 * products of that category at this rate from now on; orders already made keep theirs.
 */
export async function setTaxRate(
  ctx: ServiceContext,
  userId: string,
  shopId: string,
  categoryId: string,
  raw: TaxRateInput,
): Promise<CategoryTaxRateView> {
  const input = parseOr422(taxRateInput, raw);
  const view = await withAudit(ctx.db, ctx.actor, async (tx, audit) => {
    await requireShopPermission(tx, shopId, userId, "shop.manage");
    const [category] = await tx
      .select({ name: categories.name })
      .from(categories)
      .where(and(eq(categories.id, categoryId), isNull(categories.deletedAt)));
    if (!category) throw new NotFound("category", categoryId);
    const [before] = await tx
      .select({ rateBps: shopTaxRates.rateBps })
      .from(shopTaxRates)
      .where(and(eq(shopTaxRates.shopId, shopId), eq(shopTaxRates.categoryId, categoryId)))
      .for("update");
    const now = new Date();
    const [row] = await tx
      .insert(shopTaxRates)
      .values({ shopId, categoryId, rateBps: input.rateBps, updatedAt: now })
      .onConflictDoUpdate({
        target: [shopTaxRates.shopId, shopTaxRates.categoryId],
        set: { rateBps: input.rateBps, updatedAt: now },
      })
      .returning();
    if (!row) throw new Error("tax rate upsert returned no row");
    await audit.record({
      action: "shop.tax_rate_set",
      entityType: "shop",
      entityId: shopId,
      oldValue: { categoryId, rateBps: before?.rateBps ?? null },
      newValue: { categoryId, rateBps: input.rateBps },
    });
    return {
      categoryId,
      categoryName: category.name,
      rateBps: row.rateBps,
      updatedAt: row.updatedAt.toISOString(),
    };
  });
  await forgetShopListings(ctx, shopId);
  return view;
}

/**
 * Removes the shop's rate for a category (the owner only; 404 when it has none): its products
 * go back to the shop's default rate. Audited as `shop.tax_rate_removed`.
 */
export async function removeTaxRate(
  ctx: ServiceContext,
  userId: string,
  shopId: string,
  categoryId: string,
): Promise<void> {
  await withAudit(ctx.db, ctx.actor, async (tx, audit) => {
    await requireShopPermission(tx, shopId, userId, "shop.manage");
    const [removed] = await tx
      .delete(shopTaxRates)
      .where(and(eq(shopTaxRates.shopId, shopId), eq(shopTaxRates.categoryId, categoryId)))
      .returning();
    if (!removed) throw new NotFound("tax rate of category", categoryId);
    await audit.record({
      action: "shop.tax_rate_removed",
      entityType: "shop",
      entityId: shopId,
      oldValue: { categoryId, rateBps: removed.rateBps },
      newValue: { categoryId, rateBps: null },
    });
  });
  await forgetShopListings(ctx, shopId);
}
