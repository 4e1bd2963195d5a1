import { and, desc, eq, ilike, isNull, lt, or, sql } from "drizzle-orm";
import { z } from "zod";
import type { Queryable } from "../../db/client.ts";
import { type ShopRole, shopMembers, shops } from "../../db/schema/shops.ts";
import { decodeCursor, type Page, toPage } from "../../lib/pagination.ts";
import { containsPattern } from "../../lib/text.ts";
import type { ServiceContext } from "../context.ts";
import { NotFound, ValidationFailed } from "../errors.ts";
import { isShopVisible, visibleShopCondition } from "./access.ts";
import {
  managedView,
  publicView,
  type ShopManagedView,
  type ShopPublicView,
  type Viewer,
} from "./views.ts";

const idCursor = z.object({ id: z.uuid() });

/** Decodes a list cursor or answers 422 naming it. */
export function cursorAfter(cursor: string | undefined): { id: string } | null {
  if (!cursor) return null;
  const after = decodeCursor(cursor, idCursor);
  if (!after) {
    throw new ValidationFailed([
      { field: "cursor", in: "query", message: "is not a valid cursor" },
    ]);
  }
  return after;
}

/** The user's role in a live shop, or null when they are not on its team. */
export async function memberRole(
  db: Queryable,
  shopId: string,
  userId: string,
): Promise<ShopRole | null> {
  const [row] = await db
    .select({ role: shopMembers.role })
    .from(shopMembers)
    .innerJoin(shops, eq(shops.id, shopMembers.shopId))
    .where(
      and(eq(shopMembers.shopId, shopId), eq(shopMembers.userId, userId), isNull(shops.deletedAt)),
    );
  return row?.role ?? null;
}

/**
 * One shop as the viewer may see it. A visible shop is public; any other state answers
 * NOT_FOUND, except to the shop's own members and to admins, who get the managed view.
 */
export async function getShop(
  ctx: ServiceContext,
  viewer: Viewer,
  shopId: string,
): Promise<ShopPublicView | ShopManagedView> {
  const [row] = await ctx.db
    .select({ shop: shops, role: shopMembers.role })
    .from(shops)
    .leftJoin(
      shopMembers,
      viewer
        ? and(eq(shopMembers.shopId, shops.id), eq(shopMembers.userId, viewer.id))
        : sql`false`,
    )
    .where(and(eq(shops.id, shopId), isNull(shops.deletedAt)));
  if (!row) throw new NotFound("shop", shopId);
  if (row.role || viewer?.role === "admin") return managedView(row.shop, row.role);
  if (isShopVisible(row.shop)) return publicView(row.shop);
  throw new NotFound("shop", shopId);
}

export interface ShopListQuery {
  limit: number;
  cursor?: string | undefined;
  /** Matches the name or slug, case-insensitively. */
  q?: string | undefined;
  country?: string | undefined;
}

/** Shops buyers can see, newest first. Never lists a hidden shop, whoever asks. */
export async function listVisibleShops(
  ctx: ServiceContext,
  query: ShopListQuery,
): Promise<Page<ShopPublicView>> {
  const after = cursorAfter(query.cursor);
  const pattern = query.q ? containsPattern(query.q) : null;
  const rows = await ctx.db
    .select()
    .from(shops)
    .where(
      and(
        visibleShopCondition,
        pattern ? or(ilike(shops.name, pattern), ilike(shops.slug, pattern)) : undefined,
        query.country ? eq(shops.country, query.country) : undefined,
        after ? lt(shops.id, after.id) : undefined,
      ),
    )
    .orderBy(desc(shops.id))
    .limit(query.limit + 1);
  const page = toPage(rows, query.limit, (s) => ({ id: s.id }));
  return { items: page.items.map(publicView), nextCursor: page.nextCursor };
}

/** The shops the user is on the team of, whatever their status, with the user's role. */
export async function listMyShops(
  ctx: ServiceContext,
  userId: string,
  query: { limit: number; cursor?: string | undefined },
): Promise<Page<ShopManagedView>> {
  const after = cursorAfter(query.cursor);
  const rows = await ctx.db
    .select({ shop: shops, role: shopMembers.role })
    .from(shopMembers)
    .innerJoin(shops, eq(shops.id, shopMembers.shopId))
    .where(
      and(
        eq(shopMembers.userId, userId),
        isNull(shops.deletedAt),
        after ? lt(shops.id, after.id) : undefined,
      ),
    )
    .orderBy(desc(shops.id))
    .limit(query.limit + 1);
  const page = toPage(rows, query.limit, (r) => ({ id: r.shop.id }));
  return {
    items: page.items.map((r) => managedView(r.shop, r.role)),
    nextCursor: page.nextCursor,
  };
}
