import { and, eq, isNotNull, isNull } from "drizzle-orm";
import type { Queryable } from "../../db/client.ts";
import type { HttpDatabase } from "../../db/http.ts";
import { type Shop, type ShopRole, shopMembers, shops } from "../../db/schema/shops.ts";
import { Forbidden, NotFound } from "../errors.ts";

/**
 * Buyers see a shop only when an admin approved it, its contact email is OTP-verified, and it
 * is not suspended or deleted. Everything else is a 404 to them, its products included.
 */
export function isShopVisible(
  shop: Pick<Shop, "status" | "emailVerifiedAt" | "deletedAt">,
): boolean {
  return shop.status === "approved" && shop.emailVerifiedAt !== null && shop.deletedAt === null;
}

/** The SQL form of isShopVisible, for joins in list queries. */
export const visibleShopCondition = and(
  eq(shops.status, "approved"),
  isNotNull(shops.emailVerifiedAt),
  isNull(shops.deletedAt),
);

/** Which shop roles may do what; the one table every seller route consults. */
export const SHOP_PERMISSIONS = {
  "catalog.read": ["owner", "manager", "staff"],
  "catalog.write": ["owner", "manager"],
  "stock.write": ["owner", "manager"],
  "stock.read": ["owner", "manager", "staff"],
  "stock.request": ["owner", "manager", "staff"],
  "stock.review": ["owner", "manager"],
  "orders.read": ["owner", "manager", "staff"],
  "orders.pick": ["owner", "manager", "staff"],
  "orders.ship": ["owner", "manager"],
  "delivery.manage": ["owner", "manager"],
  // Issue 13: sales figures and offline sales (which take stock) are for those who run the shop.
  "sales.read": ["owner", "manager"],
  "sales.write": ["owner", "manager"],
  "analytics.read": ["owner", "manager"],
  "team.manage": ["owner"],
  "shop.manage": ["owner"],
  "payouts.manage": ["owner"],
} as const satisfies Record<string, readonly ShopRole[]>;
export type ShopPermission = keyof typeof SHOP_PERMISSIONS;

/**
 * Loads a shop the user belongs to and checks a permission. Not a member → 404 (the shop's
 * existence is not revealed); a member whose role lacks the permission → 403 (they know it).
 * One query: a read path may ask over HTTP (`ctx.http`) and never open the pool.
 */
export async function requireShopPermission(
  db: Queryable | HttpDatabase,
  shopId: string,
  userId: string,
  permission: ShopPermission,
): Promise<{ shop: Shop; role: ShopRole }> {
  const [row] = await db
    .select({ shop: shops, role: shopMembers.role })
    .from(shops)
    .innerJoin(shopMembers, and(eq(shopMembers.shopId, shops.id), eq(shopMembers.userId, userId)))
    .where(and(eq(shops.id, shopId), isNull(shops.deletedAt)));
  if (!row) throw new NotFound("shop", shopId);
  const allowed: readonly ShopRole[] = SHOP_PERMISSIONS[permission];
  if (!allowed.includes(row.role)) {
    throw new Forbidden(`Your role in this shop (${row.role}) cannot do ${permission}.`);
  }
  return row;
}
