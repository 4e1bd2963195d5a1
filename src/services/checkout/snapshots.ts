import { eq, inArray, sql } from "drizzle-orm";
import type { Queryable } from "../../db/client.ts";
import type { HttpDatabase } from "../../db/http.ts";
import { products, shopTaxRates } from "../../db/schema/catalog.ts";
import { shopLocations, shops } from "../../db/schema/shops.ts";
import { withTimeout } from "../../lib/cache.ts";
import { errorMessage } from "../../lib/errors.ts";
import { type CartLineRow, lineColumns, loadCartLines, toLineRow } from "../cart/lines.ts";
import type { ServiceContext } from "../context.ts";

/**
 * What a purchase needs to know about a product before it holds stock and writes: its price,
 * currency, shop, delivery rules, where its units are (the shop's warehouse, its pickup branches)
 * and whether it can be bought. Read from Redis when it is there, so the buyer's path spends no
 * Postgres round trip on it; the write re-checks every money-relevant field inside its own
 * transaction, so a stale snapshot can fail a purchase (and is then dropped) but never sell at a
 * wrong price.
 */
export interface ListingSnapshot extends Omit<CartLineRow, "quantity" | "addedAt"> {
  /** The shop's warehouse (where delivered orders take their units), if it has one. */
  warehouseId: string | null;
  /** The shop's branches in use with pickup on (src/services/shops/locations.ts). */
  branches: Array<{ id: string; name: string }>;
  /** How the product is taxed (src/lib/tax.ts); the write re-checks all three. */
  tax: ListingTax;
}

/** A product's tax terms: its shop's mode and default rate, and the rate of its category. */
export interface ListingTax {
  pricesIncludeTax: boolean;
  /** The product's rate: its category's in the shop when set, else the shop's default. */
  rateBps: number;
  /** The shop's default rate, which also taxes the delivery fee. */
  shopRateBps: number;
}

/**
 * A product's tax terms as columns of a query over `products` joined with `shops`: the
 * category's own rate in the shop when set, else the shop's default.
 */
export const taxColumns = {
  pricesIncludeTax: shops.pricesIncludeTax,
  shopRateBps: shops.taxRateBps,
  rateBps: sql<number>`coalesce((select ${shopTaxRates.rateBps} from ${shopTaxRates}
    where ${shopTaxRates.shopId} = ${shops.id} and ${shopTaxRates.categoryId} = ${products.categoryId}),
    ${shops.taxRateBps})`.mapWith(Number),
};

/** The tax terms of these products, from Postgres in one query (the preview's plan). */
export async function loadListingTaxes(
  db: Queryable | HttpDatabase,
  productIds: readonly string[],
): Promise<Map<string, ListingTax>> {
  if (productIds.length === 0) return new Map();
  const rows = await db
    .select({ productId: products.id, ...taxColumns })
    .from(products)
    .innerJoin(shops, eq(shops.id, products.shopId))
    .where(inArray(products.id, [...productIds]));
  return new Map(rows.map(({ productId, ...tax }) => [productId, tax satisfies ListingTax]));
}

/** The buyer's cart as the last preview (or Postgres read) saw it. */
export interface CartSnapshot {
  /** The cart's version (lines.ts `cartVersion`): the write refuses if the cart changed since. */
  version: string | null;
  lines: Array<{ productId: string; quantity: number; addedAt: string }>;
}

/** A listing plus the quantity bought: one line of a purchase. */
export interface SnapshotLine extends ListingSnapshot {
  quantity: number;
}

/**
 * Where snapshots come from and go to: one-shot reads over HTTP (no connection kept open after
 * the answer), Redis (`null` reads Postgres every time), and the request's waitUntil for stores.
 */
export type SnapshotDeps = Pick<ServiceContext, "http" | "redis" | "logger" | "defer">;

/** A snapshot older than this is read again even if nothing dropped it. */
const LISTING_TTL_S = 300;
const CART_TTL_S = 900;

/** v2: listings carry their tax terms (`tax`); a v1 snapshot without them is never read. */
export const listingKey = (productId: string) => `souk:buy:listing:v2:${productId}`;
export const cartKey = (buyerId: string) => `souk:buy:cart:${buyerId}`;

function describe(err: unknown): string {
  return errorMessage(err);
}

/** The listings of these products from Postgres: one query, locations folded in. */
export async function loadListings(
  db: Queryable | HttpDatabase,
  productIds: readonly string[],
): Promise<Map<string, ListingSnapshot>> {
  if (productIds.length === 0) return new Map();
  const rows = await db
    .select({
      productId: products.id,
      ...lineColumns,
      locations: sql<Array<{ id: string; name: string; kind: "warehouse" | "branch" }> | null>`(
        select json_agg(json_build_object('id', l.id, 'name', l.name, 'kind', l.kind))
        from ${shopLocations} l where l.shop_id = ${shops.id} and l.deleted_at is null
          and (l.kind = 'warehouse' or l.pickup_enabled))`,
      ...taxColumns,
    })
    .from(products)
    .innerJoin(shops, eq(shops.id, products.shopId))
    .where(inArray(products.id, [...productIds]));
  const out = new Map<string, ListingSnapshot>();
  for (const r of rows) {
    const {
      quantity: _q,
      addedAt: _a,
      ...line
    } = toLineRow({ ...r, quantity: 1, addedAt: new Date() });
    const tax = {
      pricesIncludeTax: r.pricesIncludeTax,
      rateBps: r.rateBps,
      shopRateBps: r.shopRateBps,
    };
    const locations = r.locations ?? [];
    out.set(r.productId, {
      ...line,
      warehouseId: locations.find((l) => l.kind === "warehouse")?.id ?? null,
      branches: locations
        .filter((l) => l.kind === "branch")
        .map((l) => ({ id: l.id, name: l.name }))
        .sort((a, b) => (a.id < b.id ? -1 : 1)),
      tax,
    });
  }
  return out;
}

/** The cart's lines from Postgres, with its version. */
async function loadCart(db: Queryable | HttpDatabase, buyerId: string): Promise<CartSnapshot> {
  const { lines, version } = await loadCartLines(db, buyerId);
  return {
    version,
    lines: lines.map((l) => ({
      productId: l.productId,
      quantity: l.quantity,
      addedAt: l.addedAt.toISOString(),
    })),
  };
}

function store(deps: SnapshotDeps, entries: Array<[string, unknown, number]>): void {
  const { redis } = deps;
  if (!redis || entries.length === 0) return;
  const pipe = redis.pipeline();
  for (const [key, value, ttl] of entries) pipe.set(key, value, { ex: ttl });
  deps.defer(
    withTimeout(pipe.exec()).catch((err) =>
      deps.logger.warn("could not store purchase snapshots", { error: describe(err) }),
    ),
  );
}

async function fromRedis<T>(deps: SnapshotDeps, keys: string[]): Promise<Array<T | null>> {
  if (!deps.redis || keys.length === 0) return keys.map(() => null);
  try {
    const values = await withTimeout(deps.redis.mget<Array<T | null>>(...keys));
    return keys.map((_, i) => values[i] ?? null);
  } catch (err) {
    deps.logger.warn("purchase snapshots bypassed: Redis failed or was slow", {
      error: describe(err),
    });
    return keys.map(() => null);
  }
}

/**
 * Listings of these products: from Redis, and from Postgres for the ones Redis lacks (or all of
 * them with `fresh`), which are stored back for the next buyer. A product that does not exist is
 * absent from the map.
 */
export async function readListings(
  deps: SnapshotDeps,
  productIds: readonly string[],
  opts: { fresh?: boolean } = {},
): Promise<{ listings: Map<string, ListingSnapshot>; fromCache: boolean }> {
  const listings = new Map<string, ListingSnapshot>();
  if (!opts.fresh) {
    const cached = await fromRedis<ListingSnapshot>(deps, productIds.map(listingKey));
    cached.forEach((l, i) => {
      const id = productIds[i];
      if (l && id) listings.set(id, l);
    });
  }
  const missing = productIds.filter((id) => !listings.has(id));
  if (missing.length === 0) return { listings, fromCache: true };
  const loaded = await loadListings(deps.http, missing);
  for (const [id, l] of loaded) listings.set(id, l);
  store(
    deps,
    [...loaded].map(([id, l]) => [listingKey(id), l, LISTING_TTL_S]),
  );
  return { listings, fromCache: false };
}

/**
 * The buyer's cart and the listings of its lines: from Redis when the last preview left them
 * there, else from Postgres (and stored). `fromCache` says whether any part came from Redis, so a
 * refused write knows a fresh read may succeed.
 */
export async function readCart(
  deps: SnapshotDeps,
  buyerId: string,
  opts: { fresh?: boolean } = {},
): Promise<{ cart: CartSnapshot; listings: Map<string, ListingSnapshot>; fromCache: boolean }> {
  let cart: CartSnapshot | null = null;
  if (!opts.fresh) cart = (await fromRedis<CartSnapshot>(deps, [cartKey(buyerId)]))[0] ?? null;
  const cartFromCache = cart !== null;
  if (!cart) {
    cart = await loadCart(deps.http, buyerId);
    store(deps, [[cartKey(buyerId), cart, CART_TTL_S]]);
  }
  const { listings, fromCache } = await readListings(
    deps,
    cart.lines.map((l) => l.productId),
    opts,
  );
  return { cart, listings, fromCache: cartFromCache || fromCache };
}

/** Stores what a preview just read from Postgres, so the confirm that follows needs no read. */
export function rememberCart(
  deps: SnapshotDeps,
  buyerId: string,
  cart: { version: string | null; lines: CartLineRow[] },
): void {
  const snapshot: CartSnapshot = {
    version: cart.version,
    lines: cart.lines.map((l) => ({
      productId: l.productId,
      quantity: l.quantity,
      addedAt: l.addedAt.toISOString(),
    })),
  };
  store(deps, [[cartKey(buyerId), snapshot, CART_TTL_S]]);
}

/** Drops snapshots a write found stale (never throws: the TTL is the backstop). */
export async function forgetSnapshots(
  deps: Pick<SnapshotDeps, "redis" | "logger">,
  keys: string[],
): Promise<void> {
  if (!deps.redis || keys.length === 0) return;
  try {
    await withTimeout(deps.redis.del(...keys));
  } catch (err) {
    deps.logger.warn("could not drop stale purchase snapshots", { error: describe(err) });
  }
}
