import { and, desc, eq, gte, lt, lte, type SQL } from "drizzle-orm";
import { z } from "zod";
import type { Queryable } from "../../db/client.ts";
import { type Order, type OrderStatus, orders } from "../../db/schema/orders.ts";
import { shops } from "../../db/schema/shops.ts";
import { decodeCursor, type Page, toPage } from "../../lib/pagination.ts";
import { DomainError, NotFound, ValidationFailed } from "../errors.ts";
import { requireShopPermission, type ShopPermission } from "../shops/access.ts";
import { type OrderDetailView, type OrderView, orderDetail, orderView } from "./views.ts";

const cursorShape = z.object({ id: z.uuid() });

export interface ListInput {
  status?: OrderStatus;
  limit: number;
  cursor?: string;
}

function cursorId(cursor: string | undefined): string | null {
  if (cursor === undefined) return null;
  const c = decodeCursor(cursor, cursorShape);
  if (!c) {
    throw new ValidationFailed([{ field: "cursor", in: "query", message: "not a valid cursor" }]);
  }
  return c.id;
}

async function listWhere(
  db: Queryable,
  scope: SQL | undefined,
  input: ListInput,
): Promise<Page<OrderView>> {
  const before = cursorId(input.cursor);
  const rows = await db
    .select({ order: orders, shop: { id: shops.id, name: shops.name, slug: shops.slug } })
    .from(orders)
    .innerJoin(shops, eq(shops.id, orders.shopId))
    .where(
      and(
        scope,
        input.status ? eq(orders.status, input.status) : undefined,
        before ? lt(orders.id, before) : undefined,
      ),
    )
    // Ids are UUIDv7: newest first is id descending, and the id is the whole cursor.
    .orderBy(desc(orders.id))
    .limit(input.limit + 1);
  const page = toPage(rows, input.limit, (r) => ({ id: r.order.id }));
  return { items: page.items.map((r) => orderView(r.order, r.shop)), nextCursor: page.nextCursor };
}

/** The buyer's own orders, newest first, optionally of one status. */
export function listBuyerOrders(
  db: Queryable,
  buyerId: string,
  input: ListInput,
): Promise<Page<OrderView>> {
  return listWhere(db, eq(orders.buyerId, buyerId), input);
}

/** A shop's orders, newest first, for any member of it (staff included); others get 404. */
export async function listShopOrders(
  db: Queryable,
  userId: string,
  input: ListInput & { shopId: string },
): Promise<Page<OrderView>> {
  await requireShopPermission(db, input.shopId, userId, "orders.read");
  return listWhere(db, eq(orders.shopId, input.shopId), input);
}

/** What an admin may narrow every order down by; each is optional, and they combine. */
export interface AdminListInput extends ListInput {
  shopId?: string | undefined;
  buyerId?: string | undefined;
  /** Placed at or after this instant. */
  from?: Date | undefined;
  /** Placed at or before this instant. */
  to?: Date | undefined;
}

/** Every order on Souk, newest first, for an admin (the route checks the role). */
export function listOrdersForAdmin(db: Queryable, input: AdminListInput): Promise<Page<OrderView>> {
  return listWhere(
    db,
    and(
      input.shopId ? eq(orders.shopId, input.shopId) : undefined,
      input.buyerId ? eq(orders.buyerId, input.buyerId) : undefined,
      input.from ? gte(orders.createdAt, input.from) : undefined,
      input.to ? lte(orders.createdAt, input.to) : undefined,
    ),
    input,
  );
}

/** The buyer's order; anyone else's is a 404, as if it did not exist. */
export async function requireBuyerOrder(
  db: Queryable,
  buyerId: string,
  orderId: string,
): Promise<Order> {
  const [o] = await db
    .select()
    .from(orders)
    .where(and(eq(orders.id, orderId), eq(orders.buyerId, buyerId)));
  if (!o) throw new NotFound("order", orderId);
  return o;
}

/**
 * An order of a shop the user belongs to, checked against `permission`. Not a member of the
 * order's shop → 404 (the order is not revealed); a member whose role lacks it → 403.
 */
export async function requireShopOrder(
  db: Queryable,
  userId: string,
  orderId: string,
  permission: ShopPermission,
): Promise<Order> {
  const [o] = await db.select().from(orders).where(eq(orders.id, orderId));
  if (!o) throw new NotFound("order", orderId);
  try {
    await requireShopPermission(db, o.shopId, userId, permission);
  } catch (err) {
    if (err instanceof DomainError && err.code === "NOT_FOUND")
      throw new NotFound("order", orderId);
    throw err;
  }
  return o;
}

export async function getBuyerOrder(
  db: Queryable,
  buyerId: string,
  orderId: string,
): Promise<OrderDetailView> {
  return orderDetail(db, await requireBuyerOrder(db, buyerId, orderId));
}

export async function getShopOrder(
  db: Queryable,
  userId: string,
  orderId: string,
): Promise<OrderDetailView> {
  return orderDetail(db, await requireShopOrder(db, userId, orderId, "orders.read"));
}

/** Any order, for an admin. */
export async function requireOrder(db: Queryable, orderId: string): Promise<Order> {
  const [o] = await db.select().from(orders).where(eq(orders.id, orderId));
  if (!o) throw new NotFound("order", orderId);
  return o;
}

/** Any order with its lines and refunds, for an admin; an unknown id is a 404. */
export async function getOrderForAdmin(db: Queryable, orderId: string): Promise<OrderDetailView> {
  return orderDetail(db, await requireOrder(db, orderId));
}
