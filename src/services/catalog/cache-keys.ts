import { bumpVersions, type CacheDeps } from "../../lib/cache.ts";
import { cacheNamespace } from "../../lib/cache-namespace.ts";
import type { Logger } from "../../lib/logger.ts";
import type { Redis } from "../../lib/redis.ts";

/*
 * The catalog's cache keys. Data keys embed the version counters they depend on, so a change
 * INCRs counters instead of deleting keys ({ns} is the database's namespace, below):
 *
 *   {ns}:ver:catalog          every list (any product, category or shop change moves lists)
 *   {ns}:ver:product:{id}     that product's detail
 *   {ns}:ver:shops            every detail's shop part (shop visibility and public profile)
 *   {ns}:ver:categories       the category tree
 *
 *   {ns}:product:{id}:p{product}:s{shops}       GET /v1/products/{id}
 *   {ns}:products:c{catalog}:{digest of query}  GET /v1/products?...
 *   {ns}:categories:t{categories}               GET /v1/categories
 *
 * Shop changes are rare (approve, reject, suspend), so one `shops` counter for every detail
 * keeps a detail read at two round trips instead of a third to learn the product's shop.
 */
export const CATALOG_TTL_SECONDS = 60;

// Durable Objects publish under the same namespace and may not import a service.
export { cacheNamespace };

/** A Redis (or null), the database's namespace in it, and where to log cache trouble. */
export interface CatalogCache extends CacheDeps {
  namespace: string;
}

/** The catalog cache of the database at `databaseUrl`. */
export function catalogCache(
  redis: Redis | null,
  databaseUrl: string,
  logger?: Logger,
): CatalogCache {
  return { redis, logger, namespace: cacheNamespace(databaseUrl) };
}

export const versionKey = {
  catalog: (ns: string) => `${ns}:ver:catalog`,
  shops: (ns: string) => `${ns}:ver:shops`,
  categories: (ns: string) => `${ns}:ver:categories`,
  product: (ns: string, id: string) => `${ns}:ver:product:${id}`,
} as const;

export const dataKey = {
  product: (ns: string, id: string, productVersion: number, shopsVersion: number) =>
    `${ns}:product:${id}:p${productVersion}:s${shopsVersion}`,
  productList: (ns: string, catalogVersion: number, queryDigest: string) =>
    `${ns}:products:c${catalogVersion}:${queryDigest}`,
  categoryTree: (ns: string, categoriesVersion: number) => `${ns}:categories:t${categoriesVersion}`,
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
export function versionKeysFor(ns: string, scope: CatalogScope): string[] {
  switch (scope.kind) {
    case "product":
      return [versionKey.product(ns, scope.productId), versionKey.catalog(ns)];
    case "shop":
      return [versionKey.shops(ns), versionKey.catalog(ns)];
    case "categories":
      return [versionKey.categories(ns), versionKey.catalog(ns)];
  }
}

/**
 * Invalidates what a committed change makes stale, e.g. after a shop is suspended:
 * `bumpCatalogVersion(catalogCache(redis, config.DATABASE_URL, logger), { kind: "shop", shopId })`.
 * Call it after the transaction commits (a bump before the commit lets a reader cache the old
 * rows under the new version). Never throws: with Redis absent it does nothing, with Redis
 * failing it logs and the 60 s TTL takes over. Returns whether the counters were bumped.
 */
export async function bumpCatalogVersion(
  cache: CatalogCache,
  scope: CatalogScope,
): Promise<boolean> {
  return bumpVersions(
    cache.redis,
    versionKeysFor(cache.namespace, scope),
    cache.logger,
    cache.timeoutMs,
  );
}
