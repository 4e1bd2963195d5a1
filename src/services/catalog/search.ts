import { and, asc, desc, eq, gte, isNull, lte, type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import type { Queryable } from "../../db/client.ts";
import { categories, type ListingType, products, SEARCH_CONFIG } from "../../db/schema/catalog.ts";
import { shops } from "../../db/schema/shops.ts";
import { type CachedValue, digest, readThrough } from "../../lib/cache.ts";
import { UUID_PATTERN } from "../../lib/ids.ts";
import { decodeCursor, encodeCursor, type Page } from "../../lib/pagination.ts";
import type { ServiceContext } from "../context.ts";
import { NotFound, ValidationFailed } from "../errors.ts";
import { visibleShopCondition } from "../shops/access.ts";
import { productStockView } from "../shops/branch-availability.ts";
import { CATALOG_TTL_SECONDS, dataKey, versionKey } from "./cache-keys.ts";
import { productColumns } from "./products.ts";
import type { ProductSummary, PublicProductCore, PublicProductView } from "./views.ts";

export const PRODUCT_SORTS = ["relevance", "newest", "price_asc", "price_desc"] as const;
export type ProductSort = (typeof PRODUCT_SORTS)[number];

/** The public list's parameters, already shape-checked by the route. */
export interface ProductListQuery {
  q?: string | undefined;
  /** A category id or slug; matches its whole subtree. */
  category?: string | undefined;
  /** A shop id or slug. */
  shop?: string | undefined;
  /** Inclusive bounds in minor units, compared as they are: pair them with `currency`. */
  minPrice?: number | undefined;
  maxPrice?: number | undefined;
  currency?: string | undefined;
  listingType?: ListingType | undefined;
  /** Default: `relevance` with `q`, `newest` without. */
  sort?: ProductSort | undefined;
  limit: number;
  cursor?: string | undefined;
}

/*
 * Keyset cursors: the last row's sort key and id. The next page is "strictly after (key, id)" in
 * the sort order, so rows inserted meanwhile never shift a page (no duplicate, no gap among the
 * rows that existed). Keys travel as Postgres' own text so nothing is rounded on the way:
 * `published_at` with microseconds, `ts_rank` as float4's shortest exact text.
 */
const TIMESTAMP_TEXT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const FLOAT_TEXT = /^-?\d+(\.\d+)?(e[-+]?\d+)?$/i;
const cursorSchema = z.discriminatedUnion("s", [
  z.object({ s: z.literal("relevance"), k: z.string().regex(FLOAT_TEXT), id: z.uuid() }),
  z.object({ s: z.literal("newest"), k: z.string().regex(TIMESTAMP_TEXT), id: z.uuid() }),
  z.object({ s: z.literal("price_asc"), k: z.number().int(), id: z.uuid() }),
  z.object({ s: z.literal("price_desc"), k: z.number().int(), id: z.uuid() }),
]);
type Cursor = z.infer<typeof cursorSchema>;

export interface NormalizedListQuery {
  q: string | null;
  category: string | null;
  shop: string | null;
  minPrice: number | null;
  maxPrice: number | null;
  currency: string | null;
  listingType: ListingType | null;
  sort: ProductSort;
  limit: number;
  after: Cursor | null;
}

function queryError(field: string, message: string): ValidationFailed {
  return new ValidationFailed([{ field, in: "query", message }]);
}

/** Resolves defaults and checks what a per-field schema cannot: ranges, sort needs, cursors. */
export function normalizeListQuery(raw: ProductListQuery): NormalizedListQuery {
  const q = raw.q?.trim() || null;
  const sort = raw.sort ?? (q ? "relevance" : "newest");
  if (sort === "relevance" && !q) throw queryError("sort", "relevance needs a search query `q`");
  const minPrice = raw.minPrice ?? null;
  const maxPrice = raw.maxPrice ?? null;
  if (minPrice !== null && maxPrice !== null && minPrice > maxPrice) {
    throw queryError("maxPrice", "must be at least minPrice");
  }
  let after: Cursor | null = null;
  if (raw.cursor) {
    after = decodeCursor(raw.cursor, cursorSchema);
    if (!after) throw queryError("cursor", "is not a valid cursor");
    if (after.s !== sort) throw queryError("cursor", `belongs to sort ${after.s}, not ${sort}`);
  }
  return {
    q,
    category: raw.category?.trim() || null,
    shop: raw.shop?.trim() || null,
    minPrice,
    maxPrice,
    currency: raw.currency?.toUpperCase() ?? null,
    listingType: raw.listingType ?? null,
    sort,
    limit: raw.limit,
    after,
  };
}

const isPublic = and(
  eq(products.status, "published"),
  isNull(products.deletedAt),
  visibleShopCondition,
);

/** Products of a category (by id or slug) or any category below it. */
export function categorySubtree(category: string): SQL {
  const root = UUID_PATTERN.test(category)
    ? sql`id = ${category}::uuid`
    : sql`slug = ${category.toLowerCase()}`;
  // UNION (not UNION ALL) ends the walk even if a cycle ever slipped into the data.
  return sql`${products.categoryId} in (
    with recursive subtree(id) as (
      select id from ${categories} where deleted_at is null and ${root}
      union
      select c.id from ${categories} c join subtree s on c.parent_id = s.id
      where c.deleted_at is null
    )
    select id from subtree)`;
}

const publishedText = sql<string>`to_char(${products.publishedAt} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/** The public product list: published products of visible shops, filtered, sorted, paged. */
export async function searchProducts(
  db: Queryable,
  query: NormalizedListQuery,
): Promise<Page<ProductSummary>> {
  const tsQuery = query.q
    ? sql`websearch_to_tsquery(${SEARCH_CONFIG}::regconfig, ${query.q})`
    : null;
  const rank = tsQuery ? sql`ts_rank(${products.search}, ${tsQuery})` : sql`0::real`;
  const after = query.after;
  let keyset: SQL | undefined;
  let order: SQL[];
  switch (query.sort) {
    case "relevance":
      order = [sql`${rank} desc`, desc(products.id)];
      if (after?.s === "relevance") {
        keyset = sql`(${rank}, ${products.id}) < (${after.k}::real, ${after.id}::uuid)`;
      }
      break;
    case "newest":
      order = [desc(products.publishedAt), desc(products.id)];
      if (after?.s === "newest") {
        keyset = sql`(${products.publishedAt}, ${products.id}) < (${after.k}::timestamptz, ${after.id}::uuid)`;
      }
      break;
    case "price_asc":
      order = [asc(products.priceMinor), asc(products.id)];
      if (after?.s === "price_asc") {
        keyset = sql`(${products.priceMinor}, ${products.id}) > (${after.k}, ${after.id}::uuid)`;
      }
      break;
    case "price_desc":
      order = [desc(products.priceMinor), desc(products.id)];
      if (after?.s === "price_desc") {
        keyset = sql`(${products.priceMinor}, ${products.id}) < (${after.k}, ${after.id}::uuid)`;
      }
      break;
  }
  const shopFilter = query.shop
    ? UUID_PATTERN.test(query.shop)
      ? eq(products.shopId, query.shop)
      : eq(shops.slug, query.shop.toLowerCase())
    : undefined;
  const rows = await db
    .select({
      id: products.id,
      title: products.title,
      priceMinor: products.priceMinor,
      currency: products.currency,
      listingType: products.listingType,
      categoryId: products.categoryId,
      imageUrls: products.imageUrls,
      publishedAt: products.publishedAt,
      publishedText,
      rankText: sql<string>`(${rank})::text`,
      shopId: shops.id,
      shopName: shops.name,
      shopSlug: shops.slug,
      shopCountry: shops.country,
    })
    .from(products)
    .innerJoin(shops, eq(shops.id, products.shopId))
    .where(
      and(
        isPublic,
        tsQuery ? sql`${products.search} @@ ${tsQuery}` : undefined,
        query.category ? categorySubtree(query.category) : undefined,
        shopFilter,
        query.minPrice !== null ? gte(products.priceMinor, query.minPrice) : undefined,
        query.maxPrice !== null ? lte(products.priceMinor, query.maxPrice) : undefined,
        query.currency ? eq(products.currency, query.currency) : undefined,
        query.listingType ? eq(products.listingType, query.listingType) : undefined,
        keyset,
      ),
    )
    .orderBy(...order)
    .limit(query.limit + 1);

  const items = rows.slice(0, query.limit);
  const last = items.at(-1);
  let nextCursor: string | null = null;
  if (rows.length > query.limit && last) {
    const cursor: Cursor =
      query.sort === "relevance"
        ? { s: "relevance", k: last.rankText, id: last.id }
        : query.sort === "newest"
          ? { s: "newest", k: last.publishedText, id: last.id }
          : { s: query.sort, k: last.priceMinor, id: last.id };
    nextCursor = encodeCursor(cursor);
  }
  return {
    items: items.map((r) => ({
      id: r.id,
      title: r.title,
      priceMinor: r.priceMinor,
      currency: r.currency,
      listingType: r.listingType,
      categoryId: r.categoryId,
      imageUrls: r.imageUrls,
      publishedAt: (r.publishedAt ?? new Date(0)).toISOString(),
      shop: { id: r.shopId, name: r.shopName, slug: r.shopSlug, country: r.shopCountry },
    })),
    nextCursor,
  };
}

/** A published product of a visible shop; anything else is NOT_FOUND, as if it did not exist. */
export async function getPublicProduct(db: Queryable, id: string): Promise<PublicProductCore> {
  const [row] = await db
    .select({
      product: productColumns,
      shop: { id: shops.id, name: shops.name, slug: shops.slug, country: shops.country },
    })
    .from(products)
    .innerJoin(shops, eq(shops.id, products.shopId))
    .where(and(eq(products.id, id), isPublic));
  if (!row) throw new NotFound("product", id);
  const p = row.product;
  return {
    id: p.id,
    title: p.title,
    description: p.description,
    priceMinor: p.priceMinor,
    currency: p.currency,
    listingType: p.listingType,
    categoryId: p.categoryId,
    imageUrls: p.imageUrls,
    attributes: p.attributes,
    publishedAt: (p.publishedAt ?? p.updatedAt).toISOString(),
    shop: row.shop,
  };
}

/** The public list through the cache; the key covers every parameter and the catalog version. */
export async function cachedProductList(
  ctx: ServiceContext,
  raw: ProductListQuery,
): Promise<CachedValue<Page<ProductSummary>>> {
  // Validated before Redis is asked anything: a bad cursor is a 422, cached or not.
  const query = normalizeListQuery(raw);
  const queryDigest = await digest(query);
  const ns = ctx.cache.namespace;
  return readThrough(ctx.cache, {
    versionKeys: [versionKey.catalog(ns)],
    key: ([catalog]) => dataKey.productList(ns, catalog ?? 0, queryDigest),
    ttlSeconds: CATALOG_TTL_SECONDS,
    load: () => searchProducts(ctx.db, query),
  });
}

/**
 * The public detail through the cache; the key covers the product's and the shops' versions.
 * Availability is not part of that entry (it moves with every sale, which bumps no catalog
 * version): it comes from the product's stock object through its own few-seconds cache.
 * `status` (the x-cache header) describes the detail entry.
 */
export async function cachedProduct(
  ctx: ServiceContext,
  id: string,
): Promise<CachedValue<PublicProductView>> {
  const ns = ctx.cache.namespace;
  const detail = await readThrough(ctx.cache, {
    versionKeys: [versionKey.product(ns, id), versionKey.shops(ns)],
    key: ([product, shopsVersion]) => dataKey.product(ns, id, product ?? 0, shopsVersion ?? 0),
    ttlSeconds: CATALOG_TTL_SECONDS,
    load: () => getPublicProduct(ctx.db, id),
  });
  const stock = await productStockView(ctx, id, detail.value.shop.id);
  return { value: { ...detail.value, ...stock }, status: detail.status };
}
