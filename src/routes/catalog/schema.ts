import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "../../http/context.ts";
import type { CacheStatus } from "../../lib/cache.ts";

export { named } from "../schemas.ts";

/** A cached public response: the same body, plus `x-cache` saying where it came from. */
export const cachedOk = <T extends z.ZodType>(description: string, schema: T) => ({
  description,
  headers: z.object({
    "x-cache": z.enum(["hit", "miss", "bypass"]).openapi({
      description:
        "`hit`: from the cache. `miss`: from Postgres, now cached. `bypass`: from Postgres " +
        "because Redis is not configured, failing or slow.",
    }),
  }),
  content: { "application/json": { schema } },
});

export function setCacheHeader(c: Context<AppEnv>, status: CacheStatus): void {
  c.header("x-cache", status);
}

const Money = {
  priceMinor: z.number().int().openapi({
    description: "Integer minor units of `currency` (cents for EUR); never a float.",
    example: 2490,
  }),
  currency: z.string().openapi({ description: "ISO 4217, the shop's currency.", example: "EUR" }),
};

export const ListingTypeSchema = z.enum(["fixed", "auction"]).openapi({
  description: "`fixed`: bought at its price. `auction`: sold through an auction (a later issue).",
});
export const ProductStatusSchema = z.enum(["draft", "published"]);
export const AttributesSchema = z
  .record(z.string(), z.union([z.string(), z.number(), z.boolean()]))
  .openapi({ example: { color: "blue", diameterCm: 24, handmade: true } });

export const ShopSummarySchema = z
  .object({ id: z.uuid(), name: z.string(), slug: z.string(), country: z.string() })
  .openapi("ShopSummary");

export const ProductSummarySchema = z
  .object({
    id: z.uuid(),
    title: z.string(),
    ...Money,
    listingType: ListingTypeSchema,
    categoryId: z.uuid(),
    imageUrls: z.array(z.string()),
    publishedAt: z.iso.datetime(),
    shop: ShopSummarySchema,
  })
  .openapi("ProductSummary");

export const ProductPageSchema = z
  .object({ items: z.array(ProductSummarySchema), nextCursor: z.string().nullable() })
  .openapi("ProductPage");

const AvailabilitySchema = z.union([
  z.object({
    status: z.enum(["in_stock", "low_stock", "out_of_stock"]),
    quantity: z.number().int(),
  }),
  z.object({ status: z.literal("unknown"), quantity: z.null() }),
]);

const FulfilmentSchema = z
  .object({
    delivery: z
      .object({ locationId: z.uuid(), availability: AvailabilitySchema })
      .nullable()
      .openapi({ description: "At the warehouse deliveries ship from; null: no delivery." }),
    pickup: z.array(
      z.object({ locationId: z.uuid(), name: z.string(), availability: AvailabilitySchema }),
    ),
  })
  .openapi("ProductFulfilment", {
    description:
      "Availability per location, from the same stock object and cached as briefly: delivery " +
      "from the shop's warehouse, and pickup at each branch offering it (GET " +
      "/v1/shops/{id}/branches has their addresses and hours). `low_stock` here: that location " +
      "is at or below its threshold.",
  });

export const PublicProductSchema = ProductSummarySchema.extend({
  description: z.string(),
  attributes: AttributesSchema,
  availability: AvailabilitySchema.openapi({
    description:
      "Units available now, summed over the shop's locations, from the product's stock " +
      "object (cached for a few seconds). `low_stock`: some location is at or below its " +
      "low-stock threshold. `unknown` only when stock could not be read.",
  }),
  fulfilment: FulfilmentSchema,
}).openapi("Product");

export const SellerProductSchema = z
  .object({
    id: z.uuid(),
    shopId: z.uuid(),
    categoryId: z.uuid(),
    title: z.string(),
    description: z.string(),
    ...Money,
    sku: z.string(),
    imageUrls: z.array(z.string()),
    attributes: AttributesSchema,
    listingType: ListingTypeSchema,
    maxPerBuyer: z.number().int().nullable().openapi({
      description:
        "Most units one buyer may hold over all their unpaid checkouts; null: the platform default (10).",
    }),
    status: ProductStatusSchema,
    publishedAt: z.iso.datetime().nullable(),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .openapi("SellerProduct");

export const SellerProductPageSchema = z
  .object({ items: z.array(SellerProductSchema), nextCursor: z.string().nullable() })
  .openapi("SellerProductPage");

export interface CategoryNodeShape {
  id: string;
  slug: string;
  name: string;
  position: number;
  children: CategoryNodeShape[];
}

export const CategoryNodeSchema: z.ZodType<CategoryNodeShape> = z
  .object({
    id: z.uuid(),
    slug: z.string(),
    name: z.string(),
    position: z.number().int(),
    get children(): z.ZodArray<z.ZodType<CategoryNodeShape>> {
      return z.array(CategoryNodeSchema);
    },
  })
  .openapi("CategoryNode");

export const CategorySchema = z
  .object({
    id: z.uuid(),
    parentId: z.uuid().nullable(),
    slug: z.string(),
    name: z.string(),
    position: z.number().int(),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .openapi("Category");
