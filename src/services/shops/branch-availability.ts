import { and, asc, eq, isNull } from "drizzle-orm";
import { type LocationLevel, stockOf } from "../../../durable-objects/product-stock.ts";
import { shopLocations } from "../../db/schema/shops.ts";
import { readThrough } from "../../lib/cache.ts";
import type { ServiceContext } from "../context.ts";
import { errorMessage } from "../errors.ts";
import {
  AVAILABILITY_TTL_SECONDS,
  type Availability,
  availabilityKey,
  availabilityOf,
  UNKNOWN_AVAILABILITY,
} from "../inventory/availability.ts";

/**
 * Where a buyer can get a product: delivered from the shop's warehouse, or picked up at one of
 * its branches, each with the units available at that one location. Read from the product's
 * ProductStock object (`snapshot`, the read the summed availability uses) and cached for the
 * same few seconds under a key of its own; checkout reserves against the object, never against
 * this.
 */
export interface ProductFulfilment {
  /** Delivery ships from the warehouse; null when the shop has no warehouse in use. */
  delivery: { locationId: string; availability: Availability } | null;
  /** Branches in use that offer pickup, by name. */
  pickup: Array<{ locationId: string; name: string; availability: Availability }>;
}

/**
 * What a product page shows of its stock: the units a buyer can get (delivered from the
 * warehouse or picked up at a branch that offers it) summed, and the same per location. A
 * retired location, or a branch with pickup off, holds units no buyer can get, so neither counts.
 */
export interface ProductStockView {
  availability: Availability;
  fulfilment: ProductFulfilment;
}

/** One location's availability: its own level (none yet is out of stock). */
function atLocation(levels: LocationLevel[] | null, locationId: string): Availability {
  if (!levels) return UNKNOWN_AVAILABILITY;
  return availabilityOf(levels.filter((l) => l.locationId === locationId));
}

async function loadFulfilment(
  ctx: Pick<ServiceContext, "db" | "stock" | "logger">,
  productId: string,
  shopId: string,
): Promise<ProductStockView & { complete: boolean }> {
  const [locations, levels] = await Promise.all([
    ctx.db
      .select({
        id: shopLocations.id,
        kind: shopLocations.kind,
        name: shopLocations.name,
        pickupEnabled: shopLocations.pickupEnabled,
      })
      .from(shopLocations)
      .where(and(eq(shopLocations.shopId, shopId), isNull(shopLocations.deletedAt)))
      .orderBy(asc(shopLocations.name), asc(shopLocations.id)),
    stockOf(ctx.stock, productId)
      .snapshot()
      .then((s) => s.locations)
      .catch((err: unknown) => {
        ctx.logger.error("per-location availability unavailable", {
          productId,
          error: errorMessage(err),
        });
        return null;
      }),
  ]);
  const warehouse = locations.find((l) => l.kind === "warehouse");
  const pickup = locations.filter((l) => l.kind === "branch" && l.pickupEnabled);
  const sold = new Set([...(warehouse ? [warehouse.id] : []), ...pickup.map((l) => l.id)]);
  return {
    availability: levels
      ? availabilityOf(levels.filter((l) => sold.has(l.locationId)))
      : UNKNOWN_AVAILABILITY,
    fulfilment: {
      delivery: warehouse
        ? { locationId: warehouse.id, availability: atLocation(levels, warehouse.id) }
        : null,
      pickup: pickup.map((l) => ({
        locationId: l.id,
        name: l.name,
        availability: atLocation(levels, l.id),
      })),
    },
    complete: levels !== null,
  };
}

/**
 * A product's stock view, through a cache of AVAILABILITY_TTL_SECONDS that a seller's change
 * drops (`forgetAvailability`). A read whose stock object could not answer shows `unknown` and is
 * not cached.
 */
export async function productStockView(
  ctx: Pick<ServiceContext, "db" | "stock" | "logger" | "cache">,
  productId: string,
  shopId: string,
): Promise<ProductStockView> {
  // What a load got when the object failed: shown, not cached.
  const seen: { partial: ProductStockView | null } = { partial: null };
  try {
    const { value } = await readThrough(ctx.cache, {
      versionKeys: [],
      key: () => availabilityKey(ctx.cache.namespace, productId),
      ttlSeconds: AVAILABILITY_TTL_SECONDS,
      load: async () => {
        const { complete, ...loaded } = await loadFulfilment(ctx, productId, shopId);
        if (complete) return loaded;
        seen.partial = loaded;
        throw new Error("stock object unavailable");
      },
    });
    return value;
  } catch (err) {
    if (seen.partial) return seen.partial;
    ctx.logger.error("per-location availability unavailable", {
      productId,
      error: errorMessage(err),
    });
    return { availability: UNKNOWN_AVAILABILITY, fulfilment: { delivery: null, pickup: [] } };
  }
}
