import type { LocationLevel } from "../../../durable-objects/product-stock.ts";
import { stockOf } from "../../../durable-objects/product-stock.ts";
import { readThrough, withTimeout } from "../../lib/cache.ts";
import { errorMessage } from "../../lib/errors.ts";
import type { Logger } from "../../lib/logger.ts";
import type { CatalogCache } from "../catalog/cache-keys.ts";
import type { StockNamespace } from "../context.ts";

/**
 * How long a product's public availability may be served from Redis. It moves with every sale,
 * so it is never part of the cached product detail; a few seconds of staleness is what a buyer
 * could see anyway between loading a page and pressing buy, and checkout reserves against the
 * object itself, never against this number.
 */
export const AVAILABILITY_TTL_SECONDS = 5;

/**
 * What buyers see of a product's stock: units available summed over every location. `unknown`
 * only when the stock object could not be reached (the page still renders).
 */
export type Availability =
  | { status: "in_stock" | "low_stock" | "out_of_stock"; quantity: number }
  | { status: "unknown"; quantity: null };

export const UNKNOWN_AVAILABILITY: Availability = { status: "unknown", quantity: null };

/** Out of stock at zero; low when any location is at or below its threshold; else in stock. */
export function availabilityOf(levels: LocationLevel[]): Availability {
  const quantity = levels.reduce((sum, l) => sum + l.available, 0);
  if (quantity === 0) return { status: "out_of_stock", quantity };
  return { status: levels.some((l) => l.low) ? "low_stock" : "in_stock", quantity };
}

export interface AvailabilityDeps {
  stock: StockNamespace;
  cache: CatalogCache;
  logger?: Logger | undefined;
}

const availabilityKey = (ns: string, productId: string) => `${ns}:availability:${productId}`;

/** A product's availability from its stock object, through a cache of a few seconds. */
export async function productAvailability(
  deps: AvailabilityDeps,
  productId: string,
): Promise<Availability> {
  try {
    const { value } = await readThrough(deps.cache, {
      versionKeys: [],
      key: () => availabilityKey(deps.cache.namespace, productId),
      ttlSeconds: AVAILABILITY_TTL_SECONDS,
      load: async () => availabilityOf((await stockOf(deps.stock, productId).snapshot()).locations),
    });
    return value;
  } catch (err) {
    deps.logger?.error("product availability unavailable", {
      productId,
      error: errorMessage(err),
    });
    return UNKNOWN_AVAILABILITY;
  }
}

/**
 * Drops products' cached availability after a change made through the seller API, so the
 * seller sees their own change at once: one DEL per 500 products. Never throws; a miss here is
 * bounded by the TTL.
 */
export async function forgetAvailability(
  cache: CatalogCache,
  ...productIds: string[]
): Promise<void> {
  if (!cache.redis || productIds.length === 0) return;
  const keys = productIds.map((id) => availabilityKey(cache.namespace, id));
  for (let i = 0; i < keys.length; i += 500) {
    try {
      await withTimeout(cache.redis.del(...keys.slice(i, i + 500)), cache.timeoutMs);
    } catch (err) {
      cache.logger?.warn("could not drop cached availability; it expires by TTL", {
        products: productIds.length,
        error: errorMessage(err),
      });
      return;
    }
  }
}
