import type { LocationLevel } from "../../../durable-objects/product-stock.ts";
import { withTimeout } from "../../lib/cache.ts";
import { errorMessage } from "../../lib/errors.ts";
import type { CatalogCache } from "../catalog/cache-keys.ts";

/**
 * How long a product's public availability may be served from Redis. It moves with every sale,
 * so it is never part of the cached product detail; a few seconds of staleness is what a buyer
 * could see anyway between loading a page and pressing buy, and checkout reserves against the
 * object itself, never against this number.
 */
export const AVAILABILITY_TTL_SECONDS = 5;

/**
 * What buyers see of a product's stock: units available summed over the locations it is sold
 * from. `unknown` only when the stock object could not be reached (the page still renders).
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

/**
 * The Redis key of a product's cached stock view (summed and per location:
 * src/services/shops/branch-availability.ts), which a seller's change drops below.
 */
export const availabilityKey = (ns: string, productId: string) => `${ns}:availability:${productId}`;

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
