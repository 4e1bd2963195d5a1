import { z } from "@hono/zod-openapi";

export const ProductIdParam = z.object({
  productId: z.uuid().openapi({
    param: { name: "productId", in: "path" },
    example: "0192f0c1-7a4e-7c39-9a51-0c3c1f1e2a7b",
  }),
});

export const AvailabilitySchema = z
  .object({
    status: z.enum(["in_stock", "low_stock", "out_of_stock", "unknown"]),
    quantity: z.number().int().nullable().openapi({
      description: "Units available now over every location; null when it cannot be read.",
    }),
  })
  .openapi("Availability");

export const ShopRefSchema = z.object({ id: z.uuid(), name: z.string(), slug: z.string() });

export const CartLineSchema = z
  .object({
    productId: z.uuid(),
    quantity: z.number().int(),
    addedAt: z.iso.datetime(),
    purchasable: z.boolean().openapi({
      description: "False when the product or its shop is no longer available (see `flags`).",
    }),
    flags: z
      .array(
        z.enum([
          "shop_unavailable",
          "shop_paused",
          "product_unavailable",
          "not_for_sale",
          "insufficient_stock",
          "stock_unknown",
        ]),
      )
      .openapi({
        description:
          "`shop_unavailable`: the shop is no longer visible (the line shows only its product id " +
          "and quantity). `shop_paused`: the shop takes no orders for now (payouts disabled). " +
          "`product_unavailable`: unpublished or deleted. `not_for_sale`: now " +
          "sold by auction. `insufficient_stock`: fewer units available than the line holds. " +
          "Flagged lines stay until removed; checkout refuses while unavailable ones remain.",
      }),
    title: z.string().nullable(),
    sku: z.string().nullable(),
    imageUrl: z.string().nullable(),
    unitPriceMinor: z.number().int().nullable().openapi({
      description: "The current catalog price, integer minor units of `currency`.",
    }),
    lineTotalMinor: z.number().int().nullable(),
    currency: z.string().nullable(),
    listingType: z.enum(["fixed", "auction"]).nullable(),
    shop: ShopRefSchema.nullable(),
    availability: AvailabilitySchema.nullable(),
  })
  .openapi("CartLine");

export const CartSchema = z
  .object({
    id: z.uuid().nullable().openapi({ description: "Null until the first item is added." }),
    lines: z.array(CartLineSchema),
    itemCount: z.number().int(),
    subtotals: z
      .array(z.object({ currency: z.string(), subtotalMinor: z.number().int() }))
      .openapi({ description: "Purchasable lines per currency; a checkout takes one currency." }),
    checkoutReady: z.boolean(),
    updatedAt: z.iso.datetime().nullable(),
  })
  .openapi("Cart");
