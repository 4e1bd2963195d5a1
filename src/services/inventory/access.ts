import { and, asc, eq, isNull, sql } from "drizzle-orm";
import type { Queryable } from "../../db/client.ts";
import { products } from "../../db/schema/catalog.ts";
import { type ShopRole, shopLocations, shopMembers, shops } from "../../db/schema/shops.ts";
import { Forbidden, NotFound, ValidationFailed } from "../errors.ts";
import { SHOP_PERMISSIONS, type ShopPermission } from "../shops/access.ts";

export interface ProductScope {
  productId: string;
  shopId: string;
  sku: string;
  title: string;
  role: ShopRole;
}

export interface LocationRef {
  id: string;
  code: string;
  name: string;
  kind: "warehouse" | "branch";
}

/**
 * A live product checked for `permission` in its shop, and (when given) a live location of
 * that same shop, in one round trip: this sits on the hot path of every stock write. A product
 * that does not exist, is deleted, or belongs to a shop the user is not a member of is NOT_FOUND
 * (invariant 5: another shop's stock is never revealed); a member whose role lacks the
 * permission gets FORBIDDEN; a location outside the shop is a 422 naming `locationField`.
 */
export async function requireProduct(
  db: Queryable,
  opts: {
    productId: string;
    userId: string;
    permission: ShopPermission;
    locationId?: string | undefined;
    locationField?: string;
  },
): Promise<ProductScope> {
  const locationJoin = opts.locationId
    ? sql<boolean>`exists (select 1 from ${shopLocations} where ${shopLocations.id} = ${opts.locationId}
        and ${shopLocations.shopId} = ${products.shopId} and ${shopLocations.deletedAt} is null)`
    : sql<boolean>`true`;
  const [row] = await retryWhenBusy(() =>
    db
      .select({
        productId: products.id,
        shopId: products.shopId,
        sku: products.sku,
        title: products.title,
        role: shopMembers.role,
        locationOk: locationJoin,
      })
      .from(products)
      .innerJoin(shops, and(eq(shops.id, products.shopId), isNull(shops.deletedAt)))
      .leftJoin(
        shopMembers,
        and(eq(shopMembers.shopId, products.shopId), eq(shopMembers.userId, opts.userId)),
      )
      .where(and(eq(products.id, opts.productId), isNull(products.deletedAt))),
  );
  if (!row?.role) throw new NotFound("product", opts.productId);
  const allowed: readonly ShopRole[] = SHOP_PERMISSIONS[opts.permission];
  if (!allowed.includes(row.role)) {
    throw new Forbidden(`Your role in this shop (${row.role}) cannot do ${opts.permission}.`);
  }
  if (!row.locationOk) {
    throw new ValidationFailed([
      {
        field: opts.locationField ?? "locationId",
        in: "body",
        message: "is not a location of this product's shop",
      },
    ]);
  }
  return {
    productId: row.productId,
    shopId: row.shopId,
    sku: row.sku,
    title: row.title,
    role: row.role,
  };
}

/** The shop's live locations, warehouse first, then by code. */
export async function shopLocationsOf(db: Queryable, shopId: string): Promise<LocationRef[]> {
  return db
    .select({
      id: shopLocations.id,
      code: shopLocations.code,
      name: shopLocations.name,
      kind: shopLocations.kind,
    })
    .from(shopLocations)
    .where(and(eq(shopLocations.shopId, shopId), isNull(shopLocations.deletedAt)))
    .orderBy(asc(shopLocations.kind), asc(shopLocations.code));
}

/** The shop's owners and managers: who hears about low stock and pending requests. */
export async function shopManagers(db: Queryable, shopId: string): Promise<string[]> {
  const rows = await db
    .select({ userId: shopMembers.userId })
    .from(shopMembers)
    .where(and(eq(shopMembers.shopId, shopId), sql`${shopMembers.role} in ('owner', 'manager')`))
    .orderBy(asc(shopMembers.userId));
  return rows.map((r) => r.userId);
}

/** Postgres refused the connection for lack of slots (53300) or is starting/stopping (57P03). */
export function isConnectionBusy(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; e && depth < 5; depth++) {
    const rec = e as { code?: unknown; message?: unknown; cause?: unknown };
    if (rec.code === "53300" || rec.code === "57P03") return true;
    if (
      typeof rec.message === "string" &&
      /too many clients|remaining connection slots/i.test(rec.message)
    ) {
      return true;
    }
    e = rec.cause;
  }
  return false;
}

/**
 * Runs a read again when Postgres had no connection slot for it. A flash sale opens one
 * connection per request; behind Neon's pooler that is fine, but a server's own
 * `max_connections` (a local Postgres, an unpooled endpoint) turns a burst into refusals that
 * a short, jittered wait absorbs. Only for reads: nothing is half-done when one is retried.
 */
export async function retryWhenBusy<T>(read: () => Promise<T>, attempts = 8): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await read();
    } catch (err) {
      if (attempt >= attempts || !isConnectionBusy(err)) throw err;
      const base = Math.min(800, 25 * 2 ** attempt);
      await new Promise((r) => setTimeout(r, base / 2 + Math.random() * base));
    }
  }
}
