import { createRoute, z } from "@hono/zod-openapi";
import { createRouter } from "../../http/app.ts";
import { serviceContext } from "../../http/service-context.ts";
import { text } from "../../lib/text.ts";
import { cachedCategoryTree } from "../../services/catalog/categories.ts";
import { MAX_PRICE_MINOR } from "../../services/catalog/products.ts";
import { cachedProduct, cachedProductList, PRODUCT_SORTS } from "../../services/catalog/search.ts";
import { IdParam, problems } from "../schemas.ts";
import {
  CategoryNodeSchema,
  cachedOk,
  ListingTypeSchema,
  ProductPageSchema,
  PublicProductSchema,
  setCacheHeader,
} from "./schema.ts";

// Stated in full: left to itself the generator reads `Number(null) === 0` as "null is allowed",
// and a query string cannot carry a null.
const price = (description: string) =>
  z.coerce
    .number()
    .int()
    .min(0)
    .max(MAX_PRICE_MINOR)
    .optional()
    .openapi({ type: "integer", minimum: 0, maximum: MAX_PRICE_MINOR, description });

export const ProductListQuerySchema = z.object({
  q: text()
    .max(200)
    .optional()
    .openapi({
      description:
        'Full-text search (web-search syntax: `"exact phrase"`, `or`, `-exclude`); ' +
        "title matches rank above description matches.",
      example: "ceramic bowl",
    }),
  category: text().min(1).max(100).optional().openapi({
    description: "A category id or slug; products of its whole subtree match.",
    example: "home-living",
  }),
  shop: text().min(1).max(100).optional().openapi({ description: "A shop id or slug." }),
  minPrice: price("Inclusive lower bound in minor units. Pair it with `currency`."),
  maxPrice: price("Inclusive upper bound in minor units. Pair it with `currency`."),
  currency: z
    .string()
    .regex(/^[A-Za-z]{3}$/, "must be an ISO 4217 code such as EUR")
    .optional()
    .openapi({
      description:
        "Only products priced in this currency. Shops price in their own currency, so price " +
        "bounds compare minor units of whatever currency a product has unless this is set.",
      example: "EUR",
    }),
  listingType: ListingTypeSchema.optional(),
  sort: z.enum(PRODUCT_SORTS).optional().openapi({
    description: "Default: `relevance` when `q` is given, else `newest` (latest published).",
  }),
  limit: z.coerce.number().int().min(1).max(100).default(20).openapi({ example: 20 }),
  cursor: z.string().min(1).max(512).optional().openapi({
    description: "`nextCursor` of the previous page, with the same filters and sort.",
  }),
});

const listCategories = createRoute({
  method: "get",
  path: "/categories",
  tags: ["catalog"],
  summary: "The category tree, each level ordered by position then name",
  responses: { 200: cachedOk("The tree's roots", z.array(CategoryNodeSchema)) },
});

const listProducts = createRoute({
  method: "get",
  path: "/products",
  tags: ["catalog"],
  summary: "Search and browse published products of verified shops",
  description:
    "Keyset pagination: pages stay stable while products are added (no duplicates, no gaps).",
  request: { query: ProductListQuerySchema },
  responses: {
    200: cachedOk("A page of products", ProductPageSchema),
    ...problems(422),
  },
});

const getProduct = createRoute({
  method: "get",
  path: "/products/{id}",
  tags: ["catalog"],
  summary: "A published product with its shop; drafts, deleted products and hidden shops are 404",
  request: { params: IdParam },
  responses: {
    200: cachedOk("The product", PublicProductSchema),
    ...problems(404, 422),
  },
});

/** Public catalog under `/v1`: categories and products, read through the cache. */
export const catalogRoutes = createRouter()
  .openapi(listCategories, async (c) => {
    const { value, status } = await cachedCategoryTree(serviceContext(c));
    setCacheHeader(c, status);
    return c.json(value, 200);
  })
  .openapi(listProducts, async (c) => {
    const { value, status } = await cachedProductList(serviceContext(c), c.req.valid("query"));
    setCacheHeader(c, status);
    return c.json(value, 200);
  })
  .openapi(getProduct, async (c) => {
    const { value, status } = await cachedProduct(serviceContext(c), c.req.valid("param").id);
    setCacheHeader(c, status);
    return c.json(value, 200);
  });
