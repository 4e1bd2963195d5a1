import { bumpVersions } from "../../lib/cache.ts";
import type { Logger } from "../../lib/logger.ts";
import type { Redis } from "../../lib/redis.ts";

/*
 * The catalog's cache keys. Data keys embed the version counters they depend on, so a change
 * INCRs counters instead of deleting keys:
 *
 *   souk:v1:ver:catalog          every list (any product, category or shop change moves lists)
 *   souk:v1:ver:product:{id}     that product's detail
 *   souk:v1:ver:shops            every detail's shop part (shop visibility and public profile)
 *   souk:v1:ver:categories       the category tree
 *
 *   souk:v1:product:{id}:p{product}:s{shops}       GET /v1/products/{id}
 *   souk:v1:products:c{catalog}:{digest of query}  GET /v1/products?...
 *   souk:v1:categories:t{categories}               GET /v1/categories
 *
 * Shop changes are rare (approve, reject, suspend), so one `shops` counter for every detail
 * keeps a detail read at two round trips instead of a third to learn the product's shop.
 */
export const CACHE_PREFIX = "souk:v1";
export const CATALOG_TTL_SECONDS = 60;

export const versionKey = {
  catalog: `${CACHE_PREFIX}:ver:catalog`,
  shops: `${CACHE_PREFIX}:ver:shops`,
  categories: `${CACHE_PREFIX}:ver:categories`,
  product: (id: string) => `${CACHE_PREFIX}:ver:product:${id}`,
} as const;

export const dataKey = {
  product: (id: string, productVersion: number, shopsVersion: number) =>
    `${CACHE_PREFIX}:product:${id}:p${productVersion}:s${shopsVersion}`,
  productList: (catalogVersion: number, queryDigest: string) =>
    `${CACHE_PREFIX}:products:c${catalogVersion}:${queryDigest}`,
  categoryTree: (categoriesVersion: number) => `${CACHE_PREFIX}:categories:t${categoriesVersion}`,
} as const;

/** What changed, and so what buyers' cached reads must stop seeing. */
export type CatalogScope =
  /** A product's public face changed (published, unpublished, edited while published, deleted). */
  | { kind: "product"; productId: string }
  /** A shop's visibility (approve, reject, suspend, delete) or its public name/slug/country. */
  | { kind: "shop"; shopId: string }
  /** The category tree changed. */
  | { kind: "categories" };

/** The counters a change in `scope` must bump. */
export function versionKeysFor(scope: CatalogScope): string[] {
  switch (scope.kind) {
    case "product":
      return [versionKey.product(scope.productId), versionKey.catalog];
    case "shop":
      return [versionKey.shops, versionKey.catalog];
    case "categories":
      return [versionKey.categories, versionKey.catalog];
  }
}

/**
 * Invalidates what a committed change makes stale. Call it after the transaction commits (a
 * bump before the commit lets a reader cache the old rows under the new version). Never throws:
 * with Redis absent it does nothing, with Redis failing it logs and the 60 s TTL takes over.
 * Returns whether the counters were bumped.
 */
export async function bumpCatalogVersion(
  redis: Redis | null,
  scope: CatalogScope,
  logger?: Logger,
): Promise<boolean> {
  return bumpVersions(redis, versionKeysFor(scope), logger);
}
